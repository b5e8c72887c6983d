"""Notifier's store: who wants what on which channel, and every delivery with its attempts.

A delivery's id is ``<event_id>:<party>:<channel>``: inserting it is the de-duplication, so
a redelivered Kafka event never makes a second message.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from fivelink_shared.mongo import Document


class NotifierStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.subscriptions = db["subscriptions"]
        self.deliveries = db["deliveries"]
        self.inbox = db["inbox"]

    async def ensure_indexes(self) -> None:
        await self.subscriptions.create_index("party_id")
        await self.deliveries.create_index([("party_id", 1), ("created_at", -1)])
        await self.deliveries.create_index("status")
        await self.inbox.create_index([("user_id", 1), ("created_at", -1)])

    async def put_subscription(self, doc: Document) -> None:
        await self.subscriptions.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    async def subscriptions_of(self, party_id: str) -> list[Document]:
        return [d async for d in self.subscriptions.find({"party_id": party_id})]

    async def get_subscription(self, sub_id: str) -> Document | None:
        return await self.subscriptions.find_one({"_id": sub_id})

    async def claim_delivery(self, doc: Document) -> bool:
        """Create a delivery record; False if this event already reached this party."""
        try:
            await self.deliveries.insert_one(
                {**doc, "created_at": datetime.now(UTC), "attempts": []}
            )
        except DuplicateKeyError:
            return False
        return True

    async def record_attempt(
        self, delivery_id: str, attempt: Document, status: str | None = None
    ) -> None:
        update: dict[str, Any] = {"$push": {"attempts": attempt}}
        if status:
            update["$set"] = {"status": status, "updated_at": datetime.now(UTC)}
        await self.deliveries.update_one({"_id": delivery_id}, update)

    async def set_status(self, delivery_id: str, status: str, **fields: Any) -> None:
        await self.deliveries.update_one(
            {"_id": delivery_id},
            {"$set": {"status": status, "updated_at": datetime.now(UTC), **fields}},
        )

    async def get_delivery(self, delivery_id: str) -> Document | None:
        return await self.deliveries.find_one({"_id": delivery_id})

    async def list_deliveries(
        self, *, party_id: str | None = None, event_id: str | None = None, limit: int = 100
    ) -> list[Document]:
        query: dict[str, Any] = {}
        if party_id:
            query["party_id"] = party_id
        if event_id:
            query["event_id"] = event_id
        cursor = self.deliveries.find(query).sort("created_at", -1).limit(limit)
        return [d async for d in cursor]

    async def pending(self, limit: int = 100) -> list[Document]:
        cursor = self.deliveries.find({"status": {"$in": ["pending", "retrying"]}}).limit(limit)
        return [d async for d in cursor]
