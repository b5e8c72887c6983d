"""The pure one-to-one case: every visit line takes at most one worker and every worker can
take at most one line (caseload cap 1, or hours for one visit only), no bundles. That is a
linear sum assignment; OR-Tools' LinearSumAssignment solves it exactly.

The matching need not be perfect, so the graph is squared up (n lines, m workers): left nodes
are the lines and one "idle" node per worker, right nodes the workers and one "unserved" node
per line. Line i -> worker j costs the pair's negated score; line i -> unserved i, idle j ->
worker j and idle j -> unserved i (for every eligible pair) cost nothing. Every matching of
lines to workers extends to a perfect matching at the same cost, and back.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import linear_sum_assignment

from .alloc import Alloc
from .prepare import Prepared

#: Largest arc cost handed to LinearSumAssignment (see solve_lsa).
MAX_COST = 10**9


def worker_slots(p: Prepared, resources: list[int]) -> list[int]:
    """Capacity of each resource in lines (1 or 0 when it can take one line at most, else 2:
    'more than one'); a worker with several offers counts as more than one."""
    seen: dict[str, int] = {}
    for j in resources:
        seen[p.worker[j]] = seen.get(p.worker[j], 0) + 1
    hours = np.asarray(p.hours, dtype=np.int64)
    line_col = p.pair_arrays()["line"]
    out: list[int] = []
    for j in resources:
        w = p.worker[j]
        if not w or seen[w] > 1:
            out.append(2)
            continue
        smallest = np.sort(hours[line_col[p.res_pairs[j]]])[:2].tolist()
        by_hours = 1 if len(smallest) < 2 or sum(smallest) > p.cap[j] else 2
        out.append(min(by_hours, max(0, p.caseload[w])))
    return out


def is_one_to_one(p: Prepared, lines: list[int], resources: list[int]) -> bool:
    """Visit lines only, no bundles, each worker good for at most one of them."""
    if not lines or not resources:
        return False
    if any(not p.lines[i].is_visit or p.lines[i].bundle for i in lines):
        return False
    return all(s <= 1 for s in worker_slots(p, resources))


def solve_lsa(p: Prepared, lines: list[int], resources: list[int]) -> Alloc | None:
    """Optimal one-to-one allocation (None if the solver failed)."""
    if not lines or not resources:
        return {}
    arr = p.pair_arrays()
    lpos = np.full(len(p.lines), -1, dtype=np.int64)
    lpos[lines] = np.arange(len(lines))
    rpos = np.full(len(p.res), -1, dtype=np.int64)
    rpos[resources] = np.arange(len(resources))
    keys = p.pairs_of(lines)
    keys = keys[rpos[arr["res"][keys]] >= 0]
    n, m = len(lines), len(resources)
    li = lpos[arr["line"][keys]].astype(np.int32)
    rj = rpos[arr["res"][keys]].astype(np.int32)
    cost = -arr["best_unit"][keys]
    # LinearSumAssignment scales costs by the number of nodes internally: keep them small
    # enough not to overflow (a resolution of about 1e-7 of a line's value is plenty).
    top = int(np.abs(cost).max()) if len(cost) else 0
    if top > MAX_COST:
        cost = cost // -(-top // MAX_COST)
    idle = np.arange(m, dtype=np.int32) + n
    unserved = np.arange(n, dtype=np.int32) + m
    left = np.concatenate([li, np.arange(n, dtype=np.int32), idle, rj + n])
    right = np.concatenate([rj, unserved, np.arange(m, dtype=np.int32), li + m])
    costs = np.concatenate([cost, np.zeros(n + m + len(keys), dtype=np.int64)])
    lsa = linear_sum_assignment.SimpleLinearSumAssignment()
    lsa.add_arcs_with_cost(left, right, costs)
    if lsa.solve() != lsa.OPTIMAL:
        return None
    # The pair of each matched (line, worker): look it up among the sorted arc codes.
    code = li.astype(np.int64) * m + rj
    order = np.argsort(code)
    alloc: Alloc = {}
    for a in range(n):
        b = lsa.right_mate(a)
        if b < m:
            at = order[np.searchsorted(code, a * m + b, sorter=order)]
            alloc[int(keys[at])] = 1
    return alloc
