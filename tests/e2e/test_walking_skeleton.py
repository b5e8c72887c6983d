"""One need travels the whole way: intake → Kafka → matcher → Kafka → notifier → webhook."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from waiting import wait_for

from fivelink_cli import infra
from fivelink_cli.receiver import WebhookReceiver
from fivelink_intake.tokens import issue

pytestmark = pytest.mark.e2e

COUNTY = "150121"  # Tumed Left Banner; no other test uses it
AUTH = {"Authorization": f"Bearer {issue(role='admin', sub='e2e')}"}


def _consent() -> dict[str, Any]:
    return {"given_by": "self", "given_at": datetime.now(UTC).isoformat(), "purposes": ["matching"]}


def test_need_and_offer_reach_the_charity_by_webhook(stack: infra.Stack) -> None:
    run = uuid.uuid4().hex[:8]
    org = f"org-e2e-{run}"
    secret = "e2e-secret-" + run + "-0123456789"
    receiver = WebhookReceiver(secret).start()
    try:
        with httpx.Client(timeout=15, headers=stack.service_headers()) as http:
            sub = http.post(
                f"{stack.url('notifier')}/v1/subscriptions",
                json={
                    "party_id": org,
                    "role": "charity",
                    "channel": "webhook",
                    "language": "en",
                    "target": {"kind": "webhook", "url": receiver.url, "secret": secret},
                },
            )
            assert sub.status_code == 201, sub.text
            offer = http.post(
                f"{stack.url('intake')}/v1/offers",
                headers={"Idempotency-Key": f"e2e-offer-{run}", **AUTH},
                json={
                    "org_id": org,
                    "kind": "goods",
                    "item": "rice",
                    "region": {"county": COUNTY, "community": f"{COUNTY}001001"},
                    "need_types": ["food"],
                    "quantity": 50,
                    "unit": "kg",
                    "valid_until": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
                },
            )
            assert offer.status_code == 201, offer.text
            need = http.post(
                f"{stack.url('intake')}/v1/needs",
                headers={"Idempotency-Key": f"e2e-need-{run}", **AUTH},
                json={
                    "region": {"county": COUNTY, "community": f"{COUNTY}001001"},
                    "person": {
                        "name": "测试",
                        "categories": ["minimum_living"],
                        "consent": _consent(),
                    },
                    "lines": [
                        {"need_type": "food", "quantity": 20, "unit": "kg", "urgency": "high"}
                    ],
                },
            )
            assert need.status_code == 201, need.text
            case_id = need.json()["case_id"]

            messages = wait_for(lambda: [m for m in receiver.messages() if m["recipient"] == org])
            message = messages[0]
            assert message["role"] == "charity"
            assert message["language"] == "en"
            assert "Food" in message["subject"] or "food" in message["body"].lower()
            assert "20" in message["body"] and "kg" in message["body"]
            assert case_id not in message["body"]  # the charity sees a de-identified card
            assert "测试" not in str(message)  # no personal data leaves intake

            # the receiver answers before the notifier records the attempt: wait for the record
            def statuses() -> list[str]:
                deliveries = http.get(
                    f"{stack.url('notifier')}/v1/deliveries", params={"party_id": org}
                ).json()
                return [d["status"] for d in deliveries]

            wait_for(lambda: statuses() != ["pending"], timeout=15)
            assert statuses() == ["delivered"]
            assignments = http.get(
                f"{stack.url('matcher')}/v1/assignments", params={"county": COUNTY}
            ).json()
            mine = [a for a in assignments if a["case_id"] == case_id]
            assert len(mine) == 1 and mine[0]["quantity"] == 20
            assert mine[0]["event"]["explanation"]["summary"]
    finally:
        receiver.stop()


def test_bad_need_is_refused_with_reason_and_nothing_stored(stack: infra.Stack) -> None:
    with httpx.Client(timeout=15, headers=stack.service_headers()) as http:
        key = f"e2e-bad-{uuid.uuid4().hex[:8]}"
        bad = http.post(
            f"{stack.url('intake')}/v1/needs",
            headers={"Idempotency-Key": key, **AUTH},
            json={
                "region": {"county": "15012"},
                "person": {
                    "consent": {
                        "given_by": "self",
                        "given_at": datetime.now(UTC).isoformat(),
                        "purposes": ["matching"],
                    }
                },
                "lines": [{"need_type": "food", "quantity": -1, "unit": "kg"}],
            },
        )
        assert bad.status_code == 422
        fields = {tuple(e["loc"]) for e in bad.json()["errors"]}
        assert ("body", "region", "county") in fields
        assert ("body", "lines", 0, "quantity") in fields
        # the same key with a good body now creates the case: nothing was kept of the bad one
        good = http.post(
            f"{stack.url('intake')}/v1/needs",
            headers={"Idempotency-Key": key, **AUTH},
            json={
                "region": {"county": COUNTY},
                "person": {"consent": _consent()},
                "lines": [{"need_type": "food", "quantity": 1, "unit": "kg"}],
            },
        )
        assert good.status_code == 201, good.text


def test_internal_apis_refuse_calls_without_the_service_token(stack: infra.Stack) -> None:
    internal = [
        ("GET", f"{stack.url('matcher')}/v1/assignments?county={COUNTY}"),
        ("GET", f"{stack.url('matcher')}/v1/unmet?county={COUNTY}"),
        ("POST", f"{stack.url('matcher')}/v1/what-if"),
        ("GET", f"{stack.url('notifier')}/v1/deliveries"),
        ("GET", f"{stack.url('notifier')}/v1/subscriptions?party_id=x"),
        ("POST", f"{stack.url('notifier')}/v1/subscriptions"),
    ]
    with httpx.Client(timeout=15) as http:
        for method, url in internal:
            assert http.request(method, url, json={}).status_code == 401, url
            wrong = {"Authorization": "Bearer guessed"}
            assert http.request(method, url, json={}, headers=wrong).status_code == 401, url
