"""What changed between the assignments published before and a new solution."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .model import Assignment, Solution


@dataclass(frozen=True, slots=True)
class Changes:
    """Publish `proposed`, withdraw `withdrawn`; `unchanged` needs no event."""

    proposed: tuple[Assignment, ...]
    withdrawn: tuple[Assignment, ...]
    unchanged: tuple[Assignment, ...]

    @property
    def empty(self) -> bool:
        return not self.proposed and not self.withdrawn


def _key(a: Assignment) -> tuple[str, str]:
    return (a.line_id, a.offer_id)


def diff(previous: Iterable[Assignment], new: Solution, tolerance: float = 1e-6) -> Changes:
    """Compare by (line, offer); a changed quantity is a withdrawal plus a new proposal."""
    before = {_key(a): a for a in previous}
    after = {_key(a): a for a in new.assignments}
    proposed: list[Assignment] = []
    unchanged: list[Assignment] = []
    for key in sorted(after):
        a = after[key]
        old = before.get(key)
        if old is not None and abs(old.quantity - a.quantity) <= tolerance:
            unchanged.append(a)
        else:
            proposed.append(a)
    withdrawn = [
        before[key]
        for key in sorted(before)
        if key not in after or abs(after[key].quantity - before[key].quantity) > tolerance
    ]
    return Changes(tuple(proposed), tuple(withdrawn), tuple(unchanged))
