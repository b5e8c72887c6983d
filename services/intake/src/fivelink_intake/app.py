"""Wires intake: settings → clients → store → service → FastAPI app (the one place that does)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from fivelink_intake import api
from fivelink_intake.adapters.audit import AuditLog
from fivelink_intake.adapters.crypto import FieldCipher
from fivelink_intake.adapters.outbox import OutboxRelay
from fivelink_intake.adapters.signals import SignalStore
from fivelink_intake.adapters.store import AggregateStore, ensure_indexes
from fivelink_intake.auth import InvalidToken, JwtVerifier, TokenVerifier
from fivelink_intake.discovery import load_rules
from fivelink_intake.discovery_service import BatchRejected, DiscoveryService
from fivelink_intake.domain.access import Forbidden
from fivelink_intake.metrics import IntakeMetrics
from fivelink_intake.service import (
    Conflict,
    IdempotencyConflict,
    IntakeService,
    NotFound,
    Unprocessable,
)
from fivelink_intake.settings import IntakeSettings
from fivelink_intake.web import router as web_router
from fivelink_shared import topics
from fivelink_shared.logs import correlation_id
from fivelink_shared.service import ServiceRuntime, create_app

BATCH_PATH = "/v1/signals:batch"


def build_app(
    settings: IntakeSettings | None = None, verifier: TokenVerifier | None = None
) -> FastAPI:
    """The intake app; pass another ``verifier`` (e.g. OIDC) to replace our JWTs."""
    settings = settings or IntakeSettings()
    runtime = ServiceRuntime("intake", settings)
    metrics = IntakeMetrics(runtime.registry)
    cipher = FieldCipher(settings.pii_key.get_secret_value())
    ref_key = settings.person_ref_key.get_secret_value().encode()
    cases = AggregateStore(runtime.db["cases"])
    offers = AggregateStore(runtime.db["offers"])
    audit = AuditLog(runtime.db["audit"])
    relay = OutboxRelay(
        runtime.broker,
        [cases, offers],
        settings.outbox_sweep_seconds,
        settings.outbox_grace_seconds,
    )
    service = IntakeService(
        cases=cases,
        offers=offers,
        relay=relay,
        cipher=cipher,
        ref_key=ref_key,
        metrics=metrics,
        audit=audit,
        crash_after_store=settings.intake_crash_after_store,
    )
    discovery = DiscoveryService(
        signals=SignalStore(runtime.db["signals"], runtime.db["batches"], cipher, ref_key),
        cases=cases,
        relay=relay,
        cipher=cipher,
        key=ref_key,
        rules=load_rules(Path(settings.rules_file) if settings.rules_file else None),
        metrics=metrics,
        audit=audit,
        max_records=settings.max_batch_records,
    )
    # Declare what intake publishes, for the AsyncAPI document.
    runtime.broker.publisher(topics.NEEDS, title="needs", description="NeedOpened / NeedClosed")
    runtime.broker.publisher(
        topics.OFFERS, title="offers", description="OfferPublished / OfferWithdrawn"
    )

    async def on_start() -> None:
        await ensure_indexes(runtime.db)

    app = create_app(
        runtime,
        title="fivelink intake",
        on_start=on_start,
        after_start=relay.start,
        on_stop=relay.stop,
        description=(
            "Needs from social workers, offers from charities, signals from data feeds. "
            "Every /v1 endpoint takes `Authorization: Bearer <token>` (see docs/intake.md)."
        ),
    )
    app.state.service = service
    app.state.discovery = discovery
    app.state.runtime = runtime
    app.state.verifier = verifier or JwtVerifier(settings.token_secret.get_secret_value())
    app.state.auth_required = settings.auth_required
    app.state.max_batch_bytes = settings.max_batch_bytes
    app.include_router(api.router)
    app.include_router(web_router)  # the pages at /ui/ (docs/web.md)

    @app.middleware("http")
    async def observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        correlation_id.set(request.headers.get("X-Correlation-Id", "-"))
        started = time.perf_counter()
        limit = (
            settings.max_batch_bytes if request.url.path == BATCH_PATH else settings.max_body_bytes
        )
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            metrics.rejected.labels("too_large").inc()
            response: Response = JSONResponse(
                {"detail": f"request body over {limit} bytes"}, status_code=413
            )
        else:
            response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        metrics.requests.labels(path, request.method, str(response.status_code)).inc()
        metrics.request_seconds.labels(path).observe(time.perf_counter() - started)
        return response

    def refuse(reason: str, code: int, detail: str, **extra: object) -> JSONResponse:
        metrics.rejected.labels(reason).inc()
        headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
        return JSONResponse({"detail": detail, **extra}, status_code=code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return refuse("validation", 422, "invalid request", errors=errors)

    @app.exception_handler(InvalidToken)
    async def unauthorized(_: Request, exc: InvalidToken) -> JSONResponse:
        return refuse("unauthorized", 401, str(exc))

    @app.exception_handler(Forbidden)
    async def forbidden(_: Request, exc: Forbidden) -> JSONResponse:
        return refuse("forbidden", 403, str(exc))

    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return refuse("not_found", 404, str(exc))

    @app.exception_handler(Conflict)
    async def conflict(_: Request, exc: Conflict) -> JSONResponse:
        reason = "idempotency_conflict" if isinstance(exc, IdempotencyConflict) else "conflict"
        if reason == "idempotency_conflict":
            return JSONResponse({"detail": str(exc)}, status_code=409)  # counted by the service
        return refuse(reason, 409, str(exc))

    @app.exception_handler(Unprocessable)
    async def unprocessable(_: Request, exc: Unprocessable) -> JSONResponse:
        return refuse("validation", 422, str(exc))

    @app.exception_handler(BatchRejected)
    async def batch_rejected(_: Request, exc: BatchRejected) -> JSONResponse:
        detail = "batch refused: nothing was stored"
        return refuse(
            "forbidden" if exc.status == 403 else "validation",
            exc.status,
            detail,
            errors=exc.errors[:1000],
            error_count=len(exc.errors),
        )

    return app
