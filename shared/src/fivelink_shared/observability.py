"""Service-wide observability: build info, Kafka consumer lag, store latency, correlation ids.

Everything registers on the service's own ``CollectorRegistry`` (see ``service.ServiceRuntime``)
and follows the Prometheus conventions: base units, ``_total`` counters, histograms for
durations, bounded label values and never personal data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import platform
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from importlib import metadata

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client import (
    GC_COLLECTOR,
    CollectorRegistry,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.registry import Collector
from pymongo import monitoring
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fivelink_shared.logs import correlation_id

log = logging.getLogger(__name__)

#: Group ids look like ``fivelink-matcher.fivelink.needs.v1``; a subscriber's (group, topics).
Subscription = tuple[str, tuple[str, ...]]

CORRELATION_HEADER = "X-Correlation-Id"
_HEADER = CORRELATION_HEADER.lower().encode()
access = logging.getLogger("fivelink.access")
_QUIET = ("/metrics", "/healthz")  # scrapes and probes are not logged
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def register_process_metrics(registry: CollectorRegistry, service: str) -> Gauge:
    """Process, platform and GC collectors plus ``fivelink_build_info`` (value 1)."""
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    with contextlib.suppress(ValueError):  # the GC collector is one shared object
        registry.register(_GcProxy())
    build = Gauge(
        "fivelink_build_info",
        "Always 1; labels carry the service, its version and the Python version",
        ["service", "version", "python_version"],
        registry=registry,
    )
    build.labels(service, _version(service), platform.python_version()).set(1)
    return build


class _GcProxy(Collector):
    """Re-exposes the process-wide GC collector on a per-service registry."""

    def collect(self):  # type: ignore[no-untyped-def]
        return GC_COLLECTOR.collect()


def _version(service: str) -> str:
    try:
        return metadata.version(f"fivelink-{service}")
    except metadata.PackageNotFoundError:
        return "unknown"


# --- store latency ---------------------------------------------------------------------------

#: Commands named on their own; any other command is counted as "other" (bounded labels).
STORE_COMMANDS = frozenset(
    {
        "find",
        "insert",
        "update",
        "delete",
        "findAndModify",
        "aggregate",
        "count",
        "distinct",
        "getMore",
        "createIndexes",
        "listIndexes",
        "listCollections",
        "ping",
    }
)
_COLLECTION = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class StoreLatencyListener(monitoring.CommandListener):
    """PyMongo command listener: one histogram of store operation time by command/outcome."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.seconds = Histogram(
            "fivelink_store_operation_duration_seconds",
            "Store (MongoDB/FerretDB) command duration by command, collection and outcome",
            ["command", "collection", "outcome"],
            registry=registry,
            buckets=STORE_BUCKETS,
        )
        self._collections: dict[int, str] = {}
        for command in ("find", "insert", "update"):
            for outcome in ("ok", "error"):
                self.seconds.labels(command, "-", outcome)

    @staticmethod
    def _command(name: str) -> str:
        return name if name in STORE_COMMANDS else "other"

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        target = event.command.get(event.command_name)
        collection = target if isinstance(target, str) and _COLLECTION.match(target) else "-"
        if len(self._collections) > 10_000:  # events whose end never came; keep memory bounded
            self._collections.clear()
        self._collections[event.request_id] = collection

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._observe(event, "ok")

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._observe(event, "error")

    def _observe(
        self, event: monitoring.CommandSucceededEvent | monitoring.CommandFailedEvent, outcome: str
    ) -> None:
        collection = self._collections.pop(event.request_id, "-")
        self.seconds.labels(self._command(event.command_name), collection, outcome).observe(
            event.duration_micros / 1_000_000
        )


# --- Kafka consumer lag ----------------------------------------------------------------------


class ConsumerLag:
    """Computes each consumer group's lag per partition: end offset minus committed offset.

    Runs as a periodic task inside the service (no separate exporter). A partition the group
    has never committed counts from the partition's beginning, which is where an ``earliest``
    consumer starts. ``fivelink_kafka_lag_refresh_success`` says whether the last refresh
    worked, so a stale lag is visible.
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        bootstrap: str,
        subscriptions: Callable[[], Iterable[Subscription]],
        interval_s: float = 5.0,
        client_id: str = "fivelink-lag",
    ) -> None:
        self.bootstrap = bootstrap
        self.subscriptions = subscriptions
        self.interval_s = interval_s
        self.client_id = client_id
        self.lag = Gauge(
            "fivelink_kafka_consumer_lag",
            "Messages not yet consumed, by consumer group, topic and partition",
            ["group", "topic", "partition"],
            registry=registry,
        )
        self.refresh_ok = Gauge(
            "fivelink_kafka_lag_refresh_success",
            "1 when the last consumer lag refresh reached Kafka, else 0",
            registry=registry,
        )
        self.refresh_seconds = Histogram(
            "fivelink_kafka_lag_refresh_duration_seconds",
            "Time to compute the consumer lag of this service's groups",
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.healthy = False
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def refresh(self) -> dict[tuple[str, str, int], int]:
        """Read end and committed offsets once and set the gauges; returns the lags."""
        started = time.perf_counter()
        if self._admin is None or self._consumer is None:
            self._admin = AIOKafkaAdminClient(
                bootstrap_servers=self.bootstrap, client_id=self.client_id
            )
            await self._admin.start()
            self._consumer = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap,
                client_id=self.client_id,
                enable_auto_commit=False,
            )
            await self._consumer.start()
        subs = list(self.subscriptions())
        wanted = sorted({t for _, topics in subs for t in topics})
        described = await self._admin.describe_topics(wanted) if wanted else []
        partitions = [
            TopicPartition(str(t["topic"]), int(p["partition"]))
            for t in described
            if not t.get("error_code")
            for p in sorted(t.get("partitions", ()), key=lambda p: int(p["partition"]))
        ]
        ends = await self._consumer.end_offsets(partitions) if partitions else {}
        starts = await self._consumer.beginning_offsets(partitions) if partitions else {}
        lags: dict[tuple[str, str, int], int] = {}
        for group, topics in subs:
            mine = [tp for tp in partitions if tp.topic in topics]
            committed = await self._admin.list_consumer_group_offsets(group, partitions=mine)
            for tp in mine:
                meta = committed.get(tp)
                position = meta.offset if meta is not None and meta.offset >= 0 else starts[tp]
                lag = max(0, ends[tp] - position)
                lags[(group, tp.topic, tp.partition)] = lag
                self.lag.labels(group, tp.topic, str(tp.partition)).set(lag)
        self.refresh_seconds.observe(time.perf_counter() - started)
        return lags

    async def _loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self.refresh(), timeout=max(self.interval_s * 2, 10))
                self.healthy = True
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Kafka away: report it, keep the last values, retry
                self.healthy = False
                log.warning("consumer lag refresh failed", extra={"error": repr(exc)[:300]})
                await self._close_clients()
            self.refresh_ok.set(1 if self.healthy else 0)
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="fivelink-consumer-lag")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close_clients()

    async def _close_clients(self) -> None:
        consumer, admin = self._consumer, self._admin
        self._admin = self._consumer = None
        if consumer is not None:
            with contextlib.suppress(Exception):
                await consumer.stop()
        if admin is not None:
            with contextlib.suppress(Exception):
                await admin.close()


def broker_subscriptions(broker: object) -> list[Subscription]:
    """(group id, topics) of each FastStream subscriber that belongs to a consumer group."""
    out: list[Subscription] = []
    for sub in getattr(broker, "subscribers", ()):
        group = getattr(sub, "group_id", None)
        names = tuple(getattr(sub, "topic_names", ()) or ())
        if group and names:
            out.append((str(group), names))
    return out


# --- dependency health -----------------------------------------------------------------------


class DependencyHealth:
    """``fivelink_dependency_up{dependency}``: the service's own view of its store and Kafka."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.up = Gauge(
            "fivelink_dependency_up",
            "1 when the service reached the dependency at its last check, else 0",
            ["dependency"],
            registry=registry,
        )
        for dep in ("store", "kafka"):
            self.up.labels(dep).set(0)

    def watch(
        self, dependency: str, check: Callable[[], Awaitable[bool]], interval_s: float = 5.0
    ) -> asyncio.Task[None]:
        async def loop() -> None:
            while True:
                try:
                    ok = await asyncio.wait_for(check(), timeout=interval_s * 2)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    ok = False
                self.up.labels(dependency).set(1 if ok else 0)
                await asyncio.sleep(interval_s)

        return asyncio.create_task(loop(), name=f"fivelink-health-{dependency}")


# --- correlation ids -------------------------------------------------------------------------


class CorrelationIdMiddleware:
    """ASGI middleware: take ``X-Correlation-Id`` (or make one), log with it, echo it back.

    A malformed header is replaced by a fresh id, so logs never carry arbitrary client text.
    Each request ends with one JSON access line (route template, never the raw path).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = [(k, v) for k, v in scope.get("headers", ()) if k.lower() != _HEADER]
        given = next(
            (
                v.decode("latin-1").strip()
                for k, v in scope.get("headers", ())
                if k.lower() == _HEADER
            ),
            "",
        )
        cid = given if _SAFE_ID.match(given) else str(uuid.uuid4())
        inner = dict(scope, headers=[*headers, (_HEADER, cid.encode())])
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                out = [(k, v) for k, v in message.get("headers", ()) if k.lower() != _HEADER]
                message = dict(message, headers=[*out, (_HEADER, cid.encode())])
            await send(message)

        token = correlation_id.set(cid)
        try:
            await self.app(inner, receive, send_with_id)
        finally:
            route = getattr(inner.get("route"), "path", None) or "unmatched"
            if not str(scope.get("path", "")).startswith(_QUIET):
                access.info(
                    "request",
                    extra={
                        "method": scope.get("method"),
                        "route": route,
                        "status": status,
                        "seconds": round(time.perf_counter() - started, 4),
                    },
                )
            correlation_id.reset(token)
