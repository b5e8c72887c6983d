"""An allocation (units on each eligible pair) and its score, shared by every solver."""

from __future__ import annotations

from collections import defaultdict

from .prepare import Prepared

#: pair index -> units on it (1 for a visit)
Alloc = dict[int, int]


def group_cover(p: Prepared, alloc: Alloc) -> dict[int, int]:
    """Units of coverage in each fairness group."""
    cover: dict[int, int] = defaultdict(int)
    for k, u in alloc.items():
        g = p.group_of.get(p.pairs[k].line)
        if g is not None:
            cover[g] += u
    return cover


def score(p: Prepared, alloc: Alloc) -> int:
    """Objective value of `alloc` in score units (1/PSCALE points)."""
    total = sum(p.pairs[k].value(u) for k, u in alloc.items())
    for g, c in group_cover(p, alloc).items():
        grp = p.groups[g]
        total += grp.bonus * min(grp.share, c)
    return total


def line_units(p: Prepared, alloc: Alloc) -> dict[int, int]:
    """Units each line received in `alloc`."""
    got: dict[int, int] = defaultdict(int)
    for k, u in alloc.items():
        got[p.pairs[k].line] += u
    return got
