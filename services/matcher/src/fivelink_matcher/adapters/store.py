"""The matcher's durable picture of each county: cases, offers, assignments, unmet lines.

Documents are keyed by their event ids; a newer revision replaces an older one and an older
one arriving late is ignored, so redelivered or reordered events are harmless.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from fivelink_shared.mongo import Document

ACTIVE = ("proposed", "accepted", "delivered", "confirmed")
FIXED = ("accepted", "delivered", "confirmed")


async def upsert_revision(
    collection: AsyncCollection[Document], doc_id: str, revision: int, fields: Document
) -> bool:
    """Store ``fields`` if ``revision`` is newer than what is stored; True if it changed."""
    now = datetime.now(UTC)
    result = await collection.update_one(
        {"_id": doc_id, "revision": {"$lt": revision}},
        {"$set": {**fields, "revision": revision, "updated_at": now}},
    )
    if result.modified_count:
        return True
    try:
        await collection.insert_one(
            {"_id": doc_id, **fields, "revision": revision, "updated_at": now}
        )
    except DuplicateKeyError:
        return False  # stored revision is the same or newer
    return True


class MatcherStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.cases = db["cases"]
        self.offers = db["offers"]
        self.assignments = db["assignments"]
        self.unmet = db["unmet"]
        self.escalations = db["escalations"]

    async def ensure_indexes(self) -> None:
        await self.cases.create_index([("county", 1), ("status", 1)])
        await self.offers.create_index([("county", 1), ("status", 1)])
        await self.assignments.create_index([("county", 1), ("status", 1)])
        await self.assignments.create_index("published")
        await self.unmet.create_index("county")

    async def counties(self) -> list[str]:
        return sorted(set(await self.cases.distinct("county", {"status": "open"})))

    async def open_cases(self, county: str) -> list[Document]:
        return [d async for d in self.cases.find({"county": county, "status": "open"})]

    async def active_offers(self, county: str) -> list[Document]:
        return [d async for d in self.offers.find({"county": county, "status": "active"})]

    async def county_assignments(self, county: str) -> list[Document]:
        return [d async for d in self.assignments.find({"county": county})]

    async def save_assignment(self, doc: Document) -> None:
        await self.assignments.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    async def set_assignment(
        self, assignment_id: str, fields: Document, expect_status: tuple[str, ...] | None = None
    ) -> bool:
        query: dict[str, Any] = {"_id": assignment_id}
        if expect_status is not None:
            query["status"] = {"$in": list(expect_status)}
        result = await self.assignments.update_one(
            query, {"$set": {**fields, "updated_at": datetime.now(UTC)}}
        )
        return result.modified_count == 1

    async def unpublished(self) -> list[Document]:
        return [d async for d in self.assignments.find({"published": False})]

    async def replace_unmet(self, county: str, docs: list[Document]) -> None:
        await self.unmet.delete_many({"county": county})
        if docs:
            await self.unmet.insert_many(docs)

    async def list_unmet(self, county: str | None = None) -> list[Document]:
        query = {"county": county} if county else {}
        return [d async for d in self.unmet.find(query)]

    async def list_escalations(self, county: str) -> list[Document]:
        """Escalations raised in a county (one per line and level)."""
        return [d async for d in self.escalations.find({"county": county})]
