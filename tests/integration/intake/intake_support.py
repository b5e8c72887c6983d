"""Helpers for intake's tests on the real stack: tokens, bodies, Kafka and store probes."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import MongoClient

from fivelink_cli import infra
from fivelink_intake.tokens import issue

COUNTY = "150102"  # 新城区, Hohhot: intake's integration tests
OTHER_COUNTY = "150103"


def run_id() -> str:
    return uuid.uuid4().hex[:8]


def fresh_township(county: str = COUNTY) -> str:
    """A township code of its own per test, so listings see only what the test made."""
    return f"{county}{random.randrange(100_000, 999_999)}"


def auth(role: str, sub: str = "", **claims: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue(role=role, sub=sub or role + '-t', **claims)}"}


def consent() -> dict[str, Any]:
    return {"given_by": "self", "given_at": datetime.now(UTC).isoformat(), "purposes": ["matching"]}


def need_body(township: str, county: str = COUNTY, **person: Any) -> dict[str, Any]:
    return {
        "region": {"county": county, "township": township},
        "person": {"consent": consent(), "categories": ["minimum_living"], **person},
        "lines": [{"need_type": "food", "quantity": 10, "unit": "kg", "urgency": "high"}],
    }


def offer_body(org: str, county: str = COUNTY, township: str = "") -> dict[str, Any]:
    return {
        "org_id": org,
        "kind": "goods",
        "item": "rice",
        "region": {"county": county, "township": township},
        "need_types": ["food"],
        "quantity": 50,
        "unit": "kg",
    }


def key(prefix: str = "k") -> dict[str, str]:
    return {"Idempotency-Key": f"{prefix}-{uuid.uuid4().hex}"}


def intake_db(stack: infra.Stack) -> Any:
    return MongoClient(stack.mongo_url, tz_aware=True)["fivelink_intake"]


async def _partitions(bootstrap: str, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        return sorted(p["partition"] for p in described["partitions"])
    finally:
        await admin.close()


async def _read_topic(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in await _partitions(bootstrap, topic)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        end = await consumer.end_offsets(parts)
        events: list[dict[str, Any]] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            positions = [await consumer.position(tp) for tp in parts]
            if all(pos >= end[tp] for pos, tp in zip(positions, parts, strict=True)):
                break
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            for messages in batch.values():
                events.extend(json.loads(m.value) for m in messages)
        return events
    finally:
        await consumer.stop()


def topic_events(stack: infra.Stack, topic: str, **match: str) -> list[dict[str, Any]]:
    """Every event on ``topic`` up to now whose fields equal ``match``."""
    events = asyncio.run(_read_topic(stack.kafka_bootstrap, topic))
    return [e for e in events if all(e.get(k) == v for k, v in match.items())]
