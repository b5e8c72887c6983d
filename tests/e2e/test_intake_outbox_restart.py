"""Intake killed between storing a case and publishing it: after a restart, exactly one event."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import httpx
import pytest

from fivelink_cli import infra
from fivelink_intake.domain.cases import case_id_for
from fivelink_shared import topics

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "intake"))
from intake_support import (
    auth,
    fresh_township,
    intake_db,
    need_body,
    topic_events,
)
from waiting import wait_for

pytestmark = pytest.mark.e2e
# the stack's own test settings still apply (Stack.service_overrides)
CRASHING = {"FIVELINK_INTAKE_CRASH_AFTER_STORE": "true"}


def test_crash_after_store_then_restart_publishes_exactly_one_need_opened(
    stack: infra.Stack,
) -> None:
    township = fresh_township()
    headers = auth("admin", "outbox-test") | {"Idempotency-Key": f"outbox-{uuid.uuid4().hex}"}
    body = need_body(township)
    case_id = case_id_for(headers["Idempotency-Key"])
    cases = intake_db(stack)["cases"]
    stack.stop("intake")
    try:
        infra.start_service(stack, "intake", env=CRASHING)
        with pytest.raises(httpx.TransportError):
            httpx.post(f"{stack.url('intake')}/v1/needs", json=body, headers=headers, timeout=20)
        wait_for(lambda: not infra.http_ok(f"{stack.url('intake')}/healthz"), timeout=20)
        stored = cases.find_one({"_id": case_id})
        assert stored is not None and len(stored["outbox"]) == 1  # stored, not yet published
        assert topic_events(stack, topics.NEEDS, case_id=case_id) == []
    finally:
        stack.stop("intake")
        infra.start_service(stack, "intake")

    wait_for(lambda: cases.find_one({"_id": case_id})["outbox"] == {}, timeout=30)
    events = topic_events(stack, topics.NEEDS, case_id=case_id)
    assert [(e["type"], e["revision"]) for e in events] == [("need_opened", 1)]
    assert events[0]["event_id"] in stored["outbox"]

    # The client's retry with the same key gets the same case and publishes nothing more.
    retry = httpx.post(f"{stack.url('intake')}/v1/needs", json=body, headers=headers, timeout=20)
    assert retry.status_code == 200 and retry.json()["case_id"] == case_id
    assert len(topic_events(stack, topics.NEEDS, case_id=case_id)) == 1
