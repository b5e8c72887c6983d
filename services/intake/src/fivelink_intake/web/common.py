"""Helpers the role pages share: the signed-in user, the checked form, enum choices."""

from __future__ import annotations

from fastapi import Request

from fivelink_intake.domain.access import Principal, Role
from fivelink_intake.web.context import web_context
from fivelink_intake.web.forms import Submitted
from fivelink_intake.web.session import check_csrf, require
from fivelink_shared.events import Category, DeclineReason, Language, NeedType, OfferKind, Urgency

CHOICES = {
    "need_type": [n.value for n in NeedType],
    "category": [c.value for c in Category],
    "urgency": [Urgency.NORMAL.value, Urgency.HIGH.value, Urgency.CRISIS.value],
    "language": [lang.value for lang in Language],
    "offer_kind": [k.value for k in OfferKind],
    "decline_reason": [r.value for r in DeclineReason if r is not DeclineReason.NO_RESPONSE],
}


def user_of(request: Request, *roles: Role) -> Principal:
    web = web_context(request)
    return require(request, web.verifier, *roles)


async def posted(request: Request) -> list[tuple[str, str]]:
    """The form's fields, once its CSRF token checks out (else ``CsrfFailed``)."""
    form = await request.form()
    items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    check_csrf(request, web_context(request).csrf_secret, dict(items).get("csrf"))
    return items


def submitted(items: list[tuple[str, str]]) -> Submitted:
    return Submitted((k, v) for k, v in items if k != "csrf")
