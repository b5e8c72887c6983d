"""Cases: one plan per person (一人一策) made of need lines.

The request model carries personal data (name, ID number, phone, address); ``Case`` keeps it
apart so that only the pseudonymous part ever becomes an event.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from fivelink_intake.discovery.identity import (
    id_ref,
    normalize_id_number,
    normalize_name,
    normalize_phone,
    phone_name_ref,
)
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

    @field_validator("id_number")
    @classmethod
    def _valid_id_number(cls, value: str | None) -> str | None:
        return normalize_id_number(value) if value else None


class PersonUpdate(Strict):
    """Changes to the person; absent fields stay as they are."""

    name: str | None = Field(default=None, max_length=64)
    id_number: str | None = Field(default=None, pattern=r"^\d{17}[\dXx]$")
    phone: str | None = Field(default=None, pattern=r"^\+?[\d -]{6,20}$")
    address: str | None = Field(default=None, max_length=200)
    categories: tuple[Category, ...] | None = None
    language: Language | None = None
    consent: Consent | None = None

    @field_validator("id_number")
    @classmethod
    def _valid_id_number(cls, value: str | None) -> str | None:
        return normalize_id_number(value) if value else None

    def identifiers(self) -> dict[str, str | None]:
        return self.model_dump(include={"name", "id_number", "phone", "address"})


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


class CaseUpdate(Strict):
    """Body of ``PATCH /v1/needs/{case_id}``. The region is fixed: close and reopen to move."""

    person: PersonUpdate | None = None
    location: GeoPoint | None = None
    expected_revision: int | None = Field(
        default=None, ge=1, description="Refuse (409) unless the case is at this revision"
    )


class LineUpdate(Strict):
    """Body of ``PATCH /v1/needs/{case_id}/lines/{line_id}``; absent fields stay."""

    quantity: float | None = Field(default=None, gt=0, le=10_000_000)
    unit: str | None = Field(default=None, min_length=1, max_length=16)
    urgency: Urgency | None = None
    deadline: datetime | None = None
    skills: tuple[str, ...] | None = None
    languages: tuple[Language, ...] | None = None
    bundle: str | None = Field(default=None, max_length=32)
    expected_revision: int | None = Field(default=None, ge=1)


class CloseRequest(Strict):
    """Body of the close endpoints (case or line)."""

    reason: str = Field(default="resolved", min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")


def identity_refs(key: bytes, identifiers: dict[str, str | None]) -> list[str]:
    """The discovery refs of a person: of the ID number, and of phone + name (if both)."""
    refs = []
    if identifiers.get("id_number"):
        refs.append(id_ref(normalize_id_number(str(identifiers["id_number"])), key))
    phone, name = identifiers.get("phone"), identifiers.get("name")
    if phone and name:
        try:
            refs.append(phone_name_ref(normalize_phone(phone), normalize_name(name), key))
        except ValueError:
            pass  # a landline the discovery rules do not accept: no phone+name ref
    return refs


def person_ref(key: bytes, person: PersonIn, fallback: str) -> str:
    """Pseudonymous, stable ref, shared with discovery: the ID number's ref, else phone+name's,
    else a keyed hash of the fallback (the case id) for a person known by no identifier."""
    refs = identity_refs(key, person.model_dump(include={"name", "id_number", "phone"}))
    if refs:
        return refs[0]
    return "p-" + hmac.new(key, fallback.encode(), hashlib.sha256).hexdigest()[:32]


def case_id_for(idempotency_key: str) -> str:
    """Case id derived from the idempotency key, so a retried POST cannot make a second case."""
    return "c-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]


def line_ids(case_id: str, count: int, start: int = 1) -> list[str]:
    return [f"{case_id}-l{i + start}" for i in range(count)]


def revised(current: dict[str, Any], *, revision: int, **changes: Any) -> NeedOpened:
    """The next ``NeedOpened`` of a case from its stored state plus changes."""
    return NeedOpened.model_validate({**current, **changes, "revision": revision})


def add_line(lines: Sequence[NeedLine], line_id: str, line: NeedLineIn) -> tuple[NeedLine, ...]:
    return (*lines, NeedLine(line_id=line_id, **line.model_dump()))


def update_line(
    lines: Sequence[NeedLine], line_id: str, update: LineUpdate
) -> tuple[NeedLine, ...]:
    """Apply ``update`` to one open line; ``LookupError`` if no open line has that id."""
    if line_id not in {line.line_id for line in lines}:
        raise LookupError(f"no open line {line_id}")
    changes = update.model_dump(exclude_unset=True, exclude={"expected_revision"})
    return tuple(
        NeedLine.model_validate({**line.model_dump(), **changes})
        if line.line_id == line_id
        else line
        for line in lines
    )


def remove_line(lines: Sequence[NeedLine], line_id: str) -> tuple[NeedLine, ...]:
    if line_id not in {line.line_id for line in lines}:
        raise LookupError(f"no open line {line_id}")
    return tuple(line for line in lines if line.line_id != line_id)


def need_card(case: dict[str, Any], card_id: str, status: str) -> dict[str, Any]:
    """A de-identified need card for charities: no case id, person ref, categories, place."""
    region = case.get("region", {})
    return {
        "card_id": card_id,
        "status": status,
        "county": case["county"],
        "township": region.get("township", ""),
        "opened_at": case.get("opened_at"),
        "lines": [
            {k: line.get(k) for k in ("need_type", "quantity", "unit", "urgency", "deadline")}
            for line in case.get("lines", [])
        ],
    }


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
