"""Wires the matcher: settings → store, solver config, rebalancer, subscribers → app."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from faststream import AckPolicy
from faststream.kafka.annotations import KafkaMessage
from pydantic import TypeAdapter

from fivelink_matcher import api
from fivelink_matcher.adapters.store import MatcherStore
from fivelink_matcher.domain.model import SolverConfig
from fivelink_matcher.engine import Rebalancer
from fivelink_matcher.escalations import Escalator
from fivelink_matcher.handlers import MatcherHandlers
from fivelink_matcher.metrics import MatcherMetrics
from fivelink_matcher.settings import MatcherSettings
from fivelink_shared import topics
from fivelink_shared.events import NEED_EVENTS, OFFER_EVENTS, ResponseRecorded, Urgency
from fivelink_shared.kafka import SafeConsumer
from fivelink_shared.mongo import ProcessedEvents
from fivelink_shared.service import ServiceRuntime, create_app

RESPONSES: TypeAdapter[ResponseRecorded] = TypeAdapter(ResponseRecorded)


def build_app(settings: MatcherSettings | None = None) -> FastAPI:
    settings = settings or MatcherSettings()
    runtime = ServiceRuntime("matcher", settings)
    metrics = MatcherMetrics(runtime.registry)
    store = MatcherStore(runtime.db)
    config = SolverConfig(
        time_limit_s=settings.solve_time_limit_s,
        workers=settings.solver_workers,
        scarcity_policy=settings.scarcity_policy,  # type: ignore[arg-type]
        sla_hours={
            Urgency.CRISIS: settings.sla_crisis_hours,
            Urgency.HIGH: settings.sla_high_hours,
            Urgency.NORMAL: settings.sla_normal_hours,
        },
    )
    rebalancer = Rebalancer(
        store=store,
        broker=runtime.broker,
        metrics=metrics,
        config=config,
        window_s=settings.batch_window_s,
    )
    handlers = MatcherHandlers(store, rebalancer)
    processed = ProcessedEvents(runtime.db, "matcher")
    consumer = SafeConsumer(
        broker=runtime.broker,
        consumer="matcher",
        settings=settings,
        registry=runtime.registry,
        seen=processed.seen,
        mark=processed.mark,
    )
    broker = runtime.broker

    def sub(topic: str) -> dict[str, Any]:
        """One consumer group per topic: a new subscriber never rebalances the others."""
        return {
            "group_id": f"fivelink-matcher.{topic}",
            "auto_offset_reset": "earliest",
            "ack_policy": AckPolicy.ACK,
        }

    @broker.subscriber(topics.NEEDS, title="matcher.needs", **sub(topics.NEEDS))  # type: ignore[arg-type]
    async def needs(message: KafkaMessage) -> None:
        await consumer.handle(message.body, NEED_EVENTS, handlers.on_need, topics.NEEDS)

    @broker.subscriber(topics.OFFERS, title="matcher.offers", **sub(topics.OFFERS))  # type: ignore[arg-type]
    async def offers(message: KafkaMessage) -> None:
        await consumer.handle(message.body, OFFER_EVENTS, handlers.on_offer, topics.OFFERS)

    @broker.subscriber(topics.RESPONSES, title="matcher.responses", **sub(topics.RESPONSES))  # type: ignore[arg-type]
    async def responses(message: KafkaMessage) -> None:
        await consumer.handle(message.body, RESPONSES, handlers.on_response, topics.RESPONSES)

    broker.publisher(
        topics.ESCALATIONS,
        title="escalations",
        description="EscalationRaised: unmet lines past their SLA",
    )
    broker.publisher(
        topics.ASSIGNMENTS,
        title="assignments",
        description="AssignmentProposed / AssignmentWithdrawn",
    )

    escalator = Escalator(
        store=store,
        broker=runtime.broker,
        metrics=metrics,
        config=config,
        interval_s=settings.escalation_check_s,
    )

    async def after_start() -> None:
        await rebalancer.start()
        await escalator.start()

    async def on_stop() -> None:
        await escalator.stop()
        await rebalancer.stop()

    app = create_app(
        runtime,
        title="fivelink matcher",
        on_start=store.ensure_indexes,
        after_start=after_start,
        on_stop=on_stop,
        description="Assigns money, goods and social workers to need lines.",
    )
    app.state.store = store
    app.state.rebalancer = rebalancer
    app.state.escalator = escalator
    app.include_router(api.router)
    return app
