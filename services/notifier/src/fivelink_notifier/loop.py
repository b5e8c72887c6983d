"""The closed loop, pure rules only: which response may follow which state, which links each
role gets, when a follow-up is due, and the de-identified traceability record.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fivelink_notifier.channels.base import Role
from fivelink_shared.events import ResponseKind, Urgency

#: The states an assignment may be in when each response arrives (same as the matcher's).
TRANSITIONS: dict[ResponseKind, tuple[str, ...]] = {
    ResponseKind.ACCEPTED: ("proposed",),
    ResponseKind.DECLINED: ("proposed", "accepted"),
    ResponseKind.DELIVERED: ("proposed", "accepted"),
    ResponseKind.CONFIRMED: ("accepted", "delivered"),
}

#: The response links each role gets in a proposal.
ACTIONS: dict[Role, tuple[ResponseKind, ...]] = {
    Role.SOCIAL_WORKER: (
        ResponseKind.ACCEPTED,
        ResponseKind.DECLINED,
        ResponseKind.DELIVERED,
        ResponseKind.CONFIRMED,
    ),
    Role.CHARITY: (ResponseKind.ACCEPTED, ResponseKind.DECLINED, ResponseKind.DELIVERED),
    Role.BENEFICIARY: (ResponseKind.CONFIRMED,),
}

#: Links in a reminder, by the state the assignment is waiting in.
REMINDER_ACTIONS: dict[str, tuple[ResponseKind, ...]] = {
    "proposed": (ResponseKind.ACCEPTED, ResponseKind.DECLINED),
    "accepted": (ResponseKind.DELIVERED,),
}


class TransitionError(ValueError):
    """The response does not fit the assignment's current state."""


def check_transition(current: str, response: ResponseKind) -> bool:
    """True if ``response`` moves the assignment on; False if it is a replay of the same state.

    Raises :class:`TransitionError` if the response is not allowed from ``current``.
    """
    if current == response.value:
        return False
    if current not in TRANSITIONS[response]:
        raise TransitionError(f"cannot record {response.value} on a {current} assignment")
    return True


def links_for(role: Role, status: str = "proposed") -> tuple[ResponseKind, ...]:
    """Actions a role may take from ``status`` (reminders offer only the next step)."""
    allowed = ACTIONS.get(role, ())
    if status == "proposed":
        return allowed
    nxt = REMINDER_ACTIONS.get(status, ())
    return tuple(a for a in allowed if a in nxt)


@dataclass(frozen=True)
class Sla:
    """Follow-up delays per urgency: remind, then release an unanswered proposal."""

    remind_after: Mapping[Urgency, timedelta]
    release_after: Mapping[Urgency, timedelta]
    delivery_remind_after: Mapping[Urgency, timedelta]

    @classmethod
    def from_seconds(
        cls,
        remind: Mapping[Urgency, float],
        release: Mapping[Urgency, float],
        delivery: Mapping[Urgency, float],
    ) -> Sla:
        def conv(m: Mapping[Urgency, float]) -> dict[Urgency, timedelta]:
            return {Urgency(k): timedelta(seconds=v) for k, v in m.items()}

        return cls(conv(remind), conv(release), conv(delivery))


def need_ref(secret: str, line_id: str) -> str:
    """A stable, non-reversible reference to a need line for charities' reports."""
    mac = hmac.new(secret.encode(), b"fivelink-trace." + line_id.encode(), hashlib.sha256)
    return "n-" + mac.hexdigest()[:16]


def traceability_record(
    assignment: Mapping[str, Any], secret: str, confirmed_at: datetime
) -> dict[str, Any]:
    """Which donation reached which need line, de-identified: no case, person or line id."""
    proposal = assignment["event"]
    region = proposal.get("region", {})
    return {
        "_id": assignment["_id"],
        "org_id": proposal["org_id"],
        "offer_id": proposal["offer_id"],
        "offer_kind": proposal["offer_kind"],
        "need_ref": need_ref(secret, proposal["line_id"]),
        "need_type": proposal["need_type"],
        "quantity": proposal["quantity"],
        "unit": proposal["unit"],
        "county": region.get("county", proposal.get("county", "")),
        "community": region.get("community", ""),
        "accepted_at": assignment.get("accepted_at"),
        "delivered_at": assignment.get("delivered_at"),
        "confirmed_at": confirmed_at,
    }


def totals(records: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Quantity reached per unit, for a charity's summary."""
    out: dict[str, float] = {}
    for r in records:
        out[str(r["unit"])] = out.get(str(r["unit"]), 0.0) + float(r["quantity"])
    return out
