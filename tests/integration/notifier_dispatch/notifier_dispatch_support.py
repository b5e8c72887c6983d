"""Fixtures for the dispatcher integration tests: a real FerretDB, a real SMTP server, a
recording broker, and a dispatcher wired to them (no Kafka, no service process).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient
from smtp_sink import SmtpSink, running_sink

from fivelink_cli import infra
from fivelink_notifier.adapters.assignments import AssignmentStore
from fivelink_notifier.adapters.inbox import MongoInboxStore
from fivelink_notifier.adapters.store import NotifierStore
from fivelink_notifier.channels.base import Channel, ChannelKind
from fivelink_notifier.channels.email import EmailChannel, SmtpSettings
from fivelink_notifier.channels.inbox import InboxChannel
from fivelink_notifier.channels.webhook import WebhookChannel
from fivelink_notifier.dispatch import Dispatcher, Links
from fivelink_notifier.metrics import NotifierMetrics
from fivelink_notifier.policy import PolicySettings, RateLimit, RetryPolicy

LINK_SECRET = "integration-link-secret-0123456789"
FAST_RETRY = RetryPolicy(max_attempts=4, initial_s=0.05, max_wait_s=0.2, jitter_s=0.02)
NO_LIMITS = PolicySettings(
    rate_limit=RateLimit(1000, timedelta(seconds=1)), quiet_hours=None, retry=FAST_RETRY
)


@pytest.fixture(scope="session")
def notifier_mongo_url() -> Iterator[str]:
    """A FerretDB of its own (port base + 40), so these tests need no service stack."""
    base = int(os.environ.get("FIVELINK_TEST_PORT_BASE", "19100")) + 40
    stack = infra.Stack(
        infra.REPO_ROOT / ".run" / f"test-notifier-{base}", infra.Ports.from_base(base)
    )
    infra.start_ferretdb(stack, lambda _: None)
    yield stack.mongo_url
    if os.environ.get("FIVELINK_TEST_KEEP") != "1":
        stack.stop("ferretdb")


@dataclass
class RecordingBroker:
    """Stands in for the Kafka broker: keeps what the dispatcher publishes."""

    published: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def publish(self, message: dict[str, Any], *, topic: str, **_: Any) -> None:
        self.published.append((topic, message))


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpSink, int]]:
    with running_sink() as served:
        yield served


@dataclass
class Harness:
    store: NotifierStore
    assignments: AssignmentStore
    inbox: MongoInboxStore
    broker: RecordingBroker
    make: Callable[..., Dispatcher]


@pytest_asyncio.fixture
async def harness(notifier_mongo_url: str, smtp: tuple[SmtpSink, int]) -> AsyncIterator[Harness]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(notifier_mongo_url, tz_aware=True)
    db = client[f"fivelink_notifier_it_{uuid.uuid4().hex[:8]}"]
    store, inbox = NotifierStore(db), MongoInboxStore(db)
    assignments = AssignmentStore(db)
    await store.ensure_indexes()
    await inbox.ensure_indexes()
    await assignments.ensure_indexes()
    broker = RecordingBroker()
    _, smtp_port = smtp

    def make(policy: PolicySettings = NO_LIMITS, **kw: Any) -> Dispatcher:
        channels: dict[ChannelKind, Channel] = {
            ChannelKind.WEBHOOK: WebhookChannel(timeout_s=2.0),
            ChannelKind.EMAIL: EmailChannel(SmtpSettings(port=smtp_port, timeout_s=5)),
            ChannelKind.INBOX: InboxChannel(inbox),
        }
        return Dispatcher(
            store=store,
            channels=channels,
            broker=broker,  # type: ignore[arg-type]
            metrics=NotifierMetrics(CollectorRegistry()),
            links=Links(LINK_SECRET, "http://notifier.test", timedelta(hours=1)),
            policy=policy,
            **kw,
        )

    try:
        yield Harness(store, assignments, inbox, broker, make)
    finally:
        await client.drop_database(db.name)
        await client.close()


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 15.0) -> Any:
    """Poll an async check until it returns something truthy, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout}s")
