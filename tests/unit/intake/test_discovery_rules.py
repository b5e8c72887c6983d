"""Each packaged rule fires at its threshold and window edges, and not just past them."""

from __future__ import annotations

import pytest
from discovery_support import KEY, NOW, sig

from fivelink_intake.discovery.engine import evaluate
from fivelink_intake.discovery.rules import load_rules
from fivelink_intake.discovery.signals import Signal

RULES = load_rules()
LOW_INCOME = ("minimum_living",)
ALONE = ("elderly_alone",)


def fired(*signals: Signal) -> set[str]:
    cases = evaluate(signals, RULES, NOW, key=KEY)
    assert len(cases) <= 1
    return set(cases[0].rule_ids) if cases else set()


def bill(sid: str, value: float, days_ago: float = 5, cats: tuple[str, ...] = LOW_INCOME) -> Signal:
    return sig(
        sid,
        "hospital_bill",
        source="medical_insurance",
        value=value,
        days_ago=days_ago,
        categories=cats,
    )


# medical-bill-low-income ------------------------------------------------------------------


@pytest.mark.parametrize(("value", "fires"), [(10000, True), (9999.99, False)])
def test_medical_bill_threshold(value: float, fires: bool) -> None:
    assert ("medical-bill-low-income" in fired(bill("b1", value))) is fires


@pytest.mark.parametrize(("days_ago", "fires"), [(90, True), (90.01, False)])
def test_medical_bill_window_edge(days_ago: float, fires: bool) -> None:
    assert ("medical-bill-low-income" in fired(bill("b1", 15000, days_ago))) is fires


def test_medical_bill_needs_a_low_income_category() -> None:
    assert "medical-bill-low-income" not in fired(bill("b1", 50000, cats=("disabled",)))


def test_medical_bills_add_up_within_180_days() -> None:
    assert "medical-bill-low-income" in fired(
        bill("b1", 8000, 170), bill("b2", 6000, 100), bill("b3", 6000, 20)
    )
    assert "medical-bill-low-income" not in fired(
        bill("b1", 8000, 181), bill("b2", 6000, 100), bill("b3", 6000, 20)
    )


def test_medical_aid_amount_comes_from_the_bills() -> None:
    (case,) = evaluate([bill("b1", 12000), bill("b2", 9000, 30)], RULES, NOW, key=KEY)
    medical = [line for line in case.lines if line.need_type == "medical_aid"]
    assert len(medical) == 1 and medical[0].quantity == 10500  # half of 21,000 CNY


def test_future_signals_are_ignored() -> None:
    assert fired(bill("b1", 50000, days_ago=-1)) == set()


# utility-arrears-elderly-alone ----------------------------------------------------------


def arrears(sid: str, months: float, days_ago: float = 3, cats: tuple[str, ...] = ALONE) -> Signal:
    return sig(
        sid, "utility_arrears", source="utility", value=months, days_ago=days_ago, categories=cats
    )


@pytest.mark.parametrize(("months", "fires"), [(3, True), (2, False)])
def test_utility_arrears_months(months: float, fires: bool) -> None:
    assert ("utility-arrears-elderly-alone" in fired(arrears("u1", months))) is fires


def test_utility_arrears_three_monthly_notices_within_100_days() -> None:
    notices = [arrears("u1", 1, 95), arrears("u2", 1, 60), arrears("u3", 1, 30)]
    assert "utility-arrears-elderly-alone" in fired(*notices)
    late = [arrears("u1", 1, 101), arrears("u2", 1, 60), arrears("u3", 1, 30)]
    assert "utility-arrears-elderly-alone" not in fired(*late)


def test_resent_notice_does_not_count_twice() -> None:
    twice = [arrears("u1", 1, 60), arrears("u1-resent", 1, 60), arrears("u3", 1, 30)]
    assert "utility-arrears-elderly-alone" not in fired(*twice)


def test_utility_arrears_needs_elderly_category() -> None:
    assert fired(arrears("u1", 6, cats=("minimum_living",))) == set()


# missed-survival-cert-elderly-alone --------------------------------------------------------


def missed(days_ago: float = 10, cats: tuple[str, ...] = ALONE) -> Signal:
    return sig("m1", "missed_survival_certification", value=15, days_ago=days_ago, categories=cats)


def test_missed_certification_opens_a_crisis_case() -> None:
    (case,) = evaluate([missed()], RULES, NOW, key=KEY)
    assert case.rule_ids == ("missed-survival-cert-elderly-alone",)
    assert case.urgency == "crisis"
    assert case.lines[0].need_type == "verification_visit"
    assert (
        case.lines[0].deadline is not None
        and (case.lines[0].deadline - NOW).total_seconds() == 86400
    )


@pytest.mark.parametrize(("visit_days_ago", "fires"), [(30, False), (31, True)])
def test_recent_grid_visit_means_someone_has_seen_them(visit_days_ago: float, fires: bool) -> None:
    visit = sig("g1", "grid_observation", source="grid_visit", value=0, days_ago=visit_days_ago)
    assert ("missed-survival-cert-elderly-alone" in fired(missed(), visit)) is fires


def test_missed_certification_window_and_category() -> None:
    assert fired(missed(days_ago=61)) == set()
    assert fired(missed(cats=("minimum_living",))) == set()


# income-drop-return-risk ---------------------------------------------------------------


@pytest.mark.parametrize(("drop", "fires"), [(30, True), (29.9, False)])
def test_income_drop_threshold(drop: float, fires: bool) -> None:
    s = sig(
        "i1",
        "income_drop",
        source="poverty_monitoring",
        value=drop,
        categories=("poverty_return_risk",),
    )
    assert ("income-drop-return-risk" in fired(s)) is fires


def test_income_drop_from_another_source_does_not_count() -> None:
    s = sig(
        "i1", "income_drop", source="self_report", value=50, categories=("poverty_return_risk",)
    )
    assert "income-drop-return-risk" not in fired(s)


# illness-induced-poverty-risk (all-of across sources) ----------------------------------------


def test_bill_and_income_drop_together_fire() -> None:
    b = bill("b1", 5000, 50, cats=("marginal",))
    drop = sig("i1", "income_drop", source="poverty_monitoring", value=10, days_ago=59)
    result = fired(b, drop)
    assert "illness-induced-poverty-risk" in result and "multi-source-30d" not in result


def test_bill_alone_or_out_of_window_does_not_fire() -> None:
    b = bill("b1", 5000, 50, cats=("marginal",))
    assert "illness-induced-poverty-risk" not in fired(b)
    drop = sig("i1", "income_drop", source="poverty_monitoring", value=10, days_ago=61)
    assert "illness-induced-poverty-risk" not in fired(b, drop)


def test_illness_rule_excludes_extreme_poverty_already_supported() -> None:
    b = bill("b1", 9000, 5, cats=("extreme_poverty",))
    drop = sig("i1", "job_loss", source="grid_visit", value=2, days_ago=5)
    assert "illness-induced-poverty-risk" not in fired(b, drop)


# school-absence-left-behind-child ---------------------------------------------------------


def absence(
    sid: str, days: float, days_ago: float = 3, cats: tuple[str, ...] = ("left_behind_child",)
) -> Signal:
    return sig(
        sid,
        "school_absence",
        source="school",
        value=days,
        days_ago=days_ago,
        categories=cats,
        person=40,
    )


@pytest.mark.parametrize(("days", "fires"), [(5, True), (4, False)])
def test_school_absence_days(days: float, fires: bool) -> None:
    assert ("school-absence-left-behind-child" in fired(absence("a1", days))) is fires


def test_school_absence_three_reports_in_30_days() -> None:
    assert "school-absence-left-behind-child" in fired(
        absence("a1", 1, 30), absence("a2", 1, 20), absence("a3", 1, 2)
    )
    assert "school-absence-left-behind-child" not in fired(
        absence("a1", 1, 31), absence("a2", 1, 20), absence("a3", 1, 2)
    )


def test_school_absence_needs_a_child_category() -> None:
    assert fired(absence("a1", 10, cats=())) == set()


# crisis-call, housing-damage, self-assessment-high -------------------------------------


@pytest.mark.parametrize(
    ("severity", "days_ago", "fires"), [(4, 3, True), (3, 1, False), (5, 3.01, False)]
)
def test_crisis_call(severity: float, days_ago: float, fires: bool) -> None:
    s = sig("c1", "crisis_call", source="hotline", value=severity, days_ago=days_ago)
    assert ("crisis-call" in fired(s)) is fires


@pytest.mark.parametrize(
    ("severity", "source", "fires"),
    [(3, "grid_visit", True), (2, "grid_visit", False), (5, "utility", False)],
)
def test_housing_damage(severity: float, source: str, fires: bool) -> None:
    s = sig("h1", "housing_damage", source=source, value=severity)
    assert ("housing-damage" in fired(s)) is fires


@pytest.mark.parametrize(
    ("score", "days_ago", "fires"), [(7, 14, True), (6.5, 1, False), (9, 14.5, False)]
)
def test_self_assessment(score: float, days_ago: float, fires: bool) -> None:
    s = sig("s1", "self_assessment", source="self_report", value=score, days_ago=days_ago)
    assert ("self-assessment-high" in fired(s)) is fires


# multi-source-30d ---------------------------------------------------------------------


def test_two_sources_within_30_days() -> None:
    a = sig("x1", "grid_observation", source="grid_visit", value=1, days_ago=30)
    b = sig("x2", "self_assessment", source="self_report", value=2, days_ago=1)
    assert fired(a, b) == {"multi-source-30d"}
    a_old = sig("x1", "grid_observation", source="grid_visit", value=1, days_ago=31)
    assert fired(a_old, b) == set()


def test_same_source_twice_is_not_multi_source() -> None:
    a = sig("x1", "grid_observation", source="grid_visit", value=1, days_ago=3)
    b = sig("x2", "grid_observation", source="grid_visit", value=2, days_ago=1)
    assert fired(a, b) == set()
