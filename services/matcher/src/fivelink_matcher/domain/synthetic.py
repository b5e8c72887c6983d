"""Seeded random county instances for tests, benchmarks and demos (synthetic ids only)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta

from fivelink_shared.events import (
    Category,
    Earmarks,
    GeoPoint,
    Language,
    NeedType,
    OfferKind,
    Urgency,
)

from .model import Line, Problem, Resource

COUNTY = "150105"
CENTRE = (40.84, 111.75)
MONEY_TYPES = (NeedType.LIVING_AID, NeedType.MEDICAL_AID, NeedType.EDUCATION_AID)
VISIT_TYPES: dict[NeedType, str] = {
    NeedType.HOME_CARE_VISIT: "care",
    NeedType.PSYCHOLOGICAL_SUPPORT: "counselling",
    NeedType.VERIFICATION_VISIT: "",
    NeedType.LEGAL_AID: "legal",
}


def _point(rng: random.Random, centre: tuple[float, float], km: float) -> GeoPoint:
    lat = centre[0] + rng.uniform(-km, km) / 111.0
    lon = centre[1] + rng.uniform(-km, km) / 84.0
    return GeoPoint(lat=round(lat, 5), lon=round(lon, 5))


def county_instance(
    n_lines: int,
    seed: int,
    now: datetime,
    supply_ratio: float = 0.7,
    *,
    n_resources: int | None = None,
    n_workers: int | None = None,
    visit_share: float | None = None,
    bundle_share: float = 0.1,
    county: str = COUNTY,
    caseload_caps: tuple[int, ...] = (3, 4, 5, 6, 8),
) -> Problem:
    """About `n_lines` need lines (money, goods, visits) and resources for ~`supply_ratio`.

    By default about 35 % money lines, 25 % goods, 40 % visits (`visit_share` changes the
    visits' share, money and goods keep their ratio), 10 % of multi-line cases bundled, one
    fund per 25 lines, one stock per 30 and a worker per 5 visits' worth of supply. With
    `n_resources` (and `n_workers`) the same money and goods supply is split over that many
    offers (funds to stocks 6:5), and there are `n_workers` workers, each with 8-20 hours.
    """
    rng = random.Random(seed)
    if visit_share is None:
        money_cut, goods_cut = 0.35, 0.6
    else:
        money_cut, goods_cut = 0.35 / 0.6 * (1 - visit_share), 1 - visit_share
    n_comm = max(4, n_lines // 40)
    comms = [f"{COUNTY}{t:03d}{c:03d}" for t in range(1, 4) for c in range(1, n_comm // 3 + 2)]
    comms = comms[:n_comm]
    where = {c: _point(rng, CENTRE, 30.0) for c in comms}
    lines: list[Line] = []
    case_no = 0
    while len(lines) < n_lines:
        case_no += 1
        comm = rng.choice(comms)
        person = f"p-{seed}-{case_no}"
        cats = tuple(rng.sample(list(Category), rng.choice((0, 1, 1, 2))))
        lang = rng.choices([Language.ZH, Language.MN, Language.EN], [80, 18, 2])[0]
        opened = now - timedelta(days=rng.uniform(0, 20))
        k = rng.choice((1, 1, 2, 3))
        bundle = f"b-{case_no}" if k > 1 and rng.random() < bundle_share else None
        for n in range(k):
            roll = rng.random()
            urgency = rng.choices(list(Urgency), [5, 25, 70])[0]
            deadline = now + timedelta(days=rng.uniform(1, 30)) if rng.random() < 0.5 else None
            skills: tuple[str, ...] = ()
            langs: tuple[Language, ...] = ()
            if roll < money_cut:
                nt, qty, unit = (
                    rng.choice(MONEY_TYPES),
                    float(rng.choice((300, 500, 800, 2000))),
                    "CNY",
                )
            elif roll < goods_cut:
                nt, qty, unit = NeedType.FOOD, float(rng.choice((5, 10, 20))), "kg"
            else:
                nt = rng.choice(list(VISIT_TYPES))
                qty, unit = 1.0, "visit"
                skill = VISIT_TYPES[nt]
                skills = (skill,) if skill and rng.random() < 0.7 else ()
                langs = (lang,) if lang != Language.ZH and rng.random() < 0.7 else ()
            lines.append(
                Line(
                    line_id=f"l-{seed}-{case_no}-{n}",
                    case_id=f"c-{seed}-{case_no}",
                    person_ref=person,
                    county=COUNTY,
                    community=comm,
                    need_type=nt,
                    quantity=qty,
                    unit=unit,
                    urgency=urgency,
                    opened_at=opened,
                    categories=cats,
                    language=lang,
                    deadline=deadline,
                    skills=skills,
                    languages=langs,
                    bundle=bundle,
                    location=where[comm],
                )
            )
    lines = lines[:n_lines]
    sizes = (n_resources, n_workers, caseload_caps)
    res = _resources(rng, lines, comms, where, now, seed, supply_ratio, sizes)
    if county != COUNTY:
        lines = [replace(x, county=county) for x in lines]
        res = [replace(r, county=county) for r in res]
    return Problem(county, now, tuple(lines), tuple(res))


def _resources(
    rng: random.Random,
    lines: list[Line],
    comms: list[str],
    where: dict[str, GeoPoint],
    now: datetime,
    seed: int,
    ratio: float,
    sizes: tuple[int | None, int | None, tuple[int, ...]],
) -> list[Resource]:
    n_res, n_work, caps = sizes
    out: list[Resource] = []
    money = sum(x.quantity for x in lines if x.unit == "CNY")
    food = sum(x.quantity for x in lines if x.unit == "kg")
    visits = sum(1 for x in lines if x.is_visit)
    n_funds = max(2, len(lines) // 25)
    n_stocks = max(2, len(lines) // 30)
    n_workers = max(2, int(visits * ratio / 5)) if n_work is None else n_work
    if n_res is not None:
        transport = max(4, n_res - n_workers)
        n_funds = max(2, round(transport * 6 / 11))
        n_stocks = max(2, transport - n_funds)
    for f in range(n_funds):
        em = Earmarks()
        r = rng.random()
        if r < 0.3:
            em = Earmarks(categories=tuple(rng.sample(list(Category), 3)))
        elif r < 0.5:
            em = Earmarks(communities=tuple(rng.sample(comms, max(1, len(comms) // 3))))
        elif r < 0.7:
            em = Earmarks(need_types=(rng.choice(MONEY_TYPES),))
        out.append(
            Resource(
                offer_id=f"f-{seed}-{f}",
                org_id=f"org-{seed}-{f % 7}",
                county=COUNTY,
                community=rng.choice(comms),
                kind=OfferKind.MONEY,
                need_types=MONEY_TYPES,
                quantity=round(money * ratio / n_funds * rng.uniform(0.5, 1.5)),
                unit="CNY",
                valid_until=now + timedelta(days=rng.uniform(5, 90)),
                earmarks=em,
            )
        )
    for g in range(n_stocks):
        c = rng.choice(comms)
        out.append(
            Resource(
                offer_id=f"g-{seed}-{g}",
                org_id=f"org-{seed}-{g % 5}",
                county=COUNTY,
                community=c,
                kind=OfferKind.GOODS,
                need_types=(NeedType.FOOD,),
                quantity=round(food * ratio / n_stocks * rng.uniform(0.5, 1.5)),
                unit="kg",
                valid_until=now + timedelta(days=rng.uniform(0.5, 40)),
                delivery_radius_km=rng.uniform(15, 40),
                location=where[c],
            )
        )
    for w in range(n_workers):
        c = rng.choice(comms)
        skills = tuple(s for s in ("care", "counselling", "legal") if rng.random() < 0.5)
        langs = (Language.ZH, Language.MN) if rng.random() < 0.35 else (Language.ZH,)
        out.append(
            Resource(
                offer_id=f"w-{seed}-{w}",
                org_id=f"org-{seed}-{w % 6}",
                county=COUNTY,
                community=c,
                kind=OfferKind.PEOPLE,
                need_types=tuple(VISIT_TYPES),
                quantity=float(rng.choice((8, 12, 16, 20))),
                unit="hour",
                valid_until=now + timedelta(days=rng.uniform(10, 60)),
                delivery_radius_km=rng.uniform(15, 35),
                worker_id=f"sw-{seed}-{w}",
                skills=skills,
                languages=langs,
                caseload_cap=rng.choice(caps),
                location=where[c],
            )
        )
    return out
