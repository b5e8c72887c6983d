"""Builds the solver's ``Problem`` from the matcher's stored documents (event snapshots)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from fivelink_matcher.adapters.store import FIXED
from fivelink_matcher.domain.model import Fixed, Line, Problem, Proposed, Resource
from fivelink_shared.events import NeedOpened, OfferPublished
from fivelink_shared.mongo import Document


def lines_of(need: NeedOpened, closed_lines: set[str]) -> list[Line]:
    return [
        Line(
            line_id=line.line_id,
            case_id=need.case_id,
            person_ref=need.person_ref,
            county=need.county,
            community=need.region.community,
            need_type=line.need_type,
            quantity=line.quantity,
            unit=line.unit,
            urgency=line.urgency,
            opened_at=need.opened_at,
            categories=need.categories,
            language=need.language,
            deadline=line.deadline,
            skills=line.skills,
            languages=line.languages,
            bundle=line.bundle,
            location=need.location,
        )
        for line in need.lines
        if line.line_id not in closed_lines
    ]


def resource_of(offer: OfferPublished, used: float) -> Resource:
    return Resource(
        offer_id=offer.offer_id,
        org_id=offer.org_id,
        county=offer.county,
        community=offer.region.community,
        kind=offer.kind,
        need_types=offer.need_types,
        quantity=max(offer.quantity - used, 0.0),
        unit=offer.unit,
        valid_until=offer.valid_until,
        delivery_radius_km=offer.delivery_radius_km,
        earmarks=offer.earmarks,
        worker_id=offer.worker_id,
        skills=offer.skills,
        languages=offer.languages,
        caseload_cap=offer.caseload_cap,
        location=offer.location,
    )


def build_problem(
    county: str,
    now: datetime,
    cases: list[Document],
    offers: list[Document],
    assignments: list[Document],
    extra_offers: Sequence[OfferPublished] = (),
) -> Problem:
    """One county's problem: open lines, remaining capacity, fixed and proposed assignments."""
    used: dict[str, float] = defaultdict(float)
    fixed: list[Fixed] = []
    proposed: list[Proposed] = []
    excluded: set[tuple[str, str]] = set()
    last_worker: dict[str, str] = {}
    closed_lines = {a["line_id"] for a in assignments if a["status"] == "confirmed"}
    for a in assignments:
        if a["status"] in FIXED:
            used[a["offer_id"]] += a["quantity"]
            if a["line_id"] not in closed_lines:
                fixed.append(Fixed(a["line_id"], a["offer_id"], a["quantity"]))
            if a.get("worker_id"):
                last_worker[a["person_ref"]] = a["worker_id"]
        elif a["status"] == "proposed":
            proposed.append(Proposed(a["line_id"], a["offer_id"], a["quantity"]))
        elif a["status"] == "declined":
            excluded.add((a["line_id"], a["offer_id"]))
    lines = [
        line
        for doc in cases
        for line in lines_of(NeedOpened.model_validate(doc["need"]), closed_lines)
    ]
    offer_events = [OfferPublished.model_validate(doc["offer"]) for doc in offers]
    resources = [resource_of(o, used[o.offer_id]) for o in [*offer_events, *extra_offers]]
    return Problem(
        county=county,
        now=now,
        lines=tuple(lines),
        resources=tuple(resources),
        fixed=tuple(fixed),
        proposed=tuple(proposed),
        excluded_pairs=frozenset(excluded),
        last_worker=last_worker,
    )
