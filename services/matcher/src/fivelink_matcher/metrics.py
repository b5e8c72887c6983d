"""Matcher's domain metrics (bounded labels: county codes, solver paths, reasons)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

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
            "fivelink_matcher_unmet_oldest_hours",
            "Age of the oldest unmet line by urgency",
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
        for path in PATHS:
            self.solve_seconds.labels(path)
            self.solves.labels(path)
        for change in ("proposed", "withdrawn"):
            self.assignments.labels(change)
        for level in ("community", "township", "county"):
            self.escalations.labels(level)
