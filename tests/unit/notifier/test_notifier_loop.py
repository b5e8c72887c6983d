"""Closed-loop rules: transitions, links per role, SLA settings, de-identified traceability."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fivelink_notifier.channels.base import Role
from fivelink_notifier.loop import (
    Sla,
    TransitionError,
    check_transition,
    links_for,
    need_ref,
    totals,
    traceability_record,
)
from fivelink_notifier.settings import NotifierSettings
from fivelink_shared.events import ResponseKind, Urgency


@pytest.mark.parametrize(
    ("current", "response"),
    [
        ("proposed", ResponseKind.ACCEPTED),
        ("proposed", ResponseKind.DECLINED),
        ("accepted", ResponseKind.DELIVERED),
        ("delivered", ResponseKind.CONFIRMED),
        ("accepted", ResponseKind.CONFIRMED),
    ],
)
def test_allowed_transitions_move_on(current: str, response: ResponseKind) -> None:
    assert check_transition(current, response) is True


def test_the_same_response_again_is_a_replay() -> None:
    assert check_transition("accepted", ResponseKind.ACCEPTED) is False


@pytest.mark.parametrize(
    ("current", "response"),
    [
        ("declined", ResponseKind.ACCEPTED),
        ("confirmed", ResponseKind.DECLINED),
        ("proposed", ResponseKind.CONFIRMED),
        ("released", ResponseKind.ACCEPTED),
        ("withdrawn", ResponseKind.DELIVERED),
    ],
)
def test_out_of_order_responses_are_refused(current: str, response: ResponseKind) -> None:
    with pytest.raises(TransitionError):
        check_transition(current, response)


def test_links_per_role_and_state() -> None:
    assert ResponseKind.CONFIRMED not in links_for(Role.CHARITY)
    assert links_for(Role.BENEFICIARY) == (ResponseKind.CONFIRMED,)
    assert links_for(Role.SOCIAL_WORKER, "accepted") == (ResponseKind.DELIVERED,)
    assert links_for(Role.CHARITY, "proposed")[:2] == (ResponseKind.ACCEPTED, ResponseKind.DECLINED)
    assert links_for(Role.SUPERVISOR) == ()


def test_sla_from_seconds() -> None:
    sla = Sla.from_seconds({Urgency.CRISIS: 60}, {Urgency.CRISIS: 120}, {})
    assert sla.remind_after[Urgency.CRISIS] == timedelta(minutes=1)
    assert sla.release_after[Urgency.CRISIS] == timedelta(minutes=2)


def test_settings_read_json_sla_and_quiet_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIVELINK_NOTIFIER_REMIND_AFTER_S", '{"crisis": 5, "high": 6}')
    monkeypatch.setenv("FIVELINK_NOTIFIER_QUIET_HOURS", "")
    monkeypatch.setenv("FIVELINK_NOTIFIER_RETRY_INITIAL_S", "0.5")
    s = NotifierSettings()
    assert s.notifier_remind_after_s == {Urgency.CRISIS: 5.0, Urgency.HIGH: 6.0}
    policy = s.policy()
    assert policy.quiet_hours is None and policy.retry.initial_s == 0.5
    monkeypatch.setenv("FIVELINK_NOTIFIER_QUIET_HOURS", "21:30-06:00")
    quiet = NotifierSettings().policy().quiet_hours
    assert quiet is not None and (quiet.start.hour, quiet.end.hour) == (21, 6)


def _assignment() -> dict[str, object]:
    return {
        "_id": "a-1",
        "accepted_at": datetime(2026, 3, 1, tzinfo=UTC),
        "event": {
            "org_id": "org-1",
            "offer_id": "o-1",
            "offer_kind": "goods",
            "line_id": "line-secret-7",
            "case_id": "case-9",
            "person_ref": "p-3",
            "need_type": "food",
            "quantity": 20.0,
            "unit": "kg",
            "county": "150102",
            "region": {"county": "150102", "community": "150102001001"},
        },
    }


def test_traceability_record_is_de_identified() -> None:
    record = traceability_record(_assignment(), "k" * 20, datetime(2026, 3, 2, tzinfo=UTC))
    text = str(record)
    assert "line-secret-7" not in text and "case-9" not in text and "p-3" not in text
    assert record["need_ref"] == need_ref("k" * 20, "line-secret-7")
    assert record["need_ref"] != need_ref("other-secret-0000", "line-secret-7")
    assert (record["org_id"], record["offer_id"], record["quantity"]) == ("org-1", "o-1", 20.0)
    assert record["community"] == "150102001001"


def test_totals_per_unit() -> None:
    rows = [
        {"unit": "kg", "quantity": 2},
        {"unit": "kg", "quantity": 3},
        {"unit": "CNY", "quantity": 5},
    ]
    assert totals(rows) == {"kg": 5.0, "CNY": 5.0}
