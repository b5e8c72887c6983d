"""SLA escalation: community at 1x SLA, township at 2x, county at 4x, each once."""

from __future__ import annotations

from datetime import timedelta

from matcher_support import NOW, line

from fivelink_matcher.domain.escalation import due_escalations
from fivelink_shared.events import Urgency

SLA = {Urgency.CRISIS: 4.0, Urgency.HIGH: 24.0, Urgency.NORMAL: 72.0}


def test_levels_follow_the_sla_multiples() -> None:
    crisis = line("c", urgency=Urgency.CRISIS, opened_at=NOW - timedelta(hours=9))
    normal = line("n", opened_at=NOW - timedelta(hours=71))
    due = due_escalations([crisis, normal], NOW, SLA, set())
    assert due == [("c", "community", 9.0), ("c", "township", 9.0)]


def test_county_level_after_four_slas() -> None:
    high = line("h", urgency=Urgency.HIGH, opened_at=NOW - timedelta(hours=97))
    assert [lvl for _, lvl, _ in due_escalations([high], NOW, SLA, set())] == [
        "community",
        "township",
        "county",
    ]


def test_already_raised_levels_are_not_raised_again() -> None:
    high = line("h", urgency=Urgency.HIGH, opened_at=NOW - timedelta(hours=50))
    done = {("h", "community")}
    assert due_escalations([high], NOW, SLA, done) == [("h", "township", 50.0)]
    assert due_escalations([high], NOW, SLA, done | {("h", "township")}) == []
