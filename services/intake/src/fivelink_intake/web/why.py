"""Why the matcher proposed an assignment, in the page language.

The matcher's own `summary` is English text for the API and logs. The pages build their
reasons from the structured part of the explanation instead: the score terms (priority,
travel, continuity, waiting, lines still waiting for the offer) and the binding
constraints, each with a label in `messages/<lang>.json`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fivelink_intake.web.i18n import Translator

#: Binding constraints with a label of their own (`binding.<name>`); `bundle:<id>` and
#: `earmark:<kind>` are labelled by their prefix and kind.
BINDINGS = {
    "stock", "hours", "caseload", "language", "skill", "expiry", "radius", "partial", "fixed",
    "earmark:category", "earmark:need_type", "earmark:county", "earmark:community",
}  # fmt: skip


def terms_of(explanation: Mapping[str, Any]) -> dict[str, float]:
    """`{"terms": [{"name": ..., "value": ...}]}` as a name -> value mapping."""
    return {
        str(term["name"]): float(term["value"])
        for term in explanation.get("terms", ())
        if "name" in term and "value" in term
    }


def reasons(terms: Mapping[str, float], t: Translator) -> list[str]:
    """Short phrases from the score terms, most telling first; nothing for absent terms."""
    out: list[str] = []
    if "priority" in terms:
        out.append(t("why.priority", value=f"{terms['priority']:.2f}"))
    if terms.get("travel_km", 0.0) > 0:
        out.append(t("why.travel", km=f"{terms['travel_km']:.1f}"))
    if terms.get("continuity", 0.0) > 0:
        out.append(t("why.continuity"))
    if terms.get("waiting_days", 0.0) >= 1:
        out.append(t("why.waiting", days=f"{terms['waiting_days']:.0f}"))
    if terms.get("displaced", 0.0) > 0:
        out.append(t("why.displaced", n=f"{terms['displaced']:.0f}"))
    if 0 < terms.get("fraction", 1.0) < 1:
        out.append(t("why.fraction", pct=f"{terms['fraction'] * 100:.0f}"))
    return out


def bindings(binding: Sequence[str], t: Translator) -> list[str]:
    """Labels of the binding constraints; an unknown one is shown as the matcher named it."""
    return [_binding(b, t) for b in binding]


def _binding(name: str, t: Translator) -> str:
    if name in BINDINGS:
        return t(f"binding.{name.replace(':', '_')}")
    if name.startswith("bundle:"):
        return t("binding.bundle")
    return name


def joined(parts: Iterable[str]) -> str:
    return " · ".join(parts)
