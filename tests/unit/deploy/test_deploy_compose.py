"""docker-compose.yml is accepted by the Compose client and wires what the README promises."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from fivelink_cli.infra import REPO_ROOT


def _compose_config() -> dict[str, object]:
    if shutil.which("docker-compose"):
        argv = ["docker-compose", "config"]
    elif (
        subprocess.run(
            ["docker", "compose", "version"], capture_output=True, check=False
        ).returncode
        == 0
    ):
        argv = ["docker", "compose", "config"]
    else:
        pytest.fail("no Compose client: run scripts/setup.sh (installs docker-compose)")
    result = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    config: dict[str, object] = yaml.safe_load(result.stdout)
    return config


def test_compose_file_is_valid_and_complete() -> None:
    services = _compose_config()["services"]
    assert isinstance(services, dict)
    assert {"kafka", "mongo", "prometheus", "grafana", "intake", "matcher", "notifier"} <= set(
        services
    )
    assert "--replSet" in services["mongo"]["command"]
    for name in ("intake", "matcher", "notifier"):
        dockerfile = (
            Path(services[name]["build"]["context"]) / services[name]["build"]["dockerfile"]
        )
        assert dockerfile.exists(), dockerfile
        env = services[name]["environment"]
        assert env["FIVELINK_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert "replicaSet=rs0" in env["FIVELINK_MONGO_URL"]


def test_compose_prometheus_scrapes_every_service_port() -> None:
    config = yaml.safe_load((REPO_ROOT / "deploy/compose/prometheus.yml").read_text())
    targets = {
        t for job in config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]
    }
    assert {"intake:8000", "matcher:8001", "notifier:8002"} <= targets
    for name, port in (("intake", 8000), ("matcher", 8001), ("notifier", 8002)):
        dockerfile = (REPO_ROOT / f"services/{name}/Dockerfile").read_text()
        assert f'"--port", "{port}"' in dockerfile
