"""Local infrastructure: real Kafka (KRaft), FerretDB (SQLite) and Prometheus, run as processes.

Everything is idempotent: downloads and builds are cached under ``.cache/``, runtime state
(data, logs, pid files) lives under a state directory (``.run/<profile>``). Each start waits for
a health check with a time limit and raises ``InfraError`` with the log tail when it fails.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fivelink_shared.security import bearer
from fivelink_shared.settings import CommonSettings

REPO_ROOT = Path(__file__).resolve().parents[3]
CACHE_DIR = REPO_ROOT / ".cache"
KAFKA_LIB = CACHE_DIR / "kafka" / "lib"
FERRETDB_BIN = CACHE_DIR / "bin" / "ferretdb-sqlite"
DEPLOY_LOCAL = REPO_ROOT / "deploy" / "local"

Progress = Callable[[str], None]


class InfraError(RuntimeError):
    """A piece of local infrastructure could not be prepared or started."""


@dataclass(frozen=True)
class Ports:
    """TCP ports of one local stack; tests use another base so they never touch the demo."""

    kafka: int = 9092
    kafka_controller: int = 9093
    mongo: int = 27017
    prometheus: int = 9090
    intake: int = 8000
    matcher: int = 8001
    notifier: int = 8002

    @classmethod
    def from_base(cls, base: int) -> Ports:
        """Ports laid out from one base number (base+0 … base+9)."""
        return cls(base, base + 1, base + 2, base + 3, base + 4, base + 5, base + 6)

    def service(self, name: str) -> int:
        return int(getattr(self, name))


@dataclass
class Stack:
    """One local stack: where its state lives and which ports it uses."""

    state_dir: Path
    ports: Ports = field(default_factory=Ports)
    service_overrides: dict[str, str] = field(default_factory=dict)  # extra service env

    def __post_init__(self) -> None:
        self.state_dir = self.state_dir.resolve()

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.ports.kafka}"

    @property
    def mongo_url(self) -> str:
        return f"mongodb://127.0.0.1:{self.ports.mongo}/"

    def service_headers(self) -> dict[str, str]:
        """Authorization for the matcher's and the notifier's internal APIs."""
        token = self.service_overrides.get("FIVELINK_SERVICE_TOKEN") or (
            CommonSettings().service_token.get_secret_value()
        )
        return bearer(token)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports.service(service)}"

    def service_env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """Environment for a service process of this stack."""
        env = dict(os.environ)
        env.update(
            {
                "FIVELINK_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
                "FIVELINK_MONGO_URL": self.mongo_url,
                "FIVELINK_INTAKE_URL": self.url("intake"),
                "FIVELINK_MATCHER_URL": self.url("matcher"),
                "FIVELINK_NOTIFIER_URL": self.url("notifier"),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.service_overrides)
        env.update(extra or {})
        return env

    # --- process bookkeeping -------------------------------------------------------------

    def _pidfile(self, name: str) -> Path:
        return self.state_dir / f"{name}.pid"

    def logfile(self, name: str) -> Path:
        return self.state_dir / "logs" / f"{name}.log"

    def pid(self, name: str) -> int | None:
        """Pid of a running process of this stack, or None."""
        path = self._pidfile(name)
        if not path.exists():
            return None
        try:
            pid = int(path.read_text().strip())
        except ValueError:
            pid = 0
        if pid <= 0 or not _alive(pid):
            path.unlink(missing_ok=True)
            return None
        return pid

    def spawn(self, name: str, argv: list[str], env: Mapping[str, str] | None = None) -> int:
        """Start a detached process whose output goes to its log file."""
        (self.state_dir / "logs").mkdir(parents=True, exist_ok=True)
        log = self.logfile(name).open("ab")
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            cwd=REPO_ROOT,
            start_new_session=True,
        )
        self._pidfile(name).write_text(str(proc.pid))
        return proc.pid

    def stop(self, name: str, timeout: float = 20.0) -> bool:
        """Stop a process gracefully (SIGTERM, then SIGKILL after ``timeout``)."""
        pid = self.pid(name)
        if pid is None:
            return False
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _alive(pid):
                break
            time.sleep(0.2)
        else:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._pidfile(name).unlink(missing_ok=True)
        return True

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.logfile(name)
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on the port."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """True when the URL answers 2xx."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            status: int = resp.status
    except OSError:
        return False
    return 200 <= status < 300


def wait_until(
    check: Callable[[], bool], *, timeout: float, what: str, stack: Stack, log: str
) -> None:
    """Poll ``check`` until it holds or raise with the process log tail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if stack.pid(log) is None:
            raise InfraError(f"{what} exited while starting:\n{stack.log_tail(log)}")
        time.sleep(0.3)
    raise InfraError(f"{what} not healthy after {timeout:.0f}s:\n{stack.log_tail(log)}")


def _run(
    argv: list[str], *, cwd: Path, timeout: float, what: str, env: Mapping[str, str] | None = None
) -> None:
    try:
        result = subprocess.run(
            argv,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=dict(env) if env is not None else None,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise InfraError(f"{what} took longer than {timeout:.0f}s") from exc
    except FileNotFoundError as exc:
        raise InfraError(f"{what}: {argv[0]} is not installed ({exc})") from exc
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
        raise InfraError(f"{what} failed (exit {result.returncode}):\n{tail}")


# --- downloads and builds (cached) ---------------------------------------------------------


def ensure_kafka_jars(progress: Progress = print) -> Path:
    """Copy the Kafka server jars and a log4j2 binding from Maven Central into the cache."""
    marker = KAFKA_LIB / ".complete"
    if marker.exists():
        return KAFKA_LIB
    progress("Downloading Apache Kafka jars from Maven Central (first run only)…")
    KAFKA_LIB.mkdir(parents=True, exist_ok=True)
    _run(
        [
            "mvn",
            "-q",
            "-B",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={KAFKA_LIB}",
            "-DincludeScope=runtime",
        ],
        cwd=DEPLOY_LOCAL / "kafka",
        timeout=900,
        what="Maven download of Kafka",
    )
    if not any(KAFKA_LIB.glob("kafka_2.13-*.jar")):
        raise InfraError(f"Maven finished but no kafka_2.13 jar is in {KAFKA_LIB}")
    marker.touch()
    return KAFKA_LIB


def ensure_ferretdb(progress: Progress = print) -> Path:
    """Build the embedded FerretDB (SQLite handler) from the Go module proxy, once."""
    source = DEPLOY_LOCAL / "ferretdb"
    stamp = FERRETDB_BIN.with_suffix(".stamp")
    digest = hashlib.sha256(
        (source / "main.go").read_bytes() + (source / "go.mod").read_bytes()
    ).hexdigest()
    if FERRETDB_BIN.exists() and stamp.exists() and stamp.read_text() == digest:
        return FERRETDB_BIN
    progress("Building FerretDB v1 with the SQLite handler (first run only, about 2 minutes)…")
    FERRETDB_BIN.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GOFLAGS="-mod=mod", CGO_ENABLED="0")
    _run(
        ["go", "build", "-o", str(FERRETDB_BIN), "."],
        cwd=source,
        timeout=1200,
        what="Go build of FerretDB",
        env=env,
    )
    stamp.write_text(digest)
    return FERRETDB_BIN


def prometheus_binary() -> str:
    """Path of Debian's prometheus binary (installed by scripts/setup.sh)."""
    found = shutil.which("prometheus")
    if not found:
        raise InfraError("prometheus is not installed: run `apt-get install -y prometheus`")
    return found


# --- servers -------------------------------------------------------------------------------


def start_kafka(stack: Stack, progress: Progress = print, timeout: float = 90.0) -> None:
    """Format (first time) and start a single-node KRaft broker on 127.0.0.1."""
    if stack.pid("kafka") is not None and port_open(stack.ports.kafka):
        return
    lib = ensure_kafka_jars(progress)
    java = shutil.which("java")
    if not java:
        raise InfraError("java is not installed: run `apt-get install -y default-jre-headless`")
    home = stack.state_dir / "kafka"
    data = home / "data"
    home.mkdir(parents=True, exist_ok=True)
    props = home / "server.properties"
    template = (DEPLOY_LOCAL / "kafka" / "server.properties").read_text()
    props.write_text(
        template.format(
            port=stack.ports.kafka, controller_port=stack.ports.kafka_controller, data_dir=data
        )
    )
    classpath = f"{lib}/*"
    log4j = DEPLOY_LOCAL / "kafka" / "log4j2.properties"
    jvm = [
        java,
        "-Xms256m",
        "-Xmx512m",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={log4j}",
        f"-Dkafka.logs.dir={home / 'logs'}",
        "-cp",
        classpath,
    ]
    if not (data / "meta.properties").exists():
        progress("Formatting Kafka storage (KRaft, single node)…")
        _run(
            [
                *jvm,
                "kafka.tools.StorageTool",
                "format",
                "--standalone",
                "-t",
                str(uuid.uuid4()),
                "-c",
                str(props),
            ],
            cwd=home,
            timeout=120,
            what="Kafka storage format",
        )
    progress(f"Starting Kafka on {stack.kafka_bootstrap}…")
    stack.spawn("kafka", [*jvm, "kafka.Kafka", str(props)])
    wait_until(
        lambda: port_open(stack.ports.kafka),
        timeout=timeout,
        what="Kafka",
        stack=stack,
        log="kafka",
    )
    _wait_kafka_ready(stack, timeout)


def _wait_kafka_ready(stack: Stack, timeout: float) -> None:
    """The port opens before the broker serves metadata; ask it with a real client."""
    code = (
        "import asyncio,sys\n"
        "from aiokafka.admin import AIOKafkaAdminClient\n"
        "async def main():\n"
        f"    a=AIOKafkaAdminClient(bootstrap_servers='{stack.kafka_bootstrap}')\n"
        "    await a.start(); await a.list_topics(); await a.close()\n"
        "asyncio.run(asyncio.wait_for(main(), 10))\n"
    )

    def ready() -> bool:
        return (
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, timeout=20, check=False
            ).returncode
            == 0
        )

    wait_until(ready, timeout=timeout, what="Kafka metadata", stack=stack, log="kafka")


def start_ferretdb(stack: Stack, progress: Progress = print, timeout: float = 60.0) -> None:
    """Start FerretDB (SQLite) on 127.0.0.1 with its data under the state directory."""
    if stack.pid("ferretdb") is not None and port_open(stack.ports.mongo):
        return
    binary = ensure_ferretdb(progress)
    data = stack.state_dir / "ferretdb"
    progress(f"Starting FerretDB on 127.0.0.1:{stack.ports.mongo}…")
    stack.spawn(
        "ferretdb", [str(binary), "-listen", f"127.0.0.1:{stack.ports.mongo}", "-data", str(data)]
    )
    wait_until(
        lambda: port_open(stack.ports.mongo),
        timeout=timeout,
        what="FerretDB",
        stack=stack,
        log="ferretdb",
    )


def start_prometheus(stack: Stack, progress: Progress = print, timeout: float = 60.0) -> None:
    """Start Prometheus scraping this stack's services, with the project's alert rules."""
    if stack.pid("prometheus") is not None and port_open(stack.ports.prometheus):
        return
    binary = prometheus_binary()
    home = stack.state_dir / "prometheus"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "prometheus.yml"
    template = (DEPLOY_LOCAL / "prometheus.yml").read_text()
    config.write_text(
        template.format(
            intake=stack.ports.intake,
            matcher=stack.ports.matcher,
            notifier=stack.ports.notifier,
            prometheus=stack.ports.prometheus,
            rules=REPO_ROOT / "deploy" / "prometheus",
        )
    )
    progress(f"Starting Prometheus on 127.0.0.1:{stack.ports.prometheus}…")
    stack.spawn(
        "prometheus",
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={home / 'data'}",
            f"--web.listen-address=127.0.0.1:{stack.ports.prometheus}",
            "--web.enable-lifecycle",
        ],
    )
    url = f"http://127.0.0.1:{stack.ports.prometheus}/-/ready"
    wait_until(
        lambda: http_ok(url), timeout=timeout, what="Prometheus", stack=stack, log="prometheus"
    )


SERVICES = ("intake", "matcher", "notifier")


def start_service(
    stack: Stack,
    name: str,
    progress: Progress = print,
    timeout: float = 60.0,
    env: Mapping[str, str] | None = None,
) -> None:
    """Start one fivelink service (uvicorn) and wait for its /healthz."""
    port = stack.ports.service(name)
    if stack.pid(name) is not None and http_ok(f"{stack.url(name)}/healthz"):
        return
    progress(f"Starting {name} on {stack.url(name)}…")
    stack.spawn(
        name,
        [sys.executable, "-m", f"fivelink_{name}", "--port", str(port)],
        env=stack.service_env(env),
    )
    wait_until(
        lambda: http_ok(f"{stack.url(name)}/healthz"),
        timeout=timeout,
        what=f"service {name}",
        stack=stack,
        log=name,
    )


def start_all(
    stack: Stack,
    progress: Progress = print,
    *,
    prometheus: bool = True,
    env: Mapping[str, str] | None = None,
) -> None:
    """Bring up the servers and the three services, in dependency order."""
    stack.state_dir.mkdir(parents=True, exist_ok=True)
    start_ferretdb(stack, progress)
    start_kafka(stack, progress)
    for name in SERVICES:
        start_service(stack, name, progress, env=env)
    if prometheus:
        start_prometheus(stack, progress)


def stop_all(stack: Stack, progress: Progress = print) -> None:
    """Stop services first (they drain and commit), then the servers."""
    for name in (*SERVICES, "prometheus", "kafka", "ferretdb"):
        if stack.stop(name):
            progress(f"Stopped {name}")


def health(stack: Stack) -> dict[str, bool]:
    """Health of every component of the stack."""
    result = {
        "ferretdb": port_open(stack.ports.mongo),
        "kafka": port_open(stack.ports.kafka),
        "prometheus": http_ok(f"http://127.0.0.1:{stack.ports.prometheus}/-/ready"),
    }
    for name in SERVICES:
        result[name] = http_ok(f"{stack.url(name)}/healthz")
    return result
