"""Charity pages: publish and update offers, and where each offer went (CSV export too).

A charity sees only its own organisation's offers (the service checks the org) and
de-identified need cards: need type, amount, urgency, county and township, status.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from fivelink_intake.domain.access import Principal, Role
from fivelink_intake.domain.offers import OfferCreate, OfferUpdate
from fivelink_intake.web import forms
from fivelink_intake.web.clients import Assignment, Unavailable
from fivelink_intake.web.common import CHOICES, posted, submitted, user_of
from fivelink_intake.web.context import WebContext, web_context
from fivelink_intake.web.render import PageRoute, render, translator
from fivelink_intake.web.reports import OfferReport, offer_reports, reports_csv

router = APIRouter(prefix="/charity", route_class=PageRoute)
CHARITY = Role.CHARITY
OFFER_MULTI = (
    "need_types",
    "languages",
    "earmarks.categories",
    "earmarks.need_types",
    "earmarks.communities",
)
UPDATE_FIELDS = ("need_types", "quantity", "unit", "item", "valid_until", "delivery_radius_km")


async def _reports(web: WebContext, user: Principal) -> tuple[list[OfferReport], bool]:
    offers = (await web.service.list_offers(user, {}, 200, 0))["items"]
    assignments: list[Assignment] = []
    down = False
    for county in sorted({o["county"] for o in offers}):
        try:
            found = await web.matcher.assignments(county)
        except Unavailable:
            down = True
            continue
        assignments += [a for a in found if a.org_id == user.org_id]
    return offer_reports(offers, assignments, web.service.card_id), down


@router.get("")
async def offers_page(request: Request) -> Response:
    user = user_of(request, CHARITY)
    web = web_context(request)
    offers = (await web.service.list_offers(user, {}, 200, 0))["items"]
    reports, down = await _reports(web, user)
    return render(
        request,
        "charity/offers.html",
        {
            "offers": {o["offer_id"]: o for o in offers},
            "reports": reports,
            "service_down": down,
            "notice": request.query_params.get("notice", ""),
        },
    )


@router.get("/report.csv")
async def report_csv(request: Request) -> Response:
    user = user_of(request, CHARITY)
    reports, _ = await _reports(web_context(request), user)
    return Response(
        "\ufeff" + reports_csv(reports),  # the BOM makes spreadsheet programs read UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="fivelink-offers.csv"'},
    )


def _offer_body(user: Principal, items: list[tuple[str, str]]) -> dict[str, Any]:
    body = forms.nest(items, OFFER_MULTI)
    body["org_id"] = user.org_id  # a charity publishes for its own organisation only
    earmarks = body.get("earmarks", {})
    if isinstance(earmarks.get("communities"), list):
        earmarks["communities"] = [
            c.strip() for v in earmarks["communities"] for c in v.split(",") if c.strip()
        ]
    for name in ("skills",):
        if isinstance(body.get(name), str):
            body[name] = [s.strip() for s in body[name].split(",") if s.strip()]
    return body


def _offer_form(
    request: Request,
    values: forms.Submitted,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {"values": values, "errors": errors or {}, "choices": CHOICES}
    return render(request, "charity/offer_form.html", context, status_code=status_code)


@router.get("/offers/new")
async def new_offer(request: Request) -> Response:
    user_of(request, CHARITY)
    return _offer_form(request, forms.Submitted([("kind", "money"), ("unit", "CNY")]))


@router.post("/offers/validate")
async def validate_offer(request: Request) -> Response:
    user = user_of(request, CHARITY)
    body = _offer_body(user, await posted(request))
    _, errors = forms.validate(OfferCreate, body, translator(request))
    return JSONResponse({"errors": errors})


@router.post("/offers")
async def publish(request: Request) -> Response:
    user = user_of(request, CHARITY)
    items = await posted(request)
    model, errors = forms.validate(OfferCreate, _offer_body(user, items), translator(request))
    if model is None:
        return _offer_form(request, submitted(items), errors, 422)
    key = dict(items).get("idempotency_key") or None
    await web_context(request).service.publish_offer(user, model, key)
    return RedirectResponse("/ui/charity?notice=published", status_code=303)


def _edit_values(offer: dict[str, Any]) -> forms.Submitted:
    body = offer["offer"]
    items: list[tuple[str, str]] = [("need_types", n) for n in body.get("need_types", [])]
    for name in UPDATE_FIELDS[1:]:
        value = body.get(name)
        if value is not None:
            text = str(value)
            items.append((name, text[:10] if name == "valid_until" else text))
    return forms.Submitted(items)


@router.get("/offers/{offer_id}")
async def edit_offer(offer_id: str, request: Request) -> Response:
    user = user_of(request, CHARITY)
    offer = await web_context(request).service.get_offer(user, offer_id)
    return render(
        request,
        "charity/offer_edit.html",
        {"offer": offer, "values": _edit_values(offer), "choices": CHOICES},
    )


@router.post("/offers/{offer_id}")
async def update_offer(offer_id: str, request: Request) -> Response:
    user = user_of(request, CHARITY)
    web = web_context(request)
    items = await posted(request)
    body = forms.nest(items, ("need_types",))
    body = {k: v for k, v in body.items() if k in UPDATE_FIELDS}
    model, errors = forms.validate(OfferUpdate, body, translator(request))
    if model is None:
        offer = await web.service.get_offer(user, offer_id)
        context = {"offer": offer, "values": submitted(items), "errors": errors, "choices": CHOICES}
        return render(request, "charity/offer_edit.html", context, status_code=422)
    await web.service.update_offer(user, offer_id, model)
    return RedirectResponse("/ui/charity?notice=updated", status_code=303)


@router.post("/offers/{offer_id}/withdraw")
async def withdraw(offer_id: str, request: Request) -> Response:
    user = user_of(request, CHARITY)
    await posted(request)
    await web_context(request).service.withdraw_offer(user, offer_id, "withdrawn")
    return RedirectResponse("/ui/charity?notice=withdrawn", status_code=303)
