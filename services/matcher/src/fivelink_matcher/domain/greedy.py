"""Priority-order greedy: the baseline, the CP-SAT hint, and the fallback when time runs out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .alloc import Alloc
from .prepare import Prepared

#: Orders the units (a line, or a bundle's lines) a greedy serves: lowest key first.
UnitKey = Callable[[list[int]], Any]


def greedy_alloc(
    p: Prepared,
    lines: list[int],
    cap: list[int] | None = None,
    guide: dict[int, float] | None = None,
    order: UnitKey | None = None,
    caseload: dict[str, int] | None = None,
) -> Alloc:
    """Serve lines (bundles as one unit) in policy order, each from its best pairs first.

    With `guide` (an LP solution: units per pair) this rounds the LP instead: lines the LP
    serves go first, each from the pairs the LP uses most. With `order` the units go in that
    order instead of the policy's (the baselines' other rules). `cap` and `caseload`
    override what the offers and workers have left.
    """
    cap = list(p.cap if cap is None else cap)
    case = dict(p.caseload if caseload is None else caseload)
    alloc: Alloc = {}
    units: dict[str, list[int]] = {}
    for i in lines:
        key = p.lines[i].bundle or f"line:{p.lines[i].line_id}"
        units.setdefault(key, []).append(i)

    lp = guide or {}

    def served(i: int) -> float:
        return sum(lp.get(k, 0.0) for k in p.line_pairs[i]) / p.need[i] if lp else 0.0

    def rank(members: list[int]) -> tuple[float, float, str, str]:
        best = max(members, key=lambda i: p.prio[i].value)
        lp_served = min(round(served(i), 3) for i in members)
        line = p.lines[best]
        return (-lp_served, -p.prio[best].value, line.opened_at.isoformat(), line.line_id)

    for members in sorted(units.values(), key=order or rank):
        bundle = p.lines[members[0]].bundle is not None
        trial: Alloc = {}
        ok = True
        for i in members:
            got = 0
            for k in sorted(
                p.line_pairs[i], key=lambda k: (-lp.get(k, 0.0), -p.pairs[k].best_unit, k)
            ):
                pr = p.pairs[k]
                if p.lines[i].is_visit:
                    w = p.worker[pr.res]
                    if cap[pr.res] >= p.hours[i] and case[w] > 0:
                        cap[pr.res] -= p.hours[i]
                        case[w] -= 1
                        trial[k] = 1
                        got = 1
                        break
                else:
                    take = min(p.need[i] - got, cap[pr.res], pr.ub)
                    if take > 0:
                        cap[pr.res] -= take
                        trial[k] = take
                        got += take
                    if got >= p.need[i]:
                        break
            if bundle and got < p.need[i]:
                ok = False
                break
        if not ok:
            # All or nothing: give back what this bundle took.
            for k, u in trial.items():
                pr = p.pairs[k]
                if p.lines[pr.line].is_visit:
                    cap[pr.res] += p.hours[pr.line]
                    case[p.worker[pr.res]] += 1
                else:
                    cap[pr.res] += u
            continue
        alloc.update(trial)
    return alloc
