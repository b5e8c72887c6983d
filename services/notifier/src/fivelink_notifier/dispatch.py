"""From events to deliveries: choose recipients, render, claim (de-duplicate), then deliver
with retries in a background worker, recording every attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from faststream.kafka import KafkaBroker
from pydantic import TypeAdapter

from fivelink_notifier.adapters.store import NotifierStore
from fivelink_notifier.channels.base import Channel, ChannelKind, Message, Role, Target
from fivelink_notifier.metrics import NotifierMetrics
from fivelink_notifier.rendering import assignment_context, render, withdrawn_context
from fivelink_notifier.signing import response_links
from fivelink_shared import topics
from fivelink_shared.events import (
    AssignmentProposed,
    AssignmentWithdrawn,
    Language,
    ResponseKind,
    Urgency,
)
from fivelink_shared.mongo import Document

log = logging.getLogger(__name__)
TARGET: TypeAdapter[Target] = TypeAdapter(Target)

ACTIONS: dict[Role, tuple[ResponseKind, ...]] = {
    Role.SOCIAL_WORKER: (ResponseKind.ACCEPTED, ResponseKind.DECLINED, ResponseKind.DELIVERED),
    Role.CHARITY: (ResponseKind.ACCEPTED, ResponseKind.DECLINED, ResponseKind.DELIVERED),
}


class Dispatcher:
    def __init__(
        self,
        *,
        store: NotifierStore,
        channels: Mapping[ChannelKind, Channel],
        broker: KafkaBroker,
        metrics: NotifierMetrics,
        link_secret: str,
        public_url: str,
        link_ttl: timedelta,
        max_attempts: int,
    ) -> None:
        self.store = store
        self.channels = channels
        self.broker = broker
        self.metrics = metrics
        self.link_secret = link_secret
        self.public_url = public_url
        self.link_ttl = link_ttl
        self.max_attempts = max_attempts
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # --- events -> claimed deliveries -------------------------------------------------------

    async def on_assignment(self, event: AssignmentProposed | AssignmentWithdrawn) -> None:
        recipients = [(event.org_id, Role.CHARITY)]
        worker = getattr(event, "worker_id", None)
        if worker:
            recipients.append((worker, Role.SOCIAL_WORKER))
        for party, role in recipients:
            for sub in await self.store.subscriptions_of(party):
                if sub.get("events") and event.type not in sub["events"]:
                    continue
                await self._claim(event, party, role, sub)
        self._wake.set()

    async def _claim(
        self, event: AssignmentProposed | AssignmentWithdrawn, party: str, role: Role, sub: Document
    ) -> None:
        language = Language(sub.get("language") or getattr(event, "language", "zh"))
        if isinstance(event, AssignmentProposed):
            links = response_links(
                f"{self.public_url}/r",
                self.link_secret,
                event.assignment_id,
                party,
                ACTIONS.get(role, ()),
                datetime.now(UTC) + self.link_ttl,
            )
            context = assignment_context(event, role, links)
            template, urgency = f"assignment_proposed.{role.value}", event.urgency
        else:
            links, context = {}, withdrawn_context(event, role)
            template, urgency = "assignment_withdrawn", Urgency.NORMAL
        subject, body = render(template, language, context)
        message = Message(
            recipient=party,
            role=role,
            channel=ChannelKind(sub["channel"]),
            language=language,
            subject=subject,
            body=body,
            event_id=event.event_id,
            urgency=urgency,
            links=links,
        )
        claimed = await self.store.claim_delivery(
            {
                "_id": f"{event.event_id}:{party}:{sub['channel']}",
                "event_id": event.event_id,
                "event_type": event.type,
                "assignment_id": event.assignment_id,
                "party_id": party,
                "role": role.value,
                "channel": sub["channel"],
                "subscription_id": sub["_id"],
                "status": "pending",
                "occurred_at": event.occurred_at,
                "correlation_id": event.correlation_id,
                "message": message.model_dump(mode="json"),
            }
        )
        if not claimed:
            log.info("duplicate event for party skipped", extra={"event_id": event.event_id})

    # --- deliveries worker ----------------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop())
        self._wake.set()

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=2.0)
            self._wake.clear()
            try:
                pending = await self.store.pending()
                await asyncio.gather(*(self.deliver(d) for d in pending))
            except Exception:
                log.exception("delivery sweep failed; will retry")
                await asyncio.sleep(1.0)

    async def deliver(self, delivery: Document) -> str:
        """Send one delivery, retrying retryable failures with backoff up to the cap."""
        channel_name = delivery["channel"]
        sub = await self.store.get_subscription(delivery["subscription_id"])
        message = Message.model_validate(delivery["message"])
        if sub is None:
            await self.store.set_status(delivery["_id"], "failed", failure="no subscription")
            return "failed"
        target = TARGET.validate_python(sub["target"])
        channel = self.channels[ChannelKind(channel_name)]
        attempt_no = len(delivery.get("attempts", []))
        while attempt_no < self.max_attempts:
            attempt_no += 1
            result = await channel.send(target, message)
            outcome = "ok" if result.ok else ("retryable" if result.retryable else "permanent")
            self.metrics.attempts.labels(channel_name, outcome).inc()
            attempt = {
                "n": attempt_no,
                "at": datetime.now(UTC),
                "ok": result.ok,
                "status": result.status,
                "detail": result.detail[:300],
            }
            if result.ok:
                await self.store.record_attempt(delivery["_id"], attempt, "delivered")
                self.metrics.deliveries.labels(channel_name, "delivered").inc()
                age = (datetime.now(UTC) - _aware(delivery["occurred_at"])).total_seconds()
                self.metrics.latency.labels(channel_name).observe(max(age, 0.0))
                return "delivered"
            if not result.retryable:
                break
            await self.store.record_attempt(delivery["_id"], attempt, "retrying")
            self.metrics.retries.labels(channel_name).inc()
            await asyncio.sleep(_backoff(attempt_no))
        await self.store.record_attempt(delivery["_id"], attempt, "failed")
        self.metrics.deliveries.labels(channel_name, "failed").inc()
        await self.broker.publish(
            {
                "source_topic": topics.ASSIGNMENTS,
                "reason": "delivery_failed",
                "delivery_id": delivery["_id"],
                "channel": channel_name,
                "status": attempt["status"],
            },
            topic=topics.dead_letter("notifier"),
        )
        return "failed"


def _backoff(attempt: int) -> float:
    """Exponential backoff with full jitter: 0.5 s, 1 s, 2 s … capped at 30 s."""
    return float(random.uniform(0, min(30.0, 0.5 * 2 ** (attempt - 1))))


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
