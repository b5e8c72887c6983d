"""Social worker pages: inbox, new case, add a need, verification visit, a person's history.

Everything is scoped to the worker's region by the service (cases) or by the page
(assignments from the matcher: only those in the worker's region or for the worker).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from fivelink_intake.domain.access import Forbidden, Principal, Role
from fivelink_intake.domain.cases import CaseCreate, CloseRequest, NeedLineIn
from fivelink_intake.web import forms
from fivelink_intake.web.clients import Assignment, InboxMessage, Unavailable
from fivelink_intake.web.common import CHOICES, posted, submitted, user_of
from fivelink_intake.web.context import web_context
from fivelink_intake.web.render import PageRoute, render, translator
from fivelink_shared.events import DeclineReason, ResponseKind

router = APIRouter(prefix="/worker", route_class=PageRoute)
WORKER = Role.SOCIAL_WORKER
CASE_MULTI = ("person.categories", "person.consent.purposes", "lines.*.languages")
LINE_REQUIRED = ("need_type", "quantity", "unit")
ACTIONS = {
    "accept": ResponseKind.ACCEPTED,
    "decline": ResponseKind.DECLINED,
    "deliver": ResponseKind.DELIVERED,
}


def mine(user: Principal, a: Assignment) -> bool:
    """An assignment the worker may see and answer: for them, or in their region."""
    return a.worker_id == user.sub or user.covers(a.region)


async def _assignments(request: Request, user: Principal) -> list[Assignment]:
    found = await web_context(request).matcher.assignments(user.county)
    return [a for a in found if mine(user, a)]


@router.get("")
async def inbox(request: Request) -> Response:
    user = user_of(request, WORKER)
    web = web_context(request)
    service_down = False
    try:
        assignments = await _assignments(request, user)
    except Unavailable:
        assignments, service_down = [], True
    messages: list[InboxMessage] = []
    try:
        messages = await web.notifier.inbox(user.sub)
    except Exception:  # the inbox is a convenience; the assignments are the source of truth
        messages = []
    discovered = await web.service.list_cases(
        user, {"status": "open", "source": "discovery"}, 50, 0
    )
    groups = {
        "proposed": [a for a in assignments if a.status == "proposed"],
        "accepted": [a for a in assignments if a.status == "accepted"],
        "done": [a for a in assignments if a.status in ("delivered", "confirmed")],
    }
    return render(
        request,
        "worker/inbox.html",
        {
            "groups": groups,
            "messages": messages[:20],
            "discovered": discovered["items"],
            "service_down": service_down,
            "choices": CHOICES,
            "notice": request.query_params.get("notice", ""),
        },
    )


@router.post("/assignments/{assignment_id}")
async def respond(assignment_id: str, request: Request) -> Response:
    """Accept, decline (with a structured reason) or report delivered, through the loop."""
    user = user_of(request, WORKER)
    form = submitted(await posted(request))
    action = ACTIONS.get(form.get("action"))
    found = {a.assignment_id: a for a in await _assignments(request, user)}
    if assignment_id not in found:
        raise Forbidden("not an assignment of yours")
    if action is None:
        return RedirectResponse("/ui/worker?notice=bad_action", status_code=303)
    reason = None
    if action is ResponseKind.DECLINED:
        try:
            reason = DeclineReason(form.get("reason"))
        except ValueError:
            return RedirectResponse("/ui/worker?notice=reason_needed", status_code=303)
        if reason is DeclineReason.NO_RESPONSE:
            return RedirectResponse("/ui/worker?notice=reason_needed", status_code=303)
    await web_context(request).notifier.respond(
        assignment_id, action, actor_role="social_worker", party_id=user.sub, reason=reason
    )
    return RedirectResponse(f"/ui/worker?notice={action.value}", status_code=303)


# --- cases ----------------------------------------------------------------------------------


def _case_body(
    user: Principal, items: list[tuple[str, str]]
) -> tuple[dict[str, Any], dict[str, str]]:
    body = forms.nest(items, CASE_MULTI)
    region = body.setdefault("region", {})
    region["county"] = user.county  # a worker opens cases in their own county only
    if user.township:
        region["township"] = user.township
    person = body.setdefault("person", {})
    consent = person.get("consent")
    if isinstance(consent, dict):  # consent is recorded as given now, at this visit
        consent["given_at"] = datetime.now(UTC).isoformat()
    renames = forms.drop_empty_rows(body, "lines", LINE_REQUIRED)
    return body, renames


def _case_form(
    request: Request,
    values: forms.Submitted,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "worker/case_form.html",
        {
            "values": values,
            "errors": errors or {},
            "choices": CHOICES,
            "rows": values.rows("lines", minimum=2),
        },
        status_code=status_code,
    )


@router.get("/cases/new")
async def new_case(request: Request) -> Response:
    user_of(request, WORKER)
    return _case_form(request, forms.Submitted([("person.consent.purposes", "matching")]))


@router.post("/cases/validate")
async def validate_case(request: Request) -> Response:
    """Validate-as-you-type: the same checks as the API, stores nothing."""
    user = user_of(request, WORKER)
    body, renames = _case_body(user, await posted(request))
    _, errors = forms.validate(CaseCreate, body, translator(request))
    return JSONResponse({"errors": forms.renamed(errors, renames)})


@router.post("/cases")
async def create_case(request: Request) -> Response:
    user = user_of(request, WORKER)
    items = await posted(request)
    body, renames = _case_body(user, items)
    model, errors = forms.validate(CaseCreate, body, translator(request))
    if model is None:
        return _case_form(request, submitted(items), forms.renamed(errors, renames), 422)
    key = dict(items).get("idempotency_key") or None
    case, _ = await web_context(request).service.open_case(user, model, key)
    return RedirectResponse(f"/ui/worker/cases/{case['case_id']}?notice=created", status_code=303)


@router.get("/cases")
async def cases(request: Request) -> Response:
    user = user_of(request, WORKER)
    found = await web_context(request).service.list_cases(user, {"status": "open"}, 100, 0)
    return render(request, "worker/cases.html", {"cases": found["items"], "total": found["total"]})


@router.get("/cases/{case_id}")
async def case(case_id: str, request: Request) -> Response:
    user = user_of(request, WORKER)
    doc = await web_context(request).service.get_case(user, case_id)
    return render(
        request,
        "worker/case.html",
        {
            "case": doc,
            "choices": CHOICES,
            "values": forms.Submitted(),
            "notice": request.query_params.get("notice", ""),
        },
    )


@router.post("/cases/{case_id}/lines")
async def add_line(case_id: str, request: Request) -> Response:
    """Submit one more need for a person's plan."""
    user = user_of(request, WORKER)
    web = web_context(request)
    items = await posted(request)
    body = forms.nest(items, ("languages",))
    model, errors = forms.validate(NeedLineIn, body, translator(request))
    if model is None:
        doc = await web.service.get_case(user, case_id)
        return render(
            request,
            "worker/case.html",
            {"case": doc, "choices": CHOICES, "values": submitted(items), "errors": errors},
            status_code=422,
        )
    await web.service.add_line(user, case_id, model, dict(items).get("idempotency_key") or None)
    return RedirectResponse(f"/ui/worker/cases/{case_id}?notice=line_added", status_code=303)


# --- verification visits ----------------------------------------------------------------------

OUTCOMES = ("confirmed", "not_needed", "not_found")


@router.get("/visits/{case_id}")
async def visit_form(case_id: str, request: Request) -> Response:
    user = user_of(request, WORKER)
    doc = await web_context(request).service.get_case(user, case_id)
    return render(
        request,
        "worker/visit.html",
        {"case": doc, "choices": CHOICES, "outcomes": OUTCOMES, "values": forms.Submitted()},
    )


@router.post("/visits/{case_id}")
async def record_visit(case_id: str, request: Request) -> Response:
    """The visit's outcome: confirmed (with the needs found) closes the visit line; otherwise
    the case is closed with the outcome as its reason."""
    user = user_of(request, WORKER)
    web = web_context(request)
    items = await posted(request)
    values = submitted(items)
    doc = await web.service.get_case(user, case_id)
    outcome = values.get("outcome")
    errors: dict[str, str] = {}
    t = translator(request)
    line: NeedLineIn | None = None
    if outcome not in OUTCOMES:
        errors["outcome"] = t("err.choice")
    elif outcome == "confirmed":
        body = forms.nest(items, ("languages",)).get("line", {})
        if any(body.get(f) for f in LINE_REQUIRED):
            line, line_errors = forms.validate(NeedLineIn, body, t)
            errors |= {f"line.{k}": v for k, v in line_errors.items()}
    if errors:
        context = {"case": doc, "choices": CHOICES, "outcomes": OUTCOMES}
        return render(
            request, "worker/visit.html", context | {"values": values, "errors": errors}, 422
        )
    visit_lines = [
        x["line_id"] for x in doc["case"]["lines"] if x["need_type"] == "verification_visit"
    ]
    if outcome == "confirmed":
        if line is not None:
            await web.service.add_line(user, case_id, line, f"visit-{case_id}-{line.need_type}")
        for line_id in visit_lines:
            await web.service.close_line(user, case_id, line_id, "verified")
    else:
        reason = CloseRequest(reason=f"visit_{outcome}").reason
        await web.service.close_case(user, case_id, reason)
    return RedirectResponse(f"/ui/worker/cases/{case_id}?notice=visit_recorded", status_code=303)


# --- a person's history -------------------------------------------------------------------------


@router.get("/people/{person_ref}")
async def history(person_ref: str, request: Request) -> Response:
    """Every case of this person in the worker's region (others' regions stay invisible)."""
    user = user_of(request, WORKER)
    found = await web_context(request).service.person_history(user, person_ref[:64], 100, 0)
    return render(
        request, "worker/history.html", {"person_ref": person_ref[:64], "cases": found["items"]}
    )
