"""SLA follow-ups: remind parties of unanswered proposals, release them after a longer wait
(a ``declined`` response with reason ``no_response``, so the matcher re-matches the line with
another resource), and remind of accepted ones not delivered in time.

Every step is claim-then-flag: deliveries are claimed (idempotent ids) before the flag is set,
and a release is stored as ``release_published: False`` until its event is on Kafka, so a crash
at any point repeats a step without doubling it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from faststream.kafka import KafkaBroker

from fivelink_notifier.adapters.assignments import AssignmentStore
from fivelink_notifier.dispatch import Dispatcher
from fivelink_notifier.loop import Sla
from fivelink_notifier.metrics import NotifierMetrics
from fivelink_shared import topics
from fivelink_shared.background import Periodic
from fivelink_shared.events import (
    AssignmentWithdrawn,
    DeclineReason,
    ResponseKind,
    ResponseRecorded,
    Urgency,
)
from fivelink_shared.kafka import publish_event
from fivelink_shared.mongo import Document

log = logging.getLogger(__name__)


class FollowUps:
    def __init__(
        self,
        *,
        assignments: AssignmentStore,
        dispatcher: Dispatcher,
        broker: KafkaBroker,
        metrics: NotifierMetrics,
        sla: Sla,
        check_s: float,
    ) -> None:
        self.assignments = assignments
        self.dispatcher = dispatcher
        self.broker = broker
        self.metrics = metrics
        self.sla = sla
        self.check_s = check_s
        self._periodic = Periodic(
            "follow-up check", check_s, lambda: self.run_once(datetime.now(UTC))
        )

    async def start(self) -> None:
        await self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    async def _tick(self) -> None:
        await self.run_once(datetime.now(UTC))

    async def run_once(self, now: datetime) -> None:
        for urgency in Urgency:
            release = self.sla.release_after.get(urgency)
            if release is not None:
                for doc in await self.assignments.waiting(
                    "proposed", urgency.value, "proposed_at", now - release, "released_at"
                ):
                    await self.release(doc)
            remind = self.sla.remind_after.get(urgency)
            if remind is not None:
                for doc in await self.assignments.waiting(
                    "proposed", urgency.value, "proposed_at", now - remind, "reminded_at"
                ):
                    await self._remind(doc, "reminded_at", "reminder")
            late = self.sla.delivery_remind_after.get(urgency)
            if late is not None:
                for doc in await self.assignments.waiting(
                    "accepted", urgency.value, "accepted_at", now - late, "delivery_reminded_at"
                ):
                    await self._remind(doc, "delivery_reminded_at", "delivery_reminder")
        for doc in await self.assignments.unpublished_releases():
            await self._publish_release(doc)

    async def _remind(self, doc: Document, flag: str, kind: str) -> None:
        await self.dispatcher.remind(doc, f"{kind}:{doc['_id']}")
        if await self.assignments.mark_once(doc["_id"], doc["status"], flag):
            self.metrics.followups.labels(kind).inc()

    async def release(self, doc: Document) -> None:
        """Give an unanswered proposal back to the matcher and tell the parties."""
        if not await self.assignments.transition(
            doc["_id"], ("proposed",), "released", release_published=False
        ):
            return
        self.metrics.followups.labels("release").inc()
        await self._publish_release({**doc, "status": "released"})

    async def _publish_release(self, doc: Document) -> None:
        response = ResponseRecorded(
            county=doc["county"],
            correlation_id=doc.get("correlation_id") or doc["_id"],
            assignment_id=doc["_id"],
            case_id=doc["case_id"],
            line_id=doc["line_id"],
            offer_id=doc["offer_id"],
            response=ResponseKind.DECLINED,
            reason=DeclineReason.NO_RESPONSE,
            actor_role="notifier_sla",
        )
        await publish_event(self.broker, topics.RESPONSES, response)
        notice = AssignmentWithdrawn(
            event_id=f"released-{doc['_id']}",
            county=doc["county"],
            correlation_id=response.correlation_id,
            assignment_id=doc["_id"],
            case_id=doc["case_id"],
            line_id=doc["line_id"],
            offer_id=doc["offer_id"],
            org_id=doc["org_id"],
            reason="released",
        )
        await self.dispatcher.on_assignment(notice, doc.get("parties", []))
        await self.assignments.set_fields(doc["_id"], release_published=True)
