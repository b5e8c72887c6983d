"""Who may do what: roles, region scopes and the access policy (pure, no I/O).

- social_worker: cases, personal data and signals inside their region (county, and the
  township / community when their token names one); reads offers in their region.
- supervisor: the same over their county (or township / community, for station heads).
- charity: publishes and manages only its own organisation's offers; sees need *cards*
  (de-identified: no case id, person ref, categories or community).
- ops: system health only (need cards for unmet-need checks, no cases or personal data).
- admin: everything.

``check(principal, action, region=..., org_id=...)`` raises ``Forbidden`` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fivelink_shared.events import Region


class Role(StrEnum):
    SOCIAL_WORKER = "social_worker"
    CHARITY = "charity"
    SUPERVISOR = "supervisor"
    OPS = "ops"
    ADMIN = "admin"


class Action(StrEnum):
    CASE_WRITE = "case.write"  # open, update, close cases and lines
    CASE_READ = "case.read"  # pseudonymous case view, history
    PERSONAL_READ = "personal.read"  # decrypted name / ID number / phone / address
    CARD_READ = "card.read"  # de-identified need cards
    OFFER_WRITE = "offer.write"
    OFFER_READ = "offer.read"
    SIGNALS_INGEST = "signals.ingest"


_CASEWORK = frozenset(
    {
        Action.CASE_WRITE,
        Action.CASE_READ,
        Action.PERSONAL_READ,
        Action.CARD_READ,
        Action.OFFER_READ,
        Action.SIGNALS_INGEST,
    }
)

GRANTS: dict[Role, frozenset[Action]] = {
    Role.SOCIAL_WORKER: _CASEWORK,
    Role.SUPERVISOR: _CASEWORK,
    Role.CHARITY: frozenset({Action.CARD_READ, Action.OFFER_WRITE, Action.OFFER_READ}),
    Role.OPS: frozenset({Action.CARD_READ}),
    Role.ADMIN: frozenset(Action),
}

# Roles whose data access is limited to a region, and roles limited to their organisation.
REGIONAL = frozenset({Role.SOCIAL_WORKER, Role.SUPERVISOR})
ORGANISATIONAL = frozenset({Role.CHARITY})


class Forbidden(Exception):
    """The principal may not do this; the message says why (never echoes data)."""


@dataclass(frozen=True)
class Principal:
    """An authenticated caller, whatever issued the token (our JWTs or an OIDC provider)."""

    sub: str
    role: Role
    county: str = ""
    township: str = ""
    community: str = ""
    org_id: str = ""

    def covers(self, region: Region) -> bool:
        """Whether ``region`` lies inside this principal's own region."""
        if self.role not in REGIONAL:
            return self.role is Role.ADMIN
        if not self.county or region.county != self.county:
            return False
        if self.township and region.township != self.township:
            return False
        return not self.community or region.community == self.community

    def region_filter(self) -> dict[str, str]:
        """The region fields every listing must match (empty: no region limit)."""
        if self.role not in REGIONAL:
            return {}
        levels = {"county": self.county, "township": self.township, "community": self.community}
        return {k: v for k, v in levels.items() if v}


def may(principal: Principal, action: Action) -> bool:
    return action in GRANTS[principal.role]


def check(
    principal: Principal,
    action: Action,
    *,
    region: Region | None = None,
    org_id: str | None = None,
) -> None:
    """Raise ``Forbidden`` unless the principal may do ``action`` on this region / org."""
    if not may(principal, action):
        raise Forbidden(f"role {principal.role.value} may not {action.value}")
    if principal.role in REGIONAL and region is not None and not principal.covers(region):
        raise Forbidden("outside your region")
    if principal.role in ORGANISATIONAL and org_id is not None and org_id != principal.org_id:
        raise Forbidden("not your organisation's offer")
