"""Notifier's HTTP API: subscriptions (secrets never returned), deliveries, responses (signed
links and a service-token API), the in-app inbox, and donors' traceability.
"""

from __future__ import annotations

import html
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field, model_validator

from fivelink_notifier.adapters.assignments import AssignmentStore
from fivelink_notifier.adapters.store import NotifierStore
from fivelink_notifier.channels.base import ChannelKind, Role, Target
from fivelink_notifier.channels.inbox import InboxItem
from fivelink_notifier.loop import TransitionError, check_transition, totals
from fivelink_notifier.signing import TokenError, parse_response_token
from fivelink_shared import topics
from fivelink_shared.events import DeclineReason, Language, PseudoId, ResponseKind, ResponseRecorded
from fivelink_shared.kafka import publish_event
from fivelink_shared.mongo import Document
from fivelink_shared.security import ServiceAuthorized

router = APIRouter()


class Scope(BaseModel):
    """Where a supervisor watches: a level of the chain and that level's region code."""

    level: Literal["community", "township", "county"]
    code: str = Field(min_length=1, max_length=32, examples=["150105001"])


class SubscriptionIn(BaseModel):
    """Which events a party wants, on which channel, in which language."""

    party_id: PseudoId
    role: Role
    channel: ChannelKind
    target: Target
    language: Language | None = Field(default=None, description="Defaults to the event's")
    events: list[str] = Field(default_factory=list, description="Event types; empty = all")
    scope: Scope | None = Field(default=None, description="Required for supervisors")

    @model_validator(mode="after")
    def _consistent(self) -> SubscriptionIn:
        if self.target.kind != self.channel.value:
            raise ValueError(
                f"target kind {self.target.kind!r} does not match channel {self.channel.value!r}"
            )
        if self.role is Role.SUPERVISOR and self.scope is None:
            raise ValueError("a supervisor subscription needs a scope (level and region code)")
        return self


class RotateIn(BaseModel):
    secret: str = Field(min_length=16, description="The new HMAC key (kept by the caller)")
    grace_hours: float = Field(default=24.0, ge=0, le=24 * 30)


class ResponseIn(BaseModel):
    """A response recorded by another service or page on behalf of a party."""

    assignment_id: PseudoId
    response: ResponseKind
    reason: DeclineReason | None = None
    actor_role: Role
    party_id: PseudoId | None = None

    @model_validator(mode="after")
    def _reason(self) -> ResponseIn:
        if self.response is ResponseKind.DECLINED and self.reason is None:
            raise ValueError("a decline needs a reason")
        if self.response is not ResponseKind.DECLINED and self.reason is not None:
            raise ValueError("only a decline carries a reason")
        return self


def _store(request: Request) -> NotifierStore:
    store: NotifierStore = request.app.state.store
    return store


def _assignments(request: Request) -> AssignmentStore:
    found: AssignmentStore = request.app.state.assignments
    return found


Authorized = ServiceAuthorized


def public_subscription(doc: Document) -> dict[str, Any]:
    """A subscription as the API shows it: never a secret."""
    target = {k: v for k, v in doc.get("target", {}).items() if "secret" not in k}
    grace = [p["until"] for p in doc.get("previous_secrets", [])]
    return {
        "subscription_id": doc["_id"],
        "party_id": doc["party_id"],
        "role": doc["role"],
        "channel": doc["channel"],
        "language": doc.get("language"),
        "events": doc.get("events", []),
        "scope": doc.get("scope"),
        "target": target,
        "rotated_at": doc.get("rotated_at"),
        "old_key_valid_until": max(grace) if grace else None,
    }


# --- subscriptions ---------------------------------------------------------------------------


@router.post(
    "/v1/subscriptions",
    status_code=201,
    tags=["subscriptions"],
    summary="Register (or replace) a party's subscription on one channel",
)
async def subscribe(body: SubscriptionIn, request: Request, _: Authorized) -> dict[str, Any]:
    sub_id = f"{body.party_id}:{body.channel.value}"
    doc: Document = {"_id": sub_id, **body.model_dump(mode="json")}
    doc["target"].pop("previous_secrets", None)  # only a rotation sets those
    if body.scope is not None:
        doc["scope_level"], doc["scope_code"] = body.scope.level, body.scope.code
    await _store(request).put_subscription(doc)
    return public_subscription(doc)


@router.get("/v1/subscriptions", tags=["subscriptions"], summary="A party's subscriptions")
async def list_subscriptions(
    party_id: str, request: Request, _: Authorized
) -> list[dict[str, Any]]:
    return [public_subscription(d) for d in await _store(request).subscriptions_of(party_id)]


@router.get("/v1/subscriptions/{sub_id}", tags=["subscriptions"], summary="One subscription")
async def get_subscription(sub_id: str, request: Request, _: Authorized) -> dict[str, Any]:
    doc = await _store(request).get_subscription(sub_id)
    if doc is None:
        raise HTTPException(404, "unknown subscription")
    return public_subscription(doc)


@router.post(
    "/v1/subscriptions/{sub_id}/rotate-secret",
    tags=["subscriptions"],
    summary="Rotate a webhook secret; the old one keeps signing during the grace window",
)
async def rotate_secret(
    sub_id: str, body: RotateIn, request: Request, _: Authorized
) -> dict[str, Any]:
    until = datetime.now(UTC) + timedelta(hours=body.grace_hours)
    doc = await _store(request).rotate_secret(sub_id, body.secret, until)
    if doc is None:
        raise HTTPException(404, "no webhook subscription with that id (or rotated meanwhile)")
    return public_subscription(doc)


# --- deliveries ------------------------------------------------------------------------------


@router.get("/v1/deliveries", tags=["deliveries"], summary="Deliveries with their attempts")
async def deliveries(
    request: Request,
    _: Authorized,
    party_id: str | None = None,
    event_id: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    docs = await _store(request).list_deliveries(
        party_id=party_id, event_id=event_id, status=status, limit=min(limit, 500)
    )
    out = []
    for d in docs:
        d.get("message", {}).pop("links", None)  # signed links are for the recipient only
        d.pop("lease_until", None)
        out.append({"delivery_id": d.pop("_id"), **d})
    return out


# --- responses -------------------------------------------------------------------------------


async def record_response(
    request: Request,
    assignment_id: str,
    response: ResponseKind,
    reason: DeclineReason | None,
    actor_role: str,
) -> dict[str, Any]:
    """Check the response fits the assignment's state, publish it, and update our record."""
    store = _assignments(request)
    assignment = await store.get(assignment_id)
    if assignment is None:
        raise HTTPException(404, "unknown assignment")
    try:
        moved = check_transition(assignment["status"], response)
    except TransitionError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    if not moved:
        return {"recorded": response.value, "assignment_id": assignment_id, "replay": True}
    event = ResponseRecorded(
        county=assignment["county"],
        correlation_id=assignment.get("correlation_id", str(uuid.uuid4())),
        assignment_id=assignment_id,
        case_id=assignment["case_id"],
        line_id=assignment["line_id"],
        offer_id=assignment["offer_id"],
        response=response,
        reason=reason,
        actor_role=actor_role,
    )
    await publish_event(request.app.state.runtime.broker, topics.RESPONSES, event)
    fields = {"decline_reason": reason.value} if reason else {}
    await store.transition(assignment_id, (assignment["status"],), response.value, **fields)
    request.app.state.metrics.responses.labels(response.value).inc()
    return {"recorded": response.value, "assignment_id": assignment_id, "event_id": event.event_id}


@router.post(
    "/v1/responses",
    tags=["responses"],
    summary="Record a party's response (service token); a decline needs a reason",
)
async def post_response(body: ResponseIn, request: Request, _: Authorized) -> dict[str, Any]:
    return await record_response(
        request, body.assignment_id, body.response, body.reason, body.actor_role.value
    )


def _parse(request: Request, token: str) -> Any:
    secret = request.app.state.settings.link_secret.get_secret_value()
    try:
        return parse_response_token(secret, token)
    except TokenError as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"invalid or expired link: {exc}") from exc


@router.get(
    "/r/{token}",
    response_class=HTMLResponse,
    tags=["responses"],
    summary="Confirmation page of a signed response link",
)
async def response_page(token: str, request: Request) -> HTMLResponse:
    claims = _parse(request, token)
    reasons = "".join(
        f'<option value="{r.value}">{r.value}</option>'
        for r in DeclineReason
        if r is not DeclineReason.NO_RESPONSE
    )
    extra = (
        f'<label>Reason <select name="reason" required>{reasons}</select></label>'
        if claims.action is ResponseKind.DECLINED
        else ""
    )
    page = (
        f"<!doctype html><meta charset=utf-8><title>fivelink</title>"
        f"<form method=post><p>{html.escape(claims.action.value)} "
        f"{html.escape(claims.assignment_id)}</p>{extra}"
        f"<button type=submit>OK</button></form>"
    )
    return HTMLResponse(page)


@router.post("/r/{token}", tags=["responses"], summary="Record a response from a signed link")
async def respond(
    token: str, request: Request, reason: Annotated[DeclineReason | None, Form()] = None
) -> dict[str, Any]:
    claims = _parse(request, token)
    if claims.action is ResponseKind.DECLINED and reason is None:
        raise HTTPException(422, "a decline needs a reason")
    assignment = await _assignments(request).get(claims.assignment_id)
    if assignment is None:
        raise HTTPException(404, "unknown assignment")
    role = assignment.get("roles", {}).get(claims.party_id)
    if role is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this link is not for a party of it")
    return await record_response(
        request,
        claims.assignment_id,
        claims.action,
        reason if claims.action is ResponseKind.DECLINED else None,
        role,
    )


# --- inbox -----------------------------------------------------------------------------------


def _inbox_item(item: InboxItem) -> dict[str, Any]:
    m = item.message
    return {
        "item_id": item.item_id,
        "event_id": m.event_id,
        "role": m.role.value,
        "language": m.language.value,
        "urgency": m.urgency.value,
        "subject": m.subject,
        "body": m.body,
        "links": m.links,
        "created_at": item.created_at,
        "read_at": item.read_at,
    }


@router.get("/v1/inbox/{user_id}", tags=["inbox"], summary="A user's in-app messages, newest first")
async def inbox(
    user_id: str, request: Request, _: Authorized, unread_only: bool = False
) -> list[dict[str, Any]]:
    items = await request.app.state.inbox.list(user_id, unread_only=unread_only)
    return [_inbox_item(i) for i in items]


@router.post(
    "/v1/inbox/{user_id}/{item_id}/read", tags=["inbox"], summary="Mark an inbox item read"
)
async def mark_read(user_id: str, item_id: str, request: Request, _: Authorized) -> dict[str, Any]:
    if not await request.app.state.inbox.mark_read(user_id, item_id):
        raise HTTPException(404, "unknown inbox item")
    return {"item_id": item_id, "read": True}


# --- traceability ----------------------------------------------------------------------------


@router.get(
    "/v1/traceability",
    tags=["traceability"],
    summary="Where an organisation's donations went: confirmed deliveries, de-identified",
)
async def traceability(org_id: str, request: Request, _: Authorized) -> dict[str, Any]:
    records = await _assignments(request).traces(org_id)
    items = [{"assignment_id": r.pop("_id"), **r} for r in records]
    return {"org_id": org_id, "confirmed": len(items), "totals": totals(items), "items": items}
