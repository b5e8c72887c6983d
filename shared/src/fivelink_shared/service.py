"""The common shape of a fivelink service: FastAPI + FastStream broker + store + /metrics.

``ServiceRuntime`` owns the clients; ``create_app`` wires lifespan (connect on start, drain and
close on shutdown), ``/healthz``, ``/metrics`` and ``/asyncapi.json``; ``serve`` runs uvicorn.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from prometheus_client import CollectorRegistry, make_asgi_app
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from fivelink_shared import logs
from fivelink_shared.kafka import ensure_topics, make_broker
from fivelink_shared.mongo import Document, make_client, ping
from fivelink_shared.observability import (
    ConsumerLag,
    CorrelationIdMiddleware,
    DependencyHealth,
    StoreLatencyListener,
    broker_subscriptions,
    register_process_metrics,
)
from fivelink_shared.settings import CommonSettings

log = logging.getLogger(__name__)

Hook = Callable[[], Awaitable[None]]


@dataclass
class ServiceRuntime:
    """Clients one service process uses, built from settings (never at import time)."""

    name: str
    settings: CommonSettings
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    broker: KafkaBroker = field(init=False)
    mongo: AsyncMongoClient[Document] = field(init=False)
    lag: ConsumerLag = field(init=False)
    health: DependencyHealth = field(init=False)

    def __post_init__(self) -> None:
        register_process_metrics(self.registry, self.name)
        self.broker = make_broker(self.settings, self.registry, self.name)
        self.mongo = make_client(
            self.settings.mongo_url, event_listeners=[StoreLatencyListener(self.registry)]
        )
        self.lag = ConsumerLag(
            self.registry,
            self.settings.kafka_bootstrap,
            lambda: broker_subscriptions(self.broker),
            client_id=f"fivelink-{self.name}-lag",
        )
        self.health = DependencyHealth(self.registry)

    @property
    def db(self) -> AsyncDatabase[Document]:
        return self.mongo[self.settings.database(self.name)]


def create_app(
    runtime: ServiceRuntime,
    *,
    title: str,
    on_start: Hook | None = None,
    after_start: Hook | None = None,
    on_stop: Hook | None = None,
    **fastapi_kwargs: Any,
) -> FastAPI:
    """A FastAPI app that starts the broker and the store with the process and stops them."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await ensure_topics(runtime.settings)
        if on_start:
            await on_start()
        await runtime.broker.start()
        if after_start:
            await after_start()
        runtime.lag.start()
        watchers = [
            runtime.health.watch("store", lambda: ping(runtime.db)),
            runtime.health.watch("kafka", _kafka_ok(runtime)),
        ]
        log.info("started")
        try:
            yield
        finally:
            log.info("stopping: draining consumers")
            for task in watchers:
                task.cancel()
            await runtime.lag.stop()
            if on_stop:
                await on_stop()
            await runtime.broker.stop()
            await runtime.mongo.close()

    app = FastAPI(title=title, lifespan=lifespan, **fastapi_kwargs)
    app.add_middleware(CorrelationIdMiddleware)
    app.state.service_token = runtime.settings.service_token.get_secret_value()
    app.mount("/metrics", make_asgi_app(registry=runtime.registry))

    @app.get("/healthz", tags=["ops"], summary="Liveness and readiness")
    async def healthz() -> JSONResponse:
        store_ok = await ping(runtime.db)
        kafka_ok = runtime.broker.running if hasattr(runtime.broker, "running") else True
        ok = store_ok and bool(kafka_ok)
        return JSONResponse(
            {"service": runtime.name, "store": store_ok, "kafka": bool(kafka_ok)},
            status_code=200 if ok else 503,
        )

    @app.get("/asyncapi.json", tags=["ops"], summary="AsyncAPI document of the Kafka side")
    async def asyncapi() -> JSONResponse:
        spec = AsyncAPI(runtime.broker, title=f"{title} events", version="1.0.0")
        return JSONResponse(spec.to_specification().to_jsonable())

    return app


def _kafka_ok(runtime: ServiceRuntime) -> Callable[[], Awaitable[bool]]:
    """Kafka is up for this service when its broker runs and the last lag refresh worked."""

    async def check() -> bool:
        return bool(getattr(runtime.broker, "running", True)) and runtime.lag.healthy

    return check


def serve(service: str, app_factory: Callable[[], FastAPI], default_port: int) -> None:
    """Entry point: ``python -m fivelink_<service> --port N``; SIGTERM shuts down gracefully."""
    parser = argparse.ArgumentParser(prog=f"fivelink-{service}")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    args = parser.parse_args()
    settings = CommonSettings()
    logs.configure(service, settings.log_level)
    uvicorn.run(
        app_factory(), host=args.host, port=args.port, log_config=None, timeout_graceful_shutdown=10
    )
