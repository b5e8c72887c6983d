"""Intake's store: one document per case and per offer, each with its own outbox.

The outbox lives inside the aggregate's document, so writing the change and the event it
must publish is one single-document (atomic) write on both MongoDB 7 and FerretDB.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from fivelink_shared.events import EventBase
from fivelink_shared.mongo import Document


def outbox_entry(topic: str, event: EventBase) -> dict[str, Any]:
    return {"topic": topic, "event": event.model_dump(mode="json")}


class AggregateStore:
    """Create / read / revise documents that carry an outbox of events to publish."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def create(self, doc: Document, topic: str, event: EventBase) -> bool:
        """Insert a new aggregate with its first event; False if the id already exists."""
        doc = {
            **doc,
            "outbox": {event.event_id: outbox_entry(topic, event)},
            "created_at": datetime.now(UTC),
            "updated_at": datetime.now(UTC),
        }
        try:
            await self.collection.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def create_many(self, items: list[tuple[Document, str, EventBase]]) -> set[str]:
        """Insert many new aggregates, each with its first event; returns the ids inserted
        (an id that exists already is skipped)."""
        now = datetime.now(UTC)
        docs = [
            {
                **doc,
                "outbox": {event.event_id: outbox_entry(topic, event)},
                "created_at": now,
                "updated_at": now,
            }
            for doc, topic, event in items
        ]
        inserted = {doc["_id"] for doc in docs}
        if not docs:
            return inserted
        try:
            await self.collection.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != 11000 for e in errors):
                raise
            inserted -= {docs[e["index"]]["_id"] for e in errors}
        return inserted

    async def revise(
        self,
        doc_id: str,
        revision: int,
        changes: Document,
        topic: str | None,
        event: EventBase | None,
        unset: tuple[str, ...] = (),
    ) -> bool:
        """Compare-and-set on the revision: apply changes and queue the event, or nothing."""
        update: Document = {
            "$set": {**changes, "revision": revision + 1, "updated_at": datetime.now(UTC)}
        }
        if topic is not None and event is not None:
            update["$set"][f"outbox.{event.event_id}"] = outbox_entry(topic, event)
        if unset:
            update["$unset"] = dict.fromkeys(unset, "")
        result = await self.collection.update_one({"_id": doc_id, "revision": revision}, update)
        return result.modified_count == 1

    async def get(self, doc_id: str) -> Document | None:
        return await self.collection.find_one({"_id": doc_id})

    async def find(
        self, query: Document, *, limit: int, skip: int = 0, projection: Document | None = None
    ) -> list[Document]:
        """Newest first, with the id as tie-breaker so that paging is stable."""
        cursor = (
            self.collection.find(query, projection)
            .sort([("created_at", -1), ("_id", 1)])
            .skip(skip)
            .limit(limit)
        )
        return [doc async for doc in cursor]

    async def count(self, query: Document) -> int:
        return await self.collection.count_documents(query)

    async def pending(self, limit: int = 100, grace_s: float = 0.0) -> list[Document]:
        """Documents whose outbox still holds unpublished events, untouched for ``grace_s``
        (younger ones are being published by the request that wrote them)."""
        before = datetime.now(UTC) - timedelta(seconds=grace_s)
        cursor = self.collection.find(
            {"outbox": {"$ne": {}}, "updated_at": {"$lt": before}}, {"outbox": 1}
        ).limit(limit)
        return [doc async for doc in cursor]

    async def clear_many(self, doc_ids: list[str], event_ids: list[str]) -> None:
        """Drop published events from many outboxes in one write (unknown ids are no-ops)."""
        if doc_ids:
            await self.collection.update_many(
                {"_id": {"$in": doc_ids}}, {"$unset": {f"outbox.{e}": "" for e in event_ids}}
            )

    async def clear(self, doc_id: str, event_id: str) -> None:
        await self.collection.update_one({"_id": doc_id}, {"$unset": {f"outbox.{event_id}": ""}})


async def ensure_indexes(db: AsyncDatabase[Document]) -> None:
    await db["cases"].create_index([("county", 1), ("status", 1)])
    await db["cases"].create_index("person_ref")
    await db["cases"].create_index("identity_refs")
    await db["offers"].create_index([("county", 1), ("org_id", 1)])
    await db["signals"].create_index("refs")
    await db["signals"].create_index("observed_at")
    await db["audit"].create_index([("case_id", 1), ("at", -1)])
