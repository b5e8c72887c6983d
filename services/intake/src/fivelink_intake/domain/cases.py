"""Cases: one plan per person (一人一策) made of need lines.

The request model carries personal data (name, ID number, phone, address); ``Case`` keeps it
apart so that only the pseudonymous part ever becomes an event.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fivelink_shared.events import (
    Category,
    GeoPoint,
    Language,
    NeedClosed,
    NeedLine,
    NeedOpened,
    NeedType,
    Region,
    Urgency,
    utc_now,
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Consent(Strict):
    """Consent is a hard gate: without it nothing about the person is shared."""

    given_by: Annotated[str, Field(min_length=1, max_length=32, examples=["self", "guardian"])]
    given_at: datetime
    purposes: tuple[str, ...] = Field(
        min_length=1,
        examples=[["matching", "notification"]],
        description="What the person agreed to; `matching` is required to open a case",
    )

    @model_validator(mode="after")
    def _matching_required(self) -> Self:
        if "matching" not in self.purposes:
            raise ValueError("consent must include the purpose 'matching'")
        return self


class PersonIn(Strict):
    """Who the case is for. Identifiers stay in intake, encrypted; they never go on Kafka."""

    name: str | None = Field(default=None, max_length=64)
    id_number: str | None = Field(default=None, pattern=r"^\d{17}[\dXx]$")
    phone: str | None = Field(default=None, pattern=r"^\+?[\d -]{6,20}$")
    address: str | None = Field(default=None, max_length=200)
    categories: tuple[Category, ...] = ()
    language: Language = Language.ZH
    consent: Consent


class NeedLineIn(Strict):
    need_type: NeedType
    quantity: float = Field(gt=0, le=10_000_000)
    unit: str = Field(min_length=1, max_length=16, examples=["CNY", "kg", "visit"])
    urgency: Urgency = Urgency.NORMAL
    deadline: datetime | None = None
    skills: tuple[str, ...] = ()
    languages: tuple[Language, ...] = ()
    bundle: str | None = Field(default=None, max_length=32)


class CaseCreate(Strict):
    """Body of ``POST /v1/needs``: a person, where they are, and what they need."""

    region: Region
    location: GeoPoint | None = Field(default=None, description="Community, not home, coords")
    person: PersonIn
    lines: list[NeedLineIn] = Field(min_length=1, max_length=50)
    source: str = Field(default="social_worker", max_length=32)


def person_ref(key: bytes, person: PersonIn, fallback: str) -> str:
    """Pseudonymous, stable ref: keyed HMAC of the ID number, else of the fallback."""
    basis = (person.id_number or "").upper() or fallback
    return "p-" + hmac.new(key, basis.encode(), hashlib.sha256).hexdigest()[:20]


def case_id_for(idempotency_key: str) -> str:
    """Case id derived from the idempotency key, so a retried POST cannot make a second case."""
    return "c-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]


def line_ids(case_id: str, count: int) -> list[str]:
    return [f"{case_id}-l{i + 1}" for i in range(count)]


def opened_event(
    *,
    case_id: str,
    ref: str,
    revision: int,
    body: CaseCreate,
    opened_at: datetime,
    correlation_id: str,
    rule_id: str | None = None,
) -> NeedOpened:
    """The event for a case: pseudonymous ids, region codes and need lines only."""
    lines = tuple(
        NeedLine(line_id=line_id, **line.model_dump())
        for line_id, line in zip(line_ids(case_id, len(body.lines)), body.lines, strict=True)
    )
    return NeedOpened(
        county=body.region.county,
        correlation_id=correlation_id,
        case_id=case_id,
        person_ref=ref,
        revision=revision,
        region=body.region,
        location=body.location,
        categories=body.person.categories,
        language=body.person.language,
        opened_at=opened_at,
        lines=lines,
        source=body.source,
        rule_id=rule_id,
    )


def closed_event(
    *, case_id: str, county: str, revision: int, reason: str, correlation_id: str
) -> NeedClosed:
    return NeedClosed(
        county=county,
        case_id=case_id,
        revision=revision,
        reason=reason,
        correlation_id=correlation_id,
        occurred_at=utc_now(),
    )
