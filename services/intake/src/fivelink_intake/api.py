"""Intake's HTTP API: cases (needs) and offers. Thin views over the service layer."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request, Response, status

from fivelink_intake.domain.cases import CaseCreate
from fivelink_intake.domain.offers import OfferCreate
from fivelink_intake.service import IdempotencyConflict, IntakeService

router = APIRouter(prefix="/v1")

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=128,
        description="Repeat the same key to retry safely; a new key makes a new record",
    ),
]


def _service(request: Request) -> IntakeService:
    service: IntakeService = request.app.state.service
    return service


def body_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


@router.post(
    "/needs",
    status_code=status.HTTP_201_CREATED,
    tags=["needs"],
    summary="Open a case (one plan per person) with its need lines",
)
async def create_need(
    body: CaseCreate, request: Request, response: Response, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    try:
        case, created = await _service(request).open_case(body, idempotency_key)
    except IdempotencyConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    if not created:
        response.status_code = status.HTTP_200_OK
    return case


@router.get("/needs/{case_id}", tags=["needs"], summary="Read a case (pseudonymous view)")
async def get_need(case_id: str, request: Request) -> dict[str, Any]:
    case = await _service(request).get_case(case_id)
    if case is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no case {case_id}")
    return case


@router.post(
    "/offers",
    status_code=status.HTTP_201_CREATED,
    tags=["offers"],
    summary="Publish an offer of money, goods or people's time",
)
async def create_offer(
    body: OfferCreate, request: Request, response: Response, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    try:
        offer, created = await _service(request).publish_offer(body, idempotency_key)
    except IdempotencyConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    if not created:
        response.status_code = status.HTTP_200_OK
    return offer


@router.get("/offers/{offer_id}", tags=["offers"], summary="Read an offer")
async def get_offer(offer_id: str, request: Request) -> dict[str, Any]:
    offer = await _service(request).get_offer(offer_id)
    if offer is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no offer {offer_id}")
    return offer
