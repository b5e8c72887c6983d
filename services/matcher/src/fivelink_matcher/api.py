"""Matcher's HTTP API: what-if (dry run), unmet queue and assignments for supervisors."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from fivelink_matcher.adapters.store import MatcherStore
from fivelink_matcher.engine import Rebalancer
from fivelink_matcher.whatif import changes
from fivelink_shared.events import CountyCode, OfferPublished
from fivelink_shared.security import require_service_token

# Internal API: intake's pages and the CLI call it with the service token.
router = APIRouter(prefix="/v1", dependencies=[Depends(require_service_token)])


class WhatIf(BaseModel):
    county: CountyCode
    offers: list[OfferPublished] = Field(
        default_factory=list, description="Hypothetical offers to add"
    )


def _parts(request: Request) -> tuple[MatcherStore, Rebalancer]:
    return request.app.state.store, request.app.state.rebalancer


@router.post(
    "/what-if", tags=["matcher"], summary="Solve with hypothetical offers; publishes nothing"
)
async def what_if(body: WhatIf, request: Request) -> dict[str, Any]:
    store, rebalancer = _parts(request)
    solution = await rebalancer.what_if(body.county, body.offers)
    current = await store.county_assignments(body.county)
    return {
        "changes": changes(current, solution),
        "solver_path": solution.solver_path,
        "objective": solution.objective,
        "bound": solution.bound,
        "gap": solution.gap,
        "coverage": solution.coverage,
        "assignments": [
            {
                "line_id": a.line_id,
                "case_id": a.case_id,
                "offer_id": a.offer_id,
                "quantity": a.quantity,
                "explanation": a.explanation.model_dump(),
            }
            for a in solution.assignments
        ],
        "unmet": [
            {"line_id": u.line_id, "reason": u.reason, "detail": u.detail} for u in solution.unmet
        ],
    }


@router.get("/unmet", tags=["matcher"], summary="Unmet lines with reason and age")
async def unmet(request: Request, county: str | None = None) -> list[dict[str, Any]]:
    store, _ = _parts(request)
    return [{k: v for k, v in d.items() if k != "_id"} for d in await store.list_unmet(county)]


@router.get("/assignments", tags=["matcher"], summary="Assignments of a county with explanations")
async def assignments(request: Request, county: str) -> list[dict[str, Any]]:
    store, _ = _parts(request)
    docs = await store.county_assignments(county)
    return [
        {"assignment_id": d["_id"], **{k: v for k, v in d.items() if k not in ("_id",)}}
        for d in docs
    ]


@router.get(
    "/escalations", tags=["matcher"], summary="Escalations raised (line, level, reason, wait)"
)
async def escalations(request: Request, county: CountyCode) -> list[dict[str, Any]]:
    store, _ = _parts(request)
    fields = ("case_id", "line_id", "level", "reason", "urgency", "waiting_hours", "need_type")
    return [
        {key: d["event"][key] for key in fields} | {"raised_at": d["event"]["occurred_at"]}
        for d in await store.list_escalations(county)
    ]
