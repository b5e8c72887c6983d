"""Offers: money with earmarks, goods with stock and expiry, people's time."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fivelink_shared.events import (
    Earmarks,
    GeoPoint,
    Language,
    NeedType,
    OfferKind,
    OfferPublished,
    PseudoId,
    Region,
)


class OfferCreate(BaseModel):
    """Body of ``POST /v1/offers``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    org_id: PseudoId
    kind: OfferKind
    region: Region
    location: GeoPoint | None = None
    need_types: tuple[NeedType, ...] = Field(min_length=1)
    quantity: float = Field(gt=0, le=100_000_000)
    unit: str = Field(min_length=1, max_length=16, examples=["CNY", "kg", "visit"])
    item: str = Field(default="", max_length=64)
    valid_until: datetime | None = None
    delivery_radius_km: float | None = Field(default=None, ge=0, le=2000)
    earmarks: Earmarks = Earmarks()
    worker_id: PseudoId | None = None
    skills: tuple[str, ...] = ()
    languages: tuple[Language, ...] = ()
    caseload_cap: int | None = Field(default=None, ge=1, le=200)

    @model_validator(mode="after")
    def _kind_fields(self) -> Self:
        if self.kind is OfferKind.PEOPLE and not self.worker_id:
            raise ValueError("a people offer needs worker_id (the social worker or volunteer)")
        if self.kind is OfferKind.GOODS and not self.item:
            raise ValueError("a goods offer needs item (what is given)")
        return self


def offer_id_for(idempotency_key: str) -> str:
    return "o-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]


def published_event(
    *, offer_id: str, revision: int, body: OfferCreate, correlation_id: str
) -> OfferPublished:
    return OfferPublished(
        county=body.region.county,
        correlation_id=correlation_id,
        offer_id=offer_id,
        revision=revision,
        **body.model_dump(),
    )
