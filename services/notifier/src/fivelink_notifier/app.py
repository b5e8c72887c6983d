"""Wires the notifier: settings → store, channels, dispatcher, subscribers → app."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from faststream import AckPolicy
from faststream.kafka.annotations import KafkaMessage

from fivelink_notifier import api
from fivelink_notifier.adapters.store import NotifierStore
from fivelink_notifier.channels.base import Channel, ChannelKind
from fivelink_notifier.channels.webhook import WebhookChannel
from fivelink_notifier.dispatch import Dispatcher
from fivelink_notifier.metrics import NotifierMetrics
from fivelink_notifier.settings import NotifierSettings
from fivelink_shared import topics
from fivelink_shared.events import ASSIGNMENT_EVENTS, AssignmentProposed, AssignmentWithdrawn
from fivelink_shared.kafka import SafeConsumer
from fivelink_shared.mongo import ProcessedEvents
from fivelink_shared.service import ServiceRuntime, create_app


def build_app(settings: NotifierSettings | None = None) -> FastAPI:
    settings = settings or NotifierSettings()
    runtime = ServiceRuntime("notifier", settings)
    metrics = NotifierMetrics(runtime.registry)
    store = NotifierStore(runtime.db)
    assignments = runtime.db["assignments"]
    channels: dict[ChannelKind, Channel] = {
        ChannelKind.WEBHOOK: WebhookChannel(timeout_s=settings.webhook_timeout_s),
    }
    dispatcher = Dispatcher(
        store=store,
        channels=channels,
        broker=runtime.broker,
        metrics=metrics,
        link_secret=settings.link_secret.get_secret_value(),
        public_url=settings.public_url,
        link_ttl=timedelta(hours=settings.link_ttl_hours),
        max_attempts=settings.max_delivery_attempts,
    )
    processed = ProcessedEvents(runtime.db, "notifier")
    consumer = SafeConsumer(
        broker=runtime.broker,
        consumer="notifier",
        settings=settings,
        registry=runtime.registry,
        seen=processed.seen,
        mark=processed.mark,
    )

    async def on_assignment(event: AssignmentProposed | AssignmentWithdrawn) -> None:
        if isinstance(event, AssignmentProposed):
            await assignments.replace_one(
                {"_id": event.assignment_id},
                {
                    "_id": event.assignment_id,
                    "county": event.county,
                    "case_id": event.case_id,
                    "line_id": event.line_id,
                    "offer_id": event.offer_id,
                    "correlation_id": event.correlation_id,
                    "roles": {
                        event.org_id: "charity",
                        **({event.worker_id: "social_worker"} if event.worker_id else {}),
                    },
                },
                upsert=True,
            )
        await dispatcher.on_assignment(event)

    @runtime.broker.subscriber(  # type: ignore[call-overload]
        topics.ASSIGNMENTS,
        title="notifier.assignments",
        group_id=f"fivelink-notifier.{topics.ASSIGNMENTS}",
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.ACK,
    )
    async def assignments_in(message: KafkaMessage) -> None:
        await consumer.handle(message.body, ASSIGNMENT_EVENTS, on_assignment, topics.ASSIGNMENTS)

    runtime.broker.publisher(
        topics.RESPONSES, title="responses", description="ResponseRecorded from signed links"
    )

    app = create_app(
        runtime,
        title="fivelink notifier",
        on_start=store.ensure_indexes,
        after_start=dispatcher.start,
        on_stop=dispatcher.stop,
        description="Tells every party, in their language, on their channel.",
    )
    app.state.store = store
    app.state.assignments = assignments
    app.state.settings = settings
    app.state.runtime = runtime
    app.state.metrics = metrics
    app.include_router(api.router)
    return app
