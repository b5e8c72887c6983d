"""Outbox relay: publishes queued events, then clears them (at-least-once, never lost).

A publish happens right after each write; a periodic sweep republishes whatever a crash
between the write and the publish left behind. Consumers de-duplicate by event id.
"""

from __future__ import annotations

import asyncio
import logging

from faststream.kafka import KafkaBroker

from fivelink_intake.adapters.store import AggregateStore
from fivelink_shared.background import Periodic
from fivelink_shared.events import EventBase
from fivelink_shared.mongo import Document

log = logging.getLogger(__name__)

FLUSH_TIMEOUT_S = 5.0  # longest a request waits for Kafka before leaving it to the sweep


class OutboxRelay:
    def __init__(
        self,
        broker: KafkaBroker,
        stores: list[AggregateStore],
        sweep_s: float,
        grace_s: float = 1.0,
    ) -> None:
        self.broker = broker
        self.stores = stores
        self.sweep_s = sweep_s
        self.grace_s = grace_s
        self._sweeper = Periodic("outbox sweep", sweep_s, self.sweep_once)

    async def flush(self, store: AggregateStore, doc_id: str) -> None:
        """Publish what a write just queued. The write already succeeded, so when Kafka is
        slow or down the request does not fail: the sweep publishes the entry later."""
        try:
            async with asyncio.timeout(FLUSH_TIMEOUT_S):
                doc = await store.collection.find_one({"_id": doc_id}, {"outbox": 1})
                if doc:
                    await self._publish_doc(store, doc)
        except Exception:
            log.warning(
                "publish deferred to the outbox sweep", extra={"doc_id": doc_id}, exc_info=True
            )

    async def _publish_doc(self, store: AggregateStore, doc: Document) -> None:
        entries = sorted(
            doc.get("outbox", {}).items(), key=lambda kv: kv[1]["event"]["occurred_at"]
        )
        for event_id, entry in entries:
            await self._send(entry["topic"], entry["event"])
            await store.clear(doc["_id"], event_id)

    async def _send(self, topic: str, event: Document) -> None:
        await self.broker.publish(
            event,
            topic=topic,
            key=event["county"].encode(),
            headers={"correlation_id": event["correlation_id"], "event_type": event["type"]},
            correlation_id=event["event_id"],
        )

    async def publish_created(
        self, store: AggregateStore, created: list[tuple[str, str, EventBase]]
    ) -> None:
        """Publish events just written (``create_many`` / ``revise``), then clear them from
        their outboxes in one write (bulk path of discovery)."""
        for _, topic, event in created:
            await self._send(topic, event.model_dump(mode="json"))
        await store.clear_many([d for d, _, _ in created], [e.event_id for _, _, e in created])

    async def sweep_once(self) -> int:
        published = 0
        for store in self.stores:
            for doc in await store.pending(grace_s=self.grace_s):
                await self._publish_doc(store, doc)
                published += 1
        return published

    async def start(self) -> None:
        await self._sweeper.start()

    async def stop(self) -> None:
        await self._sweeper.stop()
