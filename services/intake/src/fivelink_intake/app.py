"""Wires intake: settings → clients → store → service → FastAPI app (the one place that does)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from fivelink_intake import api
from fivelink_intake.adapters.crypto import FieldCipher
from fivelink_intake.adapters.outbox import OutboxRelay
from fivelink_intake.adapters.store import AggregateStore, ensure_indexes
from fivelink_intake.metrics import IntakeMetrics
from fivelink_intake.service import IntakeService
from fivelink_intake.settings import IntakeSettings
from fivelink_shared import topics
from fivelink_shared.logs import correlation_id
from fivelink_shared.service import ServiceRuntime, create_app


def build_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    runtime = ServiceRuntime("intake", settings)
    metrics = IntakeMetrics(runtime.registry)
    cases = AggregateStore(runtime.db["cases"])
    offers = AggregateStore(runtime.db["offers"])
    relay = OutboxRelay(runtime.broker, [cases, offers], settings.outbox_sweep_seconds)
    service = IntakeService(
        cases=cases,
        offers=offers,
        relay=relay,
        cipher=FieldCipher(settings.pii_key.get_secret_value()),
        ref_key=settings.person_ref_key.get_secret_value().encode(),
        metrics=metrics,
    )
    # Declare what intake publishes, for the AsyncAPI document.
    runtime.broker.publisher(topics.NEEDS, title="needs", description="NeedOpened / NeedClosed")
    runtime.broker.publisher(topics.OFFERS, title="offers", description="OfferPublished")

    async def on_start() -> None:
        await ensure_indexes(runtime.db)

    async def start_relay() -> None:
        relay.start()

    app = create_app(
        runtime,
        title="fivelink intake",
        on_start=on_start,
        after_start=start_relay,
        on_stop=relay.stop,
        description="Needs from social workers, offers from charities, signals from data feeds.",
    )
    app.state.service = service
    app.state.runtime = runtime
    app.include_router(api.router)

    @app.middleware("http")
    async def observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        correlation_id.set(request.headers.get("X-Correlation-Id", "-"))
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        metrics.requests.labels(path, request.method, str(response.status_code)).inc()
        metrics.request_seconds.labels(path).observe(time.perf_counter() - started)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        metrics.rejected.labels("validation").inc()
        errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return JSONResponse({"detail": "invalid request", "errors": errors}, status_code=422)

    return app
