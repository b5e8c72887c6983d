"""Event-driven re-solve: mark counties dirty on change, re-solve them in micro-batches,
store the result, and publish only the assignments that changed.

Publishing uses the assignment documents as an outbox: each changed assignment is stored with
``published: False`` first, published, then flagged; a restart publishes what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from faststream.kafka import KafkaBroker

from fivelink_matcher.adapters.store import MatcherStore
from fivelink_matcher.domain.model import Assignment, Problem, Solution, SolverConfig
from fivelink_matcher.domain.solver import solve
from fivelink_matcher.metrics import REASONS, MatcherMetrics
from fivelink_matcher.problem import build_problem
from fivelink_shared import topics
from fivelink_shared.events import (
    AssignmentProposed,
    AssignmentWithdrawn,
    NeedOpened,
    OfferPublished,
    Region,
)
from fivelink_shared.kafka import publish_event
from fivelink_shared.mongo import Document

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CountyState:
    """One county's stored documents, as read for one solve."""

    cases: list[Document]
    offers: list[Document]
    assignments: list[Document]


def assignment_id(line_id: str, offer_id: str) -> str:
    return "a-" + hashlib.sha256(f"{line_id}|{offer_id}".encode()).hexdigest()[:20]


class Rebalancer:
    def __init__(
        self,
        *,
        store: MatcherStore,
        broker: KafkaBroker,
        metrics: MatcherMetrics,
        config: SolverConfig,
        window_s: float,
    ) -> None:
        self.store = store
        self.broker = broker
        self.metrics = metrics
        self.config = config
        self.window_s = window_s
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def mark_dirty(self, county: str) -> None:
        self._dirty.add(county)
        self.metrics.backlog.set(len(self._dirty))
        self._wake.set()

    async def start(self) -> None:
        await self.publish_pending()
        for county in await self.store.counties():
            self.mark_dirty(county)
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(self.window_s)  # gather the micro-batch
            self._wake.clear()
            batch, self._dirty = self._dirty, set()
            self.metrics.backlog.set(0)
            for county in sorted(batch):
                try:
                    await self.rebalance(county)
                except Exception:
                    log.exception("re-solve failed; will retry", extra={"county": county})
                    self.mark_dirty(county)
                    await asyncio.sleep(1.0)

    async def load_problem(
        self, county: str, extra_offers: Sequence[OfferPublished] = ()
    ) -> tuple[Problem, CountyState]:
        """Read the county's stored picture once, and the problem built from it."""
        state = CountyState(
            cases=await self.store.open_cases(county),
            offers=await self.store.active_offers(county),
            assignments=await self.store.county_assignments(county),
        )
        problem = build_problem(
            county, datetime.now(UTC), state.cases, state.offers, state.assignments, extra_offers
        )
        return problem, state

    async def what_if(self, county: str, extra_offers: Sequence[OfferPublished]) -> Solution:
        """Solve on the current state plus hypothetical offers; publishes nothing."""
        problem, _ = await self.load_problem(county, extra_offers)
        return await asyncio.to_thread(solve, problem, self.config)

    async def rebalance(self, county: str) -> Solution:
        async with self._lock:
            problem, state = await self.load_problem(county)
            solution = await asyncio.to_thread(solve, problem, self.config)
            self._observe(county, problem, solution)
            await self._apply(county, solution, state)
            await self.publish_pending()
            return solution

    def _observe(self, county: str, problem: Problem, solution: Solution) -> None:
        m = self.metrics
        m.solve_seconds.labels(solution.solver_path).observe(solution.solve_seconds)
        m.solves.labels(solution.solver_path).inc()
        if solution.solver_path == "greedy_fallback":
            m.fallbacks.inc()
        m.problem_lines.labels(county).set(len(problem.lines))
        m.problem_resources.labels(county).set(len(problem.resources))
        m.objective.labels(county).set(solution.objective)
        m.bound.labels(county).set(solution.bound)
        m.gap.labels(county).set(solution.gap)
        counts = dict.fromkeys(REASONS, 0)
        for unmet in solution.unmet:
            counts[unmet.reason] = counts.get(unmet.reason, 0) + 1
        for reason, count in counts.items():
            m.unmet.labels(county, reason).set(count)
        m.observe_programme(problem, solution, self.config.sla_hours)
        log.info(
            "solved",
            extra={
                "county": county,
                "path": solution.solver_path,
                "lines": len(problem.lines),
                "assigned": len(solution.assignments),
                "unmet": len(solution.unmet),
                "gap": round(solution.gap, 4),
                "seconds": round(solution.solve_seconds, 3),
            },
        )

    async def _apply(self, county: str, solution: Solution, state: CountyState) -> None:
        needs = {doc["_id"]: NeedOpened.model_validate(doc["need"]) for doc in state.cases}
        current = {
            (a["line_id"], a["offer_id"]): a for a in state.assignments if a["status"] == "proposed"
        }
        offers = {o["_id"]: o for o in state.offers}
        wanted: dict[tuple[str, str], Assignment] = {
            (a.line_id, a.offer_id): a for a in solution.assignments if not a.fixed
        }
        now = datetime.now(UTC)
        for key, new in wanted.items():
            old = current.get(key)
            if old is not None and abs(old["quantity"] - new.quantity) < 1e-9:
                continue
            need = needs.get(new.case_id)
            offer = offers.get(new.offer_id)
            if need is None or offer is None:
                continue
            await self.store.save_assignment(
                self._proposal_doc(county, new, need, offer["offer"], now)
            )
        for key, old in current.items():
            if key not in wanted:
                await self.store.set_assignment(
                    old["_id"],
                    {"status": "withdrawn", "published": False, "withdraw_reason": "re-solved"},
                    expect_status=("proposed",),
                )
        await self.store.replace_unmet(
            county,
            [
                {
                    "_id": f"{county}:{u.line_id}",
                    "county": county,
                    "line_id": u.line_id,
                    "case_id": u.case_id,
                    "reason": u.reason,
                    "detail": u.detail,
                    "waiting_hours": u.waiting_hours,
                    "remaining": u.remaining,
                    "urgency": self._urgency(needs, u.case_id, u.line_id),
                    "at": now,
                }
                for u in solution.unmet
            ],
        )

    @staticmethod
    def _urgency(needs: dict[str, NeedOpened], case_id: str, line_id: str) -> str:
        need = needs.get(case_id)
        for line in need.lines if need else ():
            if line.line_id == line_id:
                return line.urgency.value
        return "normal"

    @staticmethod
    def _proposal_doc(
        county: str, a: Assignment, need: NeedOpened, offer: Document, now: datetime
    ) -> Document:
        line = next(line for line in need.lines if line.line_id == a.line_id)
        event = AssignmentProposed(
            county=county,
            correlation_id=need.correlation_id,
            assignment_id=assignment_id(a.line_id, a.offer_id),
            case_id=a.case_id,
            person_ref=need.person_ref,
            line_id=a.line_id,
            need_type=line.need_type,
            offer_id=a.offer_id,
            org_id=a.org_id,
            offer_kind=offer["kind"],
            worker_id=a.worker_id,
            quantity=a.quantity,
            unit=line.unit,
            urgency=line.urgency,
            language=need.language,
            region=Region.model_validate(need.region.model_dump()),
            explanation=a.explanation,
        )
        return {
            "_id": event.assignment_id,
            "county": county,
            "line_id": a.line_id,
            "case_id": a.case_id,
            "offer_id": a.offer_id,
            "org_id": a.org_id,
            "worker_id": a.worker_id,
            "person_ref": need.person_ref,
            "quantity": a.quantity,
            "status": "proposed",
            "published": False,
            "proposed_at": now,
            "event": event.model_dump(mode="json"),
        }

    async def publish_pending(self) -> None:
        """Publish every stored assignment change not yet on Kafka, then flag it."""
        for doc in await self.store.unpublished():
            if doc["status"] == "withdrawn":
                proposal = AssignmentProposed.model_validate(doc["event"])
                withdrawn = AssignmentWithdrawn(
                    county=doc["county"],
                    correlation_id=proposal.correlation_id,
                    assignment_id=doc["_id"],
                    case_id=doc["case_id"],
                    line_id=doc["line_id"],
                    offer_id=doc["offer_id"],
                    org_id=doc["org_id"],
                    reason=doc.get("withdraw_reason", "re-solved"),
                )
                await publish_event(self.broker, topics.ASSIGNMENTS, withdrawn)
                self.metrics.assignments.labels("withdrawn").inc()
            else:
                # a re-proposal needs a fresh event id, or consumers would skip it as seen
                proposal = AssignmentProposed.model_validate(doc["event"])
                await publish_event(self.broker, topics.ASSIGNMENTS, proposal)
                self.metrics.assignments.labels("proposed").inc()
            await self.store.set_assignment(doc["_id"], {"published": True})
