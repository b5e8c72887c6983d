"""The matcher's domain model: one county's open need lines, free resources, and the result.

Everything here is a frozen dataclass with no I/O. The service builds a `Problem` from its
state (events folded into need lines and offers) and hands it to `solver.solve`.

Quantities:
- `Line.quantity` is the line's full need, in `Line.unit`. Accepted (`Fixed`) assignments
  are subtracted from it by the solver.
- `Resource.quantity` is the *remaining* capacity after accepted assignments: money amount,
  goods stock, or worker hours. A worker's `caseload_cap` counts lines, and accepted visits of
  that worker count against it inside the solver.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from fivelink_shared.events import (
    Category,
    Earmarks,
    Explanation,
    GeoPoint,
    Language,
    NeedType,
    OfferKind,
    Urgency,
)

ScarcityPolicy = Literal["priority", "earliest_deadline", "most_vulnerable_first"]
SolverPath = Literal["min_cost_flow", "cp_sat", "greedy_fallback", "greedy", "empty"]
UnmetReason = Literal[
    "no_eligible_resource",
    "out_of_stock",
    "out_of_range",
    "expired_before_deadline",
    "language_or_skill",
    "outranked",
    "bundle_incomplete",
]

#: Units that mark a line as a visit line: served whole by one worker (people offer).
VISIT_UNITS: frozenset[str] = frozenset({"visit", "visits", "hour", "hours", "session", "case"})


@dataclass(frozen=True, slots=True)
class Line:
    """One open need line of a case (一人一策), flattened with its person's attributes."""

    line_id: str
    case_id: str
    person_ref: str
    county: str
    community: str
    need_type: NeedType
    quantity: float
    unit: str
    urgency: Urgency
    opened_at: datetime
    categories: tuple[Category, ...] = ()
    language: Language = Language.ZH
    deadline: datetime | None = None
    skills: tuple[str, ...] = ()
    languages: tuple[Language, ...] = ()
    bundle: str | None = None
    location: GeoPoint | None = None
    #: A visit line is served whole by one worker; other lines by money or goods.
    is_visit: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_visit", self.unit.lower() in VISIT_UNITS)


@dataclass(frozen=True, slots=True)
class Resource:
    """One free resource: a money fund, a goods stock, or a worker's time (people offer)."""

    offer_id: str
    org_id: str
    county: str
    community: str
    kind: OfferKind
    need_types: tuple[NeedType, ...]
    quantity: float
    unit: str
    valid_until: datetime | None = None
    delivery_radius_km: float | None = None
    earmarks: Earmarks = field(default_factory=Earmarks)
    worker_id: str | None = None
    skills: tuple[str, ...] = ()
    languages: tuple[Language, ...] = ()
    caseload_cap: int | None = None
    location: GeoPoint | None = None


@dataclass(frozen=True, slots=True)
class Fixed:
    """An accepted assignment: it stays as it is, and the solver plans around it."""

    line_id: str
    offer_id: str
    quantity: float


@dataclass(frozen=True, slots=True)
class Proposed:
    """A proposal from the previous solve; moving it costs the churn penalty."""

    line_id: str
    offer_id: str
    quantity: float


@dataclass(frozen=True, slots=True)
class Problem:
    """One county's matching problem at time `now`."""

    county: str
    now: datetime
    lines: tuple[Line, ...] = ()
    resources: tuple[Resource, ...] = ()
    fixed: tuple[Fixed, ...] = ()
    proposed: tuple[Proposed, ...] = ()
    excluded_pairs: frozenset[tuple[str, str]] = frozenset()
    last_worker: Mapping[str, str] = field(default_factory=dict)


def _default_urgency() -> dict[Urgency, float]:
    return {Urgency.CRISIS: 10.0, Urgency.HIGH: 4.0, Urgency.NORMAL: 1.0}


def _default_vulnerability() -> dict[Category, float]:
    return {
        Category.EXTREME_POVERTY: 2.0,
        Category.MINOR_WITHOUT_GUARDIAN: 2.0,
        Category.DISASTER_AFFECTED: 1.8,
        Category.MINIMUM_LIVING: 1.6,
        Category.MENTAL_DISORDER: 1.6,
        Category.DISABLED: 1.5,
        Category.ELDERLY_ALONE: 1.5,
        Category.LEFT_BEHIND_CHILD: 1.5,
        Category.LEFT_BEHIND_ELDERLY: 1.4,
        Category.POVERTY_RETURN_RISK: 1.3,
        Category.MARGINAL: 1.2,
        Category.VETERAN: 1.2,
        Category.RELEASED_PRISONER: 1.2,
    }


def _default_sla() -> dict[Urgency, float]:
    return {Urgency.CRISIS: 4.0, Urgency.HIGH: 24.0, Urgency.NORMAL: 72.0}


@dataclass(frozen=True, slots=True)
class Weights:
    """Objective weights. Priority points dominate; the rest are points too (see docs)."""

    urgency: Mapping[Urgency, float] = field(default_factory=_default_urgency)
    vulnerability: Mapping[Category, float] = field(default_factory=_default_vulnerability)
    waiting_per_day: float = 0.1  # priority grows 10 % per day waited ...
    waiting_cap_days: float = 30.0  # ... up to this many days
    travel_per_km: float = 0.05  # points lost per km travelled to serve a whole line
    continuity: float = 0.5  # points won when the person keeps the same worker
    fairness: float = 0.5  # points per line-equivalent up to a community's fair share
    churn: float = 1.0  # points lost when a previous proposal is moved


@dataclass(frozen=True, slots=True)
class SolverConfig:
    """How to solve: limits, weights and the scarcity policy."""

    time_limit_s: float = 2.0
    workers: int = 1
    weights: Weights = field(default_factory=Weights)
    scarcity_policy: ScarcityPolicy = "priority"
    sla_hours: Mapping[Urgency, float] = field(default_factory=_default_sla)
    hours_per_visit: float = 2.0  # worker hours a "visit" line takes
    unknown_distance_km: float = 10.0  # assumed distance when a location is missing
    min_shelf_hours: float = 24.0  # validity needed when a line has no deadline
    compute_bound: bool = True  # solve the LP relaxation (GLOP) for the bound
    work_limit: float | None = None  # CP-SAT deterministic time; None: 0.5 x time_limit_s
    #: Stop the search once a solution is within this relative gap of the LP bound.
    gap_limit: float = 1e-4
    seed: int = 0


@dataclass(frozen=True, slots=True)
class Assignment:
    """A resource (or part of one) given to a need line, with why."""

    line_id: str
    case_id: str
    offer_id: str
    org_id: str
    worker_id: str | None
    quantity: float
    explanation: Explanation
    fixed: bool = False


@dataclass(frozen=True, slots=True)
class Unmet:
    """A line left (fully or partly) without resource, with the reason.

    `remaining` is what is still missing; a partly served money/goods line appears both in
    `Solution.assignments` and here.
    """

    line_id: str
    case_id: str
    reason: UnmetReason
    detail: str
    waiting_hours: float
    remaining: float = 0.0


@dataclass(frozen=True, slots=True)
class Solution:
    """The result of one solve, merged over the sub-problems."""

    assignments: tuple[Assignment, ...]
    unmet: tuple[Unmet, ...]
    solver_path: SolverPath
    objective: float  # score points of this solution (higher is better)
    bound: float  # upper bound on the score (LP relaxation / CP-SAT bound)
    gap: float  # (bound - objective) / max(|bound|, 1)
    solve_seconds: float
    problem_size: Mapping[str, int] = field(default_factory=dict)
    coverage: float = 0.0  # priority-weighted coverage in [0, 1]
    #: False when a wall-clock limit (not the deterministic work limit or a proof) cut a
    #: search short: then a re-run on a busier or quieter machine may differ.
    deterministic: bool = True
