"""Matcher's domain metrics (bounded labels: county codes, solver paths, reasons)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from fivelink_matcher.domain.model import Problem, Solution, SolverConfig
from fivelink_shared.events import NeedType, OfferKind, Urgency

PATHS = ("min_cost_flow", "cp_sat", "greedy_fallback", "greedy", "empty")
REASONS = (
    "no_eligible_resource",
    "out_of_stock",
    "out_of_range",
    "expired_before_deadline",
    "language_or_skill",
    "outranked",
    "bundle_incomplete",
)


class MatcherMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.solve_seconds = Histogram(
            "fivelink_matcher_solve_duration_seconds",
            "Solve wall time by solver path",
            ["path"],
            registry=registry,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
        )
        self.problem_lines = Gauge(
            "fivelink_matcher_problem_lines",
            "Open lines in last solve",
            ["county"],
            registry=registry,
        )
        self.problem_resources = Gauge(
            "fivelink_matcher_problem_resources",
            "Resources in last solve",
            ["county"],
            registry=registry,
        )
        self.objective = Gauge(
            "fivelink_matcher_objective",
            "Objective of the last solve",
            ["county"],
            registry=registry,
        )
        self.bound = Gauge(
            "fivelink_matcher_bound", "LP bound of the last solve", ["county"], registry=registry
        )
        self.gap = Gauge(
            "fivelink_matcher_gap_ratio",
            "Gap to the bound of the last solve",
            ["county"],
            registry=registry,
        )
        self.assignments = Counter(
            "fivelink_matcher_assignments_total",
            "Assignment events published, by change",
            ["change"],
            registry=registry,
        )
        self.unmet = Gauge(
            "fivelink_matcher_unmet_lines",
            "Unmet lines by county and reason",
            ["county", "reason"],
            registry=registry,
        )
        self.unmet_oldest = Gauge(
            "fivelink_matcher_unmet_oldest_seconds",
            "Age of the oldest unmet line by urgency, in seconds",
            ["county", "urgency"],
            registry=registry,
        )
        self.fallbacks = Counter(
            "fivelink_matcher_greedy_fallbacks_total",
            "Solves that fell back to greedy",
            registry=registry,
        )
        self.solves = Counter(
            "fivelink_matcher_solves_total", "Solves by path", ["path"], registry=registry
        )
        self.backlog = Gauge(
            "fivelink_matcher_backlog_counties",
            "Counties waiting for a re-solve",
            registry=registry,
        )
        self.escalations = Counter(
            "fivelink_matcher_escalations_total",
            "Escalations raised by level",
            ["level"],
            registry=registry,
        )
        # programme view (station supervisors); set per county by observe_programme
        self.open_lines = Gauge(
            "fivelink_matcher_open_lines",
            "Open need lines in the county's last solve, by need type",
            ["county", "need_type"],
            registry=registry,
        )
        self.resources = Gauge(
            "fivelink_matcher_resources",
            "Free resources in the county's last solve, by kind and state (used, idle)",
            ["county", "kind", "state"],
            registry=registry,
        )
        self.coverage = Gauge(
            "fivelink_matcher_coverage_ratio",
            "Priority-weighted share of open need covered by the last solve (0..1)",
            ["county"],
            registry=registry,
        )
        self.unmet_over_sla = Gauge(
            "fivelink_matcher_unmet_over_sla_lines",
            "Unmet lines waiting longer than their urgency's SLA",
            ["county", "urgency"],
            registry=registry,
        )
        self.sla_seconds = Gauge(
            "fivelink_matcher_sla_seconds",
            "Configured SLA by urgency (time until the first escalation)",
            ["urgency"],
            registry=registry,
        )
        self.first_assignment_seconds = Histogram(
            "fivelink_matcher_time_to_first_assignment_seconds",
            "From a need line's opening to its first proposed assignment",
            ["county"],
            registry=registry,
            buckets=(1, 5, 30, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86400, 3 * 86400),
        )
        self._first_seen: OrderedDict[str, None] = OrderedDict()
        self._sla = dict(SolverConfig().sla_hours)
        for urgency, hours in self._sla.items():
            self.sla_seconds.labels(urgency.value).set(hours * 3600)
        for path in PATHS:
            self.solve_seconds.labels(path)
            self.solves.labels(path)
        for change in ("proposed", "withdrawn"):
            self.assignments.labels(change)
        for level in ("community", "township", "county"):
            self.escalations.labels(level)

    def observe_programme(
        self,
        problem: Problem,
        solution: Solution,
        sla_hours: Mapping[Urgency, float] | None = None,
    ) -> None:
        """Programme gauges of one county from its last solve (zeros for every known label).

        Call it from ``Rebalancer._observe`` with the solver config's SLA hours.
        """
        if sla_hours is not None:
            self._sla = dict(sla_hours)
            for urgency, hours in self._sla.items():
                self.sla_seconds.labels(urgency.value).set(hours * 3600)
        county = problem.county
        lines = {line.line_id: line for line in problem.lines}
        by_type = dict.fromkeys(NeedType, 0)
        for line in problem.lines:
            by_type[line.need_type] += 1
        for need_type, count in by_type.items():
            self.open_lines.labels(county, need_type.value).set(count)
        used = {a.offer_id for a in solution.assignments}
        states = {(kind, state): 0 for kind in OfferKind for state in ("used", "idle")}
        for res in problem.resources:
            states[(res.kind, "used" if res.offer_id in used else "idle")] += 1
        for (kind, state), count in states.items():
            self.resources.labels(county, kind.value, state).set(count)
        self.coverage.labels(county).set(solution.coverage)
        over = dict.fromkeys(Urgency, 0)
        for unmet in solution.unmet:
            waiting = lines.get(unmet.line_id)
            urgency = waiting.urgency if waiting else Urgency.NORMAL
            if unmet.waiting_hours > self._sla.get(urgency, float("inf")):
                over[urgency] += 1
        for urgency in Urgency:
            self.unmet_over_sla.labels(county, urgency.value).set(over[urgency])
        before = {p.line_id for p in problem.proposed} | {f.line_id for f in problem.fixed}
        self.first_assignment_seconds.labels(county)
        for a in solution.assignments:
            served = lines.get(a.line_id)
            if served is None or a.line_id in before or a.line_id in self._first_seen:
                continue
            self._first_seen[a.line_id] = None
            if len(self._first_seen) > 100_000:  # bounded memory
                self._first_seen.popitem(last=False)
            waited = (problem.now - served.opened_at).total_seconds()
            self.first_assignment_seconds.labels(county).observe(max(waited, 0.0))
