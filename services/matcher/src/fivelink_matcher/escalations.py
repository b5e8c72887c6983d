"""SLA escalation of unmet lines (社区吹哨、部门报到): community at 1× SLA, township at 2×,
county at 4×. Each (line, level) is raised once: stored first, then published, then flagged.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from faststream.kafka import KafkaBroker
from pymongo.errors import DuplicateKeyError

from fivelink_matcher.adapters.store import MatcherStore
from fivelink_matcher.domain.escalation import due_escalations
from fivelink_matcher.domain.model import Line, SolverConfig
from fivelink_matcher.metrics import MatcherMetrics
from fivelink_matcher.problem import lines_of
from fivelink_shared import topics
from fivelink_shared.background import Periodic
from fivelink_shared.events import EscalationRaised, NeedOpened, Urgency
from fivelink_shared.kafka import publish_event

log = logging.getLogger(__name__)


class Escalator:
    def __init__(
        self,
        *,
        store: MatcherStore,
        broker: KafkaBroker,
        metrics: MatcherMetrics,
        config: SolverConfig,
        interval_s: float,
    ) -> None:
        self.store = store
        self.broker = broker
        self.metrics = metrics
        self.config = config
        self._periodic = Periodic("escalation check", interval_s, self.check_once)

    async def start(self) -> None:
        await self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    async def check_once(self, now: datetime | None = None) -> int:
        """Raise every escalation now due; returns how many were published."""
        now = now or datetime.now(UTC)
        for county in await self.store.counties():
            await self._check_county(county, now)
        return await self._publish_pending()

    async def _check_county(self, county: str, now: datetime) -> None:
        unmet = {u["line_id"]: u for u in await self.store.list_unmet(county)}
        if not unmet:
            self._observe_age(county, [], now)
            return
        needs = [NeedOpened.model_validate(d["need"]) for d in await self.store.open_cases(county)]
        by_line = {
            line.line_id: (need, line)
            for need in needs
            for line in lines_of(need, set())
            if line.line_id in unmet
        }
        lines = [line for _, line in by_line.values()]
        self._observe_age(county, lines, now)
        raised = {
            (d["line_id"], d["level"])
            async for d in self.store.escalations.find(
                {"county": county}, {"line_id": 1, "level": 1}
            )
        }
        for line_id, level, waited in due_escalations(lines, now, self.config.sla_hours, raised):
            need, line = by_line[line_id]
            event = EscalationRaised(
                county=county,
                correlation_id=need.correlation_id,
                case_id=need.case_id,
                line_id=line_id,
                need_type=line.need_type,
                urgency=line.urgency,
                level=level,
                reason=unmet[line_id]["reason"],
                waiting_hours=waited,
                region=need.region,
            )
            with contextlib.suppress(DuplicateKeyError):
                await self.store.escalations.insert_one(
                    {
                        "_id": f"{line_id}:{level}",
                        "county": county,
                        "line_id": line_id,
                        "level": level,
                        "published": False,
                        "event": event.model_dump(mode="json"),
                    }
                )

    def _observe_age(self, county: str, lines: Sequence[Line], now: datetime) -> None:
        for urgency in Urgency:
            ages = [
                (now - line.opened_at).total_seconds() for line in lines if line.urgency is urgency
            ]
            self.metrics.unmet_oldest.labels(county, urgency.value).set(max(ages, default=0.0))

    async def _publish_pending(self) -> int:
        published = 0
        async for doc in self.store.escalations.find({"published": False}):
            event = EscalationRaised.model_validate(doc["event"])
            await publish_event(self.broker, topics.ESCALATIONS, event)
            await self.store.escalations.update_one(
                {"_id": doc["_id"]}, {"$set": {"published": True}}
            )
            self.metrics.escalations.labels(event.level).inc()
            published += 1
        return published
