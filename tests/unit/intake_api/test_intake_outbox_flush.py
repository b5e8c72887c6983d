"""The request path never fails because Kafka does: the write stands, the sweep publishes."""

from __future__ import annotations

from typing import Any

from fivelink_intake.adapters.outbox import OutboxRelay

EVENT = {
    "county": "150102",
    "correlation_id": "c",
    "type": "need_opened",
    "event_id": "e1",
    "occurred_at": "2026-12-01T00:00:00Z",
}


class Collection:
    def __init__(self) -> None:
        self.doc: dict[str, Any] = {"_id": "c-1", "outbox": {"e1": {"topic": "t", "event": EVENT}}}

    async def find_one(self, *_: Any, **__: Any) -> dict[str, Any]:
        return self.doc


class Store:
    def __init__(self) -> None:
        self.collection = Collection()
        self.cleared: list[str] = []

    async def clear(self, doc_id: str, event_id: str) -> None:
        self.cleared.append(event_id)


class Broker:
    def __init__(self, fail: bool) -> None:
        self.fail = fail
        self.sent: list[str] = []

    async def publish(self, event: dict[str, Any], **_: Any) -> None:
        if self.fail:
            raise ConnectionError("kafka is down")
        self.sent.append(event["event_id"])


async def test_flush_publishes_then_clears() -> None:
    store, broker = Store(), Broker(fail=False)
    relay = OutboxRelay(broker, [store], sweep_s=5)  # type: ignore[arg-type]
    await relay.flush(store, "c-1")  # type: ignore[arg-type]
    assert broker.sent == ["e1"] and store.cleared == ["e1"]


async def test_flush_with_kafka_down_keeps_the_entry_for_the_sweep() -> None:
    store, broker = Store(), Broker(fail=True)
    relay = OutboxRelay(broker, [store], sweep_s=5)  # type: ignore[arg-type]
    await relay.flush(store, "c-1")  # type: ignore[arg-type]  # must not raise
    assert store.cleared == []  # still queued: the sweep will publish it
