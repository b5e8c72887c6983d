"""Offers: money with earmarks, goods with stock and expiry, people's time."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fivelink_shared.events import (
    Earmarks,
    GeoPoint,
    Language,
    NeedType,
    OfferKind,
    OfferPublished,
    OfferWithdrawn,
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


class OfferUpdate(BaseModel):
    """Body of ``PATCH /v1/offers/{offer_id}``: absent fields stay; kind and org are fixed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    location: GeoPoint | None = None
    need_types: tuple[NeedType, ...] | None = Field(default=None, min_length=1)
    quantity: float | None = Field(default=None, gt=0, le=100_000_000)
    unit: str | None = Field(default=None, min_length=1, max_length=16)
    item: str | None = Field(default=None, max_length=64)
    valid_until: datetime | None = None
    delivery_radius_km: float | None = Field(default=None, ge=0, le=2000)
    earmarks: Earmarks | None = None
    skills: tuple[str, ...] | None = None
    languages: tuple[Language, ...] | None = None
    caseload_cap: int | None = Field(default=None, ge=1, le=200)
    expected_revision: int | None = Field(default=None, ge=1)


class StockCorrection(BaseModel):
    """Body of ``POST /v1/offers/{offer_id}/stock``: a change (delta) or a count (quantity)."""

    model_config = ConfigDict(extra="forbid")

    delta: float | None = Field(default=None, ge=-100_000_000, le=100_000_000)
    quantity: float | None = Field(default=None, ge=0, le=100_000_000)
    reason: str = Field(default="stock_count", min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.delta is None) == (self.quantity is None):
            raise ValueError("give exactly one of delta or quantity")
        return self

    def apply(self, current: float) -> float:
        """New stock; ``ValueError`` if it would go below zero (nothing is double-given)."""
        new = current + self.delta if self.delta is not None else float(self.quantity or 0)
        if new < 0:
            raise ValueError("stock would go below zero")
        return round(new, 6)


class WithdrawRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="withdrawn", min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")


def updated_body(body: dict[str, Any], update: OfferUpdate) -> OfferCreate:
    """The offer after an update, validated as a whole (kind rules still hold)."""
    changes = update.model_dump(exclude_unset=True, exclude={"expected_revision"})
    return OfferCreate.model_validate({**body, **changes})


def stock_event(
    *, current: dict[str, Any], offer_id: str, revision: int, quantity: float, correlation_id: str
) -> OfferPublished:
    """A revised ``OfferPublished`` with the corrected stock (may be 0: nothing left)."""
    return OfferPublished(
        county=current["region"]["county"],
        correlation_id=correlation_id,
        offer_id=offer_id,
        revision=revision,
        **{**current, "quantity": quantity},
    )


def withdrawn_event(
    *, offer_id: str, county: str, revision: int, correlation_id: str
) -> OfferWithdrawn:
    return OfferWithdrawn(
        county=county, offer_id=offer_id, revision=revision, correlation_id=correlation_id
    )
