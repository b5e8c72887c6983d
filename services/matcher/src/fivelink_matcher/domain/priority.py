"""How much serving a line is worth: priority points and the scarcity policy's value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .model import Line, SolverConfig

#: Days to deadline assumed for a line without one (earliest-deadline policy).
NO_DEADLINE_DAYS = 30.0


@dataclass(frozen=True, slots=True)
class Priority:
    """The parts of a line's priority, kept for explanations."""

    urgency: float
    vulnerability: float
    waiting_days: float
    points: float  # urgency x vulnerability x waiting factor: what coverage is weighted by
    value: float  # what the objective maximises under the scarcity policy


def priority(line: Line, now: datetime, config: SolverConfig) -> Priority:
    """Priority points of `line` at `now` and its value under the scarcity policy."""
    w = config.weights
    urgency = w.urgency.get(line.urgency, 1.0)
    vulnerability = max((w.vulnerability.get(c, 1.0) for c in line.categories), default=1.0)
    waiting_days = max(0.0, (now - line.opened_at).total_seconds() / 86400.0)
    waiting = 1.0 + w.waiting_per_day * min(waiting_days, w.waiting_cap_days)
    points = urgency * vulnerability * waiting
    if config.scarcity_policy == "most_vulnerable_first":
        # Vulnerability first; priority points only break ties within a vulnerability level.
        value = vulnerability * 1000.0 + points
    elif config.scarcity_policy == "earliest_deadline":
        days_left = (
            NO_DEADLINE_DAYS
            if line.deadline is None
            else max(0.0, (line.deadline - now).total_seconds() / 86400.0)
        )
        value = points * (1.0 + 9.0 / (1.0 + days_left))
    else:
        value = points
    return Priority(urgency, vulnerability, waiting_days, points, value)
