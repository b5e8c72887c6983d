"""Notifier's HTTP API: subscriptions, deliveries, and the signed response links."""

from __future__ import annotations

import html
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from fivelink_notifier.adapters.store import NotifierStore
from fivelink_notifier.channels.base import ChannelKind, Role, Target
from fivelink_notifier.signing import TokenError, parse_response_token
from fivelink_shared import topics
from fivelink_shared.events import DeclineReason, Language, PseudoId, ResponseKind, ResponseRecorded
from fivelink_shared.kafka import publish_event

router = APIRouter()


class SubscriptionIn(BaseModel):
    """Which events a party wants, on which channel, in which language."""

    party_id: PseudoId
    role: Role
    channel: ChannelKind
    target: Target
    language: Language | None = Field(default=None, description="Defaults to the event's")
    events: list[str] = Field(default_factory=list, description="Event types; empty = all")


def _store(request: Request) -> NotifierStore:
    store: NotifierStore = request.app.state.store
    return store


@router.post(
    "/v1/subscriptions",
    status_code=201,
    tags=["subscriptions"],
    summary="Register (or replace) a party's subscription on one channel",
)
async def subscribe(body: SubscriptionIn, request: Request) -> dict[str, Any]:
    if body.target.kind != body.channel.value:
        raise HTTPException(
            422, f"target kind {body.target.kind!r} does not match channel {body.channel.value!r}"
        )
    sub_id = f"{body.party_id}:{body.channel.value}"
    doc = {"_id": sub_id, **body.model_dump(mode="json")}
    await _store(request).put_subscription(doc)
    return {"subscription_id": sub_id, "party_id": body.party_id, "channel": body.channel}


@router.get("/v1/deliveries", tags=["deliveries"], summary="Deliveries with their attempts")
async def deliveries(
    request: Request, party_id: str | None = None, event_id: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    docs = await _store(request).list_deliveries(
        party_id=party_id, event_id=event_id, limit=min(limit, 500)
    )
    return [{"delivery_id": d.pop("_id"), **d} for d in docs]


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
    reasons = "".join(f'<option value="{r.value}">{r.value}</option>' for r in DeclineReason)
    extra = (
        f'<label>Reason <select name="reason">{reasons}</select></label>'
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
    assignment = await request.app.state.assignments.find_one({"_id": claims.assignment_id})
    if assignment is None:
        raise HTTPException(404, "unknown assignment")
    if claims.action is ResponseKind.DECLINED and reason is None:
        reason = DeclineReason.OTHER
    event = ResponseRecorded(
        county=assignment["county"],
        correlation_id=assignment.get("correlation_id", str(uuid.uuid4())),
        assignment_id=claims.assignment_id,
        case_id=assignment["case_id"],
        line_id=assignment["line_id"],
        offer_id=assignment["offer_id"],
        response=claims.action,
        reason=reason if claims.action is ResponseKind.DECLINED else None,
        actor_role=assignment.get("roles", {}).get(claims.party_id, "party"),
    )
    await publish_event(request.app.state.runtime.broker, topics.RESPONSES, event)
    request.app.state.metrics.responses.labels(claims.action.value).inc()
    return {"recorded": claims.action.value, "assignment_id": claims.assignment_id}
