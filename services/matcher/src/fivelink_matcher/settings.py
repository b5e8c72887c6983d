"""Matcher settings (env vars prefixed ``FIVELINK_``)."""

from __future__ import annotations

from pydantic import Field

from fivelink_shared.settings import CommonSettings


class MatcherSettings(CommonSettings):
    batch_window_s: float = Field(default=0.5, gt=0, description="Micro-batch window")
    solve_time_limit_s: float = Field(default=2.0, gt=0)
    solver_workers: int = Field(default=1, ge=1)
    scarcity_policy: str = Field(
        default="priority", pattern="^(priority|earliest_deadline|most_vulnerable_first)$"
    )
    escalation_check_s: float = Field(default=30.0, gt=0, description="SLA check interval")
    sla_crisis_hours: float = Field(default=4.0, gt=0, description="SLA of a crisis line")
    sla_high_hours: float = Field(default=24.0, gt=0)
    sla_normal_hours: float = Field(default=72.0, gt=0)
