"""Rate limit, quiet hours, crisis bypass, retry backoff and cap."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from fivelink_notifier.channels.base import DeliveryResult
from fivelink_notifier.policy import (
    Outcome,
    PolicySettings,
    QuietHours,
    RateLimit,
    RetryPolicy,
    Verdict,
    after_attempt,
    decide,
)
from fivelink_shared.events import Urgency

# 2026-03-02 12:00 in Inner Mongolia (UTC+8) is 04:00 UTC.
NOON = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
NIGHT = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)  # 23:30 local
EARLY = datetime(2026, 3, 2, 21, 0, tzinfo=UTC)  # 05:00 local, next day
MORNING_END = datetime(2026, 3, 2, 23, 0, tzinfo=UTC)  # 07:00 local on 2026-03-03
NO_LIMIT = RateLimit(max_messages=1000)


def test_rate_limit_allows_up_to_max_then_defers() -> None:
    limit = RateLimit(max_messages=3, window=timedelta(hours=1))
    sends = [NOON - timedelta(minutes=m) for m in (50, 20, 5)]
    assert limit.release_at(NOON, sends[1:]) is None
    assert limit.release_at(NOON, sends) == NOON + timedelta(minutes=10)


def test_rate_limit_ignores_sends_outside_window() -> None:
    limit = RateLimit(max_messages=2, window=timedelta(hours=1))
    sends = [NOON - timedelta(hours=2), NOON - timedelta(minutes=61), NOON - timedelta(minutes=1)]
    assert limit.release_at(NOON, sends) is None


def test_rate_limit_with_more_sends_than_max_waits_for_enough_to_expire() -> None:
    limit = RateLimit(max_messages=2, window=timedelta(hours=1))
    sends = [NOON - timedelta(minutes=m) for m in (40, 30, 10, 5)]
    # Four in window, max two: the third-newest (10 min ago... sorted oldest first: 40,30,10,5)
    # must leave, i.e. the one sent 10 minutes ago, at NOON + 50 min.
    assert limit.release_at(NOON, sends) == NOON + timedelta(minutes=50)


def test_decide_rate_limited() -> None:
    settings = PolicySettings(rate_limit=RateLimit(2, timedelta(hours=1)), quiet_hours=None)
    sends = [NOON - timedelta(minutes=30), NOON - timedelta(minutes=10)]
    d = decide(NOON, Urgency.NORMAL, sends, settings)
    assert d.verdict is Verdict.DEFER and d.reason == "rate_limited"
    assert d.send_at == NOON + timedelta(minutes=30)
    assert decide(NOON, Urgency.NORMAL, sends[:1], settings).verdict is Verdict.SEND


@pytest.mark.parametrize(
    ("when", "inside"),
    [(NOON, False), (NIGHT, True), (EARLY, True), (MORNING_END, False)],
)
def test_quiet_hours_span_midnight(when: datetime, inside: bool) -> None:
    assert QuietHours().contains(when) is inside


def test_quiet_hours_same_day_window() -> None:
    q = QuietHours(start=time(12, 0), end=time(14, 0))
    assert q.contains(NOON) and not q.contains(NOON + timedelta(hours=2))
    assert q.ends_after(NOON) == NOON + timedelta(hours=2)


@pytest.mark.parametrize("when", [NIGHT, EARLY])
def test_non_urgent_is_deferred_to_end_of_quiet_hours(when: datetime) -> None:
    d = decide(when, Urgency.NORMAL, [], PolicySettings(rate_limit=NO_LIMIT))
    assert d.verdict is Verdict.DEFER and d.reason == "quiet_hours"
    assert d.send_at == MORNING_END
    assert d.send_at.tzinfo is not None


def test_high_urgency_also_waits_by_default() -> None:
    assert decide(NIGHT, Urgency.HIGH, []).verdict is Verdict.DEFER


def test_crisis_bypasses_quiet_hours_and_rate_limit() -> None:
    settings = PolicySettings(rate_limit=RateLimit(1, timedelta(hours=1)))
    d = decide(NIGHT, Urgency.CRISIS, [NIGHT - timedelta(minutes=1)] * 5, settings)
    assert d.verdict is Verdict.SEND and d.send_at == NIGHT and d.reason == "urgent_bypass"


def test_bypass_set_is_configurable() -> None:
    settings = PolicySettings(bypass=frozenset({Urgency.CRISIS, Urgency.HIGH}))
    assert decide(NIGHT, Urgency.HIGH, [], settings).verdict is Verdict.SEND
    assert decide(NIGHT, Urgency.NORMAL, [], settings).verdict is Verdict.DEFER


def test_daytime_with_no_history_sends_now() -> None:
    d = decide(NOON, Urgency.NORMAL, [])
    assert d.verdict is Verdict.SEND and d.send_at == NOON


def test_rate_limit_release_inside_quiet_hours_moves_to_morning() -> None:
    before_quiet = datetime(2026, 3, 2, 13, 50, tzinfo=UTC)  # 21:50 local
    settings = PolicySettings(rate_limit=RateLimit(1, timedelta(hours=1)))
    d = decide(before_quiet, Urgency.NORMAL, [before_quiet - timedelta(minutes=5)], settings)
    assert d.verdict is Verdict.DEFER
    assert d.send_at == MORNING_END
    assert d.reason == "rate_limited+quiet_hours"


# --- retries ------------------------------------------------------------------------------

RETRY = RetryPolicy(max_attempts=4, initial_s=10, max_wait_s=60, exp_base=2, jitter_s=5)
SERVER_ERROR = DeliveryResult.failed("http_503", retryable=True)


def test_backoff_grows_exponentially_within_jitter() -> None:
    for attempt, base in ((1, 10), (2, 20), (3, 40), (4, 60), (9, 60)):
        for _ in range(20):
            delay = RETRY.delay_s(attempt)
            assert base <= delay <= min(60, base + 5), (attempt, delay)


def test_jitter_spreads_retries() -> None:
    assert len({round(RETRY.delay_s(2), 6) for _ in range(20)}) > 1


def test_schedule_without_jitter() -> None:
    assert RETRY.schedule_s() == [10, 20, 40]


def test_after_attempt_retries_then_gives_up_at_the_cap() -> None:
    first = after_attempt(SERVER_ERROR, 1, NOON, RETRY)
    assert first.outcome is Outcome.RETRY and first.retry_at is not None
    assert NOON + timedelta(seconds=10) <= first.retry_at <= NOON + timedelta(seconds=15)
    assert after_attempt(SERVER_ERROR, 3, NOON, RETRY).outcome is Outcome.RETRY
    last = after_attempt(SERVER_ERROR, 4, NOON, RETRY)
    assert last.outcome is Outcome.FAILED and last.reason == "retry_cap:http_503"


def test_permanent_failure_is_not_retried() -> None:
    d = after_attempt(DeliveryResult.failed("http_404", retryable=False), 1, NOON, RETRY)
    assert d.outcome is Outcome.FAILED and d.retry_at is None and d.reason == "permanent:http_404"


def test_success_is_delivered() -> None:
    assert after_attempt(DeliveryResult.delivered(), 2, NOON).outcome is Outcome.DELIVERED
