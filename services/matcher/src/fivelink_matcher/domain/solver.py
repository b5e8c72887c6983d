"""Entry points: `solve` (optimising) and `greedy` (the baseline), both pure and time-limited.

Sub-problems:
- money and goods lines outside bundles are a pure transport problem: min-cost flow solves
  them exactly;
- visit lines (one worker each, hours, caseload caps) and every bundle line go to CP-SAT,
  warm-started from the greedy solution, which also stands in when CP-SAT finds nothing in
  time (reported as "greedy_fallback").

When a bundle draws on money or goods, the two sub-problems share stock. They are then
coordinated in three steps: a relaxed flow over all money/goods lines (bundles divisible)
tells how much stock the lines outside bundles would take; CP-SAT solves visits and bundles on
what is left plus the bundles' own share; a final flow re-plans the lines outside bundles on
what CP-SAT did not use. GLOP's LP relaxation of the whole model bounds the score.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace

from .alloc import Alloc, line_units, score
from .assign import is_one_to_one, solve_one_to_one
from .baselines import scarcest_first_alloc, value_per_hour_alloc
from .budget import MIN_SEARCH_S, Budget
from .cpsat import CpResult, LpResult, close_enough, lp_relax, solve_cp
from .explain import assignments, unmet
from .flow import solve_flow
from .greedy import greedy_alloc
from .model import Problem, Solution, SolverConfig, SolverPath
from .prepare import PSCALE, Prepared, fair_groups, prepare

#: The greedy rules `baseline` runs (see baselines.py).
BASELINES = ("priority", "value_per_hour", "scarcest_first")

#: Share of the time left (after building the LP, less the rest's estimate) that GLOP may
#: take before CP-SAT runs.
LP_TIME_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Parts:
    """The sub-problems: pure transport (flow) and side-constrained (CP-SAT)."""

    flow_lines: list[int]  # money/goods lines outside bundles
    cp_lines: list[int]  # visit lines and every bundle line
    bundle_transport: list[int]  # money/goods lines inside bundles (part of cp_lines)
    transport_res: list[int]  # money and goods resources with an eligible pair
    people_res: list[int]  # people resources with an eligible pair

    @property
    def all_lines(self) -> list[int]:
        return self.flow_lines + self.cp_lines


def _partition(p: Prepared) -> Parts:
    """Split open lines: money/goods outside bundles to the flow, the rest to CP-SAT."""
    flow_l: list[int] = []
    cp_l: list[int] = []
    bundle_t: list[int] = []
    for i in p.open_lines():
        line = p.lines[i]
        if line.bundle:
            cp_l.append(i)  # kept even without a pair: such a line forces its bundle off
            if not line.is_visit:
                bundle_t.append(i)
        elif p.line_pairs[i]:
            (cp_l if line.is_visit else flow_l).append(i)
    transport = [j for j in range(len(p.res)) if p.res_pairs[j] and not p.worker[j]]
    people = [j for j in range(len(p.res)) if p.res_pairs[j] and p.worker[j]]
    parts = Parts(flow_l, cp_l, bundle_t, transport, people)
    fair_groups(p, flow_l, transport)
    fair_groups(p, cp_l, people + (transport if bundle_t else []))
    return parts


def _usage(p: Prepared, alloc: Alloc, lines: set[int] | None = None) -> dict[int, int]:
    """Capacity each resource spends on `alloc` (only on `lines` when given)."""
    used: dict[int, int] = defaultdict(int)
    for k, u in alloc.items():
        pr = p.pairs[k]
        if lines is None or pr.line in lines:
            used[pr.res] += p.hours[pr.line] if p.worker[pr.res] else u
    return used


def _trivial_bound(p: Prepared, lines: list[int]) -> float:
    """Every line served by its best pair, every fair share met: a loose upper bound."""
    total = 0
    best_unit = p.pair_arrays()["best_unit"]
    for i in lines:
        run = p.line_pairs[i]
        if run:
            total += int(best_unit[run.start : run.stop].max()) * p.need[i]
    groups = {p.group_of[i] for i in lines if i in p.group_of}
    return float(total + sum(p.groups[g].bonus * p.groups[g].share for g in groups))


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
    p: Prepared, alloc: Alloc, path: SolverPath, bound: float, t0: float, parts: Parts
) -> Solution:
    obj = score(p, alloc)
    bound = max(bound, float(obj))
    size = {
        "lines": len(p.lines),
        "open_lines": len(p.open_lines()),
        "resources": len(p.res),
        "pairs": len(p.pairs),
        "flow_lines": len(parts.flow_lines),
        "cp_lines": len(parts.cp_lines),
        "bundle_transport_lines": len(parts.bundle_transport),
        "fixed": len(p.fixed),
    }
    return Solution(
        assignments=tuple(assignments(p, alloc, path)),
        unmet=tuple(unmet(p, alloc)),
        solver_path=path,
        objective=obj / PSCALE,
        bound=bound / PSCALE,
        gap=(bound - obj) / max(abs(bound), float(PSCALE)),
        solve_seconds=time.perf_counter() - t0,
        problem_size=size,
        coverage=_coverage(p, alloc),
    )


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for one solve.

    A solve allocates a few hundred thousand short-lived objects and no reference cycles;
    the collector's passes over them took about 6 % of a flow solve (p50 0.398 s against
    0.375 s at 2,000 lines, measured interleaved in one process). Reference counting still
    frees everything at once, and the collector runs again afterwards (it is left on if
    another thread turned it back on).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def solve(problem: Problem, config: SolverConfig | None = None) -> Solution:
    """Best assignment of resources to need lines within `config.time_limit_s`."""
    config = config or SolverConfig()
    t0 = time.perf_counter()
    with _collector_paused():
        return _solve(problem, config, t0)


def _solve(problem: Problem, config: SolverConfig, t0: float) -> Solution:
    stop = t0 + max(0.0, config.time_limit_s)
    p = prepare(problem, config)
    parts = _partition(p)
    fallback = False
    clock_bound = False  # whether a wall-clock limit decided anything
    budget = Budget(limit_s=config.time_limit_s)

    # Step 1: how much stock lines outside bundles would take (exact if there is no coupling).
    flow_lines = parts.flow_lines + parts.bundle_transport
    t_flow = time.perf_counter()
    flow_alloc = solve_flow(p, flow_lines, parts.transport_res)
    first_flow_s = time.perf_counter() - t_flow
    if flow_alloc is None:
        fallback = True
        flow_alloc = greedy_alloc(p, flow_lines)

    # The pure one-to-one worker case is an assignment problem: exact, no LP needed.
    if (
        flow_alloc is not None
        and not fallback
        and not parts.bundle_transport
        and is_one_to_one(p, parts.cp_lines, parts.people_res)
    ):
        exact = _one_to_one(p, parts)
        if exact is not None:
            whole = {**flow_alloc, **exact[0]}
            return _solution(p, whole, exact[1], float(score(p, whole)), t0, parts)

    # Pure transport: the flow is exact, so it is its own bound (no LP needed).
    if not parts.cp_lines and not fallback:
        return _solution(
            p,
            flow_alloc,
            "min_cost_flow" if flow_lines else "empty",
            float(score(p, flow_alloc)),
            t0,
            parts,
        )

    # The bound: LP relaxation of the whole model (GLOP), within a share of the time.
    bound: float | None = None
    lp: LpResult | None = None
    cp_pairs = sum(len(p.line_pairs[i]) for i in parts.cp_lines)
    final_flow_s = first_flow_s if parts.bundle_transport else 0.0
    if config.compute_bound and parts.all_lines:
        lp_pairs = sum(len(p.line_pairs[i]) for i in parts.flow_lines) + cp_pairs
        finish = budget.finish_s(len(p.lines), final_flow_s)
        if time.perf_counter() + budget.lp_s(lp_pairs) + finish < stop:
            res = parts.transport_res + parts.people_res

            def glop_limit() -> float:
                """A share of what is left for GLOP, all of it when CP-SAT would not fit in
                the rest anyway (then the LP's rounding is the best that time allows)."""
                left = stop - time.perf_counter() - budget.finish_s(len(p.lines), final_flow_s)
                cp_need = budget.cp_build_s(cp_pairs) + MIN_SEARCH_S
                return left * LP_TIME_SHARE if left * (1 - LP_TIME_SHARE) > cp_need else left

            run = lp_relax(p, parts.all_lines, res, glop_limit)
            budget.learn_lp_build(run.pairs, run.build_s)
            lp = run.result
            bound = lp.bound if lp else None
        clock_bound = lp is None  # the LP guides CP-SAT: without it the result may differ

    # Step 2: visits and bundles with CP-SAT, on the stock the lines outside bundles leave:
    # as the LP splits it when there is an LP solution (it prices bundles whole), else as the
    # relaxed flow does.
    cp_alloc: Alloc = {}
    cp_bound = 0.0
    if parts.cp_lines:
        cap = list(p.cap)
        outside = set(parts.flow_lines)
        if lp is not None and parts.bundle_transport:
            taken: dict[int, float] = defaultdict(float)
            for k, u in lp.x.items():
                if p.pairs[k].line in outside:
                    taken[p.pairs[k].res] += u
            for j, t in taken.items():
                cap[j] -= int(t + 1e-6)
        else:
            for j, u in _usage(p, flow_alloc, outside).items():
                cap[j] -= u
        res = parts.people_res + (parts.transport_res if parts.bundle_transport else [])
        # The hint: the best of the greedy rules (priority order, value per worker hour) and
        # the rounded LP solution, so the result is never worse than any of them.
        hint = greedy_alloc(p, parts.cp_lines, cap)
        others = [value_per_hour_alloc(p, parts.cp_lines, cap)]
        if lp is not None:
            others.append(greedy_alloc(p, parts.cp_lines, cap, lp.x))
        for other in others:
            if score(p, other) > score(p, hint):
                hint = other
        # With independent parts the flow is exact, so the LP bounds CP-SAT's part by what
        # the flow does not take: a hint that reaches it is optimal, and so is a solution.
        # Coupled through bundles, the LP's own split of the stock bounds CP-SAT's part the
        # same way (up to rounding the split to whole units).
        target: float | None = None
        if lp is not None and not parts.bundle_transport:
            target = lp.bound - score(p, flow_alloc)
        elif lp is not None:
            target = lp.bound - _lp_value(p, lp.x, outside)
        left = stop - time.perf_counter() - budget.finish_s(len(p.lines), final_flow_s)
        if target is not None and close_enough(score(p, hint), target, config.gap_limit):
            out = CpResult(hint, target, "LP_CLOSE")  # the LP proves the hint good enough
        elif left > budget.cp_build_s(cp_pairs) + MIN_SEARCH_S:
            deadline = time.perf_counter() + left
            out = solve_cp(p, parts.cp_lines, res, hint, deadline, cap, target)
        else:
            out = CpResult(None, None, "NO_TIME", by_clock=True)  # no time to build the model
        if out.alloc is not None and score(p, out.alloc) >= score(p, hint):
            cp_alloc = out.alloc
        else:
            fallback = True
            cp_alloc = hint
        cp_bound = out.bound if out.bound is not None else _trivial_bound(p, parts.cp_lines)
        clock_bound = clock_bound or out.by_clock

    # Step 3: re-plan lines outside bundles on what the bundles left (only when coupled).
    if parts.bundle_transport:
        cap = list(p.cap)
        for j, u in _usage(p, cp_alloc).items():
            cap[j] -= u
        again = solve_flow(p, parts.flow_lines, parts.transport_res, cap)
        if again is None:
            fallback = True
            again = greedy_alloc(p, parts.flow_lines, cap)
        flow_alloc = again
    elif bound is None:
        # Independent parts: the flow is exact, CP-SAT bounds its own part.
        bound = score(p, flow_alloc) + cp_bound

    alloc = {**flow_alloc, **cp_alloc}
    path: SolverPath
    if fallback:
        path = "greedy_fallback"
    elif parts.cp_lines:
        path = "cp_sat"
    elif parts.flow_lines:
        path = "min_cost_flow"
    else:
        path = "empty"
    if bound is None:
        bound = _trivial_bound(p, parts.all_lines)
    return replace(_solution(p, alloc, path, bound, t0, parts), deterministic=not clock_bound)


def _lp_value(p: Prepared, x: dict[int, float], lines: set[int]) -> float:
    """The LP solution's score on `lines` (pairs, churn bonus kept, fair shares)."""
    total = 0.0
    cover: dict[int, float] = defaultdict(float)
    for k, u in x.items():
        pr = p.pairs[k]
        if pr.line in lines:
            total += pr.coef * u + pr.keep_bonus * min(u, pr.keep)
            g = p.group_of.get(pr.line)
            if g is not None:
                cover[g] += u
    return total + sum(p.groups[g].bonus * min(p.groups[g].share, c) for g, c in cover.items())


def _one_to_one(p: Prepared, parts: Parts) -> tuple[Alloc, SolverPath] | None:
    """Exact one-to-one assignment of visits to workers (a min-cost flow)."""
    got = solve_one_to_one(p, parts.cp_lines, parts.people_res)
    return None if got is None else (got, "min_cost_flow")


def greedy(problem: Problem, config: SolverConfig | None = None) -> Solution:
    """Priority-order greedy over the whole problem: the baseline the optimiser must beat."""
    return baseline(problem, config, "priority")


def baseline(
    problem: Problem, config: SolverConfig | None = None, rule: str = "priority"
) -> Solution:
    """One of the greedy rules in `BASELINES` over the whole problem (path "greedy")."""
    if rule not in BASELINES:
        raise ValueError(f"unknown baseline {rule!r}; one of {', '.join(BASELINES)}")
    config = config or SolverConfig()
    t0 = time.perf_counter()
    p = prepare(problem, config)
    parts = _partition(p)
    if rule == "value_per_hour":
        alloc = value_per_hour_alloc(p, parts.all_lines)
    elif rule == "scarcest_first":
        alloc = scarcest_first_alloc(p, parts.all_lines)
    else:
        alloc = greedy_alloc(p, parts.all_lines)
    bound: float | None = None
    if config.compute_bound and parts.all_lines:
        res = parts.transport_res + parts.people_res
        limit = max(1.0, config.time_limit_s)
        lp = lp_relax(p, parts.all_lines, res, lambda: limit).result
        bound = lp.bound if lp else None
    if bound is None:
        bound = _trivial_bound(p, parts.all_lines)
    return _solution(p, alloc, "greedy", bound, t0, parts)
