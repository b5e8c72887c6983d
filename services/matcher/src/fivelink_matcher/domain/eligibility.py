"""Hard eligibility of a (line, resource) pair, checked in a fixed order of stages.

The stage at which a pair fails names the reason a line went without that resource; the
furthest stage any resource reached names why the line has no eligible resource at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum
from functools import lru_cache

from fivelink_shared.events import OfferKind

from .geo import haversine
from .model import Line, Problem, Resource, SolverConfig, UnmetReason


class Stage(IntEnum):
    """Checks in the order they are applied; a pair passing all of them is eligible."""

    KIND = 0  # need type, offer kind (visit lines need people), unit, declined before
    EARMARK = 1  # donor earmarks: category, need type, county, community
    LANGUAGE_SKILL = 2  # worker languages and skills
    EXPIRY = 3  # resource still valid when the line falls due
    RANGE = 4  # delivery radius
    STOCK = 5  # any stock, hours or caseload left at all
    ELIGIBLE = 6


STAGE_REASON: dict[Stage, UnmetReason] = {
    Stage.KIND: "no_eligible_resource",
    Stage.EARMARK: "no_eligible_resource",
    Stage.LANGUAGE_SKILL: "language_or_skill",
    Stage.EXPIRY: "expired_before_deadline",
    Stage.RANGE: "out_of_range",
    Stage.STOCK: "out_of_stock",
}


@dataclass(frozen=True, slots=True)
class Check:
    """Result of checking one pair: how far it got, what stopped it, and the distance."""

    stage: Stage
    detail: str
    km: float


def distance_km(line: Line, res: Resource, config: SolverConfig) -> float:
    """Travel distance; money moves without travel, unknown places get a default."""
    if res.kind == OfferKind.MONEY:
        return 0.0
    if line.location is not None and res.location is not None:
        return _cached_km(line.location.lat, line.location.lon, res.location.lat, res.location.lon)
    if line.community and line.community == res.community:
        return 0.0
    return config.unknown_distance_km


@lru_cache(maxsize=1 << 16)
def _cached_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Locations are community centres, so the same pairs of points recur: cache them."""
    return haversine(lat1, lon1, lat2, lon2)


def visit_hours(line: Line, config: SolverConfig) -> float:
    """Worker hours a visit line takes."""
    if line.unit.lower() in ("hour", "hours"):
        return line.quantity
    return line.quantity * config.hours_per_visit


def due_at(line: Line, now: datetime, config: SolverConfig) -> datetime:
    """Until when a resource must stay valid for this line."""
    return max(line.deadline or now + timedelta(hours=config.min_shelf_hours), now)


def check_pair(
    line: Line,
    res: Resource,
    problem: Problem,
    config: SolverConfig,
    caseload_left: int | None,
    due: datetime | None = None,
) -> Check:
    """Apply the stages in order and stop at the first that fails."""
    # Kind: the offer serves this need type, visit lines take people, others the same unit.
    if line.need_type not in res.need_types:
        return Check(Stage.KIND, f"offer does not serve {line.need_type.value}", 0.0)
    if line.is_visit != (res.kind == OfferKind.PEOPLE):
        return Check(Stage.KIND, "offer kind does not fit the line", 0.0)
    if not line.is_visit and res.unit.lower() != line.unit.lower():
        return Check(Stage.KIND, f"unit {res.unit} is not {line.unit}", 0.0)
    if (line.line_id, res.offer_id) in problem.excluded_pairs:
        return Check(Stage.KIND, "declined before", 0.0)
    # Earmarks: every restriction the donor set must hold.
    em = res.earmarks
    if em.categories and not any(c in em.categories for c in line.categories):
        return Check(Stage.EARMARK, "earmark:category", 0.0)
    if em.need_types and line.need_type not in em.need_types:
        return Check(Stage.EARMARK, "earmark:need_type", 0.0)
    if em.counties and line.county not in em.counties:
        return Check(Stage.EARMARK, "earmark:county", 0.0)
    if em.communities and line.community not in em.communities:
        return Check(Stage.EARMARK, "earmark:community", 0.0)
    # Language and skills: a worker must speak every language and have every skill needed.
    if res.kind == OfferKind.PEOPLE:
        if line.languages and not all(x in res.languages for x in line.languages):
            return Check(Stage.LANGUAGE_SKILL, "language", 0.0)
        if line.skills and not all(x in res.skills for x in line.skills):
            return Check(Stage.LANGUAGE_SKILL, "skill", 0.0)
    # Expiry: the resource must still be valid at the line's deadline.
    if res.valid_until is not None and res.valid_until < (due or due_at(line, problem.now, config)):
        return Check(Stage.EXPIRY, "expires before the deadline", 0.0)
    # Range: within the offer's delivery (or travel) radius.
    km = distance_km(line, res, config)
    if res.delivery_radius_km is not None and km > res.delivery_radius_km:
        return Check(Stage.RANGE, f"{km:.1f} km > radius {res.delivery_radius_km:g} km", km)
    # Stock: something left at all (hours for this visit, one more case for the worker).
    if res.quantity <= 0:
        return Check(Stage.STOCK, "no stock left", km)
    if res.kind == OfferKind.PEOPLE:
        if caseload_left is not None and caseload_left <= 0:
            return Check(Stage.STOCK, "caseload cap reached", km)
        if visit_hours(line, config) > res.quantity + 1e-9:
            return Check(Stage.STOCK, "not enough worker hours", km)
    return Check(Stage.ELIGIBLE, "", km)
