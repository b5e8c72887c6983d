"""Turn a `Problem` into indexed, integer-scaled data every solver shares.

Scaling: quantities are counted in units of 1/QSCALE (cents, 10 g, 0.01 h); score points are
counted in units of 1/PSCALE. A pair's coefficient is its score per unit of quantity for money
and goods lines, and per assignment for visit lines (one worker serves the line whole).
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from fivelink_shared.events import NeedType, OfferKind

from .eligibility import Stage, check_pair, due_at, visit_hours
from .model import Fixed, Line, Problem, Resource, SolverConfig
from .priority import Priority, priority
from .vector import stages

QSCALE = 100
PSCALE = 10_000_000_000
UNLIMITED = 10**9
#: Relative size of the deterministic per-pair perturbation that breaks ties between equally
#: good money/goods pairs, so the flow settles on a vertex: few lines split over many offers.
TIE_BREAK = 1e-4


@dataclass(frozen=True, slots=True)
class Pair:
    """An eligible (line, resource) pair and its objective coefficient."""

    line: int
    res: int
    km: float
    ub: int  # most units this pair can carry (1 for a visit)
    coef: int  # score per unit (money/goods) or per assignment (visit)
    continuity: bool
    keep: int  # units proposed on this pair before (0: none)
    keep_bonus: int  # score per unit kept, up to `keep`: the churn penalty avoided

    @property
    def kept(self) -> bool:
        return self.keep > 0

    def value(self, units: int) -> int:
        """Score of `units` on this pair."""
        return self.coef * units + self.keep_bonus * min(units, self.keep)

    @property
    def best_unit(self) -> int:
        """Score of the first unit (the most a unit on this pair can earn)."""
        return self.coef + (self.keep_bonus if self.keep else 0)


@dataclass(frozen=True, slots=True)
class FairGroup:
    """Lines of one community and unit: a bonus per unit of coverage up to a fair share."""

    key: tuple[str, str]  # (community, unit)
    lines: tuple[int, ...]
    share: int
    bonus: int  # score per unit of coverage, up to `share`


@dataclass(slots=True)
class Prepared:
    problem: Problem
    config: SolverConfig
    lines: list[Line]
    res: list[Resource]
    prio: list[Priority]
    full: list[int]  # units of the whole line (1 for visits)
    need: list[int]  # units still needed after accepted assignments
    hours: list[int]  # worker hours (scaled) a visit line takes
    cap: list[int]  # resource capacity: units of money/goods, scaled hours of people
    worker: list[str]  # worker key of each resource ("" for money/goods)
    caseload: dict[str, int]  # lines each worker may still take
    pairs: list[Pair]
    line_pairs: list[list[int]]
    res_pairs: list[list[int]]
    no_pair: dict[int, tuple[Stage, str]]  # lines without any eligible pair, and why
    fixed: list[tuple[Fixed, int | None, int | None]]
    bundles: dict[str, list[int]]
    groups: list[FairGroup] = field(default_factory=list)
    group_of: dict[int, int] = field(default_factory=dict)

    def open_lines(self) -> list[int]:
        return [i for i, n in enumerate(self.need) if n > 0]


def _unit_hash(a: str, b: str) -> float:
    """A stable pseudo-random number in [0, 1) for a pair (same on every run and machine)."""
    return zlib.crc32(f"{a}|{b}".encode()) / 2**32


def to_units(q: float) -> int:
    return max(0, round(q * QSCALE))


def worker_key(res: Resource) -> str:
    if res.kind != OfferKind.PEOPLE:
        return ""
    return res.worker_id or f"offer:{res.offer_id}"


def prepare(problem: Problem, config: SolverConfig) -> Prepared:
    """Index, scale and check every pair once."""
    lines = sorted(problem.lines, key=lambda x: x.line_id)
    res = sorted(problem.resources, key=lambda x: x.offer_id)
    li = {x.line_id: i for i, x in enumerate(lines)}
    ri = {x.offer_id: i for i, x in enumerate(res)}
    prio = [priority(x, problem.now, config) for x in lines]
    full = [1 if x.is_visit else max(1, to_units(x.quantity)) for x in lines]
    need = list(full)
    hours = [to_units(visit_hours(x, config)) if x.is_visit else 0 for x in lines]
    cap = [to_units(r.quantity) for r in res]
    worker = [worker_key(r) for r in res]

    # Accepted assignments stay: they reduce the need and count against caseload caps.
    caseload: dict[str, int] = {}
    for r in res:
        key = worker_key(r)
        if key:
            c = UNLIMITED if r.caseload_cap is None else r.caseload_cap
            caseload[key] = min(caseload.get(key, UNLIMITED), c)
    fixed: list[tuple[Fixed, int | None, int | None]] = []
    for f in sorted(problem.fixed, key=lambda f: (f.line_id, f.offer_id)):
        i, j = li.get(f.line_id), ri.get(f.offer_id)
        fixed.append((f, i, j))
        if i is not None:
            need[i] = 0 if lines[i].is_visit else max(0, need[i] - to_units(f.quantity))
        if j is not None and worker[j]:
            caseload[worker[j]] -= 1

    proposed: dict[tuple[str, str], float] = defaultdict(float)
    for prop in problem.proposed:
        proposed[(prop.line_id, prop.offer_id)] += prop.quantity
    w = config.weights
    pairs: list[Pair] = []
    line_pairs: list[list[int]] = [[] for _ in lines]
    res_pairs: list[list[int]] = [[] for _ in res]
    no_pair: dict[int, tuple[Stage, str]] = {}
    # Only offers of the right need type can pass the first stage: index them.
    by_type: dict[NeedType, list[int]] = defaultdict(list)
    for j, r in enumerate(res):
        for nt in dict.fromkeys(r.need_types):
            by_type[nt].append(j)
    # Check every pair of each need type at once (vector.stages), then score the eligible.
    checked: dict[int, tuple[np.ndarray, np.ndarray, int]] = {}  # line -> (stage, km) rows
    for nt, js in by_type.items():
        rows = [i for i, line in enumerate(lines) if need[i] > 0 and line.need_type == nt]
        if not rows:
            continue
        st, km = stages(
            nt,
            [lines[i] for i in rows],
            [res[j] for j in js],
            problem,
            config,
            [caseload.get(worker[j]) for j in js],
            [due_at(lines[i], problem.now, config) for i in rows],
        )
        for a, i in enumerate(rows):
            checked[i] = (st[a], km[a], a)
    for i, line in enumerate(lines):
        if need[i] <= 0:
            continue
        best: tuple[Stage, str] = (Stage.KIND, "no offer serves this need type")
        if i not in checked:
            no_pair[i] = best
            continue
        st_row, km_row, _ = checked[i]
        js = by_type[line.need_type]
        last = problem.last_worker.get(line.person_ref)
        prefix = zlib.crc32(f"{line.line_id}|".encode())
        worthless: dict[int, float] = {}
        for n in np.flatnonzero(st_row == Stage.ELIGIBLE).tolist():
            j = js[n]
            r = res[j]
            d = float(km_row[n])
            travel = 0.0 if r.kind == OfferKind.MONEY else w.travel_per_km * d
            cont = bool(last) and r.worker_id == last
            kept = proposed.get((line.line_id, r.offer_id), 0.0)
            points = prio[i].value - travel + (w.continuity if cont else 0.0)
            if not line.is_visit:
                points *= 1.0 - TIE_BREAK * zlib.crc32(r.offer_id.encode(), prefix) / 2**32
            coef = round(points * PSCALE / full[i])
            keep = (1 if line.is_visit else min(need[i], to_units(kept))) if kept else 0
            keep_bonus = round(w.churn * PSCALE / full[i]) if keep else 0
            if points <= 0 or coef <= 0:
                worthless[n] = d  # eligible, but travel eats more than the line is worth
                continue
            ub = 1 if line.is_visit else min(need[i], cap[j])
            pairs.append(Pair(i, j, d, ub, coef, cont, keep, keep_bonus))
            line_pairs[i].append(len(pairs) - 1)
            res_pairs[j].append(len(pairs) - 1)
        if not line_pairs[i]:
            # Why not: the furthest stage any offer reached (the first offer to reach it).
            due = due_at(line, problem.now, config)
            for n, sv in enumerate(st_row.tolist()):
                if sv != Stage.ELIGIBLE:
                    if sv > best[0]:
                        j = js[n]
                        chk = check_pair(
                            line, res[j], problem, config, caseload.get(worker[j]), due
                        )
                        best = (chk.stage, chk.detail)
                elif n in worthless and best[0] < Stage.RANGE:
                    best = (Stage.RANGE, f"{worthless[n]:.1f} km costs more than the line is worth")
            no_pair[i] = best

    bundles: dict[str, list[int]] = defaultdict(list)
    for i, line in enumerate(lines):
        if line.bundle and need[i] > 0:
            bundles[line.bundle].append(i)

    prep = Prepared(
        problem, config, lines, res, prio, full, need, hours, cap, worker, caseload,
        pairs, line_pairs, res_pairs, no_pair, fixed, dict(bundles),
    )  # fmt: skip
    return prep


def fair_groups(p: Prepared, lines: list[int], resources: list[int]) -> None:
    """Fair share of each community within one sub-problem: supply split by demand."""
    bonus_pts = p.config.weights.fairness
    if bonus_pts <= 0 or not lines:
        return
    members: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i in lines:
        line = p.lines[i]
        unit = "visit" if line.is_visit else line.unit.lower()
        members[(line.community, unit)].append(i)
    supply: dict[str, float] = defaultdict(float)
    counted: set[str] = set()
    for j in resources:
        r = p.res[j]
        if r.kind == OfferKind.PEOPLE:
            # A worker's supply in visits: caseload left, counted once per worker.
            if p.worker[j] not in counted:
                counted.add(p.worker[j])
                supply["visit"] += min(p.caseload[p.worker[j]], len(p.res_pairs[j]))
        else:
            supply[r.unit.lower()] += p.cap[j]
    demand: dict[str, int] = defaultdict(int)
    for (_, unit), ls in members.items():
        demand[unit] += sum(p.need[i] for i in ls)
    for key in sorted(members):
        ls = members[key]
        unit = key[1]
        d = sum(p.need[i] for i in ls)
        share = int(min(d, supply[unit] * d / max(1, demand[unit])))
        mean_full = sum(p.full[i] for i in ls) / len(ls)
        bonus = round(bonus_pts * PSCALE / mean_full)
        if share <= 0 or bonus <= 0:
            continue
        p.groups.append(FairGroup(key, tuple(ls), share, bonus))
        for i in ls:
            p.group_of[i] = len(p.groups) - 1
