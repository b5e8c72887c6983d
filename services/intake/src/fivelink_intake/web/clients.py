"""Small typed clients of the matcher's and the notifier's HTTP APIs, for the pages.

Every call is time-boxed; a service that is down or slow raises ``Unavailable`` and the
page says so instead of failing as a whole.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from fivelink_intake.web.why import terms_of
from fivelink_shared.events import DeclineReason, Region, ResponseKind


class Unavailable(Exception):
    """The other service did not answer in time, or answered with an error."""


class Refused(Exception):
    """The other service refused the request (4xx); the message is its reason."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


class Assignment(BaseModel):
    """The matcher's view of one assignment, flattened for the pages."""

    model_config = ConfigDict(extra="ignore")

    assignment_id: str
    county: str
    case_id: str
    line_id: str
    offer_id: str
    org_id: str
    worker_id: str | None = None
    quantity: float
    status: str
    need_type: str = ""
    unit: str = ""
    urgency: str = "normal"
    offer_kind: str = ""
    region: Region
    terms: dict[str, float] = Field(default_factory=dict)  # shown with why.py, not the summary
    solver: str = ""
    binding: tuple[str, ...] = ()
    decline_reason: str | None = None

    @classmethod
    def from_api(cls, doc: dict[str, Any]) -> Assignment:
        event = doc.get("event", {})
        explanation = event.get("explanation", {})
        return cls.model_validate(
            {
                **doc,
                "need_type": event.get("need_type", ""),
                "unit": event.get("unit", ""),
                "urgency": event.get("urgency", "normal"),
                "offer_kind": event.get("offer_kind", ""),
                "region": event.get("region") or {"county": doc["county"]},
                "terms": terms_of(explanation),
                "solver": explanation.get("solver", ""),
                "binding": tuple(explanation.get("binding", ())),
            }
        )


class Unmet(BaseModel):
    model_config = ConfigDict(extra="ignore")

    line_id: str
    case_id: str
    reason: str
    detail: str = ""
    waiting_hours: float = 0.0
    remaining: float = 0.0
    urgency: str = "normal"


class Escalation(BaseModel):
    """An unmet line the matcher escalated past its SLA (社区吹哨), at one level."""

    model_config = ConfigDict(extra="ignore")

    line_id: str
    case_id: str
    level: str
    reason: str
    urgency: str = "normal"
    waiting_hours: float = 0.0


class WhatIfResult(BaseModel):
    model_config = ConfigDict(extra="ignore")

    solver_path: str
    coverage: float | None = None
    objective: float | None = None
    assignments: list[dict[str, Any]] = Field(default_factory=list)
    unmet: list[dict[str, Any]] = Field(default_factory=list)


class InboxMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    item_id: str
    subject: str
    body: str
    urgency: str = "normal"
    created_at: str = ""
    read_at: str | None = None


async def _call(http: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        response = await http.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise Unavailable(type(exc).__name__) from exc
    if response.status_code >= 500:
        raise Unavailable(f"HTTP {response.status_code}")
    if response.status_code >= 400:
        try:
            detail = str(response.json().get("detail", ""))
        except ValueError:
            detail = response.text[:200]
        raise Refused(response.status_code, detail)
    return response


class MatcherClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self.http = http
        self.base = base_url.rstrip("/")

    async def assignments(self, county: str) -> list[Assignment]:
        response = await _call(
            self.http, "GET", f"{self.base}/v1/assignments", params={"county": county}
        )
        return [Assignment.from_api(d) for d in response.json()]

    async def unmet(self, county: str) -> list[Unmet]:
        response = await _call(self.http, "GET", f"{self.base}/v1/unmet", params={"county": county})
        return [Unmet.model_validate(d) for d in response.json()]

    async def escalations(self, county: str) -> list[Escalation]:
        response = await _call(
            self.http, "GET", f"{self.base}/v1/escalations", params={"county": county}
        )
        return [Escalation.model_validate(d) for d in response.json()]

    async def what_if(self, county: str, offers: list[dict[str, Any]]) -> WhatIfResult:
        response = await _call(
            self.http, "POST", f"{self.base}/v1/what-if", json={"county": county, "offers": offers}
        )
        return WhatIfResult.model_validate(response.json())


class NotifierClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str, service_token: str) -> None:
        self.http = http
        self.base = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {service_token}"}

    async def respond(
        self,
        assignment_id: str,
        response: ResponseKind,
        *,
        actor_role: str,
        party_id: str,
        reason: DeclineReason | None = None,
    ) -> dict[str, Any]:
        """Record accept / decline (with reason) / delivered / confirmed through the loop."""
        body: dict[str, Any] = {
            "assignment_id": assignment_id,
            "response": response.value,
            "actor_role": actor_role,
            "party_id": party_id,
        }
        if reason is not None:
            body["reason"] = reason.value
        result = await _call(
            self.http, "POST", f"{self.base}/v1/responses", json=body, headers=self.headers
        )
        payload: dict[str, Any] = result.json()
        return payload

    async def inbox(self, user_id: str) -> list[InboxMessage]:
        """The user's in-app messages; an empty list where the notifier has no inbox API."""
        try:
            result = await _call(
                self.http, "GET", f"{self.base}/v1/inbox/{user_id}", headers=self.headers
            )
        except Refused as exc:
            if exc.status == 404:
                return []
            raise
        return [InboxMessage.model_validate(d) for d in result.json()]
