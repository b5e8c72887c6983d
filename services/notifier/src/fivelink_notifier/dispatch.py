"""From events to deliveries: choose recipients, render, claim (de-duplicate); then a worker
sends what is due, applying the delivery policy (quiet hours, rate limits) and the retry
policy (tenacity's exponential backoff with jitter, via ``policy.after_attempt``).

Retries are durable: a failed attempt is recorded and the delivery gets a ``not_before``; the
worker picks it up again then, also after a restart. No attempt loop lives in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from faststream.kafka import KafkaBroker
from pydantic import TypeAdapter

from fivelink_notifier.adapters.store import NotifierStore
from fivelink_notifier.channels.base import Channel, ChannelKind, DeliveryResult, Message, Role
from fivelink_notifier.channels.base import Target as TargetUnion
from fivelink_notifier.loop import links_for
from fivelink_notifier.metrics import NotifierMetrics
from fivelink_notifier.policy import Outcome, PolicySettings, Verdict, after_attempt, decide
from fivelink_notifier.rendering import (
    assignment_context,
    escalation_context,
    reminder_context,
    render,
    withdrawn_context,
)
from fivelink_notifier.signing import response_links
from fivelink_shared import topics
from fivelink_shared.events import (
    AssignmentProposed,
    AssignmentWithdrawn,
    EscalationRaised,
    Language,
    Urgency,
)
from fivelink_shared.mongo import Document

log = logging.getLogger(__name__)
TARGET: TypeAdapter[TargetUnion] = TypeAdapter(TargetUnion)
LEASE = timedelta(seconds=60)


@dataclass(frozen=True)
class Links:
    """How response links are made: ``{public_url}/r/<token>``, valid for ``ttl``."""

    secret: str
    public_url: str
    ttl: timedelta

    def make(self, assignment_id: str, party: str, role: Role, status: str) -> dict[str, str]:
        return response_links(
            f"{self.public_url}/r",
            self.secret,
            assignment_id,
            party,
            links_for(role, status),
            datetime.now(UTC) + self.ttl,
        )


class Dispatcher:
    def __init__(
        self,
        *,
        store: NotifierStore,
        channels: Mapping[ChannelKind, Channel],
        broker: KafkaBroker,
        metrics: NotifierMetrics,
        links: Links,
        policy: PolicySettings,
        policy_channels: Iterable[str] = ("email", "sms"),
        workers: int = 32,
        dashboard_url: str = "",
    ) -> None:
        self.store = store
        self.channels = channels
        self.broker = broker
        self.metrics = metrics
        self.links = links
        self.policy = policy
        self.policy_channels = frozenset(policy_channels)
        self.workers = workers
        self.dashboard_url = dashboard_url
        self.owner = f"{socket.gethostname()}:{uuid.uuid4().hex[:6]}"
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight: dict[str, asyncio.Task[str]] = {}
        self._busy_keys: set[str] = set()
        self._stopping = False
        self._next_dlq_check = 0.0

    # --- events -> claimed deliveries -------------------------------------------------------

    async def on_assignment(
        self, event: AssignmentProposed | AssignmentWithdrawn, parties: list[dict[str, str]]
    ) -> int:
        """Claim one delivery per subscribed channel of each party; returns how many were new."""
        new = 0
        known = await self.store.subscriptions_of_many([p["party_id"] for p in parties])
        for party in parties:
            party_id, role = party["party_id"], Role(party["role"])
            if role is Role.BENEFICIARY and isinstance(event, AssignmentWithdrawn):
                continue  # the person hears what is coming, not the matcher's churn
            for sub in _matching(known.get(party_id, []), event.type, role):
                language = _language(sub, getattr(event, "language", None))
                if isinstance(event, AssignmentProposed):
                    links = self.links.make(event.assignment_id, party_id, role, "proposed")
                    context = assignment_context(event, role, links)
                    template, urgency = f"assignment_proposed.{role.value}", event.urgency
                else:
                    links, context = {}, withdrawn_context(event, role)
                    template, urgency = "assignment_withdrawn", Urgency.NORMAL
                new += await self._claim(
                    event.event_id,
                    event.type,
                    event.occurred_at,
                    event.correlation_id,
                    event.assignment_id,
                    party_id,
                    role,
                    sub,
                    template,
                    language,
                    context,
                    urgency,
                    links,
                )
        self._wake.set()
        return new

    async def on_escalation(self, event: EscalationRaised) -> int:
        """Tell the supervisors subscribed at the escalated level for that area."""
        code = {
            "community": event.region.community,
            "township": event.region.township,
            "county": event.region.county or event.county,
        }[event.level]
        new = 0
        if not code:
            log.warning("escalation without a region code", extra={"level": event.level})
            return 0
        context = escalation_context(event, self.dashboard_url)
        for sub in await self.store.supervisors(event.level, code):
            if not _wants(sub, event.type):
                continue
            new += await self._claim(
                event.event_id,
                event.type,
                event.occurred_at,
                event.correlation_id,
                None,
                sub["party_id"],
                Role.SUPERVISOR,
                sub,
                "escalation_raised",
                _language(sub, None),
                context,
                event.urgency,
                {},
            )
            self.metrics.escalations.labels(event.level).inc()
        self._wake.set()
        return new

    async def remind(self, assignment: Document, event_id: str) -> int:
        """An SLA reminder to every party of an assignment still waiting in its state."""
        proposal = AssignmentProposed.model_validate(assignment["event"])
        status = assignment["status"]
        new = 0
        for party in assignment.get("parties", []):
            party_id, role = party["party_id"], Role(party["role"])
            if role is Role.BENEFICIARY:
                continue
            for sub in await self._subs(party_id, "reminder", role):
                links = self.links.make(proposal.assignment_id, party_id, role, status)
                context = reminder_context(proposal, role, links)
                if role is Role.CHARITY:
                    context.pop("case_id", None)
                new += await self._claim(
                    event_id,
                    "reminder",
                    datetime.now(UTC),
                    proposal.correlation_id,
                    proposal.assignment_id,
                    party_id,
                    role,
                    sub,
                    "reminder",
                    _language(sub, proposal.language),
                    context,
                    proposal.urgency,
                    links,
                )
        self._wake.set()
        return new

    async def _subs(self, party_id: str, event_type: str, role: Role) -> list[Document]:
        return _matching(await self.store.subscriptions_of(party_id), event_type, role)

    async def _claim(
        self,
        event_id: str,
        event_type: str,
        occurred_at: datetime,
        correlation_id: str,
        assignment_id: str | None,
        party: str,
        role: Role,
        sub: Document,
        template: str,
        language: Language,
        context: Mapping[str, Any],
        urgency: Urgency,
        links: dict[str, str],
    ) -> int:
        subject, body = render(template, language, context)
        message = Message(
            recipient=party,
            role=role,
            channel=ChannelKind(sub["channel"]),
            language=language,
            subject=subject,
            body=body,
            event_id=event_id,
            urgency=urgency,
            links=links,
        )
        claimed = await self.store.claim_delivery(
            {
                "_id": f"{event_id}:{party}:{sub['channel']}",
                "event_id": event_id,
                "event_type": event_type,
                "assignment_id": assignment_id,
                "party_id": party,
                "role": role.value,
                "channel": sub["channel"],
                "subscription_id": sub["_id"],
                "urgency": urgency.value,
                "status": "pending",
                "occurred_at": occurred_at,
                "correlation_id": correlation_id,
                "message": message.model_dump(mode="json"),
            }
        )
        if not claimed:
            self.metrics.duplicates.inc()
            log.info("duplicate event for party skipped", extra={"event_id": event_id})
        return int(claimed)

    # --- the worker -------------------------------------------------------------------------

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._loop())
        self._wake.set()

    async def stop(self, drain_s: float = 8.0) -> None:
        """Stop taking work, let in-flight sends finish and be recorded, then stop."""
        self._stopping = True
        self._wake.set()
        if self._inflight:
            await asyncio.wait(list(self._inflight.values()), timeout=drain_s)
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def wake(self) -> None:
        self._wake.set()

    async def _loop(self) -> None:
        await self.store.repair_queue()
        while not self._stopping:
            idle = 1.0
            try:
                await self._sweep()
                if time.monotonic() >= self._next_dlq_check:  # a scan: not on every sweep
                    self._next_dlq_check = time.monotonic() + 30.0
                    await self._dead_letters()
                idle = await self._idle_s()
            except Exception:
                log.exception("delivery sweep failed; will retry")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=idle)
            self._wake.clear()
            await asyncio.sleep(0.01)  # let a burst of wake-ups become one sweep

    async def _idle_s(self) -> float:
        if len(self._inflight) >= self.workers:
            return 1.0  # a finishing send wakes us
        nxt = await self.store.next_due()
        if nxt is None:
            return 1.0
        return min(1.0, max(0.02, (nxt - datetime.now(UTC)).total_seconds()))

    async def _sweep(self) -> None:
        free = self.workers - len(self._inflight)
        if free <= 0 or self._stopping:
            return
        now = datetime.now(UTC)
        due = await self.store.due(now, limit=free * 2, exclude=list(self._inflight))
        for doc in due:
            if len(self._inflight) >= self.workers:
                break
            key = self._key(doc)
            if key in self._busy_keys:
                continue  # one at a time per recipient where the rate limit applies
            self._busy_keys.add(key)
            task = asyncio.create_task(self.deliver(doc))
            self._inflight[doc["_id"]] = task
            task.add_done_callback(functools.partial(self._done, doc["_id"], key))

    def _key(self, entry: Document) -> str:
        """Deliveries to one recipient on a rate-limited channel go one at a time."""
        delivery_id = str(entry["_id"])
        channel = delivery_id.rsplit(":", 1)[-1]
        if channel in self.policy_channels:
            return delivery_id.split(":", 1)[1]  # "<party>:<channel>"
        return delivery_id

    def _done(self, delivery_id: str, key: str, _task: object = None) -> None:
        self._inflight.pop(delivery_id, None)
        self._busy_keys.discard(key)
        self._wake.set()

    async def deliver(self, entry: Document) -> str:
        """One attempt at one queued delivery (or a deferral); returns its new status."""
        now = datetime.now(UTC)
        delivery = await self.store.lease(entry["_id"], now, LEASE)
        if delivery is None:
            return "leased"
        channel_name = delivery["channel"]
        urgency = Urgency(delivery.get("urgency", "normal"))
        if channel_name in self.policy_channels:
            since = now - self.policy.rate_limit.window
            sent = await self.store.sent_times(delivery["party_id"], channel_name, since)
            verdict = decide(now, urgency, sent, self.policy)
            if verdict.verdict is Verdict.DEFER:
                await self.store.defer(delivery["_id"], verdict.send_at, verdict.reason)
                self.metrics.deferred.labels(channel_name, verdict.reason).inc()
                return "deferred"
        result = await self._send(delivery)
        attempts_made = len(delivery.get("attempts", [])) + 1
        finished = datetime.now(UTC)
        decision = after_attempt(result, attempts_made, finished, self.policy.retry)
        outcome = "ok" if result.ok else ("retryable" if result.retryable else "permanent")
        self.metrics.attempts.labels(channel_name, outcome).inc()
        attempt = {
            "n": attempts_made,
            "at": finished,
            "ok": result.ok,
            "status": result.status,
            "detail": result.detail[:300],
            "by": self.owner,
        }
        if decision.outcome is Outcome.DELIVERED:
            await self.store.record_attempt(delivery["_id"], attempt, "delivered", sent_at=finished)
            self.metrics.deliveries.labels(channel_name, "delivered").inc()
            age = (finished - _aware(delivery["occurred_at"])).total_seconds()
            self.metrics.latency.labels(channel_name).observe(max(age, 0.0))
            return "delivered"
        if decision.outcome is Outcome.RETRY:
            assert decision.retry_at is not None
            await self.store.record_attempt(
                delivery["_id"], attempt, "retrying", not_before=decision.retry_at
            )
            self.metrics.retries.labels(channel_name).inc()
            return "retrying"
        await self.store.record_attempt(
            delivery["_id"], attempt, "failed", failure=decision.reason, dlq_pending=True
        )
        self.metrics.deliveries.labels(channel_name, "failed").inc()
        await self._dead_letter({**delivery, "failure": decision.reason, "last": attempt})
        return "failed"

    async def _send(self, delivery: Document) -> DeliveryResult:
        sub = await self.store.get_subscription(delivery["subscription_id"])
        if sub is None:
            return DeliveryResult.failed("no_subscription", "subscription removed", retryable=False)
        target = TARGET.validate_python(_target(sub))
        message = Message.model_validate(delivery["message"])
        channel = self.channels.get(ChannelKind(delivery["channel"]))
        if channel is None:
            return DeliveryResult.failed("no_channel", "channel not configured", retryable=False)
        try:
            return await channel.send(target, message)
        except Exception as exc:  # a channel must not raise; if it does, try again later
            log.exception("channel raised", extra={"channel": delivery["channel"]})
            return DeliveryResult.failed("channel_error", type(exc).__name__, retryable=True)

    async def _dead_letter(self, delivery: Document) -> None:
        """Publish the permanent failure on the notifier's dead-letter topic (ids only)."""
        try:
            await self.broker.publish(
                {
                    "source_topic": topics.ASSIGNMENTS,
                    "reason": "delivery_failed",
                    "delivery_id": delivery["_id"],
                    "event_id": delivery["event_id"],
                    "event_type": delivery.get("event_type"),
                    "party_id": delivery["party_id"],
                    "channel": delivery["channel"],
                    "failure": delivery.get("failure"),
                    "attempts": len(delivery.get("attempts", [])) + 1,
                },
                topic=topics.dead_letter("notifier"),
                key=delivery["party_id"].encode(),
            )
        except Exception:
            log.exception("dead-letter publish failed; will retry")
            return
        await self.store.set_fields(delivery["_id"], dlq_pending=False)

    async def _dead_letters(self) -> None:
        for doc in await self.store.undelivered_dead_letters():
            await self._dead_letter(doc)


def _target(sub: Document) -> Document:
    """The subscription's target, with the older secrets still inside their grace window."""
    target = dict(sub["target"])
    if target.get("kind") == "webhook":
        now = datetime.now(UTC)
        target["previous_secrets"] = tuple(
            p["secret"] for p in sub.get("previous_secrets", []) if _aware(p["until"]) > now
        )
    return target


def _matching(subs: list[Document], event_type: str, role: Role) -> list[Document]:
    return [s for s in subs if _wants(s, event_type) and s.get("role") == role.value]


def _wants(sub: Document, event_type: str) -> bool:
    events = sub.get("events") or []
    return not events or event_type in events


def _language(sub: Document, fallback: Language | str | None) -> Language:
    return Language(sub.get("language") or fallback or Language.ZH)


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
