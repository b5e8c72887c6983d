"""The supervisor's "escalations waiting": unmet lines the matcher escalated, highest level."""

from __future__ import annotations

from fivelink_intake.web.clients import Escalation, Unmet
from fivelink_intake.web.supervisor import waiting_escalations


def unmet(line: str, hours: float) -> Unmet:
    return Unmet(line_id=line, case_id=f"c-{line}", reason="out_of_stock", waiting_hours=hours)


def raised(line: str, level: str) -> Escalation:
    return Escalation(line_id=line, case_id=f"c-{line}", level=level, reason="out_of_stock")


def test_only_escalated_lines_still_unmet_at_their_highest_level() -> None:
    rows = waiting_escalations(
        [unmet("a", 30), unmet("b", 90), unmet("c", 200), unmet("quiet", 1)],
        [
            raised("a", "community"),
            raised("b", "community"),
            raised("b", "township"),
            raised("c", "county"),
            raised("c", "community"),
            raised("served", "county"),
        ],
    )
    assert [(r["unmet"].line_id, r["level"]) for r in rows] == [
        ("c", "county"),
        ("b", "township"),
        ("a", "community"),
    ]
