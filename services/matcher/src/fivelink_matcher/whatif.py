"""What a what-if solution would change against the county's current assignments."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fivelink_matcher.adapters.store import FIXED
from fivelink_matcher.domain.model import Solution

TOLERANCE = 1e-6


def changes(current: Iterable[dict[str, Any]], solution: Solution) -> dict[str, Any]:
    """`proposed`: new or changed (line, offer) quantities; `withdrawn`: current proposals the
    what-if drops; `kept`: how many stay as they are. Accepted assignments never move."""
    now = {
        (d["line_id"], d["offer_id"]): float(d["quantity"])
        for d in current
        if d.get("status") == "proposed" or d.get("status") in FIXED
    }
    after = {(a.line_id, a.offer_id): a for a in solution.assignments}
    proposed = [
        {
            "line_id": a.line_id,
            "case_id": a.case_id,
            "offer_id": a.offer_id,
            "quantity": a.quantity,
            "before": now.get(key, 0.0),
            "summary": a.explanation.summary,
        }
        for key, a in sorted(after.items())
        if abs(now.get(key, 0.0) - a.quantity) > TOLERANCE
    ]
    withdrawn = [
        {"line_id": line, "offer_id": offer, "quantity": q}
        for (line, offer), q in sorted(now.items())
        if (line, offer) not in after
    ]
    kept = sum(
        1 for key, q in now.items() if key in after and abs(after[key].quantity - q) <= TOLERANCE
    )
    return {"proposed": proposed, "withdrawn": withdrawn, "kept": kept}
