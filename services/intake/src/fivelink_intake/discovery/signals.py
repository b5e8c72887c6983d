"""The Signal: one observation about one person from one source.

A signal is what a data feed, hotline operator, grid worker or the person themself reports:
a hospital bill, three months of utility arrears, a missed survival certification, an income
drop... It carries the person's identifiers (ID number, or phone + name) *only* so intake can
tell that two sources talk about the same person; they are normalised on validation, hidden
from ``repr`` and turned into a pseudonymous ``person_ref`` (see ``identity``) before anything
leaves intake.

``Signal.person_keys(key) -> (id_ref | None, phone_name_ref | None)`` gives the refs.
Naive timestamps are read as China Standard Time (UTC+8) and stored in UTC.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from fivelink_intake.discovery.identity import (
    id_ref,
    normalize_id_number,
    normalize_name,
    normalize_phone,
    phone_name_ref,
)
from fivelink_shared.events import Category, GeoPoint, Region

CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")

# GB/T 2260 province-level prefixes of mainland China.
PROVINCE_PREFIXES = frozenset(
    {
        *(f"{n}" for n in (*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47))),
        *(f"{n}" for n in (*range(50, 55), *range(61, 66))),
    }
)


class Source(StrEnum):
    """Who reported the signal."""

    GRID_VISIT = "grid_visit"  # 网格员走访
    HOTLINE = "hotline"  # 12345 / 民政热线
    SELF_REPORT = "self_report"  # 本人或家属自主申报
    CIVIL_AFFAIRS = "civil_affairs"  # 民政 (低保、特困、生存认证)
    MEDICAL_INSURANCE = "medical_insurance"  # 医保
    UTILITY = "utility"  # 水电气暖
    SCHOOL = "school"  # 教育部门 / 学校
    POVERTY_MONITORING = "poverty_monitoring"  # 防返贫监测


class SignalKind(StrEnum):
    """What was observed. ``value`` means something per kind, see ``VALUE_MEANING``."""

    HOSPITAL_BILL = "hospital_bill"
    UTILITY_ARREARS = "utility_arrears"
    MISSED_SURVIVAL_CERTIFICATION = "missed_survival_certification"
    INCOME_DROP = "income_drop"
    SCHOOL_ABSENCE = "school_absence"
    GRID_OBSERVATION = "grid_observation"
    SELF_ASSESSMENT = "self_assessment"
    CRISIS_CALL = "crisis_call"
    HOUSING_DAMAGE = "housing_damage"
    JOB_LOSS = "job_loss"


# kind -> (meaning of value, lowest allowed, highest allowed)
VALUE_MEANING: dict[SignalKind, tuple[str, float, float]] = {
    SignalKind.HOSPITAL_BILL: ("out-of-pocket amount, CNY", 0, 10_000_000),
    SignalKind.UTILITY_ARREARS: ("months in arrears", 0, 120),
    SignalKind.MISSED_SURVIVAL_CERTIFICATION: ("days overdue", 0, 3650),
    SignalKind.INCOME_DROP: ("per-capita income drop, percent", 0, 100),
    SignalKind.SCHOOL_ABSENCE: ("days absent in the reporting period", 0, 366),
    SignalKind.GRID_OBSERVATION: ("severity 0-5", 0, 5),
    SignalKind.SELF_ASSESSMENT: ("hardship score 0-10", 0, 10),
    SignalKind.CRISIS_CALL: ("severity 0-5", 0, 5),
    SignalKind.HOUSING_DAMAGE: ("severity 0-5", 0, 5),
    SignalKind.JOB_LOSS: ("months without work", 0, 120),
}


def _check_county(code: str) -> str:
    if code[:2] not in PROVINCE_PREFIXES:
        raise ValueError("county code has an unknown province prefix (GB/T 2260)")
    if code[4:] == "00":
        raise ValueError("county code ends in 00: that is a prefecture or province, not a county")
    return code


def _check_region(region: Region) -> Region:
    _check_county(region.county)
    if region.township.isdigit() and not region.township.startswith(region.county):
        raise ValueError("township code does not start with the county code")
    if (
        region.community.isdigit()
        and region.township.isdigit()
        and not region.community.startswith(region.township)
    ):
        raise ValueError("community code does not start with the township code")
    return region


CheckedRegion = Annotated[Region, AfterValidator(_check_region)]


class Signal(BaseModel):
    """One observation about one person. Identifiers are personal data: never log them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    signal_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    source: Source
    observed_at: datetime
    kind: SignalKind
    value: float | None = None
    region: CheckedRegion
    location: GeoPoint | None = None
    categories: tuple[Category, ...] = ()
    id_number: str | None = Field(default=None, repr=False)
    phone: str | None = Field(default=None, repr=False)
    name: str | None = Field(default=None, repr=False)

    @field_validator("observed_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            value = value.replace(tzinfo=CHINA_STANDARD_TIME)
        return value.astimezone(UTC)

    @field_validator("categories")
    @classmethod
    def _sorted_unique(cls, value: tuple[Category, ...]) -> tuple[Category, ...]:
        return tuple(sorted(set(value)))

    @field_validator("id_number")
    @classmethod
    def _id_number(cls, value: str | None) -> str | None:
        return normalize_id_number(value) if value and value.strip() else None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalize_phone(value) if value and value.strip() else None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return normalize_name(value) if value and value.strip() else None

    @field_validator("value")
    @classmethod
    def _value_in_range(cls, value: float | None, info: ValidationInfo) -> float | None:
        kind = info.data.get("kind")
        if value is None or kind is None:
            return value
        meaning, low, high = VALUE_MEANING[kind]
        if not math.isfinite(value) or not low <= value <= high:
            raise ValueError(f"value for {kind.value} ({meaning}) must be within {low:g}..{high:g}")
        return value

    @model_validator(mode="after")
    def _identified(self) -> Self:
        if self.id_number is None and (self.phone is None or self.name is None):
            raise ValueError(
                "a signal needs id_number, or both phone and name, to identify the person"
            )
        return self

    def person_keys(self, key: bytes) -> tuple[str | None, str | None]:
        """The pseudonymous refs of this signal's ID number and of its phone+name pair."""
        by_id = id_ref(self.id_number, key) if self.id_number else None
        by_phone = phone_name_ref(self.phone, self.name, key) if self.phone and self.name else None
        return by_id, by_phone
