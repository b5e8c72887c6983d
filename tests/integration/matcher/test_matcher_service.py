"""The matcher service on the real Kafka and store: out-of-order and repeated events, no unit
given twice, restart without republishing, what-if without publishing, SLA escalation."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from fivelink_cli import infra
from fivelink_shared import topics
from fivelink_shared.events import (
    EventBase,
    GeoPoint,
    NeedLine,
    NeedOpened,
    NeedType,
    OfferKind,
    OfferPublished,
    Region,
    Urgency,
)

pytestmark = pytest.mark.integration


def county() -> str:
    """A fresh county code per test (matcher state is per county)."""
    return f"15{uuid.uuid4().int % 10000:04d}"


def need(
    cty: str,
    *,
    qty: float,
    revision: int = 1,
    case: str | None = None,
    urgency: Urgency = Urgency.NORMAL,
    opened: datetime | None = None,
) -> NeedOpened:
    case_id = case or f"c-{uuid.uuid4().hex[:10]}"
    return NeedOpened(
        county=cty,
        case_id=case_id,
        person_ref=f"p-{case_id}",
        revision=revision,
        region=Region(county=cty, community=f"{cty}001001"),
        location=GeoPoint(lat=40.8, lon=111.7),
        opened_at=opened or datetime.now(UTC),
        lines=(
            NeedLine(
                line_id=f"{case_id}-l1",
                need_type=NeedType.FOOD,
                quantity=qty,
                unit="kg",
                urgency=urgency,
            ),
        ),
    )


def offer(
    cty: str, *, qty: float, revision: int = 1, offer_id: str | None = None
) -> OfferPublished:
    return OfferPublished(
        county=cty,
        offer_id=offer_id or f"o-{uuid.uuid4().hex[:10]}",
        org_id="org-it",
        revision=revision,
        kind=OfferKind.GOODS,
        region=Region(county=cty),
        location=GeoPoint(lat=40.8, lon=111.7),
        need_types=(NeedType.FOOD,),
        quantity=qty,
        unit="kg",
        item="rice",
        valid_until=datetime.now(UTC) + timedelta(days=30),
    )


async def publish(stack: infra.Stack, *items: tuple[str, EventBase]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for topic, event in items:
            await producer.send_and_wait(
                topic, event.model_dump_json().encode(), key=event.county.encode()
            )
    finally:
        await producer.stop()


async def assignment_events(
    stack: infra.Stack, cty: str, settle_s: float = 3.0
) -> list[dict[str, Any]]:
    """Every assignment event of one county on Kafka so far."""
    consumer = AIOKafkaConsumer(
        topics.ASSIGNMENTS,
        bootstrap_servers=stack.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        deadline = time.monotonic() + settle_s
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    event = json.loads(record.value)
                    if event["county"] == cty:
                        found.append(event)
    finally:
        await consumer.stop()
    return found


async def until(check: Callable[[], Any], timeout: float = 45.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await asyncio.to_thread(check)
        if value:
            return value
        await asyncio.sleep(0.3)
    raise AssertionError(f"not reached within {timeout}s")


def proposed(stack: infra.Stack, cty: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{stack.url('matcher')}/v1/assignments",
        params={"county": cty},
        headers=stack.service_headers(),
    )
    response.raise_for_status()
    return [a for a in response.json() if a["status"] == "proposed" and a["published"]]


async def test_repeated_and_reordered_events_never_give_a_unit_twice(stack: infra.Stack) -> None:
    cty = county()
    stock = offer(cty, qty=50)
    first, second = need(cty, qty=30), need(cty, qty=30)
    newer = need(cty, qty=40, revision=2, case=first.case_id)
    # the same offer twice, the newer revision of a case before its older one
    await publish(
        stack,
        (topics.OFFERS, stock),
        (topics.OFFERS, stock),
        (topics.NEEDS, newer),
        (topics.NEEDS, first),
        (topics.NEEDS, second),
    )
    await until(lambda: sum(a["quantity"] for a in proposed(stack, cty)) >= 50 - 1e-9)
    await asyncio.sleep(2.0)  # let any further micro-batch land
    found = proposed(stack, cty)
    # the stock of 50 kg is given once, not twice, although the offer came twice
    assert sum(a["quantity"] for a in found) == pytest.approx(50)
    unmet = httpx.get(
        f"{stack.url('matcher')}/v1/unmet", params={"county": cty}, headers=stack.service_headers()
    ).json()
    # revision 2 (40 kg) won over the late revision 1 (30 kg): 40 + 30 - 50 = 20 kg short
    assert sum(u["remaining"] for u in unmet) == pytest.approx(20)


async def test_restart_rebuilds_state_and_republishes_nothing(stack: infra.Stack) -> None:
    cty = county()
    await publish(
        stack,
        (topics.OFFERS, offer(cty, qty=100)),
        (topics.NEEDS, need(cty, qty=10)),
        (topics.NEEDS, need(cty, qty=20)),
    )
    await until(lambda: len(proposed(stack, cty)) == 2)
    before = await assignment_events(stack, cty)
    stack.stop("matcher")
    infra.start_service(stack, "matcher", lambda _: None)
    await asyncio.sleep(3.0)  # a full re-solve of every county runs at start
    after = await assignment_events(stack, cty)
    assert len(before) == 2
    assert [e["event_id"] for e in after] == [e["event_id"] for e in before]
    assert len(proposed(stack, cty)) == 2


async def test_what_if_solves_with_a_hypothetical_offer_and_publishes_nothing(
    stack: infra.Stack,
) -> None:
    cty = county()
    line = need(cty, qty=25)
    await publish(stack, (topics.NEEDS, line))
    await until(
        lambda: httpx.get(
            f"{stack.url('matcher')}/v1/unmet",
            params={"county": cty},
            headers=stack.service_headers(),
        ).json()
    )
    hypothetical = offer(cty, qty=25)
    response = httpx.post(
        f"{stack.url('matcher')}/v1/what-if",
        headers=stack.service_headers(),
        timeout=30,
        json={"county": cty, "offers": [hypothetical.model_dump(mode="json")]},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert [a["offer_id"] for a in result["assignments"]] == [hypothetical.offer_id]
    assert result["bound"] >= result["objective"]
    assert await assignment_events(stack, cty, settle_s=2.0) == []
    assert proposed(stack, cty) == []


async def test_unmet_crisis_line_past_its_sla_is_escalated(stack: infra.Stack) -> None:
    cty = county()
    old = datetime.now(UTC) - timedelta(hours=10)  # crisis SLA is 4 h: community+township
    await publish(stack, (topics.NEEDS, need(cty, qty=5, urgency=Urgency.CRISIS, opened=old)))
    consumer = AIOKafkaConsumer(
        topics.ESCALATIONS,
        bootstrap_servers=stack.kafka_bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    levels: set[str] = set()
    try:
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline and levels != {"community", "township"}:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    event = json.loads(record.value)
                    if event["county"] == cty:
                        assert event["reason"] == "no_eligible_resource"
                        levels.add(event["level"])
    finally:
        await consumer.stop()
    assert levels == {"community", "township"}  # 10 h < 4 × 4 h: not yet the county
    listed = httpx.get(
        f"{stack.url('matcher')}/v1/escalations",
        params={"county": cty},
        headers=stack.service_headers(),
    ).json()
    assert sorted(e["level"] for e in listed) == ["community", "township"]
    assert {e["urgency"] for e in listed} == {"crisis"}
