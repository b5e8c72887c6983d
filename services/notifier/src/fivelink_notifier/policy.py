"""Delivery policy, pure functions only: rate limit, quiet hours, retry backoff and cap.

Nothing here reads a clock or a store; the caller passes ``now`` and the recipient's recent
send times, and gets back a decision with the time to send (or retry) at.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from tenacity import RetryCallState, Retrying, wait_exponential_jitter
from tenacity.wait import wait_base

from fivelink_notifier.channels.base import DeliveryResult
from fivelink_shared.events import Urgency


@dataclass(frozen=True)
class RateLimit:
    """At most ``max_messages`` to one recipient in any sliding ``window``."""

    max_messages: int = 6
    window: timedelta = timedelta(hours=1)

    def release_at(self, now: datetime, recent_sends: Iterable[datetime]) -> datetime | None:
        """When one more message may go, or None if it may go at ``now``."""
        in_window = sorted(t for t in recent_sends if now - self.window < t <= now)
        if len(in_window) < self.max_messages:
            return None
        # The (k - max + 1)-th oldest send must leave the window for the count to drop below max.
        return in_window[len(in_window) - self.max_messages] + self.window


@dataclass(frozen=True)
class QuietHours:
    """Local night hours (may span midnight) when non-urgent messages wait."""

    start: time = time(22, 0)
    end: time = time(7, 0)
    tz: str = "Asia/Shanghai"

    def contains(self, when: datetime) -> bool:
        local = when.astimezone(ZoneInfo(self.tz)).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def ends_after(self, when: datetime) -> datetime:
        """The first end of quiet hours after ``when`` (in ``when``'s time zone)."""
        zone = ZoneInfo(self.tz)
        local = when.astimezone(zone)
        end = datetime.combine(local.date(), self.end, tzinfo=zone)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(when.tzinfo)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter (tenacity's ``wait_exponential_jitter``) and a cap."""

    max_attempts: int = 6
    initial_s: float = 30.0
    max_wait_s: float = 3600.0
    exp_base: float = 2.0
    jitter_s: float = 15.0

    def wait_strategy(self) -> wait_base:
        return wait_exponential_jitter(
            multiplier=self.initial_s,
            max=self.max_wait_s,
            exp_base=self.exp_base,
            jitter=self.jitter_s,
        )

    def delay_s(self, attempts_made: int) -> float:
        """Seconds to wait after the ``attempts_made``-th failed attempt (1-based)."""
        state = RetryCallState(retry_object=Retrying(), fn=None, args=(), kwargs={})
        state.attempt_number = max(1, attempts_made)
        return float(self.wait_strategy()(state))

    def schedule_s(self) -> list[float]:
        """The waits without jitter, one per retry, for docs and dashboards."""
        return [
            min(self.max_wait_s, self.initial_s * self.exp_base**n)
            for n in range(self.max_attempts - 1)
        ]


@dataclass(frozen=True)
class PolicySettings:
    rate_limit: RateLimit = field(default_factory=RateLimit)
    quiet_hours: QuietHours | None = field(default_factory=QuietHours)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    bypass: frozenset[Urgency] = frozenset({Urgency.CRISIS})


class Verdict(StrEnum):
    SEND = "send"
    DEFER = "defer"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    send_at: datetime
    reason: str


def decide(
    now: datetime,
    urgency: Urgency,
    recent_sends: Iterable[datetime],
    settings: PolicySettings | None = None,
) -> Decision:
    """Send now, or defer to the earliest time outside quiet hours and under the rate limit.

    Urgencies in ``settings.bypass`` (crisis by default) always go at once.
    """
    s = settings or PolicySettings()
    if urgency in s.bypass:
        return Decision(Verdict.SEND, now, "urgent_bypass")
    sends = list(recent_sends)
    at, reasons = now, []
    for _ in range(16):  # each step moves ``at`` forward; a few rounds always settle
        moved = False
        if s.quiet_hours is not None and s.quiet_hours.contains(at):
            at, moved = s.quiet_hours.ends_after(at), True
            reasons.append("quiet_hours")
        release = s.rate_limit.release_at(at, sends)
        if release is not None:
            at, moved = max(at, release), True
            reasons.append("rate_limited")
        if not moved:
            break
    if at == now:
        return Decision(Verdict.SEND, now, "ok")
    return Decision(Verdict.DEFER, at, "+".join(dict.fromkeys(reasons)))


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class AttemptDecision:
    outcome: Outcome
    retry_at: datetime | None = None
    reason: str = ""


def after_attempt(
    result: DeliveryResult,
    attempts_made: int,
    now: datetime,
    retry: RetryPolicy | None = None,
) -> AttemptDecision:
    """What to do after an attempt: done, retry at a time, or permanent failure."""
    policy = retry or RetryPolicy()
    if result.ok:
        return AttemptDecision(Outcome.DELIVERED, reason=result.status)
    if not result.retryable:
        return AttemptDecision(Outcome.FAILED, reason=f"permanent:{result.status}")
    if attempts_made >= policy.max_attempts:
        return AttemptDecision(Outcome.FAILED, reason=f"retry_cap:{result.status}")
    wait = timedelta(seconds=policy.delay_s(attempts_made))
    return AttemptDecision(Outcome.RETRY, retry_at=now + wait, reason=result.status)
