"""Entry points: `solve` (optimising) and `greedy` (the baseline), both pure and time-limited.

The problem splits along connected components of the eligibility graph (lines and resources
joined by eligible pairs, bundle lines joined to each other). Components with only money and
goods lines and no bundles are a pure transport problem: min-cost flow solves them exactly.
The rest (worker visits, bundles, caseload caps) go to CP-SAT, warm-started from the greedy
solution, which also stands in if CP-SAT finds nothing in time. GLOP's LP relaxation of the
CP-SAT part bounds its score; the flow part is exact, so it is its own bound.
"""

from __future__ import annotations

import time

from .alloc import Alloc, line_units, score
from .cpsat import lp_bound, solve_cp
from .explain import assignments, unmet
from .flow import solve_flow
from .greedy import greedy_alloc
from .model import Problem, Solution, SolverConfig, SolverPath
from .prepare import PSCALE, Prepared, fair_groups, prepare


def _partition(p: Prepared) -> tuple[list[int], list[int], list[int], list[int]]:
    """Split open lines and resources into the flow part and the CP-SAT part."""
    n = len(p.lines)
    parent = list(range(n + len(p.res)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for pr in p.pairs:
        union(pr.line, n + pr.res)
    for members in p.bundles.values():
        for m in members[1:]:
            union(members[0], m)
    needs_cp: set[int] = set()
    lines = [i for i in p.open_lines() if p.line_pairs[i] or p.lines[i].bundle]
    for i in lines:
        if p.lines[i].is_visit or p.lines[i].bundle:
            needs_cp.add(find(i))
    flow_l = [i for i in lines if find(i) not in needs_cp]
    cp_l = [i for i in lines if find(i) in needs_cp]
    used = {n + j for j in range(len(p.res)) if p.res_pairs[j]}
    flow_r = [r - n for r in sorted(used) if find(r) not in needs_cp]
    cp_r = [r - n for r in sorted(used) if find(r) in needs_cp]
    return flow_l, flow_r, cp_l, cp_r


def _trivial_bound(p: Prepared, lines: list[int]) -> int:
    """Every line served by its best pair, every fair share met: a loose upper bound."""
    total = 0
    for i in lines:
        if p.line_pairs[i]:
            total += max(p.pairs[k].coef for k in p.line_pairs[i]) * p.need[i]
    groups = {p.group_of[i] for i in lines if i in p.group_of}
    return total + sum(p.groups[g].bonus * p.groups[g].share for g in groups)


def _coverage(p: Prepared, alloc: Alloc) -> float:
    """Priority-weighted share of all lines' quantity covered (accepted ones included)."""
    got = line_units(p, alloc)
    num = den = 0.0
    for i in range(len(p.lines)):
        done = p.full[i] - p.need[i] + got.get(i, 0)
        num += p.prio[i].points * min(1.0, done / p.full[i])
        den += p.prio[i].points
    return num / den if den else 1.0


def _solution(
    p: Prepared,
    alloc: Alloc,
    path: SolverPath,
    bound: float,
    t0: float,
    size: dict[str, int],
) -> Solution:
    obj = score(p, alloc)
    bound = max(bound, obj)
    return Solution(
        assignments=tuple(assignments(p, alloc, path)),
        unmet=tuple(unmet(p, alloc)),
        solver_path=path,
        objective=obj / PSCALE,
        bound=bound / PSCALE,
        gap=(bound - obj) / max(abs(bound), PSCALE),
        solve_seconds=time.perf_counter() - t0,
        problem_size=size,
        coverage=_coverage(p, alloc),
    )


def _size(p: Prepared, flow_l: list[int], cp_l: list[int]) -> dict[str, int]:
    return {
        "lines": len(p.lines),
        "open_lines": len(p.open_lines()),
        "resources": len(p.res),
        "pairs": len(p.pairs),
        "flow_lines": len(flow_l),
        "cp_lines": len(cp_l),
        "fixed": len(p.fixed),
    }


def solve(problem: Problem, config: SolverConfig | None = None) -> Solution:
    """Best assignment of resources to need lines within `config.time_limit_s`."""
    config = config or SolverConfig()
    t0 = time.perf_counter()
    stop = t0 + max(0.0, config.time_limit_s)
    p = prepare(problem, config)
    flow_l, flow_r, cp_l, cp_r = _partition(p)
    fair_groups(p, flow_l, flow_r)
    fair_groups(p, cp_l, cp_r)
    size = _size(p, flow_l, cp_l)
    fallback = False

    # Pure transport: exact min-cost flow (greedy only if the flow solver reports a failure).
    flow_alloc = solve_flow(p, flow_l, flow_r)
    if flow_alloc is None:
        fallback = True
        flow_alloc = greedy_alloc(p, flow_l)
    bound = float(score(p, flow_alloc) if not fallback else _trivial_bound(p, flow_l))

    # Side constraints: CP-SAT from the greedy hint; the greedy result if CP-SAT has none.
    cp_alloc: Alloc = {}
    if cp_l:
        hint = greedy_alloc(p, cp_l)
        left = stop - time.perf_counter()
        res = solve_cp(p, cp_l, cp_r, hint, left * (0.75 if config.compute_bound else 1.0))
        if res.alloc is not None and score(p, res.alloc) >= score(p, hint):
            cp_alloc = res.alloc
        else:
            fallback = True
            cp_alloc = hint
        cp_bound = res.bound if res.bound is not None else float(_trivial_bound(p, cp_l))
        left = stop - time.perf_counter()
        if config.compute_bound and left > 0:
            lp = lp_bound(p, cp_l, cp_r, left)
            if lp is not None:
                cp_bound = min(cp_bound, lp)
        bound += cp_bound

    alloc = {**flow_alloc, **cp_alloc}
    path: SolverPath
    if fallback:
        path = "greedy_fallback"
    elif cp_l:
        path = "cp_sat"
    elif flow_l:
        path = "min_cost_flow"
    else:
        path = "empty"
    return _solution(p, alloc, path, bound, t0, size)


def greedy(problem: Problem, config: SolverConfig | None = None) -> Solution:
    """Priority-order greedy over the whole problem: the baseline the optimiser must beat."""
    config = config or SolverConfig()
    t0 = time.perf_counter()
    p = prepare(problem, config)
    flow_l, flow_r, cp_l, cp_r = _partition(p)
    fair_groups(p, flow_l, flow_r)
    fair_groups(p, cp_l, cp_r)
    lines = flow_l + cp_l
    alloc = greedy_alloc(p, lines)
    bound: float = float(_trivial_bound(p, lines))
    if config.compute_bound and lines:
        lp = lp_bound(p, lines, flow_r + cp_r, max(1.0, config.time_limit_s))
        if lp is not None:
            bound = min(bound, lp)
    return _solution(p, alloc, "greedy", bound, t0, _size(p, flow_l, cp_l))
