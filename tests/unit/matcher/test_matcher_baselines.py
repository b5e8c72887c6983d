"""The baselines (priority, value-per-hour, scarcest-first greedy) on hand-solved instances,
and the exact one-to-one path against brute force (and scipy where it is installed)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from matcher_support import NOW, at, given, goods, line, problem, visit, worker

from fivelink_matcher.domain.alloc import score
from fivelink_matcher.domain.model import Problem, SolverConfig, Weights
from fivelink_matcher.domain.prepare import PSCALE, prepare
from fivelink_matcher.domain.solver import _partition, baseline, solve
from fivelink_matcher.domain.synthetic import county_instance
from fivelink_shared.events import Category, NeedType, Urgency


def _crafted() -> Problem:
    """Crisis line A can use either stock; B only the near one. The far stock has one
    eligible line (A), the near one two (A, B)."""
    lines = [line("A", urgency=Urgency.CRISIS, location=at(0)), line("B", location=at(5))]
    stocks = [
        goods("near", location=at(1), delivery_radius_km=50),
        goods("far", location=at(-8), delivery_radius_km=10),
    ]
    return problem(lines, stocks)


def test_scarcest_first_serves_the_offer_with_fewest_eligible_lines_first() -> None:
    # CAS: "far" (1 eligible line) goes first and takes A; "near" then takes B.
    assert given(baseline(_crafted(), rule="scarcest_first")) == {
        "A": {"far": 10.0},
        "B": {"near": 10.0},
    }
    # Priority greedy gives A its nearest stock and leaves B without.
    assert given(baseline(_crafted(), rule="priority")) == {"A": {"near": 10.0}}


def test_scarcest_first_takes_the_top_priority_line_of_each_offer() -> None:
    # One stock of 10 kg, eligible for three lines: the crisis line gets it, whole.
    lines = [
        line("N", location=at(0)),
        line("C", urgency=Urgency.CRISIS, location=at(3)),
        line("H", urgency=Urgency.HIGH, location=at(1)),
    ]
    sol = baseline(problem(lines, [goods("g", location=at(0))]), rule="scarcest_first")
    assert given(sol) == {"C": {"g": 10.0}}


def test_scarcest_first_keeps_bundles_whole_and_respects_caseload() -> None:
    lines = [
        visit("v1", bundle="b", urgency=Urgency.CRISIS),
        line("f1", bundle="b", urgency=Urgency.CRISIS),
        visit("v2"),
        visit("v3"),
    ]
    res = [worker("w", caseload_cap=2), goods("g", quantity=5.0)]  # 5 kg: bundle can't be whole
    sol = baseline(problem(lines, res), rule="scarcest_first")
    got = given(sol)
    assert "v1" not in got and "f1" not in got
    assert set(got) == {"v2", "v3"}
    assert {u.line_id: u.reason for u in sol.unmet}["v1"] == "bundle_incomplete"


def test_value_per_hour_orders_by_value_per_worker_hour() -> None:
    # H: high urgency (4 points), 8 hours. P1, P2: normal, extreme poverty (2 points), 2 h.
    lines = [
        replace(visit("H", urgency=Urgency.HIGH), unit="hour", quantity=8.0),
        visit("P1", categories=(Category.EXTREME_POVERTY,)),
        visit("P2", categories=(Category.EXTREME_POVERTY,)),
    ]
    p = problem(lines, [worker("w", hours=10.0)])
    assert set(given(baseline(p, rule="value_per_hour"))) == {"P1", "P2"}  # 1 point/h first
    assert set(given(baseline(p, rule="priority"))) == {"H", "P1"}  # 4 points first


def test_unknown_baseline_is_refused() -> None:
    with pytest.raises(ValueError):
        baseline(_crafted(), rule="coin_flip")


def _one_to_one() -> Problem:
    lines = [
        visit("a", location=at(0), urgency=Urgency.CRISIS),
        visit("b", location=at(4)),
        replace(visit("c", location=at(9)), need_type=NeedType.PSYCHOLOGICAL_SUPPORT),
        visit("d", location=at(2), urgency=Urgency.HIGH, community="150105001002"),
    ]
    workers = [
        worker("w1", location=at(1), caseload_cap=1, delivery_radius_km=30),
        worker("w2", location=at(8), caseload_cap=1, delivery_radius_km=6),
        worker("w3", location=at(3), hours=3.0, delivery_radius_km=30),  # hours for one visit
    ]
    return problem(lines, workers)


def _brute_force(p: Problem, cfg: SolverConfig) -> float:
    """Best score over every one-to-one assignment of the eligible pairs."""
    prep = prepare(p, cfg)
    _partition(prep)  # fairness groups, as the solver sees them
    best = 0
    ks = range(len(prep.pairs))
    for r in range(len(prep.lines) + 1):
        for chosen in itertools.combinations(ks, r):
            ls = [prep.pairs[k].line for k in chosen]
            rs = [prep.pairs[k].res for k in chosen]
            if len(set(ls)) == r and len(set(rs)) == r:
                best = max(best, score(prep, dict.fromkeys(chosen, 1)))
    return best / PSCALE


def test_one_to_one_path_matches_brute_force() -> None:
    cfg = SolverConfig(weights=Weights(fairness=0.0))
    p = _one_to_one()
    sol = solve(p, cfg)
    assert sol.solver_path == "min_cost_flow"
    assert sol.objective == pytest.approx(_brute_force(p, cfg), rel=1e-12)
    assert sol.gap == 0.0
    workers = [a.offer_id for a in sol.assignments]
    assert len(workers) == len(set(workers))


def test_one_to_one_with_fair_shares_uses_flow_and_matches_brute_force() -> None:
    cfg = SolverConfig()
    p = _one_to_one()
    sol = solve(p, cfg)
    assert sol.solver_path == "min_cost_flow"
    assert sol.objective == pytest.approx(_brute_force(p, cfg), rel=1e-9)


def test_one_to_one_matches_scipy_on_a_county() -> None:
    np = pytest.importorskip("numpy")
    lsa = pytest.importorskip("scipy.optimize").linear_sum_assignment
    cfg = SolverConfig(weights=Weights(fairness=0.0))
    p = county_instance(
        120,
        seed=3,
        now=NOW,
        n_resources=40,
        n_workers=40,
        visit_share=1.0,
        bundle_share=0.0,
        caseload_caps=(1,),
    )
    sol = solve(p, cfg)
    assert sol.solver_path == "min_cost_flow"
    prep = prepare(p, cfg)
    m = np.zeros((len(prep.lines), len(prep.res)))
    for pr in prep.pairs:
        m[pr.line, pr.res] = pr.best_unit / PSCALE
    r, c = lsa(m, maximize=True)
    assert sol.objective == pytest.approx(float(m[r, c].sum()), rel=1e-12)


def test_optimiser_at_least_as_good_as_every_baseline() -> None:
    p = county_instance(250, seed=11, now=NOW)
    cfg = SolverConfig(compute_bound=False)
    ours = solve(p)
    for rule in ("priority", "value_per_hour", "scarcest_first"):
        b = baseline(p, cfg, rule)
        assert ours.objective >= b.objective - 1e-6, rule
        assert b.solver_path == "greedy"


def test_two_workers_give_a_solution_no_worse_than_the_greedy_hint() -> None:
    p = county_instance(200, seed=5, now=NOW)
    s = solve(p, SolverConfig(workers=2))
    g = baseline(p, SolverConfig(compute_bound=False), "priority")
    assert s.objective >= g.objective - 1e-6
    assert replace(s, solve_seconds=0).bound >= s.objective
