"""Intake's HTTP API: cases (needs) and their lines, offers, signal batches.

Thin views over the use cases: each endpoint authenticates the bearer token, parses the
body, calls one use-case method and maps its refusal to a 4xx (see ``app.py``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import (
    APIRouter,
    Depends,
    Header,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    status,
)
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from fivelink_intake.auth import InvalidToken, TokenVerifier
from fivelink_intake.discovery_service import DiscoveryService
from fivelink_intake.domain.access import Principal, Role
from fivelink_intake.domain.cases import (
    CaseCreate,
    CaseUpdate,
    CloseRequest,
    LineUpdate,
    NeedLineIn,
)
from fivelink_intake.domain.offers import OfferCreate, OfferUpdate, StockCorrection, WithdrawRequest
from fivelink_intake.service import IntakeService
from fivelink_shared.events import Category, NeedType, OfferKind

router = APIRouter(prefix="/v1")
bearer_scheme = HTTPBearer(auto_error=False, description="JWT from `fivelink_intake.tokens`")
ANONYMOUS = Principal(sub="anonymous", role=Role.ADMIN)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=128,
        description="Repeat the same key to retry safely; a new key makes a new record",
    ),
]
County = Annotated[str | None, Query(pattern=r"^\d{6}$", description="GB/T 2260 county code")]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """The caller, from ``Authorization: Bearer <token>``."""
    if credentials is None:
        if not request.app.state.auth_required:
            return ANONYMOUS
        raise InvalidToken("missing bearer token")
    verifier: TokenVerifier = request.app.state.verifier
    return verifier.verify(credentials.credentials)


Caller = Annotated[Principal, Depends(authenticate)]


def _service(request: Request) -> IntakeService:
    service: IntakeService = request.app.state.service
    return service


def _discovery(request: Request) -> DiscoveryService:
    discovery: DiscoveryService = request.app.state.discovery
    return discovery


def _created(response: Response, created: bool) -> None:
    if not created:
        response.status_code = status.HTTP_200_OK


@router.get("/whoami", tags=["auth"], summary="The caller as the token describes them")
async def whoami(caller: Caller) -> dict[str, Any]:
    return {
        "sub": caller.sub,
        "role": caller.role.value,
        "region": {
            "county": caller.county,
            "township": caller.township,
            "community": caller.community,
        },
        "org_id": caller.org_id,
    }


# --- cases ---------------------------------------------------------------------------------


@router.post(
    "/needs",
    status_code=status.HTTP_201_CREATED,
    tags=["needs"],
    summary="Open a case (one plan per person) with its need lines",
)
async def create_need(
    body: CaseCreate,
    request: Request,
    response: Response,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    case, created = await _service(request).open_case(caller, body, idempotency_key)
    _created(response, created)
    return case


@router.get("/needs", tags=["needs"], summary="List cases (charities and ops: need cards)")
async def list_needs(
    request: Request,
    caller: Caller,
    county: County = None,
    status_: Annotated[Literal["open", "closed"] | None, Query(alias="status")] = None,
    need_type: NeedType | None = None,
    category: Category | None = None,
    source: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    filters = {
        "county": county,
        "status": status_,
        "need_type": need_type.value if need_type else None,
        "category": category.value if category else None,
        "source": source,
    }
    return await _service(request).list_cases(caller, filters, limit, offset)


@router.get("/needs/{case_id}", tags=["needs"], summary="Read a case (pseudonymous or card)")
async def get_need(case_id: str, request: Request, caller: Caller) -> dict[str, Any]:
    return await _service(request).get_case(caller, case_id)


@router.patch("/needs/{case_id}", tags=["needs"], summary="Update the person or location")
async def update_need(
    case_id: str, body: CaseUpdate, request: Request, caller: Caller
) -> dict[str, Any]:
    return await _service(request).update_case(caller, case_id, body)


@router.post("/needs/{case_id}:close", tags=["needs"], summary="Close a case (NeedClosed)")
async def close_need(
    case_id: str, request: Request, caller: Caller, body: CloseRequest | None = None
) -> dict[str, Any]:
    reason = (body or CloseRequest()).reason
    return await _service(request).close_case(caller, case_id, reason)


@router.get(
    "/needs/{case_id}/person",
    tags=["needs"],
    summary="The person's name, ID number, phone, address (audited)",
)
async def get_person(case_id: str, request: Request, caller: Caller) -> dict[str, Any]:
    return await _service(request).get_personal(caller, case_id)


@router.get("/needs/{case_id}/audit", tags=["needs"], summary="Who touched this case's data")
async def get_audit(case_id: str, request: Request, caller: Caller) -> list[dict[str, Any]]:
    return await _service(request).audit_trail(caller, case_id)


@router.post(
    "/needs/{case_id}/lines",
    status_code=status.HTTP_201_CREATED,
    tags=["needs"],
    summary="Add a need line (publishes the next revision)",
)
async def add_line(
    case_id: str,
    body: NeedLineIn,
    request: Request,
    response: Response,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    case, created = await _service(request).add_line(caller, case_id, body, idempotency_key)
    _created(response, created)
    return case


@router.patch("/needs/{case_id}/lines/{line_id}", tags=["needs"], summary="Change a need line")
async def update_line(
    case_id: str, line_id: str, body: LineUpdate, request: Request, caller: Caller
) -> dict[str, Any]:
    return await _service(request).update_line(caller, case_id, line_id, body)


@router.post(
    "/needs/{case_id}/lines/{line_id}:close",
    tags=["needs"],
    summary="Close one line (the last one closes the case)",
)
async def close_line(
    case_id: str,
    line_id: str,
    request: Request,
    caller: Caller,
    body: CloseRequest | None = None,
) -> dict[str, Any]:
    reason = (body or CloseRequest()).reason
    return await _service(request).close_line(caller, case_id, line_id, reason)


@router.get("/persons/{person_ref}/cases", tags=["needs"], summary="A person's history")
async def person_history(
    person_ref: Annotated[str, Path(max_length=64)],
    request: Request,
    caller: Caller,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    return await _service(request).person_history(caller, person_ref, limit, offset)


# --- offers --------------------------------------------------------------------------------


@router.post(
    "/offers",
    status_code=status.HTTP_201_CREATED,
    tags=["offers"],
    summary="Publish an offer of money, goods or people's time",
)
async def create_offer(
    body: OfferCreate,
    request: Request,
    response: Response,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    offer, created = await _service(request).publish_offer(caller, body, idempotency_key)
    _created(response, created)
    return offer


@router.get("/offers", tags=["offers"], summary="List offers (charities: their own)")
async def list_offers(
    request: Request,
    caller: Caller,
    county: County = None,
    status_: Annotated[Literal["active", "withdrawn"] | None, Query(alias="status")] = None,
    kind: OfferKind | None = None,
    need_type: NeedType | None = None,
    org_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    filters = {
        "county": county,
        "status": status_,
        "kind": kind.value if kind else None,
        "need_type": need_type.value if need_type else None,
        "org_id": org_id,
    }
    return await _service(request).list_offers(caller, filters, limit, offset)


@router.get("/offers/{offer_id}", tags=["offers"], summary="Read an offer")
async def get_offer(offer_id: str, request: Request, caller: Caller) -> dict[str, Any]:
    return await _service(request).get_offer(caller, offer_id)


@router.patch("/offers/{offer_id}", tags=["offers"], summary="Revise an offer")
async def update_offer(
    offer_id: str, body: OfferUpdate, request: Request, caller: Caller
) -> dict[str, Any]:
    return await _service(request).update_offer(caller, offer_id, body)


@router.post("/offers/{offer_id}/stock", tags=["offers"], summary="Correct the stock")
async def correct_stock(
    offer_id: str,
    body: StockCorrection,
    request: Request,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    return await _service(request).correct_stock(caller, offer_id, body, idempotency_key)


@router.post("/offers/{offer_id}:withdraw", tags=["offers"], summary="Withdraw an offer")
async def withdraw_offer(
    offer_id: str, request: Request, caller: Caller, body: WithdrawRequest | None = None
) -> dict[str, Any]:
    reason = (body or WithdrawRequest()).reason
    return await _service(request).withdraw_offer(caller, offer_id, reason)


# --- proactive discovery -------------------------------------------------------------------

BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-ndjson": {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}


@router.post(
    "/signals:batch",
    tags=["discovery"],
    summary="Ingest a batch of signals (JSON lines or CSV); all records or none",
    openapi_extra=BATCH_BODY,
    status_code=status.HTTP_201_CREATED,
)
async def ingest_signals(
    request: Request,
    response: Response,
    caller: Caller,
    format_: Annotated[
        Literal["auto", "jsonl", "csv"] | None,
        Query(alias="format", description="Overrides the content type"),
    ] = None,
    dry_run: bool = False,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    limit: int = request.app.state.max_batch_bytes
    data = await request.body()
    if len(data) > limit:
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, f"batch over {limit} bytes")
    fmt = format_ or _format_of(request.headers.get("content-type", ""))
    report, created = await _discovery(request).ingest(
        caller, data, fmt, dry_run=dry_run, idempotency_key=idempotency_key
    )
    if dry_run or not created:
        response.status_code = status.HTTP_200_OK
    return report


def _format_of(content_type: str) -> Literal["auto", "jsonl", "csv"]:
    kind = content_type.split(";")[0].strip().lower()
    if kind in ("text/csv", "application/csv"):
        return "csv"
    if kind in ("application/x-ndjson", "application/jsonl", "application/json-lines"):
        return "jsonl"
    return "auto"
