"""The dispatcher on a real FerretDB with real receivers: retries, dead letters, de-duplication,
deferral by quiet hours and rate limits, secret rotation, restart safety, the inbox."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from notifier_dispatch_support import FAST_RETRY, Harness, eventually
from smtp_sink import SmtpSink

from fivelink_cli.receiver import WebhookReceiver
from fivelink_notifier.channels.base import Role
from fivelink_notifier.policy import PolicySettings, QuietHours, RateLimit
from fivelink_notifier.signing import is_valid
from fivelink_shared import topics
from fivelink_shared.events import AssignmentProposed, Explanation, Region, Urgency

pytestmark = pytest.mark.integration


def proposal(org: str, urgency: Urgency = Urgency.HIGH, **kw: Any) -> AssignmentProposed:
    run = uuid.uuid4().hex[:8]
    fields: dict[str, Any] = {
        "county": "150102",
        "assignment_id": f"a-{run}",
        "case_id": f"c-{run}",
        "person_ref": f"p-{run}",
        "line_id": f"l-{run}",
        "need_type": "food",
        "offer_id": f"o-{run}",
        "org_id": org,
        "offer_kind": "goods",
        "quantity": 20,
        "unit": "kg",
        "urgency": urgency,
        "language": "zh",
        "region": Region(county="150102", community="150102001001"),
        "explanation": Explanation(summary="nearest", solver="min_cost_flow"),
    }
    fields.update(kw)
    return AssignmentProposed(**fields)


def charity(org: str) -> list[dict[str, str]]:
    return [{"party_id": org, "role": Role.CHARITY.value}]


async def subscribe(
    h: Harness, party: str, channel: str, target: dict[str, Any], **kw: Any
) -> None:
    await h.store.put_subscription(
        {
            "_id": f"{party}:{channel}",
            "party_id": party,
            "role": kw.pop("role", "charity"),
            "channel": channel,
            "target": {"kind": channel, **target},
            "language": "en",
            **kw,
        }
    )


async def status_of(h: Harness, event: AssignmentProposed, party: str, channel: str) -> Any:
    return await h.store.get_delivery(f"{event.event_id}:{party}:{channel}")


def final(status: str) -> Any:
    async def check(h: Harness, e: AssignmentProposed, party: str, ch: str) -> Any:
        d = await status_of(h, e, party, ch)
        return d if d and d["status"] == status else None

    return check


async def test_receiver_failing_three_times_then_ok_is_delivered_once_after_four_attempts(
    harness: Harness,
) -> None:
    receiver = WebhookReceiver("secret-" + "x" * 20, fail_next=3).start()
    dispatcher = harness.make()
    await dispatcher.start()
    try:
        await subscribe(
            harness, "org-r", "webhook", {"url": receiver.url, "secret": receiver.secret}
        )
        event = proposal("org-r")
        assert await dispatcher.on_assignment(event, charity("org-r")) == 1
        done = await eventually(lambda: final("delivered")(harness, event, "org-r", "webhook"))
        assert [a["status"] for a in done["attempts"]] == ["http_503"] * 3 + ["http_200"]
        assert len(receiver.messages()) == 1
        assert receiver.messages()[0]["event_id"] == event.event_id
        assert harness.broker.published == []
    finally:
        await dispatcher.stop()
        receiver.stop()


async def test_always_failing_receiver_ends_failed_in_dlq_while_others_are_served(
    harness: Harness,
) -> None:
    bad = WebhookReceiver("secret-" + "b" * 20, fail_next=10_000).start()
    good = WebhookReceiver("secret-" + "g" * 20).start()
    dispatcher = harness.make()
    await dispatcher.start()
    try:
        await subscribe(harness, "org-bad", "webhook", {"url": bad.url, "secret": bad.secret})
        await subscribe(harness, "org-good", "webhook", {"url": good.url, "secret": good.secret})
        failing = proposal("org-bad")
        await dispatcher.on_assignment(failing, charity("org-bad"))
        fine = [proposal("org-good") for _ in range(5)]
        for e in fine:
            await dispatcher.on_assignment(e, charity("org-good"))
        done = await eventually(lambda: final("failed")(harness, failing, "org-bad", "webhook"))
        assert len(done["attempts"]) == FAST_RETRY.max_attempts
        assert done["failure"] == "retry_cap:http_503"
        await eventually(lambda: _no_pending_dlq(harness))
        dlq = [m for t, m in harness.broker.published if t == topics.dead_letter("notifier")]
        assert len(dlq) == 1 and dlq[0]["event_id"] == failing.event_id
        assert dlq[0]["attempts"] == FAST_RETRY.max_attempts
        assert sorted(m["event_id"] for m in good.messages()) == sorted(e.event_id for e in fine)
    finally:
        await dispatcher.stop()
        bad.stop()
        good.stop()


async def _no_pending_dlq(h: Harness) -> bool:
    return not await h.store.undelivered_dead_letters()


async def test_permanent_refusal_is_not_retried(harness: Harness) -> None:
    dispatcher = harness.make()
    await dispatcher.start()
    try:
        await harness.store.put_subscription(
            {
                "_id": "org-x:webhook",
                "party_id": "org-x",
                "role": "charity",
                "channel": "webhook",
                "target": {"kind": "webhook", "url": "ftp://nowhere", "secret": "s" * 20},
            }
        )
        event = proposal("org-x")
        await dispatcher.on_assignment(event, charity("org-x"))
        done = await eventually(lambda: final("failed")(harness, event, "org-x", "webhook"))
        assert len(done["attempts"]) == 1 and done["failure"].startswith("permanent:")
    finally:
        await dispatcher.stop()


async def test_the_same_event_twice_makes_one_delivery(harness: Harness) -> None:
    receiver = WebhookReceiver("secret-" + "d" * 20).start()
    dispatcher = harness.make()
    await dispatcher.start()
    try:
        await subscribe(
            harness, "org-d", "webhook", {"url": receiver.url, "secret": receiver.secret}
        )
        event = proposal("org-d")
        assert await dispatcher.on_assignment(event, charity("org-d")) == 1
        assert await dispatcher.on_assignment(event, charity("org-d")) == 0
        await eventually(lambda: final("delivered")(harness, event, "org-d", "webhook"))
        assert len(receiver.messages()) == 1
    finally:
        await dispatcher.stop()
        receiver.stop()


async def test_rate_limited_email_is_deferred_then_sent(
    harness: Harness, smtp: tuple[SmtpSink, int]
) -> None:
    box, _ = smtp
    policy = PolicySettings(
        rate_limit=RateLimit(1, timedelta(seconds=2)), quiet_hours=None, retry=FAST_RETRY
    )
    dispatcher = harness.make(policy)
    await dispatcher.start()
    try:
        await subscribe(harness, "org-m", "email", {"address": "org-m@charity.test"})
        first, second = proposal("org-m"), proposal("org-m")
        await dispatcher.on_assignment(first, charity("org-m"))
        await dispatcher.on_assignment(second, charity("org-m"))
        d2 = await eventually(lambda: _deferred(harness, second, "org-m"))
        assert d2["deferred"] == "rate_limited"
        a = await eventually(lambda: final("delivered")(harness, first, "org-m", "email"))
        b = await eventually(lambda: final("delivered")(harness, second, "org-m", "email"))
        gap = (b["sent_at"] - a["sent_at"]).total_seconds()
        assert gap >= 1.9  # the second waited for the window
        assert len(box.received) == 2
    finally:
        await dispatcher.stop()


async def _deferred(h: Harness, e: AssignmentProposed, party: str) -> Any:
    d = await status_of(h, e, party, "email")
    return d if d and d.get("deferred") else None


async def test_quiet_hours_defer_normal_but_crisis_goes_through(
    harness: Harness, smtp: tuple[SmtpSink, int]
) -> None:
    box, _ = smtp
    now = datetime.now(UTC)
    quiet = QuietHours(_utc(now, -5), _utc(now, 120), tz="UTC")  # "night" is now
    policy = PolicySettings(
        rate_limit=RateLimit(100, timedelta(hours=1)), quiet_hours=quiet, retry=FAST_RETRY
    )
    dispatcher = harness.make(policy)
    await dispatcher.start()
    try:
        await subscribe(harness, "org-q", "email", {"address": "org-q@charity.test"})
        normal = proposal("org-q", Urgency.NORMAL)
        crisis = proposal("org-q", Urgency.CRISIS)
        await dispatcher.on_assignment(normal, charity("org-q"))
        await dispatcher.on_assignment(crisis, charity("org-q"))
        await eventually(lambda: final("delivered")(harness, crisis, "org-q", "email"))
        waiting = await eventually(lambda: _deferred(harness, normal, "org-q"))
        assert waiting["status"] == "pending" and waiting["deferred"] == "quiet_hours"
        assert waiting["not_before"] > datetime.now(UTC) + timedelta(minutes=100)
        assert len(box.received) == 1
    finally:
        await dispatcher.stop()


def _utc(now: datetime, minutes: int) -> time:
    return (now.astimezone(UTC) + timedelta(minutes=minutes)).time().replace(microsecond=0)


async def test_rotated_secret_signs_with_both_during_grace(harness: Harness) -> None:
    old, new = "old-secret-" + "o" * 16, "new-secret-" + "n" * 16
    on_old = WebhookReceiver(old).start()
    dispatcher = harness.make()
    await dispatcher.start()
    try:
        await subscribe(harness, "org-s", "webhook", {"url": on_old.url, "secret": old})
        rotated = await harness.store.rotate_secret(
            "org-s:webhook", new, datetime.now(UTC) + timedelta(hours=1)
        )
        assert rotated is not None and rotated["target"]["secret"] == new
        event = proposal("org-s")
        await dispatcher.on_assignment(event, charity("org-s"))
        await eventually(lambda: final("delivered")(harness, event, "org-s", "webhook"))
        got = on_old.received[0]
        assert got.verified  # a receiver still on the old secret accepts it
        # ... and one already on the new secret too: both v1= values are there
        assert got.payload["event_id"] == event.event_id
    finally:
        await dispatcher.stop()
        on_old.stop()


async def test_rotation_headers_verify_with_either_secret() -> None:
    from fivelink_notifier.channels.base import WebhookTarget
    from fivelink_notifier.channels.webhook import rotation_headers

    target = WebhookTarget(url="http://x", secret="n" * 20, previous_secrets=("o" * 20,))
    now = datetime.now(UTC)
    headers = rotation_headers(target, b"{}", "e1", now)
    assert headers["X-Fivelink-Signature"].count("v1=") == 2
    assert is_valid("n" * 20, headers, b"{}") and is_valid("o" * 20, headers, b"{}")
    assert not is_valid("z" * 20, headers, b"{}")


async def test_pending_deliveries_survive_a_restart(harness: Harness) -> None:
    receiver = WebhookReceiver("secret-" + "p" * 20).start()
    await subscribe(harness, "org-p", "webhook", {"url": receiver.url, "secret": receiver.secret})
    first = harness.make()  # claims, but its worker never runs (the process "died")
    events = [proposal("org-p") for _ in range(10)]
    for e in events:
        await first.on_assignment(e, charity("org-p"))
    second = harness.make()
    await second.start()
    try:
        for e in events:
            await eventually(lambda e=e: final("delivered")(harness, e, "org-p", "webhook"))
        assert sorted(m["event_id"] for m in receiver.messages()) == sorted(
            e.event_id for e in events
        )
    finally:
        await second.stop()
        receiver.stop()


async def test_inbox_is_idempotent_and_can_be_marked_read(harness: Harness) -> None:
    dispatcher = harness.make()
    await dispatcher.start()
    try:
        await subscribe(harness, "sw-1", "inbox", {"user_id": "sw-1"}, role="social_worker")
        event = proposal("org-z", worker_id="sw-1", offer_kind="people", unit="visit", quantity=1)
        parties = [{"party_id": "sw-1", "role": "social_worker"}]
        await dispatcher.on_assignment(event, parties)
        await eventually(lambda: final("delivered")(harness, event, "sw-1", "inbox"))
        # a second write of the same message (e.g. a retry after a lost ack) adds nothing
        from fivelink_notifier.channels.base import Message

        d = await status_of(harness, event, "sw-1", "inbox")
        await harness.inbox.add("sw-1", Message.model_validate(d["message"]))
        items = await harness.inbox.list("sw-1")
        assert len(items) == 1 and event.case_id in items[0].message.body
        assert set(items[0].message.links) == {"accepted", "declined", "delivered", "confirmed"}
        assert await harness.inbox.mark_read("sw-1", items[0].item_id)
        assert await harness.inbox.list("sw-1", unread_only=True) == []
        assert not await harness.inbox.mark_read("sw-2", items[0].item_id)
    finally:
        await dispatcher.stop()
