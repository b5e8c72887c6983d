"""The eligibility stages of eligibility.check_pair for every (line, offer) of one need type
at once, as numpy arrays: the same stages, in the same order, with the same distances (each
distinct pair of locations goes through the same cached haversine), so the result is the
same as checking the pairs one by one, only faster."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from fivelink_shared.events import Category, Language, NeedType, OfferKind

from .eligibility import Stage, _cached_km, visit_hours
from .model import Line, Problem, Resource, SolverConfig

_CAT = {c: 1 << n for n, c in enumerate(Category)}
_LANG = {x: 1 << n for n, x in enumerate(Language)}

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
T = TypeVar("T")


def _bits(items: tuple[T, ...], code: Mapping[T, int]) -> int:
    out = 0
    for x in items:
        out |= code[x]
    return out


def _mask(values: list[int]) -> npt.NDArray[np.int64] | npt.NDArray[np.object_]:
    """Bit masks as int64 when they fit, else as Python ints (object array)."""
    if all(v < (1 << 62) for v in values):
        return np.asarray(values, dtype=np.int64)
    return np.asarray(values, dtype=object)


def stages(
    need_type: NeedType,
    lines: list[Line],
    res: list[Resource],
    problem: Problem,
    config: SolverConfig,
    caseload_left: list[int | None],
    due: list[datetime],
) -> tuple[npt.NDArray[np.int8], FloatArray]:
    """(stage, km) of every pair: rows are `lines`, columns `res` (all serve `need_type`)."""
    n, m = len(lines), len(res)
    visit = np.fromiter((x.is_visit for x in lines), dtype=np.bool_, count=n)
    people = np.fromiter((r.kind == OfferKind.PEOPLE for r in res), dtype=np.bool_, count=m)
    money = np.fromiter((r.kind == OfferKind.MONEY for r in res), dtype=np.bool_, count=m)
    codes: dict[str, int] = {}

    def code(s: str) -> int:
        return codes.setdefault(s, len(codes))

    # Kind: visit lines take people, other lines an offer in the same unit.
    fail_kind = visit[:, None] != people[None, :]
    lu = np.fromiter((code(x.unit.lower()) for x in lines), dtype=np.int64, count=n)
    ru = np.fromiter((code(r.unit.lower()) for r in res), dtype=np.int64, count=m)
    fail_kind |= ~visit[:, None] & (lu[:, None] != ru[None, :])

    # Earmarks: categories, need types, counties, communities.
    lc = np.fromiter((_bits(x.categories, _CAT) for x in lines), dtype=np.int64, count=n)
    rc = np.fromiter((_bits(r.earmarks.categories, _CAT) for r in res), dtype=np.int64, count=m)
    fail_em = (rc != 0)[None, :] & ((lc[:, None] & rc[None, :]) == 0)
    nt_col = [bool(r.earmarks.need_types) and need_type not in r.earmarks.need_types for r in res]
    fail_em |= np.asarray(nt_col, dtype=np.bool_)[None, :]
    county = np.fromiter((code("county:" + x.county) for x in lines), dtype=np.int64, count=n)
    comm = np.fromiter((code("comm:" + x.community) for x in lines), dtype=np.int64, count=n)
    for j, r in enumerate(res):
        em = r.earmarks
        if em.counties:
            ok = np.isin(county, [code("county:" + c) for c in em.counties])
            fail_em[:, j] |= ~ok
        if em.communities:
            ok = np.isin(comm, [code("comm:" + c) for c in em.communities])
            fail_em[:, j] |= ~ok

    # Languages and skills: a worker must have every one the line asks for.
    skill_code: dict[object, int] = {}
    for x in lines:
        for s in x.skills:
            skill_code.setdefault(s, 1 << len(skill_code))
    ll = _mask([_bits(x.languages, _LANG) for x in lines])
    rl = _mask([_bits(r.languages, _LANG) for r in res])
    ls = _mask([_bits(x.skills, skill_code) for x in lines])
    rs = _mask([sum(skill_code.get(s, 0) for s in set(r.skills)) for r in res])
    fail_lang = people[None, :] & (
        ((ll[:, None] & ~rl[None, :]) != 0) | ((ls[:, None] & ~rs[None, :]) != 0)
    )

    # Expiry: still valid when the line falls due.
    until = np.asarray(
        [np.inf if r.valid_until is None else r.valid_until.timestamp() for r in res]
    )
    due_ts = np.asarray([d.timestamp() for d in due])
    fail_exp = until[None, :] < due_ts[:, None]

    # Range: distances between community points (each distinct pair once), radius.
    km = np.zeros((n, m))
    lpt = [(x.location.lat, x.location.lon) if x.location else None for x in lines]
    rpt = [(r.location.lat, r.location.lon) if r.location else None for r in res]
    lkey = {pt: k for k, pt in enumerate(dict.fromkeys(lpt))}
    rkey = {pt: k for k, pt in enumerate(dict.fromkeys(rpt))}
    table = np.zeros((len(lkey), len(rkey)))
    for a, k in lkey.items():
        for b, h in rkey.items():
            if a is not None and b is not None:
                table[k, h] = _cached_km(a[0], a[1], b[0], b[1])
    li = np.fromiter((lkey[pt] for pt in lpt), dtype=np.int64, count=n)
    rj = np.fromiter((rkey[pt] for pt in rpt), dtype=np.int64, count=m)
    km = table[li][:, rj]
    lnone = np.fromiter((pt is None for pt in lpt), dtype=np.bool_, count=n)
    rnone = np.fromiter((pt is None for pt in rpt), dtype=np.bool_, count=m)
    rcomm = np.fromiter((code("comm:" + r.community) for r in res), dtype=np.int64, count=m)
    lcomm_set = np.fromiter((bool(x.community) for x in lines), dtype=np.bool_, count=n)
    unknown = lnone[:, None] | rnone[None, :]
    same = lcomm_set[:, None] & (comm[:, None] == rcomm[None, :])
    km = np.where(unknown, np.where(same, 0.0, config.unknown_distance_km), km)
    km[:, money] = 0.0
    radius = np.asarray(
        [np.inf if r.delivery_radius_km is None else r.delivery_radius_km for r in res]
    )
    fail_range = km > radius[None, :]

    # Stock: anything left; a worker has a case and the hours left for this visit.
    qty = np.asarray([r.quantity for r in res])
    case = np.asarray([1 if c is None else c for c in caseload_left])
    fail_stock = np.broadcast_to((qty <= 0)[None, :], (n, m)).copy()
    fail_stock |= (people & (case <= 0))[None, :]
    hours = np.asarray([visit_hours(x, config) for x in lines])
    fail_stock |= people[None, :] & (hours[:, None] > qty[None, :] + 1e-9)

    # The first stage that fails names the pair's stage: apply them last to first.
    stage = np.full((n, m), Stage.ELIGIBLE, dtype=np.int8)
    for st, fail in (
        (Stage.STOCK, fail_stock),
        (Stage.RANGE, fail_range),
        (Stage.EXPIRY, fail_exp),
        (Stage.LANGUAGE_SKILL, fail_lang),
        (Stage.EARMARK, fail_em),
        (Stage.KIND, fail_kind),
    ):
        stage[fail] = st
    if problem.excluded_pairs:
        lpos = {x.line_id: a for a, x in enumerate(lines)}
        rpos = {r.offer_id: b for b, r in enumerate(res)}
        for line_id, offer_id in problem.excluded_pairs:
            if line_id in lpos and offer_id in rpos:
                stage[lpos[line_id], rpos[offer_id]] = Stage.KIND
    return stage, km
