"""CP-SAT for the sub-problem with side constraints (workers, bundles, caseload caps).

One model builder feeds two back-ends: CP-SAT (integer) and GLOP (its LP relaxation, for the
upper bound that solution quality is measured against).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ortools.linear_solver import linear_solver_pb2, pywraplp
from ortools.sat.python import cp_model

from .alloc import Alloc, group_cover, line_units
from .prepare import PSCALE, Prepared


@dataclass(frozen=True, slots=True)
class Vars:
    x: dict[int, Any]  # units on each pair
    y: dict[str, Any]  # bundle served
    f: dict[int, Any]  # fair-share coverage of each group
    kept: dict[int, Any]  # units kept from the previous proposal (money/goods pairs)


#: Stands for "no lower limit" in a constraint.
NO_LIMIT = 10**15

#: Default CP-SAT work limit per second of `time_limit_s` (deterministic time units).
WORK_PER_SECOND = 0.5


class Backend(Protocol):
    def var(self, ub: int, name: str) -> Any: ...
    def linear(self, vs: list[Any], cs: list[int], lb: int, ub: int) -> None: ...
    def maximize(self, vs: list[Any], cs: list[int]) -> None: ...


def build(
    p: Prepared,
    lines: list[int],
    resources: list[int],
    m: Backend,
    cap: list[int] | None = None,
) -> Vars:
    """Add the matching model for `lines` and `resources` to `m`; return its variables."""
    caps = p.cap if cap is None else cap
    # Data: the pairs of these lines, grouped by line, resource and worker.
    pair_ids = [k for i in lines for k in p.line_pairs[i]]
    by_res: dict[int, list[int]] = defaultdict(list)
    by_worker: dict[str, list[int]] = defaultdict(list)
    for k in pair_ids:
        j = p.pairs[k].res
        by_res[j].append(k)
        if p.worker[j]:
            by_worker[p.worker[j]].append(k)
    line_set = set(lines)

    # Variables: units on each pair (0/1 for a visit), a 0/1 per bundle, fair-share coverage.
    x = {k: m.var(_ub(p, k, caps), f"x{k}") for k in pair_ids}
    bundles = sorted(b for b, ms in p.bundles.items() if line_set & set(ms))
    y = {b: m.var(1, f"b_{b}") for b in bundles}
    groups = sorted({p.group_of[i] for i in lines if i in p.group_of})
    f = {g: m.var(p.groups[g].share, f"f{g}") for g in groups}
    # Units kept from the previous proposal on a money/goods pair (a visit keeps all or none).
    kept = {
        k: m.var(min(p.pairs[k].keep, _ub(p, k, caps)), f"k{k}")
        for k in pair_ids
        if p.pairs[k].keep and not p.worker[p.pairs[k].res]
    }

    # Constraints: a visit line gets at most one worker; a money/goods line at most its need.
    ks: Sequence[int]
    for i in lines:
        ks = p.line_pairs[i]
        if ks and p.lines[i].bundle is None:
            m.linear([x[k] for k in ks], [1] * len(ks), 0, p.need[i])

    # Constraints: a bundle is served in full or not at all (a line with no pair forces none).
    for b in bundles:
        for i in p.bundles[b]:
            ks = p.line_pairs[i] if i in line_set else []
            m.linear([x[k] for k in ks] + [y[b]], [1] * len(ks) + [-p.need[i]], 0, 0)

    # Constraints: a resource gives at most its stock, budget or worker hours.
    for j in sorted(by_res):
        ks = by_res[j]
        if p.worker[j]:
            m.linear([x[k] for k in ks], [p.hours[p.pairs[k].line] for k in ks], 0, caps[j])
        else:
            m.linear([x[k] for k in ks], [1] * len(ks), 0, caps[j])

    # Constraints: a worker takes at most their caseload cap of lines (over all their offers).
    for w in sorted(by_worker):
        ks = by_worker[w]
        if p.caseload[w] < len(ks):
            m.linear([x[k] for k in ks], [1] * len(ks), 0, p.caseload[w])

    # Constraints: fair-share coverage counts only units actually given in the community.
    for g in groups:
        ks = [k for i in p.groups[g].lines if i in line_set for k in p.line_pairs[i]]
        m.linear([f[g]] + [x[k] for k in ks], [1] + [-1] * len(ks), -NO_LIMIT, 0)

    # Constraints: kept units are units actually given on that pair.
    for k, var in kept.items():
        m.linear([var, x[k]], [1, -1], -NO_LIMIT, 0)

    # Objective: pair scores (priority, travel, continuity), the churn bonus on kept units,
    # and the fairness bonus.
    m.maximize(
        [x[k] for k in pair_ids] + [f[g] for g in groups] + list(kept.values()),
        [p.pairs[k].best_unit if p.worker[p.pairs[k].res] else p.pairs[k].coef for k in pair_ids]
        + [p.groups[g].bonus for g in groups]
        + [p.pairs[k].keep_bonus for k in kept],
    )
    return Vars(x, y, f, kept)


def _ub(p: Prepared, k: int, caps: list[int]) -> int:
    pr = p.pairs[k]
    return pr.ub if p.worker[pr.res] else max(0, min(pr.ub, caps[pr.res]))


class _CpBackend:
    def __init__(self) -> None:
        self.model = cp_model.CpModel()

    def var(self, ub: int, name: str) -> Any:
        return self.model.new_int_var(0, ub, name)

    def linear(self, vs: list[Any], cs: list[int], lb: int, ub: int) -> None:
        self.model.add_linear_constraint(cp_model.LinearExpr.weighted_sum(vs, cs), lb, ub)

    def maximize(self, vs: list[Any], cs: list[int]) -> None:
        self.model.maximize(cp_model.LinearExpr.weighted_sum(vs, cs))


class _LpBackend:
    """GLOP through one model proto (fast to build from Python lists), with columns scaled to
    [0, 1], rows to a largest coefficient of 1, and the objective in points: amounts range
    from one visit to a fund in cents, and unscaled that leaves GLOP numerically lost."""

    def __init__(self) -> None:
        self.model = linear_solver_pb2.MPModelProto(maximize=True)
        self.ub: list[int] = []

    def var(self, ub: int, name: str) -> Any:
        v = self.model.variable.add()
        v.lower_bound, v.upper_bound = 0.0, 1.0 if ub > 0 else 0.0
        self.ub.append(max(1, ub))
        return len(self.ub) - 1

    def linear(self, vs: list[Any], cs: list[int], lb: int, ub: int) -> None:
        coefs = [float(c) * self.ub[v] for v, c in zip(vs, cs, strict=True)]
        scale = max((abs(c) for c in coefs), default=1.0) or 1.0
        ct = self.model.constraint.add()
        ct.lower_bound = -math.inf if lb <= -NO_LIMIT else lb / scale
        ct.upper_bound = math.inf if ub >= NO_LIMIT else ub / scale
        ct.var_index.extend(vs)
        ct.coefficient.extend([c / scale for c in coefs])

    def maximize(self, vs: list[Any], cs: list[int]) -> None:
        for v, c in zip(vs, cs, strict=True):
            self.model.variable[v].objective_coefficient = c * self.ub[v] / PSCALE

    def solve(self, time_limit_s: float) -> tuple[float, list[float]] | None:
        """(objective in score units, column values in model units), or None if not optimal."""
        request = linear_solver_pb2.MPModelRequest(
            model=self.model,
            solver_type=linear_solver_pb2.MPModelRequest.GLOP_LINEAR_PROGRAMMING,
            solver_time_limit_seconds=max(0.001, time_limit_s),
            # Dual simplex: about 30 % faster than GLOP's default on these models, same optimum.
            solver_specific_parameters="use_dual_simplex:true",
        )
        response = linear_solver_pb2.MPSolutionResponse()
        pywraplp.Solver.SolveWithProto(request, response)
        if response.status != linear_solver_pb2.MPSOLVER_OPTIMAL:
            return None
        values = [x * u for x, u in zip(response.variable_value, self.ub, strict=True)]
        return response.objective_value * PSCALE, values


@dataclass(frozen=True, slots=True)
class CpResult:
    alloc: Alloc | None  # None when CP-SAT found no solution in time
    bound: float | None  # CP-SAT's best bound on the objective
    status: str
    by_clock: bool = False  # stopped by the wall clock, not by the work limit or a proof


def solve_cp(
    p: Prepared,
    lines: list[int],
    resources: list[int],
    hint: Alloc,
    deadline: float,
    cap: list[int] | None = None,
    target: float | None = None,
) -> CpResult:
    """Solve the side-constrained sub-problem with CP-SAT, warm-started from `hint`, and
    stop by `deadline` (a `time.perf_counter()` value; building the model counts too), or as
    soon as a solution reaches `target` (an upper bound, e.g. from the LP: then it is optimal
    within the LP's tolerance)."""
    if not lines:
        return CpResult({}, 0.0, "OPTIMAL")
    be = _CpBackend()
    v = build(p, lines, resources, be, cap)
    x = v.x
    # A complete hint (pairs, bundles, fair shares) lets CP-SAT start from a feasible point.
    for k, var in x.items():
        be.model.add_hint(var, hint.get(k, 0))
    got = line_units(p, hint)
    for b, var in v.y.items():
        be.model.add_hint(var, int(all(got.get(i, 0) >= p.need[i] for i in p.bundles[b])))
    cover = group_cover(p, hint)
    for g, var in v.f.items():
        be.model.add_hint(var, min(p.groups[g].share, cover.get(g, 0)))
    for k, var in v.kept.items():
        be.model.add_hint(var, min(p.pairs[k].keep, hint.get(k, 0)))

    # Solve: time-limited, single-threaded by default, fixed seed. The work limit depends on
    # the input and the configuration only, so when it (not the wall clock) stops the search,
    # the same input gives the same answer on any machine.
    time_limit_s = max(0.0, deadline - time.perf_counter())
    work = p.config.work_limit
    work = WORK_PER_SECOND * p.config.time_limit_s if work is None else work
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.max_deterministic_time = max(0.0, work)
    solver.parameters.num_workers = max(1, p.config.workers)
    solver.parameters.random_seed = p.config.seed
    stopper = _StopAt(target, p.config.gap_limit)
    status = solver.solve(be.model, stopper if target is not None else None)
    name = solver.status_name(status)
    by_clock = (
        status != cp_model.OPTIMAL
        and not stopper.reached
        and solver.deterministic_time < 0.99 * work
    )
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        alloc = {k: int(solver.value(var)) for k, var in x.items() if solver.value(var) > 0}
        return CpResult(alloc, float(solver.best_objective_bound), name, by_clock)
    # UNKNOWN (no solution in time), INFEASIBLE or MODEL_INVALID: the caller falls back.
    return CpResult(None, None, name, by_clock)


class _StopAt(cp_model.CpSolverSolutionCallback):
    """Stops the search once a solution is within `gap` (relative) of `target`."""

    def __init__(self, target: float | None, gap: float) -> None:
        super().__init__()
        self.target = target
        self.gap = gap
        self.reached = False

    def on_solution_callback(self) -> None:
        if self.target is not None and close_enough(self.objective_value, self.target, self.gap):
            self.reached = True
            self.stop_search()


def close_enough(value: float, target: float, gap: float) -> bool:
    """Whether `value` is within the relative `gap` of the upper bound `target`."""
    return value >= target - max(gap, 1e-9) * max(abs(target), float(PSCALE))


@dataclass(frozen=True, slots=True)
class LpResult:
    bound: float  # optimal LP value: an upper bound on the integer score
    x: dict[int, float]  # fractional units on each pair, to guide rounding


@dataclass(frozen=True, slots=True)
class LpRun:
    """One try at the LP relaxation: its result (None if GLOP did not reach the optimum in
    time) and what building the model took (the solver's clock for the rest of the solve)."""

    result: LpResult | None
    build_s: float
    pairs: int


def lp_relax(
    p: Prepared,
    lines: list[int],
    resources: list[int],
    glop_limit: Callable[[], float],
    cap: list[int] | None = None,
) -> LpRun:
    """The LP relaxation (GLOP) of the model. `glop_limit` is asked for GLOP's time limit once
    the model is built, when the time that building took is known."""
    if not lines:
        return LpRun(LpResult(0.0, {}), 0.0, 0)
    t0 = time.perf_counter()
    be = _LpBackend()
    v = build(p, lines, resources, be, cap)
    built = time.perf_counter()
    out = be.solve(max(0.0, glop_limit()))
    if out is None:
        return LpRun(None, built - t0, len(v.x))
    bound, values = out
    x = {k: values[var] for k, var in v.x.items() if values[var] > 1e-9}
    return LpRun(LpResult(bound, x), built - t0, len(v.x))
