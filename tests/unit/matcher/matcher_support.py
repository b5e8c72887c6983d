"""Builders for the matcher unit tests: tiny hand-solvable instances (synthetic ids only)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from fivelink_matcher.domain.model import Line, Problem, Resource, Solution
from fivelink_shared.events import GeoPoint, Language, NeedType, OfferKind, Urgency

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
COUNTY = "150105"
VISIT_TYPES = (
    NeedType.HOME_CARE_VISIT,
    NeedType.PSYCHOLOGICAL_SUPPORT,
    NeedType.VERIFICATION_VISIT,
)


def at(km_north: float) -> GeoPoint:
    """A point `km_north` km north of a fixed origin (1 degree of latitude ~ 111.2 km)."""
    return GeoPoint(lat=40.8 + km_north / 111.195, lon=111.7)


def line(line_id: str, **kw: Any) -> Line:
    """A food line of 10 kg, normal urgency, opened a day ago, at the origin."""
    base: dict[str, Any] = {
        "line_id": line_id,
        "case_id": f"c-{line_id}",
        "person_ref": f"p-{line_id}",
        "county": COUNTY,
        "community": "150105001001",
        "need_type": NeedType.FOOD,
        "quantity": 10.0,
        "unit": "kg",
        "urgency": Urgency.NORMAL,
        "opened_at": NOW - timedelta(days=1),
        "location": at(0),
    }
    return Line(**(base | kw))


def money_line(line_id: str, amount: float = 500.0, **kw: Any) -> Line:
    base: dict[str, Any] = {"need_type": NeedType.LIVING_AID, "quantity": amount, "unit": "CNY"}
    return line(line_id, **(base | kw))


def visit(line_id: str, **kw: Any) -> Line:
    """A home-care visit line: one visit, served whole by one worker."""
    return line(line_id, need_type=NeedType.HOME_CARE_VISIT, quantity=1.0, unit="visit", **kw)


def goods(offer_id: str, quantity: float = 10.0, **kw: Any) -> Resource:
    base: dict[str, Any] = {
        "offer_id": offer_id,
        "org_id": f"org-{offer_id}",
        "county": COUNTY,
        "community": "150105001001",
        "kind": OfferKind.GOODS,
        "need_types": (NeedType.FOOD,),
        "quantity": quantity,
        "unit": "kg",
        "location": at(0),
    }
    return Resource(**(base | kw))


def money(offer_id: str, quantity: float = 1000.0, **kw: Any) -> Resource:
    base: dict[str, Any] = {
        "kind": OfferKind.MONEY,
        "need_types": (NeedType.LIVING_AID, NeedType.MEDICAL_AID),
        "unit": "CNY",
        "location": None,
    }
    return goods(offer_id, quantity, **(base | kw))


def worker(offer_id: str, hours: float = 20.0, **kw: Any) -> Resource:
    base: dict[str, Any] = {
        "kind": OfferKind.PEOPLE,
        "need_types": VISIT_TYPES,
        "unit": "hour",
        "worker_id": f"sw-{offer_id}",
        "languages": (Language.ZH,),
    }
    return goods(offer_id, hours, **(base | kw))


def problem(lines: list[Line], resources: list[Resource], **kw: Any) -> Problem:
    return Problem(COUNTY, NOW, tuple(lines), tuple(resources), **kw)


def given(sol: Solution) -> dict[str, dict[str, float]]:
    """line_id -> offer_id -> quantity."""
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for a in sol.assignments:
        out[a.line_id][a.offer_id] = round(a.quantity, 6)
    return dict(out)


def total(sol: Solution, line_id: str) -> float:
    return round(sum(given(sol).get(line_id, {}).values()), 6)


def reasons(sol: Solution) -> dict[str, str]:
    return {u.line_id: u.reason for u in sol.unmet}
