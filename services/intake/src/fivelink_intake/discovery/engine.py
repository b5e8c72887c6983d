"""Rule evaluation: signals in, discovered cases out.

``evaluate(signals, rules, now, *, key, open_refs=frozenset()) -> list[DiscoveredCase]``

- ``signals``: the new batch plus the person's recent signals from the store (at least
  ``rules.lookback`` back), so windows and cross-source combinations see the whole picture;
- ``key``: the HMAC key for pseudonymous person refs (>= 16 bytes, from settings);
- ``open_refs``: person refs (any of a case's ``identity_refs``) that already have an open
  discovery case; such people come back with ``status="merged"`` so the caller appends to
  the existing case instead of opening a second one.

One case per person with at least one fired rule, sorted by risk (highest first), then
person_ref. Same input, same output: no clocks, no randomness, ids derived by hashing.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fivelink_intake.discovery.persons import Person, resolve_persons
from fivelink_intake.discovery.rules import (
    AllCondition,
    AnyCondition,
    Condition,
    DistinctSourcesCondition,
    LineSpec,
    NoneCondition,
    Rule,
    RuleSet,
    SignalCondition,
)
from fivelink_intake.discovery.signals import Signal
from fivelink_shared.events import (
    Category,
    GeoPoint,
    NeedLine,
    NeedOpened,
    NeedType,
    Region,
    Urgency,
)

_URGENCY_RANK = {Urgency.NORMAL: 0, Urgency.HIGH: 1, Urgency.CRISIS: 2}


class RuleFiring(BaseModel):
    """One rule that fired for a person, and the signals it fired on."""

    model_config = ConfigDict(frozen=True)

    rule_id: str
    score: int
    signal_ids: tuple[str, ...]


class DiscoveredCase(BaseModel):
    """What discovery proposes for one person: no personal data, only refs and codes."""

    model_config = ConfigDict(frozen=True)

    person_ref: str
    identity_refs: tuple[str, ...] = Field(description="Every ref seen; store with the case")
    status: Literal["new", "merged"]
    rules_version: int
    region: Region
    location: GeoPoint | None
    categories: tuple[Category, ...]
    risk_score: int = Field(ge=0, le=100)
    urgency: Urgency
    rule_ids: tuple[str, ...]
    firings: tuple[RuleFiring, ...]
    signal_ids: tuple[str, ...]
    lines: tuple[NeedLine, ...]

    def to_need_opened(self, case_id: str, opened_at: datetime, revision: int = 1) -> NeedOpened:
        """The ``NeedOpened`` event for this case (rule_id: the highest-scoring rule)."""
        top = max(self.firings, key=lambda f: (f.score, [-ord(c) for c in f.rule_id]))
        return NeedOpened(
            county=self.region.county,
            case_id=case_id,
            person_ref=self.person_ref,
            revision=revision,
            region=self.region,
            location=self.location,
            categories=self.categories,
            opened_at=opened_at,
            lines=self.lines,
            source="discovery",
            rule_id=top.rule_id,
        )


def evaluate(
    signals: Iterable[Signal],
    rules: RuleSet,
    now: datetime,
    *,
    key: bytes,
    open_refs: Collection[str] = frozenset(),
) -> list[DiscoveredCase]:
    """Evaluate every rule for every person; see the module docstring."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    cases = [
        case
        for person in resolve_persons(signals, key).values()
        if (case := evaluate_person(person, rules, now, open_refs)) is not None
    ]
    cases.sort(key=lambda c: (-c.risk_score, c.person_ref))
    return cases


def evaluate_person(
    person: Person, rules: RuleSet, now: datetime, open_refs: Collection[str] = frozenset()
) -> DiscoveredCase | None:
    """The case for one resolved person, or None when no rule fires."""
    signals = _unique_observations(person.signals)
    categories = tuple(sorted({c for s in signals for c in s.categories}))
    firings: list[tuple[Rule, tuple[Signal, ...]]] = []
    for rule in rules.rules:
        if rule.categories and not set(rule.categories) & set(categories):
            continue
        if set(rule.exclude_categories) & set(categories):
            continue
        fired, used = _holds(rule.when, signals, now)
        if fired:
            firings.append((rule, tuple(sorted(used, key=lambda s: s.signal_id))))
    if not firings:
        return None
    risk = _risk([rule.score for rule, _ in firings], rules.scoring.combine)
    urgency = _max_urgency(
        [rule.urgency for rule, _ in firings]
        + [u for u, at in rules.scoring.urgency_at.items() if risk >= at]
    )
    latest = max(signals, key=lambda s: (s.observed_at, s.signal_id))
    located = [s for s in signals if s.location is not None]
    location = (
        max(located, key=lambda s: (s.observed_at, s.signal_id)).location if located else None
    )
    used_ids = sorted({s.signal_id for _, used in firings for s in used})
    return DiscoveredCase(
        person_ref=person.person_ref,
        identity_refs=tuple(sorted(person.refs)),
        status="merged" if person.refs & set(open_refs) else "new",
        rules_version=rules.version,
        region=latest.region,
        location=location,
        categories=categories,
        risk_score=risk,
        urgency=urgency,
        rule_ids=tuple(rule.id for rule, _ in firings),
        firings=tuple(
            RuleFiring(
                rule_id=rule.id, score=rule.score, signal_ids=tuple(s.signal_id for s in used)
            )
            for rule, used in firings
        ),
        signal_ids=tuple(used_ids),
        lines=_lines(person.person_ref, firings, rules, urgency, now),
    )


def _unique_observations(signals: list[Signal]) -> list[Signal]:
    """Drop re-sent copies of one observation (same source, kind, time, value)."""
    best: dict[tuple[object, ...], Signal] = {}
    for s in signals:
        k = (s.source, s.kind, s.observed_at, s.value)
        if k not in best or s.signal_id < best[k].signal_id:
            best[k] = s
    return sorted(best.values(), key=lambda s: (s.observed_at, s.signal_id))


def _in_window(signals: list[Signal], now: datetime, days: float) -> list[Signal]:
    start = now - timedelta(days=days)
    return [s for s in signals if start <= s.observed_at <= now]


def _holds(cond: Condition, signals: list[Signal], now: datetime) -> tuple[bool, list[Signal]]:
    """Whether a condition holds, and the signals that made it hold."""
    if isinstance(cond, SignalCondition):
        m = cond.signal
        hits = [
            s
            for s in _in_window(signals, now, m.within_days)
            if s.kind in m.kinds
            and (not m.sources or s.source in m.sources)
            and (m.value is None or (s.value is not None and m.value.holds(s.value)))
        ]
        if len(hits) < m.count:
            return False, []
        if m.total is not None and not m.total.holds(sum(s.value or 0.0 for s in hits)):
            return False, []
        return True, hits
    if isinstance(cond, DistinctSourcesCondition):
        d = cond.distinct_sources
        hits = [
            s
            for s in _in_window(signals, now, d.within_days)
            if (not d.kinds or s.kind in d.kinds) and (not d.sources or s.source in d.sources)
        ]
        if len({s.source for s in hits}) < d.min_sources:
            return False, []
        return True, hits
    results = [
        _holds(c, signals, now)
        for c in (
            cond.all
            if isinstance(cond, AllCondition)
            else cond.any
            if isinstance(cond, AnyCondition)
            else cond.none
        )
    ]
    if isinstance(cond, AllCondition):
        ok = all(fired for fired, _ in results)
    elif isinstance(cond, AnyCondition):
        ok = any(fired for fired, _ in results)
    else:
        assert isinstance(cond, NoneCondition)
        return not any(fired for fired, _ in results), []
    if not ok:
        return False, []
    used = {s.signal_id: s for fired, hits in results if fired for s in hits}
    return True, list(used.values())


def _risk(scores: list[int], combine: str) -> int:
    if combine == "sum":
        return min(100, sum(scores))
    remaining = math.prod(1 - s / 100 for s in scores)
    return min(100, round(100 * (1 - remaining)))


def _max_urgency(urgencies: list[Urgency]) -> Urgency:
    return max(urgencies, key=_URGENCY_RANK.__getitem__, default=Urgency.NORMAL)


def _line_id(*parts: str) -> str:
    return "dl-" + hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:24]


def _amount(spec: LineSpec, used: tuple[Signal, ...]) -> float:
    if spec.amount is None:
        return spec.quantity
    a = spec.amount
    values = [s.value for s in used if s.kind in a.kinds and s.value is not None]
    if not values:
        return spec.quantity
    base = sum(values) if a.agg == "sum" else max(values)
    amount = max(a.min, base * a.factor)
    if a.max is not None:
        amount = min(a.max, amount)
    return round(amount, 2)


def _lines(
    person_ref: str,
    firings: list[tuple[Rule, tuple[Signal, ...]]],
    rules: RuleSet,
    urgency: Urgency,
    now: datetime,
) -> tuple[NeedLine, ...]:
    """Verification visit first, then each fired rule's lines, merged by need type + unit."""
    v = rules.verification
    lines: list[NeedLine] = [
        NeedLine(
            line_id=_line_id(person_ref, "verification"),
            need_type=NeedType.VERIFICATION_VISIT,
            quantity=v.quantity,
            unit=v.unit,
            urgency=urgency,
            deadline=now + timedelta(hours=v.deadline_hours[urgency]),
            skills=v.skills,
        )
    ]
    index: dict[tuple[NeedType, str], int] = {}
    for rule, used in firings:
        for spec in rule.open:
            line = NeedLine(
                line_id=_line_id(person_ref, rule.id, spec.need.value, spec.unit),
                need_type=spec.need,
                quantity=_amount(spec, used),
                unit=spec.unit,
                urgency=spec.urgency or rule.urgency,
                deadline=now + timedelta(hours=spec.deadline_hours)
                if spec.deadline_hours
                else None,
                skills=spec.skills,
            )
            k = (spec.need, spec.unit)
            if k not in index:
                index[k] = len(lines)
                lines.append(line)
            else:
                lines[index[k]] = _merge(lines[index[k]], line)
    return tuple(lines)


def _merge(old: NeedLine, new: NeedLine) -> NeedLine:
    """Two rules asked for the same need: keep the first id, the larger amount, the sooner."""
    deadlines = [d for d in (old.deadline, new.deadline) if d is not None]
    return old.model_copy(
        update={
            "quantity": max(old.quantity, new.quantity),
            "urgency": _max_urgency([old.urgency, new.urgency]),
            "deadline": min(deadlines) if deadlines else None,
            "skills": tuple(sorted(set(old.skills) | set(new.skills))),
        }
    )
