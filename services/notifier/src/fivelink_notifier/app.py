"""Wires the notifier: settings → stores, channels, dispatcher, follow-ups, subscribers → app."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from faststream import AckPolicy
from faststream.kafka.annotations import KafkaMessage

from fivelink_notifier import api
from fivelink_notifier.adapters.assignments import AssignmentStore
from fivelink_notifier.adapters.inbox import MongoInboxStore
from fivelink_notifier.adapters.store import NotifierStore
from fivelink_notifier.channels.base import Channel, ChannelKind, Role
from fivelink_notifier.channels.email import EmailChannel
from fivelink_notifier.channels.inbox import InboxChannel
from fivelink_notifier.channels.sms import SmsGatewayChannel
from fivelink_notifier.channels.webhook import WebhookChannel
from fivelink_notifier.dispatch import Dispatcher, Links
from fivelink_notifier.followups import FollowUps
from fivelink_notifier.loop import Sla, TransitionError, check_transition, traceability_record
from fivelink_notifier.metrics import NotifierMetrics
from fivelink_notifier.settings import NotifierSettings
from fivelink_shared import topics
from fivelink_shared.events import (
    ASSIGNMENT_EVENTS,
    ESCALATION_EVENTS,
    RESPONSE_EVENTS,
    AssignmentProposed,
    AssignmentWithdrawn,
    EscalationRaised,
    ResponseKind,
    ResponseRecorded,
)
from fivelink_shared.kafka import SafeConsumer
from fivelink_shared.mongo import ProcessedEvents
from fivelink_shared.service import ServiceRuntime, create_app

log = logging.getLogger(__name__)


def parties_of(event: AssignmentProposed) -> list[dict[str, str]]:
    """Who hears of a proposal: the charity, the assigned worker, the person (if subscribed)."""
    parties = [{"party_id": event.org_id, "role": Role.CHARITY.value}]
    if event.worker_id:
        parties.append({"party_id": event.worker_id, "role": Role.SOCIAL_WORKER.value})
    parties.append({"party_id": event.person_ref, "role": Role.BENEFICIARY.value})
    return parties


async def concurrently(
    raws: list[bytes], handle: Callable[[bytes], Awaitable[None]], limit: int
) -> None:
    """Handle a batch concurrently, one assignment's messages in their order."""
    groups: dict[str, list[bytes]] = defaultdict(list)
    for raw in raws:
        try:
            key = str(json.loads(raw).get("assignment_id", ""))
        except (ValueError, AttributeError):
            key = ""  # unparsable: the handler dead-letters it
        groups[key].append(raw)
    sem = asyncio.Semaphore(limit)

    async def run(items: list[bytes]) -> None:
        async with sem:
            for raw in items:
                await handle(raw)

    await asyncio.gather(*(run(items) for items in groups.values()))


def build_app(settings: NotifierSettings | None = None) -> FastAPI:
    settings = settings or NotifierSettings()
    runtime = ServiceRuntime("notifier", settings)
    metrics = NotifierMetrics(runtime.registry)
    store = NotifierStore(runtime.db)
    assignments = AssignmentStore(runtime.db)
    inbox = MongoInboxStore(runtime.db)
    channels: dict[ChannelKind, Channel] = {
        ChannelKind.WEBHOOK: WebhookChannel(timeout_s=settings.webhook_timeout_s),
        ChannelKind.EMAIL: EmailChannel(settings.smtp()),
        ChannelKind.SMS: SmsGatewayChannel(settings.sms()),
        ChannelKind.INBOX: InboxChannel(inbox),
    }
    link_secret = settings.link_secret.get_secret_value()
    dispatcher = Dispatcher(
        store=store,
        channels=channels,
        broker=runtime.broker,
        metrics=metrics,
        links=Links(link_secret, settings.link_base(), timedelta(hours=settings.link_ttl_hours)),
        policy=settings.policy(),
        policy_channels=settings.notifier_policy_channels,
        workers=settings.notifier_workers,
        dashboard_url=settings.dashboard_url,
    )
    followups = FollowUps(
        assignments=assignments,
        dispatcher=dispatcher,
        broker=runtime.broker,
        metrics=metrics,
        sla=Sla.from_seconds(
            settings.notifier_remind_after_s,
            settings.notifier_release_after_s,
            settings.notifier_delivery_remind_after_s,
        ),
        check_s=settings.notifier_followup_check_s,
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
            parties = parties_of(event)
            await assignments.proposed(event, parties)
        else:
            doc = await assignments.get(event.assignment_id)
            parties = (
                doc.get("parties", [])
                if doc
                else [{"party_id": event.org_id, "role": Role.CHARITY.value}]
            )
            await assignments.transition(event.assignment_id, ("proposed",), "withdrawn")
        await dispatcher.on_assignment(event, parties)

    async def on_response(event: ResponseRecorded) -> None:
        doc = await assignments.get(event.assignment_id)
        if doc is None:
            return
        try:
            moved = check_transition(doc["status"], event.response)
        except TransitionError:
            return  # e.g. our own release coming back, or a late answer: nothing to change
        if moved:
            fields = {"decline_reason": event.reason.value} if event.reason else {}
            await assignments.transition(
                event.assignment_id, (doc["status"],), event.response.value, **fields
            )
        if event.response is ResponseKind.CONFIRMED:
            fresh = await assignments.get(event.assignment_id) or doc
            await assignments.put_trace(
                traceability_record(fresh, link_secret, event.occurred_at.astimezone(UTC))
            )

    async def on_escalation(event: EscalationRaised) -> None:
        await dispatcher.on_escalation(event)

    def group(topic: str) -> str:
        return f"fivelink-notifier.{topic}"

    async def one_assignment(raw: bytes) -> None:
        await consumer.handle(raw, ASSIGNMENT_EVENTS, on_assignment, topics.ASSIGNMENTS)

    @runtime.broker.subscriber(  # type: ignore[call-overload]
        topics.ASSIGNMENTS,
        title="notifier.assignments",
        group_id=group(topics.ASSIGNMENTS),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.ACK,
        batch=True,
        max_records=settings.notifier_consume_batch,
        batch_timeout_ms=50,
    )
    async def assignments_in(message: KafkaMessage) -> None:
        # committed after the whole batch; within it, one assignment's events stay in order
        await concurrently(list(message.body), one_assignment, settings.notifier_consume_batch)

    @runtime.broker.subscriber(  # type: ignore[call-overload]
        topics.RESPONSES,
        title="notifier.responses",
        group_id=group(topics.RESPONSES),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.ACK,
    )
    async def responses_in(message: KafkaMessage) -> None:
        await consumer.handle(message.body, RESPONSE_EVENTS, on_response, topics.RESPONSES)

    @runtime.broker.subscriber(  # type: ignore[call-overload]
        topics.ESCALATIONS,
        title="notifier.escalations",
        group_id=group(topics.ESCALATIONS),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.ACK,
    )
    async def escalations_in(message: KafkaMessage) -> None:
        await consumer.handle(message.body, ESCALATION_EVENTS, on_escalation, topics.ESCALATIONS)

    runtime.broker.publisher(
        topics.RESPONSES, title="responses", description="ResponseRecorded from links and API"
    )
    runtime.broker.publisher(
        topics.dead_letter("notifier"), title="dlq", description="Deliveries that failed for good"
    )

    async def on_start() -> None:
        await store.ensure_indexes()
        await assignments.ensure_indexes()
        await inbox.ensure_indexes()

    async def after_start() -> None:
        await dispatcher.start()
        await followups.start()

    async def on_stop() -> None:
        await followups.stop()
        await dispatcher.stop()

    app = create_app(
        runtime,
        title="fivelink notifier",
        on_start=on_start,
        after_start=after_start,
        on_stop=on_stop,
        description="Tells every party, in their language, on their channel.",
    )
    app.state.store = store
    app.state.assignments = assignments
    app.state.inbox = inbox
    app.state.settings = settings
    app.state.runtime = runtime
    app.state.metrics = metrics
    app.state.dispatcher = dispatcher
    app.state.started_at = datetime.now(UTC)
    app.include_router(api.router)
    return app
