"""diff: only what changed is published."""

from __future__ import annotations

from fivelink_matcher.domain.changes import diff
from fivelink_matcher.domain.model import Assignment, Solution
from fivelink_shared.events import Explanation


def _a(line_id: str, offer_id: str, qty: float = 1.0) -> Assignment:
    e = Explanation(summary="s", solver="cp_sat")
    return Assignment(line_id, f"c-{line_id}", offer_id, "org", None, qty, e)


def _sol(*a: Assignment) -> Solution:
    return Solution(a, (), "cp_sat", 0.0, 0.0, 0.0, 0.0)


def test_diff_added_withdrawn_unchanged_and_requantified() -> None:
    before = [_a("l1", "o1"), _a("l2", "o2"), _a("l3", "o3", 5.0)]
    after = _sol(_a("l1", "o1"), _a("l2", "o9"), _a("l3", "o3", 7.0), _a("l4", "o4"))
    ch = diff(before, after)
    assert [(a.line_id, a.offer_id) for a in ch.unchanged] == [("l1", "o1")]
    assert [(a.line_id, a.offer_id) for a in ch.proposed] == [
        ("l2", "o9"),
        ("l3", "o3"),
        ("l4", "o4"),
    ]
    assert [(a.line_id, a.offer_id, a.quantity) for a in ch.withdrawn] == [
        ("l2", "o2", 1.0),
        ("l3", "o3", 5.0),
    ]
    assert not ch.empty


def test_diff_of_the_same_solution_is_empty() -> None:
    same = [_a("l1", "o1"), _a("l2", "o2")]
    assert diff(same, _sol(*same)).empty
