"""The problem file: one county's matching problem (and how to solve it) as JSON, and the
result file the `solve` CLI writes.

Every model here maps 1:1 onto a dataclass of `fivelink_matcher.domain.model`: same field
names, same meaning, same defaults (`LineIn` -> `Line`, `ResourceIn` -> `Resource`,
`FixedIn` -> `Fixed`, `ProposedIn` -> `Proposed`, `WeightsIn` -> `Weights`,
`PolicyIn` -> `SolverConfig`; `ProblemFile` holds a `Problem` plus its `SolverConfig`).
The JSON Schema is in docs/matcher-problem.schema.json
(`uv run python -m fivelink_matcher.cli schema -o docs/matcher-problem.schema.json`).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from fivelink_matcher.domain.model import (
    Fixed,
    Line,
    Problem,
    Proposed,
    Resource,
    ScarcityPolicy,
    Solution,
    SolverConfig,
    SolverPath,
    UnmetReason,
    Weights,
)
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

FORMAT: Final = "fivelink-matcher-problem/1"
RESULT_FORMAT: Final = "fivelink-matcher-result/1"
_W = Weights()
_C = SolverConfig()


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LineIn(_In):
    """A need line (`domain.model.Line`): one line of a person's plan, with the person's
    attributes. Unit `visit`/`hour`/`session`/`case` makes it a visit line (one worker)."""

    line_id: str
    case_id: str
    person_ref: str = Field(description="Pseudonymous person reference (no names)")
    county: str
    community: str
    need_type: NeedType
    quantity: float = Field(gt=0)
    unit: str = Field(examples=["CNY", "kg", "visit", "hour"])
    urgency: Urgency
    opened_at: datetime
    categories: tuple[Category, ...] = ()
    language: Language = Language.ZH
    deadline: datetime | None = None
    skills: tuple[str, ...] = ()
    languages: tuple[Language, ...] = Field(default=(), description="Languages the visit needs")
    bundle: str | None = Field(default=None, description="Lines of a bundle: all or nothing")
    location: GeoPoint | None = None


class ResourceIn(_In):
    """A free resource (`domain.model.Resource`): money, goods, or a worker's hours.
    `quantity` is what is left after accepted assignments."""

    offer_id: str
    org_id: str
    county: str
    community: str
    kind: OfferKind
    need_types: tuple[NeedType, ...]
    quantity: float = Field(ge=0)
    unit: str
    valid_until: datetime | None = None
    delivery_radius_km: float | None = Field(default=None, ge=0)
    earmarks: Earmarks = Field(default_factory=Earmarks)
    worker_id: str | None = None
    skills: tuple[str, ...] = ()
    languages: tuple[Language, ...] = ()
    caseload_cap: int | None = Field(default=None, ge=0)
    location: GeoPoint | None = None


class FixedIn(_In):
    """An accepted assignment (`domain.model.Fixed`): kept as it is."""

    line_id: str
    offer_id: str
    quantity: float


class ProposedIn(_In):
    """A previous proposal (`domain.model.Proposed`): moving it costs the churn penalty."""

    line_id: str
    offer_id: str
    quantity: float


class WeightsIn(_In):
    """Objective weights (`domain.model.Weights`), in points."""

    urgency: dict[Urgency, float] = Field(default_factory=lambda: dict(_W.urgency))
    vulnerability: dict[Category, float] = Field(default_factory=lambda: dict(_W.vulnerability))
    waiting_per_day: float = _W.waiting_per_day
    waiting_cap_days: float = _W.waiting_cap_days
    travel_per_km: float = _W.travel_per_km
    continuity: float = _W.continuity
    fairness: float = _W.fairness
    churn: float = _W.churn


class PolicyIn(_In):
    """How to solve (`domain.model.SolverConfig`): limits, weights, scarcity policy."""

    time_limit_s: float = Field(default=_C.time_limit_s, ge=0)
    workers: int = Field(default=_C.workers, ge=1, description="CP-SAT workers")
    weights: WeightsIn = Field(default_factory=WeightsIn)
    scarcity_policy: ScarcityPolicy = _C.scarcity_policy
    sla_hours: dict[Urgency, float] = Field(default_factory=lambda: dict(_C.sla_hours))
    hours_per_visit: float = _C.hours_per_visit
    unknown_distance_km: float = _C.unknown_distance_km
    min_shelf_hours: float = _C.min_shelf_hours
    compute_bound: bool = _C.compute_bound
    work_limit: float | None = _C.work_limit
    gap_limit: float = Field(
        default=_C.gap_limit, ge=0, description="Stop within this relative gap of the LP bound"
    )
    seed: int = _C.seed


class ProblemFile(_In):
    """One county's problem (`domain.model.Problem`) and the policy to solve it with."""

    format: Literal["fivelink-matcher-problem/1"] = FORMAT
    county: str
    now: datetime = Field(description="The time the problem is solved at (waiting, expiry)")
    lines: tuple[LineIn, ...] = ()
    resources: tuple[ResourceIn, ...] = ()
    fixed: tuple[FixedIn, ...] = ()
    proposed: tuple[ProposedIn, ...] = ()
    excluded_pairs: tuple[tuple[str, str], ...] = Field(
        default=(), description="(line_id, offer_id) pairs declined before"
    )
    last_worker: dict[str, str] = Field(
        default_factory=dict, description="person_ref -> the worker who served them before"
    )
    policy: PolicyIn = Field(default_factory=PolicyIn)

    def problem(self) -> Problem:
        return Problem(
            county=self.county,
            now=self.now,
            lines=tuple(Line(**_fields(x)) for x in self.lines),
            resources=tuple(Resource(**_fields(x)) for x in self.resources),
            fixed=tuple(Fixed(**_fields(x)) for x in self.fixed),
            proposed=tuple(Proposed(**_fields(x)) for x in self.proposed),
            excluded_pairs=frozenset(self.excluded_pairs),
            last_worker=dict(self.last_worker),
        )

    def config(self) -> SolverConfig:
        pol = _fields(self.policy)
        pol["weights"] = Weights(**_fields(self.policy.weights))
        return SolverConfig(**pol)

    @classmethod
    def of(cls, problem: Problem, config: SolverConfig | None = None) -> ProblemFile:
        """The file for a domain problem (and config): the inverse of problem()/config()."""
        config = config or SolverConfig()
        pol = _init_fields(config)
        pol["weights"] = WeightsIn(**_init_fields(config.weights))
        return cls(
            county=problem.county,
            now=problem.now,
            lines=tuple(LineIn(**_init_fields(x)) for x in problem.lines),
            resources=tuple(ResourceIn(**_init_fields(x)) for x in problem.resources),
            fixed=tuple(FixedIn(**_init_fields(x)) for x in problem.fixed),
            proposed=tuple(ProposedIn(**_init_fields(x)) for x in problem.proposed),
            excluded_pairs=tuple(sorted(problem.excluded_pairs)),
            last_worker=dict(problem.last_worker),
            policy=PolicyIn(**pol),
        )


def _fields(m: BaseModel) -> dict[str, Any]:
    """A model's fields as they are (nested models kept as objects)."""
    return {name: getattr(m, name) for name in type(m).model_fields}


def _init_fields(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.init}


def load(path: str | Path) -> ProblemFile:
    return ProblemFile.model_validate_json(Path(path).read_bytes())


def dump(pf: ProblemFile, path: str | Path) -> None:
    Path(path).write_text(pf.model_dump_json(indent=1, exclude_defaults=True) + "\n")


# --- result ------------------------------------------------------------------------------


class AssignmentOut(BaseModel):
    line_id: str
    case_id: str
    offer_id: str
    org_id: str
    worker_id: str | None
    quantity: float
    fixed: bool
    explanation: Explanation


class UnmetOut(BaseModel):
    line_id: str
    case_id: str
    reason: UnmetReason
    detail: str
    waiting_hours: float
    remaining: float


class ResultFile(BaseModel):
    """What `solve` writes: assignments with explanations, unmet lines with reasons, and the
    quality of the solution (objective, LP bound, gap) and how it was found."""

    format: Literal["fivelink-matcher-result/1"] = RESULT_FORMAT
    county: str
    rule: str = Field(description="optimal (the solver) or the name of a greedy baseline")
    solver_path: SolverPath
    objective: float
    bound: float
    gap: float
    coverage: float
    solve_seconds: float
    deterministic: bool
    problem_size: dict[str, int]
    assignments: list[AssignmentOut]
    unmet: list[UnmetOut]

    @classmethod
    def of(cls, county: str, sol: Solution, rule: str = "optimal") -> ResultFile:
        return cls(
            county=county,
            rule=rule,
            solver_path=sol.solver_path,
            objective=sol.objective,
            bound=sol.bound,
            gap=sol.gap,
            coverage=sol.coverage,
            solve_seconds=sol.solve_seconds,
            deterministic=sol.deterministic,
            problem_size=dict(sol.problem_size),
            assignments=[AssignmentOut(**_init_fields(a)) for a in sol.assignments],
            unmet=[UnmetOut(**_init_fields(u)) for u in sol.unmet],
        )


def schema() -> dict[str, Any]:
    """JSON Schema of the problem file (and, under `$defs`, of the result file)."""
    out = ProblemFile.model_json_schema()
    result = ResultFile.model_json_schema()
    defs = out.setdefault("$defs", {})
    defs.update(result.pop("$defs", {}))
    defs["ResultFile"] = result
    out["$id"] = "https://fivelink.example/schemas/matcher-problem.schema.json"
    return out


def schema_json() -> str:
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"
