"""Each hard constraint and objective term on a hand-solved instance.

Every test has a control (the constraint holds, the line is served) and a violation (the
constraint alone stops it), so dropping the constraint from the model fails the test.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from matcher_support import (
    NOW,
    at,
    given,
    goods,
    line,
    money,
    money_line,
    problem,
    reasons,
    total,
    visit,
    worker,
)

from fivelink_matcher.domain.model import Fixed, Proposed, SolverConfig, Weights
from fivelink_matcher.domain.solver import solve
from fivelink_shared.events import Category, Earmarks, Language, NeedType, Urgency


def test_need_type_must_be_served_by_the_offer() -> None:
    ok = solve(problem([line("l1")], [goods("g1")]))
    assert total(ok, "l1") == 10
    bad = solve(problem([line("l1")], [goods("g1", need_types=(NeedType.LIVING_AID,))]))
    assert given(bad) == {}
    assert reasons(bad) == {"l1": "no_eligible_resource"}


def test_unit_must_match_for_goods() -> None:
    bad = solve(problem([line("l1")], [goods("g1", unit="box")]))
    assert given(bad) == {}
    assert reasons(bad)["l1"] == "no_eligible_resource"


def test_visit_line_needs_a_people_offer() -> None:
    ok = solve(problem([visit("v1")], [worker("w1")]))
    assert given(ok) == {"v1": {"w1": 1.0}}
    bad = solve(problem([visit("v1")], [goods("g1", need_types=(NeedType.HOME_CARE_VISIT,))]))
    assert given(bad) == {}


@pytest.mark.parametrize(
    ("earmarks", "fits", "misses", "binding"),
    [
        (
            Earmarks(categories=(Category.DISABLED,)),
            {"categories": (Category.DISABLED,)},
            {"categories": (Category.ELDERLY_ALONE,)},
            "earmark:category",
        ),
        (
            Earmarks(need_types=(NeedType.MEDICAL_AID,)),
            {"need_type": NeedType.MEDICAL_AID},
            {"need_type": NeedType.LIVING_AID},
            "earmark:need_type",
        ),
        (
            Earmarks(communities=("150105001002",)),
            {"community": "150105001002"},
            {"community": "150105001001"},
            "earmark:community",
        ),
        (
            Earmarks(counties=("150105",)),
            {"county": "150105"},
            {"county": "150102"},
            "earmark:county",
        ),
    ],
)
def test_donor_earmarks(
    earmarks: Earmarks, fits: dict[str, object], misses: dict[str, object], binding: str
) -> None:
    fund = money("f1", earmarks=earmarks)
    ok = solve(problem([money_line("m1", **fits)], [fund]))  # type: ignore[arg-type]
    assert total(ok, "m1") == 500
    assert binding in ok.assignments[0].explanation.binding
    bad = solve(problem([money_line("m1", **misses)], [fund]))  # type: ignore[arg-type]
    assert given(bad) == {}
    assert reasons(bad)["m1"] == "no_eligible_resource"
    assert bad.unmet[0].detail == binding


def test_stock_limits_what_is_given_and_priority_goes_first() -> None:
    sol = solve(
        problem([line("hi", urgency=Urgency.CRISIS), line("lo")], [goods("g1", quantity=15)])
    )
    assert total(sol, "hi") == 10
    assert total(sol, "lo") == 5
    binding = next(a.explanation.binding for a in sol.assignments if a.line_id == "lo")
    assert "stock" in binding
    unmet = {u.line_id: u for u in sol.unmet}
    assert unmet["lo"].reason == "outranked"
    assert unmet["lo"].remaining == 5


def test_budget_limits_money() -> None:
    sol = solve(problem([money_line("a", 800), money_line("b", 800)], [money("f1", 1000)]))
    assert total(sol, "a") + total(sol, "b") == 1000


def test_goods_must_not_expire_before_the_deadline() -> None:
    stock = goods("g1", valid_until=NOW + timedelta(days=2))
    ok = solve(problem([line("l1", deadline=NOW + timedelta(days=1))], [stock]))
    assert total(ok, "l1") == 10
    bad = solve(problem([line("l1", deadline=NOW + timedelta(days=5))], [stock]))
    assert given(bad) == {}
    assert reasons(bad)["l1"] == "expired_before_deadline"


def test_goods_about_to_expire_are_not_given_without_deadline() -> None:
    bad = solve(problem([line("l1")], [goods("g1", valid_until=NOW + timedelta(hours=1))]))
    assert reasons(bad)["l1"] == "expired_before_deadline"


def test_delivery_radius() -> None:
    stock = goods("g1", delivery_radius_km=5.0, location=at(0))
    ok = solve(problem([line("l1", location=at(3))], [stock]))
    assert total(ok, "l1") == 10
    bad = solve(problem([line("l1", location=at(20))], [stock]))
    assert given(bad) == {}
    assert reasons(bad)["l1"] == "out_of_range"


def test_worker_must_speak_the_language() -> None:
    v = visit("v1", languages=(Language.MN,))
    ok = solve(problem([v], [worker("w1", languages=(Language.ZH, Language.MN))]))
    assert given(ok) == {"v1": {"w1": 1.0}}
    bad = solve(problem([v], [worker("w1", languages=(Language.ZH,))]))
    assert given(bad) == {}
    assert reasons(bad)["v1"] == "language_or_skill"


def test_worker_must_have_the_skills() -> None:
    v = visit("v1", skills=("counselling",))
    ok = solve(problem([v], [worker("w1", skills=("counselling", "care"))]))
    assert given(ok) == {"v1": {"w1": 1.0}}
    bad = solve(problem([v], [worker("w1", skills=("care",))]))
    assert reasons(bad)["v1"] == "language_or_skill"


def test_caseload_cap() -> None:
    lines = [visit(f"v{i}") for i in range(3)]
    sol = solve(problem(lines, [worker("w1", hours=100, caseload_cap=2)]))
    assert len(sol.assignments) == 2
    assert len(sol.unmet) == 1
    assert all("caseload" in a.explanation.binding for a in sol.assignments)


def test_accepted_visits_count_against_the_caseload_cap() -> None:
    lines = [visit("done"), visit("v1"), visit("v2")]
    sol = solve(
        problem(
            lines,
            [worker("w1", hours=100, caseload_cap=2)],
            fixed=(Fixed("done", "w1", 1.0),),
        )
    )
    new = [a for a in sol.assignments if not a.fixed]
    assert len(new) == 1


def test_worker_hours() -> None:
    lines = [visit(f"v{i}") for i in range(3)]  # 2 h per visit by default
    sol = solve(problem(lines, [worker("w1", hours=4)]))
    assert len(sol.assignments) == 2
    hours_line = line("h1", need_type=NeedType.HOME_CARE_VISIT, quantity=3.0, unit="hour")
    sol = solve(problem([hours_line, replace(hours_line, line_id="h2")], [worker("w1", 4)]))
    assert len(sol.assignments) == 1


def test_one_worker_serves_a_visit_line_whole() -> None:
    sol = solve(problem([visit("v1")], [worker("w1"), worker("w2")]))
    assert len(sol.assignments) == 1
    assert sol.assignments[0].quantity == 1.0
    assert sol.unmet == ()


def test_bundle_is_all_or_nothing_across_money_and_visits() -> None:
    lines = [money_line("m1", bundle="b1"), visit("v1", bundle="b1", skills=("legal",))]
    sol = solve(problem(lines, [money("f1"), worker("w1", skills=("care",))]))
    assert given(sol) == {}
    assert reasons(sol) == {"m1": "bundle_incomplete", "v1": "language_or_skill"}
    # Control: without the bundle the money line is served.
    loose = [replace(x, bundle=None) for x in lines]
    sol = solve(problem(loose, [money("f1"), worker("w1", skills=("care",))]))
    assert total(sol, "m1") == 500


def test_bundle_is_never_served_in_part() -> None:
    lines = [money_line("a", 600, bundle="b1"), money_line("b", 600, bundle="b1")]
    sol = solve(problem(lines, [money("f1", 1000)]))
    assert given(sol) == {}
    assert set(reasons(sol).values()) == {"bundle_incomplete"}
    sol = solve(problem([money_line("a", 600), money_line("b", 600)], [money("f1", 1000)]))
    assert total(sol, "a") + total(sol, "b") == 1000


def test_bundle_served_when_everything_fits() -> None:
    lines = [money_line("m1", bundle="b1"), visit("v1", bundle="b1")]
    sol = solve(problem(lines, [money("f1"), worker("w1")]))
    assert given(sol) == {"m1": {"f1": 500.0}, "v1": {"w1": 1.0}}
    assert all("bundle:b1" in a.explanation.binding for a in sol.assignments)


def test_fixed_assignments_are_kept_and_reduce_the_need() -> None:
    lines = [line("l1", quantity=20), line("l2", urgency=Urgency.CRISIS)]
    sol = solve(problem(lines, [goods("g1", 10)], fixed=(Fixed("l1", "g1", 10.0),)))
    fixed = [a for a in sol.assignments if a.fixed]
    assert [(a.line_id, a.offer_id, a.quantity) for a in fixed] == [("l1", "g1", 10.0)]
    assert fixed[0].explanation.binding == ("fixed",)
    # The crisis line takes the free stock; l1 still misses its other 10 kg.
    assert total(sol, "l2") == 10
    assert {u.line_id: u.remaining for u in sol.unmet} == {"l1": 10.0}


def test_excluded_pairs_are_never_offered_again() -> None:
    near, far = goods("g1", location=at(1)), goods("g2", location=at(8))
    ok = solve(problem([line("l1")], [near, far]))
    assert given(ok) == {"l1": {"g1": 10.0}}
    sol = solve(problem([line("l1")], [near, far], excluded_pairs=frozenset({("l1", "g1")})))
    assert given(sol) == {"l1": {"g2": 10.0}}
    sol = solve(problem([line("l1")], [near], excluded_pairs=frozenset({("l1", "g1")})))
    assert reasons(sol) == {"l1": "no_eligible_resource"}


def test_travel_prefers_the_nearer_resource() -> None:
    stocks = [goods("far", location=at(9)), goods("near", location=at(2))]
    sol = solve(problem([line("l1")], stocks))
    assert given(sol) == {"l1": {"near": 10.0}}
    terms = {t.name: t.value for t in sol.assignments[0].explanation.terms}
    assert terms["travel_km"] == pytest.approx(2.0, abs=0.01)


def test_continuity_keeps_the_same_worker() -> None:
    workers = [worker("w1"), worker("w2")]
    for last in ("sw-w1", "sw-w2"):
        sol = solve(problem([visit("v1")], workers, last_worker={"p-v1": last}))
        assert sol.assignments[0].worker_id == last
        terms = {t.name: t.value for t in sol.assignments[0].explanation.terms}
        assert terms["continuity"] > 0


def test_churn_penalty_keeps_a_previous_proposal() -> None:
    workers = [worker("w1", location=at(1)), worker("w2", location=at(2))]
    sol = solve(problem([visit("v1")], workers))
    assert given(sol) == {"v1": {"w1": 1.0}}
    sol = solve(problem([visit("v1")], workers, proposed=(Proposed("v1", "w2", 1.0),)))
    assert given(sol) == {"v1": {"w2": 1.0}}
    no_churn = SolverConfig(weights=Weights(churn=0.0))
    sol = solve(problem([visit("v1")], workers, proposed=(Proposed("v1", "w2", 1.0),)), no_churn)
    assert given(sol) == {"v1": {"w1": 1.0}}


def test_fairness_spreads_scarce_stock_across_communities() -> None:
    older = NOW - timedelta(days=3)
    lines = [
        line("a1", community="A", opened_at=older),
        line("a2", community="A", opened_at=older),
        line("b1", community="B", opened_at=NOW),
    ]
    stock = [goods("g1", 20)]
    unfair = solve(problem(lines, stock), SolverConfig(weights=Weights(fairness=0.0)))
    assert total(unfair, "b1") == 0
    fair = solve(problem(lines, stock))
    assert total(fair, "b1") > 0
    assert total(fair, "a1") + total(fair, "a2") + total(fair, "b1") == 20


def test_scarcity_policy_most_vulnerable_first() -> None:
    lines = [
        line("crisis", urgency=Urgency.CRISIS),
        line("poor", categories=(Category.EXTREME_POVERTY,)),
    ]
    stock = [goods("g1", 10)]
    assert total(solve(problem(lines, stock)), "crisis") == 10
    cfg = SolverConfig(scarcity_policy="most_vulnerable_first")
    assert total(solve(problem(lines, stock), cfg), "poor") == 10


def test_scarcity_policy_earliest_deadline() -> None:
    lines = [
        line("high", urgency=Urgency.HIGH),
        line("soon", deadline=NOW + timedelta(hours=12)),
    ]
    stock = [goods("g1", 10)]
    assert total(solve(problem(lines, stock)), "high") == 10
    cfg = SolverConfig(scarcity_policy="earliest_deadline")
    assert total(solve(problem(lines, stock), cfg), "soon") == 10


def test_empty_stock_is_out_of_stock() -> None:
    sol = solve(problem([line("l1")], [goods("g1", 0)]))
    assert reasons(sol) == {"l1": "out_of_stock"}


def test_line_fully_covered_by_accepted_assignment_is_left_alone() -> None:
    sol = solve(problem([line("l1")], [goods("g1", 10)], fixed=(Fixed("l1", "g1", 10.0),)))
    assert [(a.line_id, a.fixed) for a in sol.assignments] == [("l1", True)]
    assert sol.unmet == ()


def test_money_travels_free_and_ignores_distance() -> None:
    fund = money("f1", location=at(80))
    sol = solve(problem([money_line("m1", location=at(0))], [fund]))
    terms = {t.name: t.value for t in sol.assignments[0].explanation.terms}
    assert terms["travel_km"] == 0.0


def test_unknown_places_use_the_default_distance() -> None:
    stock = goods("g1", location=None, community="elsewhere", delivery_radius_km=5.0)
    sol = solve(problem([line("l1", location=None)], [stock]))
    assert reasons(sol) == {"l1": "out_of_range"}  # 10 km assumed > 5 km radius
    cfg = SolverConfig(unknown_distance_km=3.0)
    assert total(solve(problem([line("l1", location=None)], [stock]), cfg), "l1") == 10
