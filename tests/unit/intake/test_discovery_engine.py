"""Evaluation: one case per person across sources, risk, lines, merging, determinism."""

from __future__ import annotations

import random
from datetime import datetime

import pytest
from discovery_support import KEY, NOW, make_id, sig

from fivelink_intake.discovery.engine import evaluate
from fivelink_intake.discovery.identity import id_ref, phone_name_ref
from fivelink_intake.discovery.rules import load_rules
from fivelink_intake.discovery.signals import Signal
from fivelink_shared.events import NEED_EVENTS, GeoPoint, NeedType

RULES = load_rules()
ALONE = ("elderly_alone",)


def _elderly_signals() -> list[Signal]:
    """One elderly person seen by the utility (ID + phone) and civil affairs (phone + name)."""
    return [
        sig(
            "u1",
            "utility_arrears",
            source="utility",
            value=3,
            categories=ALONE,
            phone="13800001111",
            name="王芳",
        ),
        sig(
            "m1",
            "missed_survival_certification",
            value=20,
            person=None,
            phone="+86 138 0000 1111",
            name="王 芳",
            days_ago=2,
        ),
    ]


def test_same_person_by_id_and_by_phone_and_name_is_one_case() -> None:
    (case,) = evaluate(_elderly_signals(), RULES, NOW, key=KEY)
    assert case.person_ref == id_ref(make_id(1), KEY)
    assert set(case.identity_refs) == {
        id_ref(make_id(1), KEY),
        phone_name_ref("13800001111", "王芳", KEY),
    }
    assert set(case.rule_ids) == {
        "utility-arrears-elderly-alone",
        "missed-survival-cert-elderly-alone",
        "multi-source-30d",
    }
    firing = {f.rule_id: f.signal_ids for f in case.firings}
    assert firing["missed-survival-cert-elderly-alone"] == ("m1",)
    assert firing["multi-source-30d"] == ("m1", "u1")
    assert case.signal_ids == ("m1", "u1")


def test_without_the_linking_signal_they_stay_two_people() -> None:
    only_id = sig("u1", "utility_arrears", source="utility", value=3, categories=ALONE)
    by_phone = sig(
        "m1",
        "missed_survival_certification",
        person=None,
        phone="13800001111",
        name="王芳",
        categories=ALONE,
    )
    cases = evaluate([only_id, by_phone], RULES, NOW, key=KEY)
    assert len(cases) == 2


def test_same_phone_different_name_is_a_different_person() -> None:
    a = sig(
        "u1",
        "utility_arrears",
        source="utility",
        value=3,
        categories=ALONE,
        phone="13800001111",
        name="王芳",
    )
    b = sig(
        "m1",
        "missed_survival_certification",
        person=None,
        phone="13800001111",
        name="李强",
        categories=ALONE,
    )
    assert len(evaluate([a, b], RULES, NOW, key=KEY)) == 2


def test_phone_and_name_shared_by_two_id_numbers_is_not_guessed() -> None:
    a = sig(
        "u1",
        "utility_arrears",
        source="utility",
        value=3,
        categories=ALONE,
        person=1,
        phone="13800001111",
        name="王芳",
    )
    b = sig(
        "u2",
        "utility_arrears",
        source="utility",
        value=4,
        categories=ALONE,
        person=2,
        phone="13800001111",
        name="王芳",
    )
    c = sig(
        "m1",
        "missed_survival_certification",
        person=None,
        phone="13800001111",
        name="王芳",
        categories=ALONE,
    )
    refs = {case.person_ref for case in evaluate([a, b, c], RULES, NOW, key=KEY)}
    assert refs == {
        id_ref(make_id(1), KEY),
        id_ref(make_id(2), KEY),
        phone_name_ref("13800001111", "王芳", KEY),
    }


def test_categories_from_one_source_apply_to_signals_from_another() -> None:
    bill = sig("b1", "hospital_bill", source="medical_insurance", value=15000, days_ago=10)
    status = sig(
        "c1",
        "grid_observation",
        source="civil_affairs",
        categories=("minimum_living",),
        days_ago=100,
    )
    (case,) = evaluate([bill, status], RULES, NOW, key=KEY)
    assert "medical-bill-low-income" in case.rule_ids
    assert case.categories == ("minimum_living",)


def test_open_case_is_reported_as_merged_by_any_of_its_refs() -> None:
    pair_ref = phone_name_ref("13800001111", "王芳", KEY)
    (case,) = evaluate(_elderly_signals(), RULES, NOW, key=KEY, open_refs={pair_ref})
    assert case.status == "merged"
    (fresh,) = evaluate(_elderly_signals(), RULES, NOW, key=KEY, open_refs={"p-someone-else"})
    assert fresh.status == "new"


def test_risk_combines_scores_and_raises_urgency() -> None:
    (case,) = evaluate(_elderly_signals(), RULES, NOW, key=KEY)
    # noisy-or of 35, 70 and 25: 100 * (1 - .65 * .30 * .75) = 85.4
    assert case.risk_score == 85
    assert case.urgency == "crisis"
    low = sig("s1", "self_assessment", source="self_report", value=8)
    (single,) = evaluate([low], RULES, NOW, key=KEY)
    assert single.risk_score == 25 and single.urgency == "normal"


def test_lines_start_with_verification_and_merge_by_need() -> None:
    (case,) = evaluate(_elderly_signals(), RULES, NOW, key=KEY)
    types = [line.need_type for line in case.lines]
    assert types[0] is NeedType.VERIFICATION_VISIT
    assert types.count(NeedType.HOME_CARE_VISIT) == 1  # two rules asked, one line
    home = next(line for line in case.lines if line.need_type is NeedType.HOME_CARE_VISIT)
    assert home.urgency == "crisis"
    assert len({line.line_id for line in case.lines}) == len(case.lines)


def test_line_ids_depend_on_person_and_rule_only() -> None:
    (a,) = evaluate(_elderly_signals(), RULES, NOW, key=KEY)
    (b,) = evaluate(_elderly_signals()[:1], RULES, NOW, key=KEY)
    a_ids = {line.need_type: line.line_id for line in a.lines}
    b_ids = {line.need_type: line.line_id for line in b.lines}
    assert a_ids[NeedType.VERIFICATION_VISIT] == b_ids[NeedType.VERIFICATION_VISIT]
    assert a_ids[NeedType.LIVING_AID] == b_ids[NeedType.LIVING_AID]
    (other,) = evaluate(_elderly_signals(), RULES, NOW, key=KEY + b"2")
    assert other.lines[0].line_id != a.lines[0].line_id


def test_region_and_location_come_from_the_latest_signal() -> None:
    old = sig(
        "g1",
        "grid_observation",
        source="grid_visit",
        days_ago=20,
        county="150102",
        location=GeoPoint(lat=40.8, lon=111.7),
    )
    new = sig("s1", "self_assessment", source="self_report", value=9, days_ago=1, county="150105")
    (case,) = evaluate([old, new], RULES, NOW, key=KEY)
    assert case.region.county == "150105"
    assert case.location == GeoPoint(lat=40.8, lon=111.7)


def _population() -> list[Signal]:
    signals = []
    for p in range(1, 60):
        signals += [
            sig(
                f"u{p}",
                "utility_arrears",
                source="utility",
                value=p % 5,
                categories=ALONE,
                person=p,
                phone=f"1380000{p:04d}",
                name=f"n{p}",
            ),
            sig(
                f"m{p}",
                "missed_survival_certification",
                person=None,
                phone=f"1380000{p:04d}",
                name=f"N {p}",
                days_ago=p % 70,
            ),
            sig(
                f"s{p}",
                "self_assessment",
                source="hotline",
                value=p % 11,
                person=p,
                days_ago=p % 20,
            ),
        ]
    return signals


def test_deterministic_whatever_the_input_order() -> None:
    signals = _population()
    first = evaluate(signals, RULES, NOW, key=KEY)
    shuffled = signals[:]
    random.Random(4).shuffle(shuffled)
    second = evaluate(shuffled, RULES, NOW, key=KEY)
    assert [c.model_dump() for c in first] == [c.model_dump() for c in second]
    assert len(first) > 10
    assert [c.risk_score for c in first] == sorted((c.risk_score for c in first), reverse=True)


def test_output_has_no_personal_data() -> None:
    signals = _population()
    dump = "".join(c.model_dump_json() for c in evaluate(signals, RULES, NOW, key=KEY))
    for s in signals:
        for secret in (s.id_number, s.phone, s.name):
            if secret and len(secret) > 3:
                assert secret not in dump
        assert s.id_number is None or s.id_number not in repr(s)


def test_case_becomes_a_valid_need_opened_event() -> None:
    (case,) = evaluate(_elderly_signals(), RULES, NOW, key=KEY)
    event = case.to_need_opened("dc-1", opened_at=NOW)
    assert event.rule_id == "missed-survival-cert-elderly-alone"
    assert event.lines[0].need_type is NeedType.VERIFICATION_VISIT
    assert NEED_EVENTS.validate_json(event.model_dump_json()) == event


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        evaluate([], RULES, datetime(2025, 6, 1), key=KEY)


def test_nothing_fires_nothing_returned() -> None:
    calm = sig("g1", "grid_observation", source="grid_visit", value=0)
    assert evaluate([calm], RULES, NOW, key=KEY) == []
