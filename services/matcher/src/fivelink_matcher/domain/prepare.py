"""Turn a `Problem` into indexed, integer-scaled data every solver shares.

Scaling: quantities are counted in units of 1/QSCALE (cents, 10 g, 0.01 h); score points are
counted in units of 1/PSCALE. A pair's coefficient is its score per unit of quantity for money
and goods lines, and per assignment for visit lines (one worker serves the line whole).
"""

from __future__ import annotations

import itertools
import zlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from fivelink_shared.events import NeedType, OfferKind

from .eligibility import Stage, check_pair, due_at, visit_hours
from .model import Fixed, Line, Problem, Resource, SolverConfig
from .priority import Priority, priority
from .vector import stages

QSCALE = 100
PSCALE = 10_000_000_000
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
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


#: The columns of `PairTable`, in `Pair`'s field order.
PAIR_COLUMNS = ("line", "res", "km", "ub", "coef", "continuity", "keep", "keep_bonus")


class PairTable:
    """The eligible pairs as columns; a `Pair` object is built the first time it is read.

    A county has a few hundred thousand pairs, the solvers read the columns (`column`,
    `Prepared.pair_arrays`), and the rest of a solve reads few pairs one by one: building
    them all up front was a third of a flow solve's time.
    """

    __slots__ = ("_arrays", "_cols", "_memo")

    def __init__(self, arrays: dict[str, npt.NDArray[Any]]) -> None:
        n = len(arrays["line"])
        self._arrays = {name: np.asarray(arrays[name]) for name in PAIR_COLUMNS}
        self._cols = [self._arrays[name].tolist() for name in PAIR_COLUMNS]
        self._memo: list[Pair | None] = [None] * n

    def __len__(self) -> int:
        return len(self._memo)

    def __getitem__(self, k: int) -> Pair:
        pr = self._memo[k]
        if pr is None:
            pr = self._memo[k] = Pair(*(col[k] for col in self._cols))
        return pr

    def __iter__(self) -> Iterator[Pair]:
        return (self[k] for k in range(len(self)))

    def column(self, name: str) -> npt.NDArray[Any]:
        """One field of every pair as an array (see `PAIR_COLUMNS`)."""
        return self._arrays[name]


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
    pairs: PairTable
    line_pairs: list[range]  # pairs are sorted by line: each line's are a run of indices
    res_pairs: list[list[int]]
    no_pair: dict[int, tuple[Stage, str]]  # lines without any eligible pair, and why
    fixed: list[tuple[Fixed, int | None, int | None]]
    bundles: dict[str, list[int]]
    #: for each resource, the first money offer with the same eligible lines (itself when
    #: there is none, and for goods and people): offers with one lead are interchangeable
    money_lead: IntArray
    groups: list[FairGroup] = field(default_factory=list)
    group_of: dict[int, int] = field(default_factory=dict)
    _arrays: dict[str, npt.NDArray[np.int64]] = field(default_factory=dict)

    def open_lines(self) -> list[int]:
        return [i for i, n in enumerate(self.need) if n > 0]

    def pairs_of(self, lines: list[int]) -> npt.NDArray[np.int64]:
        """Indices of every pair of `lines`, line by line (each line's run in order)."""
        runs = [self.line_pairs[i] for i in lines]
        starts = np.fromiter((r.start for r in runs), dtype=np.int64, count=len(runs))
        lens = np.fromiter((len(r) for r in runs), dtype=np.int64, count=len(runs))
        offsets = np.cumsum(lens) - lens
        keys: npt.NDArray[np.int64] = np.arange(int(lens.sum()), dtype=np.int64)
        keys += np.repeat(starts - offsets, lens)
        return keys

    def pair_arrays(self) -> dict[str, npt.NDArray[np.int64]]:
        """The pairs' integer fields as int64 arrays (line, res, ub, coef, keep, keep_bonus,
        best_unit: the score of a pair's first unit)."""
        if not self._arrays:
            for name in ("line", "res", "ub", "coef", "keep", "keep_bonus"):
                self._arrays[name] = self.pairs.column(name).astype(np.int64)
            a = self._arrays
            a["best_unit"] = a["coef"] + np.where(a["keep"] > 0, a["keep_bonus"], 0)
        return self._arrays


def _money_leads(money: npt.NDArray[np.bool_], pi: IntArray, pj: IntArray) -> IntArray:
    """For each resource, the first money offer with the same eligible lines (itself if none
    or not money). `pi`, `pj`: the eligible pairs, in line order."""
    lead: IntArray = np.arange(len(money), dtype=np.int64)
    of_money = money[pj]
    if not of_money.any():
        return lead
    order = np.argsort(pj[of_money], kind="stable")  # by offer; lines stay in order
    mj, mi = pj[of_money][order], pi[of_money][order]
    offers, starts = np.unique(mj, return_index=True)
    first: dict[bytes, int] = {}
    for j, run in zip(offers.tolist(), np.split(mi, starts[1:]), strict=True):
        lead[j] = first.setdefault(run.tobytes(), j)
    return lead


def _pair_hash(line_ids: list[str], offer_ids: list[str], i: IntArray, j: IntArray) -> FloatArray:
    """A stable pseudo-random number in [0, 1) for each pair (i[k], j[k]): the same on every
    run and machine. Each id is hashed once (CRC-32); a pair's two hashes are mixed with
    SplitMix64's finaliser, in numpy, so that there is no Python work per pair."""
    a = np.asarray([zlib.crc32(x.encode()) for x in line_ids], dtype=np.uint64)
    b = np.asarray([zlib.crc32(x.encode()) for x in offer_ids], dtype=np.uint64)
    z = (a[i] << np.uint64(32)) | b[j]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    out: FloatArray = (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return out


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
    no_pair: dict[int, tuple[Stage, str]] = {}
    # Only offers of the right need type can pass the first stage: index them.
    by_type: dict[NeedType, list[int]] = defaultdict(list)
    for j, r in enumerate(res):
        for nt in dict.fromkeys(r.need_types):
            by_type[nt].append(j)
    # Check every pair of each need type at once (vector.stages), then score the eligible
    # pairs as arrays too. Pairs come out in line order, offers in `by_type` order.
    checked: dict[int, tuple[Any, Any, list[int]]] = {}  # line -> stage and km rows, offers
    found: list[tuple[Any, ...]] = []
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
            checked[i] = (st[a], km[a], js)
        ra, cb = np.nonzero(st == Stage.ELIGIBLE)
        found.append((np.asarray(rows)[ra], np.asarray(js)[cb], km[ra, cb], cb))
    if found:
        pi = np.concatenate([f[0] for f in found]).astype(np.int64)
        pj = np.concatenate([f[1] for f in found]).astype(np.int64)
        pkm = np.concatenate([f[2] for f in found]).astype(np.float64)
        pcol = np.concatenate([f[3] for f in found]).astype(np.int64)
        order = np.lexsort((pcol, pi))  # by line, then by the offer's place in by_type
        pi, pj, pkm = pi[order], pj[order], pkm[order]
    else:
        pi = pj = np.zeros(0, dtype=np.int64)
        pkm = np.zeros(0)
    money = np.asarray([r.kind == OfferKind.MONEY for r in res], dtype=np.bool_)
    visit = np.asarray([x.is_visit for x in lines], dtype=np.bool_)
    value = np.asarray([q.value for q in prio])
    full_a = np.asarray(full, dtype=np.float64)
    need_a = np.asarray(need, dtype=np.int64)
    cap_a = np.asarray(cap, dtype=np.int64)
    wcode = {wid: n + 1 for n, wid in enumerate(sorted({r.worker_id for r in res if r.worker_id}))}
    rw = np.asarray([wcode.get(r.worker_id or "", 0) for r in res], dtype=np.int64)
    lw = np.asarray([wcode.get(problem.last_worker.get(x.person_ref) or "", -1) for x in lines])
    travel = np.where(money[pj], 0.0, w.travel_per_km * pkm)
    cont = lw[pi] == rw[pj]
    points = value[pi] - travel + np.where(cont, w.continuity, 0.0)
    goods_pair = ~visit[pi]
    # Money offers with the same eligible lines score the same on each (money does not
    # travel): they share the first one's tie-break, so that the flow can pool them.
    lead = _money_leads(money, pi, pj)
    if goods_pair.any():
        h = _pair_hash(
            [x.line_id for x in lines],
            [r.offer_id for r in res],
            pi[goods_pair],
            lead[pj[goods_pair]],
        )
        points[goods_pair] *= 1.0 - TIE_BREAK * h
    coef = np.rint(points * PSCALE / full_a[pi])
    keep = np.zeros(len(pi), dtype=np.int64)
    keep_bonus = np.zeros(len(pi), dtype=np.int64)
    if proposed:
        li = {x.line_id: i for i, x in enumerate(lines)}
        code = pi * len(res) + pj
        sorter = np.argsort(code)
        for (line_id, offer_id), q in proposed.items():
            i, j = li.get(line_id), ri.get(offer_id)
            if i is None or j is None or not q:
                continue
            at = int(np.searchsorted(code, i * len(res) + j, sorter=sorter))
            if at < len(code) and code[sorter[at]] == i * len(res) + j:
                k = int(sorter[at])
                keep[k] = 1 if lines[i].is_visit else min(need[i], to_units(q))
                if keep[k]:
                    keep_bonus[k] = round(w.churn * PSCALE / full[i])
    good = (points > 0) & (coef > 0)
    ub = np.where(visit[pi], 1, np.minimum(need_a[pi], cap_a[pj]))
    sel = np.flatnonzero(good)
    pairs = PairTable(
        {
            "line": pi[sel],
            "res": pj[sel],
            "km": pkm[sel],
            "ub": ub[sel].astype(np.int64),
            "coef": coef[sel].astype(np.int64),
            "continuity": cont[sel],
            "keep": keep[sel],
            "keep_bonus": keep_bonus[sel],
        }
    )
    # Pairs are in line order: a line's pairs are one run; a resource's, in line order.
    starts = np.searchsorted(pi[sel], np.arange(len(lines) + 1)).tolist()
    line_pairs = [range(a, b) for a, b in itertools.pairwise(starts)]
    by_res = np.argsort(pj[sel], kind="stable")
    cuts = np.searchsorted(pj[sel][by_res], np.arange(len(res) + 1)).tolist()
    res_order = by_res.tolist()
    res_pairs = [res_order[a:b] for a, b in itertools.pairwise(cuts)]
    # Eligible, but travel eats more than serving the line is worth: km per (line, offer).
    worthless: dict[int, dict[int, float]] = defaultdict(dict)
    for k in np.flatnonzero(~good).tolist():
        worthless[int(pi[k])][int(pj[k])] = float(pkm[k])
    for i, line in enumerate(lines):
        if need[i] <= 0 or line_pairs[i]:
            continue
        best: tuple[Stage, str] = (Stage.KIND, "no offer serves this need type")
        if i in checked:
            # Why not: the furthest stage any offer reached (the first offer to reach it).
            st_row, _, js = checked[i]
            due = due_at(line, problem.now, config)
            bad = worthless.get(i, {})
            for n, sv in enumerate(st_row.tolist()):
                j = js[n]
                if sv != Stage.ELIGIBLE:
                    if sv > best[0]:
                        chk = check_pair(
                            line, res[j], problem, config, caseload.get(worker[j]), due
                        )
                        best = (chk.stage, chk.detail)
                elif j in bad and best[0] < Stage.RANGE:
                    best = (Stage.RANGE, f"{bad[j]:.1f} km costs more than the line is worth")
        no_pair[i] = best

    bundles: dict[str, list[int]] = defaultdict(list)
    for i, line in enumerate(lines):
        if line.bundle and need[i] > 0:
            bundles[line.bundle].append(i)

    prep = Prepared(
        problem, config, lines, res, prio, full, need, hours, cap, worker, caseload,
        pairs, line_pairs, res_pairs, no_pair, fixed, dict(bundles), lead,
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
