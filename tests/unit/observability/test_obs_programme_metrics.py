"""The matcher's programme gauges, computed from a real solve of a synthetic county."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from fivelink_matcher.domain.model import SolverConfig
from fivelink_matcher.domain.solver import solve
from fivelink_matcher.domain.synthetic import county_instance
from fivelink_matcher.metrics import MatcherMetrics
from fivelink_shared.events import Urgency


def test_obs_observe_programme_sets_every_programme_gauge() -> None:
    problem = county_instance(30, seed=3, now=datetime.now(UTC), supply_ratio=0.5)
    solution = solve(problem, SolverConfig(time_limit_s=2.0))
    registry = CollectorRegistry()
    metrics = MatcherMetrics(registry)
    metrics.observe_programme(problem, solution, {Urgency.CRISIS: 2.0})
    get = registry.get_sample_value
    county = problem.county
    open_total = sum(
        s.value
        for f in registry.collect()
        if f.name == "fivelink_matcher_open_lines"
        for s in f.samples
    )
    assert open_total == len(problem.lines)
    used = sum(
        s.value
        for f in registry.collect()
        if f.name == "fivelink_matcher_resources"
        for s in f.samples
        if s.labels["state"] == "used"
    )
    assert 0 < used <= len(problem.resources)
    assert get("fivelink_matcher_coverage_ratio", {"county": county}) == solution.coverage
    assert get("fivelink_matcher_sla_seconds", {"urgency": "crisis"}) == 7200
    first = get("fivelink_matcher_time_to_first_assignment_seconds_count", {"county": county})
    assert first == len({a.line_id for a in solution.assignments})
    metrics.observe_programme(problem, solution)  # the same lines are not counted twice
    again = get("fivelink_matcher_time_to_first_assignment_seconds_count", {"county": county})
    assert again == first
