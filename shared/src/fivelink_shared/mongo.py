"""MongoDB helpers on PyMongo's async API; only what both MongoDB 7 and FerretDB v1 support."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

Document = dict[str, Any]


def make_client(
    url: str, event_listeners: Sequence[monitoring._EventListener] = ()
) -> AsyncMongoClient[Document]:
    """A client that does not connect until first used (nothing connects at import).

    ``event_listeners`` are PyMongo monitoring listeners (e.g. the store latency histogram).
    """
    return AsyncMongoClient(
        url,
        tz_aware=True,
        serverSelectionTimeoutMS=5000,
        connect=False,
        event_listeners=list(event_listeners),
    )


async def ping(db: AsyncDatabase[Document]) -> bool:
    try:
        await db.command("ping")
    except Exception:
        return False
    return True


class ProcessedEvents:
    """The record of event ids a consumer has fully processed (for at-least-once delivery)."""

    def __init__(self, db: AsyncDatabase[Document], consumer: str) -> None:
        self.collection = db["processed_events"]
        self.consumer = consumer

    def _key(self, event_id: str) -> str:
        return f"{self.consumer}:{event_id}"

    async def seen(self, event_id: str) -> bool:
        return await self.collection.find_one({"_id": self._key(event_id)}) is not None

    async def mark(self, event_id: str) -> None:
        try:
            await self.collection.insert_one(
                {"_id": self._key(event_id), "consumer": self.consumer, "at": datetime.now(UTC)}
            )
        except DuplicateKeyError:
            pass
