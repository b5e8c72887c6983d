"""The closed loop on the real stack (Kafka, FerretDB, intake, matcher, notifier) with a real
SMTP server and webhook receivers: proposals reach each party once, in their language, signed;
answers through signed links and the responses API move the assignment to confirmed (with the
donor's traceability) or, on a decline, to a re-match with another resource; delivery survives
a notifier restart mid-burst; retries and dead letters; escalations reach supervisors; an
unanswered crisis proposal is reminded, then released and re-matched.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from smtp_sink import SmtpSink, running_sink
from waiting import wait_for

from fivelink_cli import infra
from fivelink_cli.receiver import WebhookReceiver
from fivelink_shared import topics
from fivelink_shared.events import AssignmentProposed, EscalationRaised, Explanation, Region
from fivelink_shared.security import bearer
from fivelink_shared.settings import CommonSettings

pytestmark = pytest.mark.e2e

SERVICE = bearer(CommonSettings().service_token.get_secret_value())
RETRY_CAP = 5


def fresh_county() -> str:
    """A county of its own per test run, so a kept stack's earlier offers never interfere."""
    while (code := f"15{random.randrange(10_000):04d}") == "150121":
        pass
    return code


def intake_auth() -> dict[str, str]:
    try:
        from fivelink_intake.tokens import bearer
    except ImportError:  # intake without bearer tokens
        return {}
    return bearer(role="admin", sub="e2e-closed-loop")


@dataclass
class Loop:
    stack: infra.Stack
    mailbox: SmtpSink
    http: httpx.Client
    notifier_env: dict[str, str]  # how the fixture restarted the notifier

    @property
    def notifier(self) -> str:
        return self.stack.url("notifier")

    @contextlib.contextmanager
    def charities(
        self, orgs: list[str], language: str | None = None, **receiver: Any
    ) -> Iterator[dict[str, WebhookReceiver]]:
        """A signature-checking webhook receiver for each charity, subscribed; stopped after."""
        hooks = {o: WebhookReceiver(f"{o}-secret-0123456789", **receiver).start() for o in orgs}
        extra = {"language": language} if language else {}
        try:
            for o in orgs:
                target = {"url": hooks[o].url, "secret": hooks[o].secret}
                self.subscribe(o, "charity", "webhook", target, **extra)
            yield hooks
        finally:
            for h in hooks.values():
                h.stop()

    def subscribe(self, party: str, role: str, channel: str, target: dict[str, Any], **kw: Any):
        r = self.http.post(
            f"{self.notifier}/v1/subscriptions",
            json={
                "party_id": party,
                "role": role,
                "channel": channel,
                "target": {"kind": channel, **target},
                **kw,
            },
        )
        assert r.status_code == 201, r.text
        assert "secret" not in json.dumps(r.json())
        assert all(str(v) not in r.text for k, v in target.items() if k == "secret")
        return r.json()

    def offer(self, org: str, county: str, quantity: float = 50, **kw: Any) -> str:
        r = self.http.post(
            f"{self.stack.url('intake')}/v1/offers",
            headers={"Idempotency-Key": f"cl-offer-{uuid.uuid4().hex}", **intake_auth()},
            json={
                "org_id": org,
                "kind": "goods",
                "item": "rice",
                "region": {"county": county, "community": f"{county}001001"},
                "need_types": ["food"],
                "quantity": quantity,
                "unit": "kg",
                "valid_until": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
                **kw,
            },
        )
        assert r.status_code == 201, r.text
        return str(r.json()["offer_id"])

    def need(self, county: str, quantity: float = 20, urgency: str = "high") -> str:
        r = self.http.post(
            f"{self.stack.url('intake')}/v1/needs",
            headers={"Idempotency-Key": f"cl-need-{uuid.uuid4().hex}", **intake_auth()},
            json={
                "region": {
                    "county": county,
                    "township": f"{county}001",
                    "community": f"{county}001001",
                },
                "person": {
                    "name": "测试甲",
                    "categories": ["minimum_living"],
                    "consent": {
                        "given_by": "self",
                        "given_at": datetime.now(UTC).isoformat(),
                        "purposes": ["matching"],
                    },
                },
                "lines": [
                    {"need_type": "food", "quantity": quantity, "unit": "kg", "urgency": urgency}
                ],
            },
        )
        assert r.status_code == 201, r.text
        return str(r.json()["case_id"])

    def assignments(self, county: str, case_id: str) -> list[dict[str, Any]]:
        r = self.http.get(f"{self.stack.url('matcher')}/v1/assignments", params={"county": county})
        return [a for a in r.json() if a["case_id"] == case_id]

    def status_is(self, county: str, case_id: str, assignment_id: str, status: str) -> bool:
        return any(
            a["assignment_id"] == assignment_id and a["status"] == status
            for a in self.assignments(county, case_id)
        )

    def deliveries(self, **params: str) -> list[dict[str, Any]]:
        return list(self.http.get(f"{self.notifier}/v1/deliveries", params=params).json())


@pytest.fixture(scope="module")
def loop(stack: infra.Stack) -> Iterator[Loop]:
    """The notifier restarted with a real SMTP server, fast retries and short crisis SLAs."""
    # the stack's own test settings (Stack.service_overrides) still apply underneath
    with running_sink(stack.ports.kafka + 21) as (mailbox, smtp_port):
        env = {
            "FIVELINK_SMTP_PORT": str(smtp_port),
            "FIVELINK_NOTIFIER_RETRY_MAX_ATTEMPTS": str(RETRY_CAP),
            "FIVELINK_NOTIFIER_RETRY_INITIAL_S": "0.2",
            "FIVELINK_NOTIFIER_RETRY_MAX_WAIT_S": "1.0",
            "FIVELINK_NOTIFIER_RETRY_JITTER_S": "0.1",
            "FIVELINK_NOTIFIER_QUIET_HOURS": "",
            "FIVELINK_NOTIFIER_REMIND_AFTER_S": '{"crisis": 3, "high": 86400, "normal": 86400}',
            "FIVELINK_NOTIFIER_RELEASE_AFTER_S": '{"crisis": 8, "high": 172800, "normal": 172800}',
            "FIVELINK_NOTIFIER_FOLLOWUP_CHECK_S": "0.5",
        }
        stack.stop("notifier")
        infra.start_service(stack, "notifier", lambda _: None, env=env)
        with httpx.Client(timeout=15, headers=stack.service_headers()) as http:
            yield Loop(stack, mailbox, http, env)
    stack.stop("notifier")
    infra.start_service(stack, "notifier", lambda _: None)


def publish(stack: infra.Stack, topic: str, events: list[Any], twice: bool = False) -> None:
    async def go() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap)
        await producer.start()
        try:
            for e in events:
                raw = e.model_dump_json().encode()
                for _ in range(2 if twice else 1):
                    await producer.send_and_wait(topic, raw, key=e.county.encode())
        finally:
            await producer.stop()

    asyncio.run(go())


def dead_letters(stack: infra.Stack, delivery_prefix: str, timeout: float = 30) -> list[dict]:
    async def go() -> list[dict]:
        consumer = AIOKafkaConsumer(
            topics.dead_letter("notifier"),
            bootstrap_servers=stack.kafka_bootstrap,
            group_id=f"e2e-dlq-{uuid.uuid4().hex}",
            auto_offset_reset="earliest",
        )
        await consumer.start()
        found: list[dict] = []
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and not found:
                batch = await consumer.getmany(timeout_ms=1000)
                for records in batch.values():
                    for r in records:
                        doc = json.loads(r.value)
                        if str(doc.get("delivery_id", "")).startswith(delivery_prefix):
                            found.append(doc)
        finally:
            await consumer.stop()
        return found

    return asyncio.run(go())


def synthetic_proposal(county: str, org: str, n: int, run: str) -> AssignmentProposed:
    return AssignmentProposed(
        county=county,
        assignment_id=f"a-{run}-{n}",
        case_id=f"c-{run}-{n}",
        person_ref=f"p-{run}-{n}",
        line_id=f"l-{run}-{n}",
        need_type="food",
        offer_id=f"o-{run}-{org}",
        org_id=org,
        offer_kind="goods",
        quantity=5,
        unit="kg",
        urgency="high",
        language="zh",
        region=Region(county=county, community=f"{county}001001"),
        explanation=Explanation(summary="synthetic", solver="min_cost_flow"),
    )


# --- the accept path -------------------------------------------------------------------------


def test_proposal_by_webhook_and_email_in_each_language_then_accept_and_late_decline(
    loop: Loop,
) -> None:
    county, run = fresh_county(), uuid.uuid4().hex[:8]
    org, secret = f"org-cl-{run}", f"cl-secret-{run}-0123456789"
    address = f"{org}@charity.test"
    hook = WebhookReceiver(secret).start()
    try:
        loop.subscribe(
            org, "charity", "webhook", {"url": hook.url, "secret": secret}, language="en"
        )
        loop.subscribe(org, "charity", "email", {"address": address}, language="zh")
        offer_id = loop.offer(org, county)
        case_id = loop.need(county)

        msg = wait_for(lambda: hook.messages(), what="webhook proposal")[0]
        assert hook.received[0].verified  # signed with the subscription's secret
        assert (msg["role"], msg["language"], msg["recipient"]) == ("charity", "en", org)
        assert "food" in msg["body"].lower() and "20 kg" in msg["body"]
        assert case_id not in json.dumps(msg) and "测试甲" not in json.dumps(msg)
        assert set(msg["links"]) == {"accepted", "declined", "delivered"}
        mail = wait_for(lambda: loop.mailbox.to(address), what="e-mail proposal")[0]
        assert mail["Content-Language"] == "zh" and "食" in mail["Subject"]
        assert mail["X-Fivelink-Event-Id"] == msg["event_id"]
        assert case_id not in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]

        (assignment,) = loop.assignments(county, case_id)
        aid = assignment["assignment_id"]
        assert assignment["offer_id"] == offer_id
        r = loop.http.post(msg["links"]["accepted"])
        assert r.status_code == 200 and r.json()["recorded"] == "accepted", r.text
        wait_for(lambda: loop.status_is(county, case_id, aid, "accepted"), what="accepted")
        # a replayed link changes nothing; an answer out of order is refused
        assert loop.http.post(msg["links"]["accepted"]).json().get("replay") is True
        r = loop.http.post(msg["links"]["declined"], data={"reason": "too_far"})
        assert r.status_code == 200  # declining an accepted one is allowed (then re-matched)...
        wait_for(lambda: loop.status_is(county, case_id, aid, "declined"), what="declined")
    finally:
        hook.stop()


def test_accept_deliver_confirm_records_traceability(loop: Loop) -> None:
    county, run = fresh_county(), uuid.uuid4().hex[:8]
    org, secret = f"org-tr-{run}", f"tr-secret-{run}-0123456789"
    hook = WebhookReceiver(secret).start()
    try:
        loop.subscribe(
            org, "charity", "webhook", {"url": hook.url, "secret": secret}, language="en"
        )
        offer_id = loop.offer(org, county)
        case_id = loop.need(county)
        msg = wait_for(lambda: hook.messages(), what="proposal")[0]
        (assignment,) = loop.assignments(county, case_id)
        aid = assignment["assignment_id"]

        assert loop.http.post(msg["links"]["accepted"]).status_code == 200
        wait_for(lambda: loop.status_is(county, case_id, aid, "accepted"), what="accepted")
        assert loop.http.post(msg["links"]["delivered"]).status_code == 200
        wait_for(lambda: loop.status_is(county, case_id, aid, "delivered"), what="delivered")
        # the social worker confirms through the API (intake's pages call it)
        body = {"assignment_id": aid, "response": "confirmed", "actor_role": "social_worker"}
        wrong = {"Authorization": "Bearer not-the-service-token"}
        assert (
            loop.http.post(f"{loop.notifier}/v1/responses", json=body, headers=wrong).status_code
            == 401
        )
        r = loop.http.post(f"{loop.notifier}/v1/responses", json=body, headers=SERVICE)
        assert r.status_code == 200, r.text
        wait_for(lambda: loop.status_is(county, case_id, aid, "confirmed"), what="confirmed")

        def trace() -> dict[str, Any] | None:
            t = loop.http.get(
                f"{loop.notifier}/v1/traceability", params={"org_id": org}, headers=SERVICE
            ).json()
            return t if t["confirmed"] else None

        report = wait_for(trace, what="traceability")
        assert report["totals"] == {"kg": 20.0}
        (item,) = report["items"]
        assert (item["offer_id"], item["need_type"], item["assignment_id"]) == (
            offer_id,
            "food",
            aid,
        )
        assert item["need_ref"].startswith("n-")
        assert case_id not in json.dumps(report) and assignment["line_id"] not in json.dumps(report)
        # every message the charity got: exactly the one proposal
        assert [m["event_id"] for m in hook.messages()] == [msg["event_id"]]
        assert [d["status"] for d in loop.deliveries(party_id=org)] == ["delivered"]
        # a confirmed line is closed: the matcher does not propose anything else for it
        assert [a["status"] for a in loop.assignments(county, case_id)] == ["confirmed"]
    finally:
        hook.stop()


# --- the decline path ------------------------------------------------------------------------


def test_decline_rematches_to_another_offer_and_never_reoffers_the_declined_one(
    loop: Loop,
) -> None:
    county, run = fresh_county(), uuid.uuid4().hex[:8]
    orgs = [f"org-d1-{run}", f"org-d2-{run}"]
    with loop.charities(orgs, language="zh") as hooks:
        offers = {o: loop.offer(o, county) for o in orgs}
        case_id = loop.need(county, quantity=10)

        def first() -> str | None:
            return next((o for o in orgs if hooks[o].messages()), None)

        declining = wait_for(first, what="first proposal")
        other = next(o for o in orgs if o != declining)
        msg = hooks[declining].messages()[0]
        # a decline without a reason is refused and changes nothing
        assert loop.http.post(msg["links"]["declined"]).status_code == 422
        r = loop.http.post(msg["links"]["declined"], data={"reason": "too_far"})
        assert r.status_code == 200, r.text

        second = wait_for(lambda: hooks[other].messages(), what="re-match to the other offer")
        assert len(second) == 1 and second[0]["language"] == "zh"
        states = {a["offer_id"]: a for a in loop.assignments(county, case_id)}
        assert states[offers[declining]]["status"] == "declined"
        assert states[offers[declining]]["decline_reason"] == "too_far"
        assert states[offers[other]]["status"] == "proposed"
        # the declined offer is not proposed again for this line
        assert len(hooks[declining].messages()) == 1
        assert [a["offer_id"] for a in loop.assignments(county, case_id)].count(
            offers[declining]
        ) == 1


# --- delivery guarantees ---------------------------------------------------------------------


def test_redelivered_event_makes_one_message(loop: Loop) -> None:
    county, run = "150224", uuid.uuid4().hex[:8]
    org, secret = f"org-dup-{run}", f"dup-secret-{run}-0123456789"
    hook = WebhookReceiver(secret).start()
    try:
        loop.subscribe(org, "charity", "webhook", {"url": hook.url, "secret": secret})
        events = [synthetic_proposal(county, org, n, run) for n in range(3)]
        publish(loop.stack, topics.ASSIGNMENTS, events, twice=True)
        wait_for(lambda: len(hook.messages()) >= 3, what="three deliveries")
        wait_for(
            lambda: (
                all(d["status"] == "delivered" for d in loop.deliveries(party_id=org))
                and len(loop.deliveries(party_id=org)) == 3
            ),
            what="deliveries recorded",
        )
        assert Counter(m["event_id"] for m in hook.messages()) == {e.event_id: 1 for e in events}
    finally:
        hook.stop()


def test_notifier_killed_mid_burst_delivers_each_event_once_per_party(loop: Loop) -> None:
    """SIGTERM while sends are in flight; more of the burst arrives while the notifier is down.

    The second half is published only after the notifier has stopped, so the restart is in the
    middle of the burst whatever the speed of the machine (a fast one once delivered the whole
    first half during the drain).
    """
    county, run = "150225", uuid.uuid4().hex[:8]
    orgs = [f"org-burst{i}-{run}" for i in range(3)]
    with loop.charities(orgs, delay_s=0.02) as hooks:
        events = [synthetic_proposal(county, orgs[n % 3], n, run) for n in range(200)]
        first, second = events[:100], events[100:]
        publish(loop.stack, topics.ASSIGNMENTS, first)
        wait_for(lambda: sum(len(h.messages()) for h in hooks.values()) >= 10, what="burst begun")
        loop.stack.stop("notifier")  # SIGTERM in the middle of the burst
        during = sum(len(h.messages()) for h in hooks.values())
        publish(loop.stack, topics.ASSIGNMENTS, second)  # waits on Kafka for the new notifier
        infra.start_service(loop.stack, "notifier", lambda _: None, env=loop.notifier_env)
        wait_for(
            lambda: sum(len(h.messages()) for h in hooks.values()) >= len(events),
            timeout=120,
            what="whole burst delivered",
        )
        for o in orgs:
            got = Counter(m["event_id"] for m in hooks[o].messages())
            assert got == {e.event_id: 1 for e in events if e.org_id == o}
        assert during <= len(first) < len(events)


def test_webhook_failing_three_times_then_ok_has_four_attempts(loop: Loop) -> None:
    county, run = "150226", uuid.uuid4().hex[:8]
    org, secret = f"org-retry-{run}", f"retry-secret-{run}-0123456789"
    hook = WebhookReceiver(secret, fail_next=3).start()
    try:
        loop.subscribe(org, "charity", "webhook", {"url": hook.url, "secret": secret})
        event = synthetic_proposal(county, org, 0, run)
        publish(loop.stack, topics.ASSIGNMENTS, [event])

        def delivered() -> dict[str, Any] | None:
            ds = loop.deliveries(party_id=org)
            return ds[0] if ds and ds[0]["status"] == "delivered" else None

        d = wait_for(delivered, what="delivered after retries")
        assert [a["status"] for a in d["attempts"]] == ["http_503"] * 3 + ["http_200"]
        assert [m["event_id"] for m in hook.messages()] == [event.event_id]
    finally:
        hook.stop()


def test_webhook_always_failing_is_dead_lettered_while_others_are_served(loop: Loop) -> None:
    county, run = "150227", uuid.uuid4().hex[:8]
    bad, good = f"org-bad-{run}", f"org-good-{run}"
    bad_hook = WebhookReceiver(f"{bad}-secret-0123456789", fail_next=10_000).start()
    good_hook = WebhookReceiver(f"{good}-secret-0123456789").start()
    try:
        loop.subscribe(bad, "charity", "webhook", {"url": bad_hook.url, "secret": bad_hook.secret})
        loop.subscribe(
            good, "charity", "webhook", {"url": good_hook.url, "secret": good_hook.secret}
        )
        failing = synthetic_proposal(county, bad, 0, run)
        fine = [synthetic_proposal(county, good, n, run) for n in range(1, 6)]
        publish(loop.stack, topics.ASSIGNMENTS, [failing, *fine])
        wait_for(lambda: len(good_hook.messages()) == 5, what="others served")

        def failed() -> dict[str, Any] | None:
            ds = loop.deliveries(party_id=bad)
            return ds[0] if ds and ds[0]["status"] == "failed" else None

        d = wait_for(failed, what="permanent failure record")
        assert len(d["attempts"]) == RETRY_CAP and d["failure"] == "retry_cap:http_503"
        (dlq,) = dead_letters(loop.stack, f"{failing.event_id}:")
        assert dlq["reason"] == "delivery_failed" and dlq["attempts"] == RETRY_CAP
        assert bad_hook.messages() == []
    finally:
        bad_hook.stop()
        good_hook.stop()


# --- escalation and SLA follow-ups -----------------------------------------------------------


def test_escalation_reaches_the_supervisors_of_that_level_and_area(loop: Loop) -> None:
    county, run = "150228", uuid.uuid4().hex[:8]
    township = f"{county}001"
    sup, other = f"sup-t-{run}", f"sup-c-{run}"
    loop.subscribe(
        sup,
        "supervisor",
        "inbox",
        {"user_id": sup},
        language="en",
        scope={"level": "township", "code": township},
    )
    loop.subscribe(
        other,
        "supervisor",
        "inbox",
        {"user_id": other},
        language="en",
        scope={"level": "county", "code": county},
    )
    event = EscalationRaised(
        county=county,
        case_id=f"c-{run}",
        line_id=f"l-{run}",
        need_type="medical_aid",
        urgency="high",
        level="township",
        reason="no_resource",
        waiting_hours=49.5,
        region=Region(county=county, township=township, community=f"{township}001"),
    )
    publish(loop.stack, topics.ESCALATIONS, [event], twice=True)

    def inbox(user: str) -> list[dict[str, Any]]:
        r = loop.http.get(f"{loop.notifier}/v1/inbox/{user}", headers=SERVICE)
        assert r.status_code == 200, r.text
        return list(r.json())

    (item,) = wait_for(lambda: inbox(sup), what="supervisor inbox")
    assert "township" in item["subject"].lower() and "medical" in item["body"].lower()
    assert "49.5" in item["body"]
    assert inbox(other) == []
    wrong = {"Authorization": "Bearer not-the-service-token"}
    assert loop.http.get(f"{loop.notifier}/v1/inbox/{sup}", headers=wrong).status_code == 401
    r = loop.http.post(f"{loop.notifier}/v1/inbox/{sup}/{item['item_id']}/read", headers=SERVICE)
    assert r.status_code == 200
    assert (
        loop.http.get(
            f"{loop.notifier}/v1/inbox/{sup}", params={"unread_only": "true"}, headers=SERVICE
        ).json()
        == []
    )


def test_unanswered_crisis_proposal_is_reminded_then_released_and_rematched(loop: Loop) -> None:
    county, run = fresh_county(), uuid.uuid4().hex[:8]
    orgs = [f"org-s1-{run}", f"org-s2-{run}"]
    with loop.charities(orgs, language="en") as hooks:
        offers = {o: loop.offer(o, county) for o in orgs}
        case_id = loop.need(county, quantity=5, urgency="crisis")
        silent = wait_for(
            lambda: next((o for o in orgs if hooks[o].messages()), None), what="proposal"
        )
        other = next(o for o in orgs if o != silent)

        def subjects(o: str) -> list[str]:
            return [m["subject"] for m in hooks[o].messages()]

        wait_for(lambda: any("Reminder" in s for s in subjects(silent)), what="reminder")
        wait_for(lambda: any("Withdrawn" in s for s in subjects(silent)), what="release notice")
        wait_for(lambda: hooks[other].messages(), what="re-match after release")
        states = {a["offer_id"]: a for a in loop.assignments(county, case_id)}
        assert states[offers[silent]]["status"] == "declined"
        assert states[offers[silent]]["decline_reason"] == "no_response"
        assert states[offers[other]]["status"] == "proposed"
        assert len(subjects(silent)) == 3  # proposal, one reminder, the release notice
