"""MongoDB-backed :class:`~fivelink_notifier.channels.inbox.InboxStore`.

The item id is ``<user_id>:<event_id>``, so ``add`` is idempotent on (user_id, event_id) by the
primary key itself (a unique index every MongoDB-compatible server has).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from fivelink_notifier.channels.base import Message
from fivelink_notifier.channels.inbox import InboxItem
from fivelink_shared.mongo import Document


def item_id(user_id: str, event_id: str) -> str:
    return hashlib.sha256(f"{user_id}|{event_id}".encode()).hexdigest()[:24]


class MongoInboxStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.items = db["inbox"]

    async def ensure_indexes(self) -> None:
        await self.items.create_index([("user_id", 1), ("created_at", -1)])

    async def add(self, user_id: str, message: Message) -> InboxItem:
        doc = {
            "_id": item_id(user_id, message.event_id),
            "user_id": user_id,
            "event_id": message.event_id,
            "message": message.model_dump(mode="json"),
            "created_at": datetime.now(UTC),
            "read_at": None,
        }
        try:
            await self.items.insert_one(doc)
        except DuplicateKeyError:
            found = await self.items.find_one({"_id": doc["_id"]})
            if found is not None:
                doc = found
        return _item(doc)

    async def list(self, user_id: str, unread_only: bool = False) -> list[InboxItem]:
        query: dict[str, Any] = {"user_id": user_id}
        if unread_only:
            query["read_at"] = None
        cursor = self.items.find(query).sort("created_at", -1).limit(200)
        return [_item(d) async for d in cursor]

    async def mark_read(self, user_id: str, item_id: str) -> bool:
        found = await self.items.find_one({"_id": item_id, "user_id": user_id})
        if found is None:
            return False
        await self.items.update_one(
            {"_id": item_id, "read_at": None}, {"$set": {"read_at": datetime.now(UTC)}}
        )
        return True


def _item(doc: Document) -> InboxItem:
    def aware(v: datetime | None) -> datetime | None:
        return v.replace(tzinfo=UTC) if v is not None and v.tzinfo is None else v

    created = aware(doc["created_at"])
    assert created is not None
    return InboxItem(
        item_id=doc["_id"],
        user_id=doc["user_id"],
        message=Message.model_validate(doc["message"]),
        created_at=created,
        read_at=aware(doc.get("read_at")),
    )
