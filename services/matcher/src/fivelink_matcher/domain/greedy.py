"""Priority-order greedy: the baseline, the CP-SAT hint, and the fallback when time runs out."""

from __future__ import annotations

from .alloc import Alloc
from .prepare import Prepared


def greedy_alloc(p: Prepared, lines: list[int]) -> Alloc:
    """Serve lines (bundles as one unit) in policy order, each from its best pairs first."""
    cap = list(p.cap)
    case = dict(p.caseload)
    alloc: Alloc = {}
    units: dict[str, list[int]] = {}
    for i in lines:
        key = p.lines[i].bundle or f"line:{p.lines[i].line_id}"
        units.setdefault(key, []).append(i)

    def rank(members: list[int]) -> tuple[float, str, str]:
        best = max(members, key=lambda i: p.prio[i].value)
        return (-p.prio[best].value, p.lines[best].opened_at.isoformat(), p.lines[best].line_id)

    for members in sorted(units.values(), key=rank):
        bundle = p.lines[members[0]].bundle is not None
        trial: Alloc = {}
        ok = True
        for i in members:
            got = 0
            for k in sorted(p.line_pairs[i], key=lambda k: (-p.pairs[k].coef, k)):
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
