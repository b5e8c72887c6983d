"""Discovery rules are data: a versioned YAML file, validated here.

``load_rules(path: Path | None = None) -> RuleSet`` reads a rules file (None: the packaged
``rules/discovery-rules.v1.yaml``); ``parse_rules(text, origin) -> RuleSet`` parses text.
Both raise ``RulesError`` whose ``problems`` list says, for each mistake, where it is
(``rules[2] (id=...).when.all[0].signal.kinds[0]``) and what is wrong.

A condition is exactly one of:

- ``signal``: signals of some ``kinds`` (optionally ``sources``) observed within
  ``within_days`` of now, optionally each with ``value`` in a threshold, at least ``count``
  of them, optionally with a ``total`` (sum of values) in a threshold;
- ``distinct_sources``: signals from at least ``min_sources`` different sources in a window;
- ``all`` / ``any`` / ``none``: lists of sub-conditions (and / or / not-any).

See docs/discovery.md for the whole format.
"""

from __future__ import annotations

from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from fivelink_intake.discovery.signals import SignalKind, Source
from fivelink_shared.events import Category, NeedType, Urgency

SUPPORTED_VERSIONS = (1,)
DEFAULT_RULES = "discovery-rules.v1.yaml"
MAX_WINDOW_DAYS = 730


class RulesError(ValueError):
    """A rules file that cannot be used; ``problems`` lists every mistake found."""

    def __init__(self, origin: str, problems: list[str]) -> None:
        self.origin = origin
        self.problems = problems
        super().__init__(f"{origin}: bad discovery rules:\n  " + "\n  ".join(problems))


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Threshold(_Frozen):
    """Bounds on a number; every bound given must hold."""

    gte: float | None = None
    gt: float | None = None
    lte: float | None = None
    lt: float | None = None

    @model_validator(mode="after")
    def _some_bound(self) -> Self:
        if self.gte is None and self.gt is None and self.lte is None and self.lt is None:
            raise ValueError("a threshold needs at least one of gte, gt, lte, lt")
        return self

    def holds(self, x: float) -> bool:
        return (
            (self.gte is None or x >= self.gte)
            and (self.gt is None or x > self.gt)
            and (self.lte is None or x <= self.lte)
            and (self.lt is None or x < self.lt)
        )


Days = Annotated[float, Field(gt=0, le=MAX_WINDOW_DAYS)]


def _non_empty(value: tuple[SignalKind, ...]) -> tuple[SignalKind, ...]:
    # A validator, not min_length: min_length also complains when an item was invalid.
    if not value:
        raise ValueError("needs at least one kind")
    return value


Kinds = Annotated[tuple[SignalKind, ...], AfterValidator(_non_empty)]


class SignalMatch(_Frozen):
    """Signals of these kinds, in a window, by value, how many, and how much in total."""

    kinds: Kinds
    sources: tuple[Source, ...] = ()
    within_days: Days
    value: Threshold | None = None
    count: int = Field(default=1, ge=1)
    total: Threshold | None = None


class DistinctSources(_Frozen):
    """Signals from at least ``min_sources`` different sources within the window."""

    min_sources: int = Field(ge=2)
    within_days: Days
    kinds: tuple[SignalKind, ...] = ()
    sources: tuple[Source, ...] = ()


class SignalCondition(_Frozen):
    signal: SignalMatch


class DistinctSourcesCondition(_Frozen):
    distinct_sources: DistinctSources


class AllCondition(_Frozen):
    all: tuple[Condition, ...]

    @field_validator("all")
    @classmethod
    def _not_empty(cls, value: tuple[Condition, ...]) -> tuple[Condition, ...]:
        if not value:
            raise ValueError("needs at least one sub-condition")
        return value


class AnyCondition(_Frozen):
    any: tuple[Condition, ...]

    @field_validator("any")
    @classmethod
    def _not_empty(cls, value: tuple[Condition, ...]) -> tuple[Condition, ...]:
        if not value:
            raise ValueError("needs at least one sub-condition")
        return value


class NoneCondition(_Frozen):
    none: tuple[Condition, ...]

    @field_validator("none")
    @classmethod
    def _not_empty(cls, value: tuple[Condition, ...]) -> tuple[Condition, ...]:
        if not value:
            raise ValueError("needs at least one sub-condition")
        return value


_CONDITION_KEYS = ("signal", "distinct_sources", "all", "any", "none")


def _condition_tag(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return next(iter(type(value).model_fields))
    if isinstance(value, dict):
        keys = [k for k in _CONDITION_KEYS if k in value]
        if len(keys) == 1:
            return keys[0]
    return None


Condition = Annotated[
    Annotated[SignalCondition, Tag("signal")]
    | Annotated[DistinctSourcesCondition, Tag("distinct_sources")]
    | Annotated[AllCondition, Tag("all")]
    | Annotated[AnyCondition, Tag("any")]
    | Annotated[NoneCondition, Tag("none")],
    Discriminator(
        _condition_tag,
        custom_error_type="condition",
        custom_error_message="a condition needs exactly one of: " + ", ".join(_CONDITION_KEYS),
    ),
]

for _model in (AllCondition, AnyCondition, NoneCondition):
    _model.model_rebuild()


class Text(_Frozen):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class AmountFrom(_Frozen):
    """Size a line from the values of the signals the rule fired on (e.g. a bill)."""

    kinds: Kinds
    agg: Literal["sum", "max"] = "sum"
    factor: float = Field(default=1.0, gt=0)
    min: float = Field(default=1.0, gt=0)
    max: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.max is not None and self.max < self.min:
            raise ValueError("amount max is below min")
        return self


class LineSpec(_Frozen):
    """A need line the rule opens, after the verification visit."""

    need: NeedType
    quantity: float = Field(default=1.0, gt=0)
    unit: str = Field(default="case", min_length=1, max_length=16)
    amount: AmountFrom | None = None
    urgency: Urgency | None = None
    deadline_hours: float | None = Field(default=None, gt=0)
    skills: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _not_verification(self) -> Self:
        if self.need is NeedType.VERIFICATION_VISIT:
            raise ValueError("every case starts with a verification visit; do not list one")
        return self


class Rule(_Frozen):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{2,47}$")
    description: Text
    categories: tuple[Category, ...] = Field(default=(), description="any of; empty = all")
    exclude_categories: tuple[Category, ...] = ()
    when: Condition
    score: int = Field(ge=1, le=100)
    urgency: Urgency = Urgency.NORMAL
    open: tuple[LineSpec, ...] = ()


class Verification(_Frozen):
    """The verification visit every discovered case starts with."""

    quantity: float = Field(default=1.0, gt=0)
    unit: str = Field(default="visit", min_length=1, max_length=16)
    skills: tuple[str, ...] = ()
    deadline_hours: dict[Urgency, float]

    @model_validator(mode="after")
    def _every_urgency(self) -> Self:
        missing = [u.value for u in Urgency if u not in self.deadline_hours]
        if missing:
            raise ValueError(f"deadline_hours is missing: {', '.join(missing)}")
        if any(h <= 0 for h in self.deadline_hours.values()):
            raise ValueError("deadline_hours must be positive")
        return self


class Scoring(_Frozen):
    """How fired rules' scores combine into a 0-100 risk, and when risk raises urgency."""

    combine: Literal["noisy_or", "sum"] = "noisy_or"
    urgency_at: dict[Urgency, int] = Field(default_factory=dict)


class RuleSet(_Frozen):
    version: int
    name: str = Field(min_length=1)
    verification: Verification
    scoring: Scoring = Scoring()
    rules: tuple[Rule, ...]

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.version not in SUPPORTED_VERSIONS:
            raise ValueError(f"version {self.version} is not supported ({SUPPORTED_VERSIONS})")
        if not self.rules:
            raise ValueError("the file has no rules")
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} appears twice")
            seen.add(rule.id)
        return self

    @property
    def lookback(self) -> timedelta:
        """How far back signals must be loaded for every window of every rule."""
        return timedelta(days=max(_max_window(rule.when) for rule in self.rules))

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)


def _max_window(cond: Condition) -> float:
    if isinstance(cond, SignalCondition):
        return cond.signal.within_days
    if isinstance(cond, DistinctSourcesCondition):
        return cond.distinct_sources.within_days
    return max(_max_window(c) for c in children(cond))


def children(cond: AllCondition | AnyCondition | NoneCondition) -> tuple[Condition, ...]:
    """The sub-conditions of a combination."""
    if isinstance(cond, AllCondition):
        return cond.all
    if isinstance(cond, AnyCondition):
        return cond.any
    return cond.none


def _where(loc: tuple[int | str, ...], raw: Any) -> str:
    """``rules[2] (id=x).when.all[0].signal`` from a pydantic error location."""
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
            if i == 1 and loc[0] == "rules" and isinstance(raw.get("rules"), list):
                rule = raw["rules"][part] if part < len(raw["rules"]) else None
                if isinstance(rule, dict) and "id" in rule:
                    out += f" (id={rule['id']})"
        elif i == 0 or part != loc[i - 1]:  # a tagged union repeats its tag: skip it
            out += ("." if out else "") + part
    return out or "(top level)"


def parse_rules(text: str, origin: str = "<text>") -> RuleSet:
    """Parse and validate a rules document; raise ``RulesError`` listing every problem."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise RulesError(
            origin, [f"{where}not valid YAML ({getattr(exc, 'problem', exc)})"]
        ) from None
    if not isinstance(raw, dict):
        raise RulesError(origin, ["the file must be a mapping with version, name, rules"])
    try:
        return RuleSet.model_validate(raw)
    except ValidationError as exc:
        problems = [
            f"{_where(tuple(e['loc']), raw)}: {str(e['msg']).removeprefix('Value error, ')}"
            for e in exc.errors(include_url=False)
        ]
        raise RulesError(origin, problems) from None


def load_rules(path: Path | None = None) -> RuleSet:
    """Load a rules file, or the packaged default rules when ``path`` is None."""
    if path is None:
        text = resources.files("fivelink_intake.rules").joinpath(DEFAULT_RULES).read_text("utf-8")
        return parse_rules(text, DEFAULT_RULES)
    return parse_rules(Path(path).read_text("utf-8"), str(path))
