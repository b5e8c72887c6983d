"""Versioned event schemas shared by all services.

Rules every event follows:
- frozen pydantic models, past-tense names, a ``type`` discriminator and a ``schema_version``;
- ``event_id`` (UUID), ``occurred_at`` (UTC), ``county`` (GB/T 2260 six-digit county code,
  also the Kafka key) and ``correlation_id`` (follows one case through every service);
- pseudonymous ids only: never a name, ID number, phone number or street address.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

SCHEMA_VERSION = 1

CountyCode = Annotated[
    str,
    Field(pattern=r"^\d{6}$", description="GB/T 2260 county code", examples=["150105"]),
]
PseudoId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Pseudonymous id; never a real-world identifier",
        examples=["p-7f3a9c"],
    ),
]


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class Language(StrEnum):
    ZH = "zh"
    MN = "mn"
    EN = "en"


class Category(StrEnum):
    """Vulnerability categories of a person (civil-affairs categories)."""

    EXTREME_POVERTY = "extreme_poverty"  # 特困
    MINIMUM_LIVING = "minimum_living"  # 低保
    MARGINAL = "marginal"  # 低边
    ELDERLY_ALONE = "elderly_alone"  # 独居老人
    LEFT_BEHIND_ELDERLY = "left_behind_elderly"  # 留守老人
    LEFT_BEHIND_CHILD = "left_behind_child"  # 留守儿童
    DISABLED = "disabled"  # 残疾人
    VETERAN = "veteran"  # 困难退役军人
    RELEASED_PRISONER = "released_prisoner"  # 刑满释放人员
    MENTAL_DISORDER = "mental_disorder"  # 严重精神障碍患者
    MINOR_WITHOUT_GUARDIAN = "minor_without_guardian"  # 事实无人抚养儿童
    DISASTER_AFFECTED = "disaster_affected"  # 受灾群众
    POVERTY_RETURN_RISK = "poverty_return_risk"  # 返贫风险


class NeedType(StrEnum):
    LIVING_AID = "living_aid"
    FOOD = "food"
    MEDICAL_AID = "medical_aid"
    PSYCHOLOGICAL_SUPPORT = "psychological_support"
    CRISIS_INTERVENTION = "crisis_intervention"
    LEGAL_AID = "legal_aid"
    TEMPORARY_GUARDIANSHIP = "temporary_guardianship"
    HOME_CARE_VISIT = "home_care_visit"
    SKILLS_TRAINING = "skills_training"
    EDUCATION_AID = "education_aid"
    HOUSING_REPAIR = "housing_repair"
    VERIFICATION_VISIT = "verification_visit"


class Urgency(StrEnum):
    CRISIS = "crisis"
    HIGH = "high"
    NORMAL = "normal"


class OfferKind(StrEnum):
    MONEY = "money"
    GOODS = "goods"
    PEOPLE = "people"


class ResponseKind(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    DELIVERED = "delivered"
    CONFIRMED = "confirmed"


class DeclineReason(StrEnum):
    TOO_FAR = "too_far"
    NO_CAPACITY = "no_capacity"
    NOT_SUITABLE = "not_suitable"
    PERSON_UNREACHABLE = "person_unreachable"
    OTHER = "other"
    NO_RESPONSE = "no_response"  # released by the notifier after the SLA; not chosen by people


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Region(Frozen):
    """Where a person or resource is: county code plus the finer levels (codes, not addresses)."""

    county: CountyCode
    township: str = Field(default="", max_length=32, examples=["150105001"])
    community: str = Field(default="", max_length=32, examples=["150105001002"])
    grid: str = Field(default="", max_length=32, examples=["g-07"])


class GeoPoint(Frozen):
    """Approximate coordinates of the community (never a home address)."""

    lat: float = Field(ge=-90, le=90, examples=[40.84])
    lon: float = Field(ge=-180, le=180, examples=[111.75])


class EventBase(Frozen):
    event_id: str = Field(default_factory=new_id, description="UUID of this event")
    occurred_at: datetime = Field(default_factory=utc_now)
    schema_version: int = Field(default=SCHEMA_VERSION)
    county: CountyCode
    correlation_id: str = Field(default_factory=new_id, max_length=64)


# --- needs ---------------------------------------------------------------------------------


class NeedLine(Frozen):
    """One line of a person's plan (一人一策): what is needed, how much, by when."""

    line_id: PseudoId
    need_type: NeedType
    quantity: float = Field(gt=0, description="Amount needed, in `unit`")
    unit: str = Field(min_length=1, max_length=16, examples=["CNY", "kg", "visit", "hour"])
    urgency: Urgency = Urgency.NORMAL
    deadline: datetime | None = None
    skills: tuple[str, ...] = Field(default=(), description="Skills a worker must have")
    languages: tuple[Language, ...] = Field(default=(), description="Languages a worker needs")
    bundle: str | None = Field(default=None, description="Lines with one bundle id: all or none")


class NeedOpened(EventBase):
    """A case (one person's plan) was opened or revised; carries every open line."""

    type: Literal["need_opened"] = "need_opened"
    case_id: PseudoId
    person_ref: PseudoId
    revision: int = Field(ge=1, description="Newer revisions replace older ones")
    region: Region
    location: GeoPoint | None = None
    categories: tuple[Category, ...] = ()
    language: Language = Language.ZH
    opened_at: datetime
    lines: tuple[NeedLine, ...]
    source: str = Field(default="social_worker", max_length=32)
    rule_id: str | None = Field(default=None, description="Discovery rule that opened it")


class NeedClosed(EventBase):
    """A case was closed (resolved, withdrawn); its open lines leave the matcher."""

    type: Literal["need_closed"] = "need_closed"
    case_id: PseudoId
    revision: int = Field(ge=1)
    reason: str = Field(default="resolved", max_length=64)


NeedEvent = Annotated[NeedOpened | NeedClosed, Field(discriminator="type")]


# --- offers --------------------------------------------------------------------------------


class Earmarks(Frozen):
    """Restrictions a donor put on an offer; empty means no restriction."""

    categories: tuple[Category, ...] = ()
    need_types: tuple[NeedType, ...] = ()
    counties: tuple[CountyCode, ...] = ()
    communities: tuple[str, ...] = ()


class OfferPublished(EventBase):
    """A charity published or revised an offer of money, goods or people's time."""

    type: Literal["offer_published"] = "offer_published"
    offer_id: PseudoId
    org_id: PseudoId
    revision: int = Field(ge=1)
    kind: OfferKind
    region: Region
    location: GeoPoint | None = None
    need_types: tuple[NeedType, ...] = Field(description="Need types this offer can serve")
    quantity: float = Field(ge=0, description="Money amount, goods stock, or hours per week")
    unit: str = Field(min_length=1, max_length=16)
    item: str = Field(default="", max_length=64, description="Goods item, e.g. rice")
    valid_until: datetime | None = None
    delivery_radius_km: float | None = Field(default=None, ge=0)
    earmarks: Earmarks = Earmarks()
    worker_id: PseudoId | None = Field(default=None, description="For people offers")
    skills: tuple[str, ...] = ()
    languages: tuple[Language, ...] = ()
    caseload_cap: int | None = Field(default=None, ge=0)


class OfferWithdrawn(EventBase):
    type: Literal["offer_withdrawn"] = "offer_withdrawn"
    offer_id: PseudoId
    revision: int = Field(ge=1)


OfferEvent = Annotated[OfferPublished | OfferWithdrawn, Field(discriminator="type")]


# --- assignments ---------------------------------------------------------------------------


class ScoreTerm(Frozen):
    name: str = Field(examples=["priority", "travel_km"])
    value: float


class Explanation(Frozen):
    """Why this resource went to this line: score terms and constraints that bound it."""

    summary: str
    terms: tuple[ScoreTerm, ...] = ()
    binding: tuple[str, ...] = Field(default=(), description="Constraints that were tight")
    solver: str = Field(examples=["min_cost_flow", "cp_sat", "greedy_fallback"])


class AssignmentProposed(EventBase):
    """The matcher proposes a resource (or part of one) for a need line."""

    type: Literal["assignment_proposed"] = "assignment_proposed"
    assignment_id: PseudoId
    case_id: PseudoId
    person_ref: PseudoId
    line_id: PseudoId
    need_type: NeedType
    offer_id: PseudoId
    org_id: PseudoId
    offer_kind: OfferKind
    worker_id: PseudoId | None = None
    quantity: float = Field(gt=0)
    unit: str
    urgency: Urgency
    language: Language = Field(description="Language of the person served")
    region: Region
    explanation: Explanation


class AssignmentWithdrawn(EventBase):
    """A proposal was replaced by a re-solve or released; parties should disregard it."""

    type: Literal["assignment_withdrawn"] = "assignment_withdrawn"
    assignment_id: PseudoId
    case_id: PseudoId
    line_id: PseudoId
    offer_id: PseudoId
    org_id: PseudoId
    reason: str = Field(max_length=64)


AssignmentEvent = Annotated[AssignmentProposed | AssignmentWithdrawn, Field(discriminator="type")]


# --- closed loop and escalation ------------------------------------------------------------


class ResponseRecorded(EventBase):
    """A party answered an assignment: accepted, declined (with reason), delivered, confirmed."""

    type: Literal["response_recorded"] = "response_recorded"
    assignment_id: PseudoId
    case_id: PseudoId
    line_id: PseudoId
    offer_id: PseudoId
    response: ResponseKind
    reason: DeclineReason | None = None
    actor_role: str = Field(max_length=32, examples=["social_worker", "charity"])


class EscalationRaised(EventBase):
    """An unmet line passed its SLA; the next level up the chain must act (社区吹哨)."""

    type: Literal["escalation_raised"] = "escalation_raised"
    case_id: PseudoId
    line_id: PseudoId
    need_type: NeedType
    urgency: Urgency
    level: Literal["community", "township", "county"]
    reason: str = Field(max_length=64)
    waiting_hours: float = Field(ge=0)
    region: Region


ResponseEvent = Annotated[ResponseRecorded, Field(discriminator="type")]
RESPONSE_EVENTS: TypeAdapter[ResponseRecorded] = TypeAdapter(ResponseRecorded)
ESCALATION_EVENTS: TypeAdapter[EscalationRaised] = TypeAdapter(EscalationRaised)
EscalationEvent = Annotated[EscalationRaised, Field(discriminator="type")]

NEED_EVENTS: TypeAdapter[NeedOpened | NeedClosed] = TypeAdapter(NeedEvent)
OFFER_EVENTS: TypeAdapter[OfferPublished | OfferWithdrawn] = TypeAdapter(OfferEvent)
ASSIGNMENT_EVENTS: TypeAdapter[AssignmentProposed | AssignmentWithdrawn] = TypeAdapter(
    AssignmentEvent
)
