"""Station supervisor pages: open and unmet needs by community and type, escalations, the
matcher's proposals with their explanations, an override, and a what-if run.

An override is a decline with a structured reason sent through the closed loop (the
notifier publishes it; the matcher re-solves), recorded in intake's audit with who and why.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from fivelink_intake.domain.access import Forbidden, Principal, Role
from fivelink_intake.web import forms
from fivelink_intake.web.clients import Assignment, Escalation, Unavailable, Unmet, WhatIfResult
from fivelink_intake.web.common import CHOICES, posted, submitted, user_of
from fivelink_intake.web.context import WebContext, web_context
from fivelink_intake.web.render import PageRoute, render, translator
from fivelink_intake.web.reports import supervisor_table
from fivelink_intake.web.why import terms_of
from fivelink_shared.events import DeclineReason, NeedType, OfferKind, ResponseKind

router = APIRouter(prefix="/supervisor", route_class=PageRoute)
SUPERVISOR = Role.SUPERVISOR
MAX_CASES = 2000


class WhatIfOffer(BaseModel):
    """The hypothetical offer of a what-if run."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: OfferKind
    need_type: NeedType
    quantity: float = Field(gt=0, le=100_000_000)
    unit: str = Field(min_length=1, max_length=16)
    community: str = Field(default="", max_length=32)

    def as_offer(self, county: str) -> dict[str, Any]:
        """An ``OfferPublished`` body for the matcher; never published anywhere."""
        offer: dict[str, Any] = {
            "county": county,
            "offer_id": f"what-if-{uuid.uuid4().hex[:12]}",
            "org_id": "what-if",
            "revision": 1,
            "kind": self.kind.value,
            "region": {"county": county, "community": self.community},
            "need_types": [self.need_type.value],
            "quantity": self.quantity,
            "unit": self.unit,
        }
        if self.kind is OfferKind.GOODS:
            offer["item"] = "what-if"
        if self.kind is OfferKind.PEOPLE:
            offer["worker_id"] = "what-if-worker"
        return offer


async def _cases(web: WebContext, user: Principal) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while len(out) < MAX_CASES:
        page = await web.service.list_cases(user, {"status": "open"}, 200, len(out))
        out += page["items"]
        if len(out) >= page["total"] or not page["items"]:
            break
    return out


LEVELS = ("community", "township", "county")


def waiting_escalations(unmet: list[Unmet], raised: list[Escalation]) -> list[dict[str, Any]]:
    """Lines still unmet that the matcher escalated, at their highest level, longest first."""
    level: dict[str, str] = {}
    for e in raised:
        if LEVELS.index(e.level) >= LEVELS.index(level.get(e.line_id, "community")):
            level[e.line_id] = e.level
    rows = [{"unmet": u, "level": level[u.line_id]} for u in unmet if u.line_id in level]
    return sorted(rows, key=lambda r: (-LEVELS.index(r["level"]), -r["unmet"].waiting_hours))


def _in_scope(user: Principal, a: Assignment) -> bool:
    return user.covers(a.region)


async def _dashboard(
    request: Request, extra: dict[str, Any] | None = None, status_code: int = 200
) -> Response:
    user = user_of(request, SUPERVISOR)
    web = web_context(request)
    cases = await _cases(web, user)
    assignments: list[Assignment] = []
    unmet: list[Unmet] = []
    raised: list[Escalation] = []
    down = False
    try:
        assignments = [a for a in await web.matcher.assignments(user.county) if _in_scope(user, a)]
        case_ids = {c["case_id"] for c in cases}
        unmet = [u for u in await web.matcher.unmet(user.county) if u.case_id in case_ids]
        raised = await web.matcher.escalations(user.county)
    except Unavailable:
        down = True
    cards = {c["case_id"]: c for c in cases}
    escalations = waiting_escalations(unmet, raised)
    context = {
        "rows": supervisor_table(cases, assignments, unmet),
        "proposals": [a for a in assignments if a.status in ("proposed", "accepted")],
        "escalations": escalations[:50],
        "cards": cards,
        "service_down": down,
        "choices": CHOICES,
        "values": forms.Submitted([("kind", "money"), ("unit", "CNY")]),
        "notice": request.query_params.get("notice", ""),
        "totals": {
            "open_lines": sum(len(c["case"]["lines"]) for c in cases),
            "unmet": len(unmet),
            "proposed": sum(1 for a in assignments if a.status == "proposed"),
            "delivered": sum(1 for a in assignments if a.status in ("delivered", "confirmed")),
        },
        **(extra or {}),
    }
    return render(request, "supervisor/dashboard.html", context, status_code=status_code)


@router.get("")
async def dashboard(request: Request) -> Response:
    return await _dashboard(request)


@router.post("/override/{assignment_id}")
async def override(assignment_id: str, request: Request) -> Response:
    """Turn a proposal down with a reason: through the loop, with an audit record."""
    user = user_of(request, SUPERVISOR)
    web = web_context(request)
    values = submitted(await posted(request))
    found = {a.assignment_id: a for a in await web.matcher.assignments(user.county)}
    target = found.get(assignment_id)
    if target is None or not _in_scope(user, target):
        raise Forbidden("not an assignment of your region")
    try:
        reason = DeclineReason(values.get("reason"))
    except ValueError:
        return RedirectResponse("/ui/supervisor?notice=reason_needed", status_code=303)
    if reason is DeclineReason.NO_RESPONSE:
        return RedirectResponse("/ui/supervisor?notice=reason_needed", status_code=303)
    await web.notifier.respond(
        assignment_id,
        ResponseKind.DECLINED,
        actor_role="supervisor",
        party_id=user.sub,
        reason=reason,
    )
    await web.service.audit.record(
        user,
        "assignment.override",
        case_id=target.case_id,
        fields=[f"assignment:{assignment_id}", f"reason:{reason.value}"],
    )
    return RedirectResponse("/ui/supervisor?notice=overridden", status_code=303)


@router.post("/what-if")
async def what_if(request: Request) -> Response:
    """Solve on the current picture plus one hypothetical offer; publishes nothing."""
    user = user_of(request, SUPERVISOR)
    web = web_context(request)
    items = await posted(request)
    offer, errors = forms.validate(WhatIfOffer, forms.nest(items), translator(request))
    if offer is None:
        return await _dashboard(
            request, {"values": submitted(items), "errors": errors, "whatif_open": True}, 422
        )
    result: WhatIfResult = await web.matcher.what_if(user.county, [offer.as_offer(user.county)])
    added = [
        {**a, "terms": terms_of(a.get("explanation", {}))}
        for a in result.assignments
        if str(a.get("offer_id", "")).startswith("what-if-")
    ]
    return await _dashboard(
        request,
        {
            "values": submitted(items),
            "whatif": result,
            "whatif_added": added,
            # money and goods serve lines in their own unit; a visit's unit is the line's
            "whatif_unit": "" if offer.kind is OfferKind.PEOPLE else offer.unit,
            "whatif_open": True,
        },
    )
