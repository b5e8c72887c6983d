"""Notifier's store: who wants what on which channel, and every delivery with its attempts.

A delivery's id is ``<event_id>:<party>:<channel>``: inserting it is the de-duplication, so
a redelivered Kafka event never makes a second message. ``deliveries`` is the history (status
pending → retrying → delivered | failed, every attempt); ``queue`` holds one small document per
open delivery — ``not_before`` (deferred or backed-off) and ``lease_until`` (a conditional
update wins the right to send; it lapses if a sender dies) — and loses it when the delivery is
final, so the worker's queries stay small even where the server cannot use indexes (FerretDB
v1 on SQLite scans). Every update touches one document, conditionally.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from fivelink_shared.mongo import Document

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OPEN = ("pending", "retrying")


class NotifierStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.subscriptions = db["subscriptions"]
        self.deliveries = db["deliveries"]
        self.queue = db["delivery_queue"]

    async def ensure_indexes(self) -> None:
        await self.subscriptions.create_index("party_id")
        await self.subscriptions.create_index([("scope_level", 1), ("scope_code", 1)])
        await self.deliveries.create_index([("party_id", 1), ("created_at", -1)])
        await self.deliveries.create_index([("status", 1), ("not_before", 1)])
        await self.deliveries.create_index([("party_id", 1), ("channel", 1), ("sent_at", -1)])
        await self.deliveries.create_index("event_id")
        await self.queue.create_index([("not_before", 1)])

    async def repair_queue(self) -> int:
        """Give every open delivery its queue entry (after a crash between the two inserts)."""
        n = 0
        async for d in self.deliveries.find({"status": {"$in": list(OPEN)}}):
            n += await self._enqueue(d, d.get("not_before") or datetime.now(UTC))
        return n

    async def _enqueue(self, doc: Document, not_before: datetime) -> int:
        try:
            await self.queue.insert_one(
                {"_id": doc["_id"], "not_before": not_before, "lease_until": EPOCH}
            )
        except DuplicateKeyError:
            return 0
        return 1

    # --- subscriptions -----------------------------------------------------------------------

    async def put_subscription(self, doc: Document) -> None:
        await self.subscriptions.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    async def subscriptions_of(self, party_id: str) -> list[Document]:
        return [d async for d in self.subscriptions.find({"party_id": party_id})]

    async def subscriptions_of_many(self, party_ids: list[str]) -> dict[str, list[Document]]:
        """Subscriptions of several parties in one query, by party."""
        out: dict[str, list[Document]] = {p: [] for p in party_ids}
        async for d in self.subscriptions.find({"party_id": {"$in": party_ids}}):
            out.setdefault(d["party_id"], []).append(d)
        return out

    async def supervisors(self, level: str, code: str) -> list[Document]:
        query = {"role": "supervisor", "scope_level": level, "scope_code": code}
        return [d async for d in self.subscriptions.find(query)]

    async def get_subscription(self, sub_id: str) -> Document | None:
        return await self.subscriptions.find_one({"_id": sub_id})

    async def rotate_secret(
        self, sub_id: str, new_secret: str, grace_until: datetime
    ) -> Document | None:
        """Make ``new_secret`` current; keep the old one signing until ``grace_until``."""
        sub = await self.get_subscription(sub_id)
        if sub is None or sub.get("channel") != "webhook":
            return None
        now = datetime.now(UTC)
        old = [
            p
            for p in sub.get("previous_secrets", [])
            if _aware(p["until"]) > now and p["secret"] != new_secret
        ]
        old.insert(0, {"secret": sub["target"]["secret"], "until": grace_until})
        # conditional on the secret we read: two rotations at once cannot lose one
        return await self.subscriptions.find_one_and_update(
            {"_id": sub_id, "target.secret": sub["target"]["secret"]},
            {
                "$set": {
                    "target.secret": new_secret,
                    "previous_secrets": old,
                    "rotated_at": now,
                }
            },
            return_document=ReturnDocument.AFTER,
        )

    # --- deliveries --------------------------------------------------------------------------

    async def claim_delivery(self, doc: Document) -> bool:
        """Create a delivery record and queue it; False if this event already reached this party."""
        now = datetime.now(UTC)
        try:
            await self.deliveries.insert_one(
                {"not_before": now, **doc, "created_at": now, "attempts": []}
            )
        except DuplicateKeyError:
            return False
        await self._enqueue(doc, now)
        return True

    async def due(self, now: datetime, limit: int, exclude: list[str]) -> list[Document]:
        """Queue entries whose time has come and that nobody holds a lease on."""
        query: dict[str, Any] = {"not_before": {"$lte": now}, "lease_until": {"$lt": now}}
        if exclude:
            query["_id"] = {"$nin": exclude}
        cursor = self.queue.find(query).sort("not_before", 1).limit(limit)
        return [d async for d in cursor]

    async def next_due(self) -> datetime | None:
        doc = await self.queue.find_one({}, sort=[("not_before", 1)])
        return _aware(doc["not_before"]) if doc else None

    async def lease(self, delivery_id: str, now: datetime, hold: timedelta) -> Document | None:
        """Take the right to send this delivery now; its record, or None if someone holds it."""
        result = await self.queue.update_one(
            {"_id": delivery_id, "lease_until": {"$lt": now}},
            {"$set": {"lease_until": now + hold}},
        )
        if result.modified_count != 1:
            return None
        doc = await self.deliveries.find_one({"_id": delivery_id})
        if doc is None or doc.get("status") not in OPEN:
            await self.queue.delete_one({"_id": delivery_id})  # stale entry
            return None
        return doc

    async def defer(self, delivery_id: str, until: datetime, reason: str) -> None:
        await self.deliveries.update_one(
            {"_id": delivery_id},
            {"$set": {"not_before": until, "deferred": reason}, "$inc": {"deferrals": 1}},
        )
        await self._requeue(delivery_id, until)

    async def _requeue(self, delivery_id: str, until: datetime) -> None:
        await self.queue.update_one(
            {"_id": delivery_id}, {"$set": {"not_before": until, "lease_until": EPOCH}}
        )

    async def record_attempt(
        self, delivery_id: str, attempt: Document, status: str, **fields: Any
    ) -> None:
        """Append one attempt and move the delivery to ``status``; requeue or dequeue it."""
        await self.deliveries.update_one(
            {"_id": delivery_id},
            {
                "$push": {"attempts": attempt},
                "$set": {"status": status, "updated_at": datetime.now(UTC), **fields},
            },
        )
        if status in OPEN:
            await self._requeue(delivery_id, fields.get("not_before") or datetime.now(UTC))
        else:
            await self.queue.delete_one({"_id": delivery_id})

    async def set_fields(self, delivery_id: str, **fields: Any) -> None:
        await self.deliveries.update_one({"_id": delivery_id}, {"$set": fields})

    async def sent_times(self, party_id: str, channel: str, since: datetime) -> list[datetime]:
        cursor = self.deliveries.find(
            {"party_id": party_id, "channel": channel, "sent_at": {"$gt": since}},
            {"sent_at": 1},
        )
        return [_aware(d["sent_at"]) async for d in cursor]

    async def undelivered_dead_letters(self) -> list[Document]:
        return [d async for d in self.deliveries.find({"dlq_pending": True})]

    async def get_delivery(self, delivery_id: str) -> Document | None:
        return await self.deliveries.find_one({"_id": delivery_id})

    async def list_deliveries(
        self,
        *,
        party_id: str | None = None,
        event_id: str | None = None,
        status: str | None = None,
        limit: int = 100,
    ) -> list[Document]:
        query: dict[str, Any] = {}
        if party_id:
            query["party_id"] = party_id
        if event_id:
            query["event_id"] = event_id
        if status:
            query["status"] = status
        cursor = self.deliveries.find(query).sort("created_at", -1)
        return [d async for d in cursor.limit(limit)]


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
