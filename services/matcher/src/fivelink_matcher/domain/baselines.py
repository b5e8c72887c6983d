"""The greedy rules allocation systems use today, measured against the optimiser.

- `priority` (greedy.greedy_alloc): lines in priority order, each from its nearest (best
  scoring) eligible offer first.
- `value_per_hour`: the same, but lines ordered by value per unit of the resource they use
  (per worker hour for a visit, per unit of money or goods otherwise).
- `scarcest_first` (the Boston CAS rule): offers in order of how few lines are eligible for
  them; each in turn takes its eligible lines in priority order until it runs out. Bundles
  cannot be split over that loop; they are served afterwards, in priority order, on what is
  left.
"""

from __future__ import annotations

from .alloc import Alloc
from .greedy import greedy_alloc
from .prepare import QSCALE, Prepared


def value_per_hour_alloc(p: Prepared, lines: list[int], cap: list[int] | None = None) -> Alloc:
    """Greedy by value per unit of resource: worker hours for visits, units otherwise."""

    def per_unit(i: int) -> float:
        use = p.hours[i] if p.lines[i].is_visit else p.need[i]
        return p.prio[i].value * QSCALE / max(1, use)

    def key(members: list[int]) -> tuple[float, str, str]:
        best = max(members, key=per_unit)
        line = p.lines[best]
        return (-per_unit(best), line.opened_at.isoformat(), line.line_id)

    return greedy_alloc(p, lines, cap, order=key)


def scarcest_first_alloc(p: Prepared, lines: list[int]) -> Alloc:
    """Offers with the fewest eligible lines first; each takes its top-priority lines."""
    cap = list(p.cap)
    case = dict(p.caseload)
    alloc: Alloc = {}
    got = [0] * len(p.lines)
    chosen = set(lines)
    single = [i for i in lines if p.lines[i].bundle is None]
    singles = set(single)
    eligible: dict[int, list[int]] = {}
    for i in single:
        for k in p.line_pairs[i]:
            eligible.setdefault(p.pairs[k].res, []).append(k)

    def line_rank(k: int) -> tuple[float, float, str]:
        i = p.pairs[k].line
        return (-p.prio[i].value, -p.pairs[k].best_unit, p.lines[i].line_id)

    for j in sorted(eligible, key=lambda j: (len(eligible[j]), p.res[j].offer_id)):
        w = p.worker[j]
        for k in sorted(eligible[j], key=line_rank):
            i = p.pairs[k].line
            if got[i] >= p.need[i]:
                continue
            if p.lines[i].is_visit:
                if cap[j] >= p.hours[i] and case[w] > 0:
                    cap[j] -= p.hours[i]
                    case[w] -= 1
                    alloc[k] = 1
                    got[i] = 1
            else:
                take = min(p.need[i] - got[i], cap[j], p.pairs[k].ub)
                if take > 0:
                    cap[j] -= take
                    alloc[k] = take
                    got[i] += take
            if cap[j] <= 0 or (w and case[w] <= 0):
                break
    # Bundles, all or nothing, on what the offers and workers have left.
    bundled = sorted(i for i in chosen if i not in singles)
    if bundled:
        alloc.update(greedy_alloc(p, bundled, cap, caseload=case))
    return alloc
