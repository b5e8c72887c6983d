"""Render notification templates (Jinja2) per language: ``render(name, language, ctx)``.

Templates live in ``templates/<language>/<name>.txt`` and define two blocks, ``subject`` and
``body``; ``name`` is ``<event>.<role>`` (e.g. ``assignment_proposed.charity``) or ``<event>``.
A missing language or template falls back to zh, then en. Localised labels for need types,
urgency, decline reasons, actions, levels and units are in ``templates/<language>/labels.json``
and used in templates as ``{{ need_type | label("need_type") }}``.

Bodies are plain text (no escaping); ``*.html`` templates are autoescaped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context

from fivelink_notifier.channels.base import Role
from fivelink_shared.events import (
    AssignmentProposed,
    AssignmentWithdrawn,
    EscalationRaised,
    Language,
)

TEMPLATE_DIR = Path(__file__).parent / "templates"
FALLBACK: tuple[Language, ...] = (Language.ZH, Language.EN)
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


@cache
def labels(language: Language) -> dict[str, dict[str, str]]:
    """The label tables of one language (empty if the language has none)."""
    path = TEMPLATE_DIR / language.value / "labels.json"
    if not path.exists():
        return {}
    data: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def label(language: Language, kind: str, value: object) -> str:
    """Localised label of ``value`` in table ``kind``; falls back to zh, en, then the raw value."""
    key = getattr(value, "value", value)
    for lang in (language, *FALLBACK):
        found = labels(lang).get(kind, {}).get(str(key))
        if found:
            return found
    return str(key)


@pass_context
def _label_filter(ctx: Context, value: object, kind: str) -> str:
    return label(Language(ctx.get("language", Language.ZH)), kind, value)


def _qty(value: float) -> str:
    """3.0 -> "3", 2.5 -> "2.5", 1200 -> "1200"."""
    return f"{value:g}" if abs(value) < 1e15 else str(value)


def _when(value: datetime | None) -> str:
    """Local (Inner Mongolia, UTC+8) date and time, minutes precision."""
    if value is None:
        return ""
    return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html", "htm", "xml"], default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["label"] = _label_filter
    env.filters["qty"] = _qty
    env.filters["when"] = _when
    return env


def template_language(template_name: str, language: Language | str) -> Language:
    """The language whose file will be used for ``template_name`` (after fallback)."""
    wanted = Language(language)
    for lang in dict.fromkeys((wanted, *FALLBACK)):
        if (TEMPLATE_DIR / lang.value / f"{template_name}.txt").is_file():
            return lang
    raise TemplateNotFound(template_name)


def render(
    template_name: str, language: Language | str, context: Mapping[str, Any]
) -> tuple[str, str]:
    """Render ``(subject, body)`` of a template in a language, with zh→en fallback.

    The ``language`` variable in the context is set to the language actually rendered, so the
    labels match the text around them.
    """
    lang = template_language(template_name, language)
    template = environment().get_template(f"{lang.value}/{template_name}.txt")
    ctx = template.new_context({**context, "language": lang})
    subject = "".join(template.blocks["subject"](ctx)).strip()
    body = "".join(template.blocks["body"](ctx)).strip() + "\n"
    return " ".join(subject.split()), body


def render_email_html(subject: str, body: str, links: Mapping[str, str], language: str) -> str:
    """HTML alternative of a plain-text message for e-mail; everything is autoescaped."""
    template = environment().get_template("email.html")
    return template.render(subject=subject, body=body, links=links, language=language)


# --- contexts built from events; these decide what each role may see -----------------------


def assignment_context(
    event: AssignmentProposed,
    role: Role,
    links: Mapping[str, str] | None = None,
    expected_by: datetime | None = None,
    deadline: datetime | None = None,
) -> dict[str, Any]:
    """Template context for ``assignment_proposed.<role>``.

    The charity context is a de-identified need card: it never carries person_ref, case_id,
    line_id or worker_id, so no template mistake can leak them.
    """
    card: dict[str, Any] = {
        "assignment_id": event.assignment_id,
        "need_type": event.need_type,
        "quantity": event.quantity,
        "unit": event.unit,
        "urgency": event.urgency,
        "county": event.region.county,
        "community": event.region.community,
        "links": dict(links or {}),
        "deadline": deadline,
    }
    if role is Role.CHARITY:
        return card
    if role is Role.BENEFICIARY:
        return {**card, "county": "", "community": "", "expected_by": expected_by}
    return {
        **card,
        "case_id": event.case_id,
        "line_id": event.line_id,
        "township": event.region.township,
        "offer_kind": event.offer_kind,
    }


def withdrawn_context(event: AssignmentWithdrawn, role: Role) -> dict[str, Any]:
    """Context for ``assignment_withdrawn``; case id only for social workers."""
    ctx: dict[str, Any] = {
        "assignment_id": event.assignment_id,
        "reason": event.reason,
        "role": role,
        "case_id": event.case_id if role is Role.SOCIAL_WORKER else "",
    }
    return ctx


def escalation_context(event: EscalationRaised, dashboard_url: str = "") -> dict[str, Any]:
    """Context for ``escalation_raised`` (supervisors at community/township/county level)."""
    return {
        "case_id": event.case_id,
        "line_id": event.line_id,
        "need_type": event.need_type,
        "urgency": event.urgency,
        "level": event.level,
        "reason": event.reason,
        "waiting_hours": event.waiting_hours,
        "county": event.region.county,
        "township": event.region.township,
        "community": event.region.community,
        "dashboard_url": dashboard_url,
    }


def reminder_context(
    event: AssignmentProposed,
    role: Role,
    links: Mapping[str, str] | None = None,
    deadline: datetime | None = None,
) -> dict[str, Any]:
    """Context for the SLA ``reminder``: the same facts (and limits) as the proposal."""
    return assignment_context(event, role, links, deadline=deadline)
