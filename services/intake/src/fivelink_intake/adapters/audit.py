"""The audit trail of personal data: who read or wrote it, when, on which case.

One document per access in the ``audit`` collection. It names fields, never their values.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from pymongo.asynchronous.collection import AsyncCollection

from fivelink_intake.domain.access import Principal
from fivelink_shared.mongo import Document


class AuditLog:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    @staticmethod
    def entry(
        principal: Principal,
        action: str,
        *,
        case_id: str | None = None,
        fields: Iterable[str] = (),
        count: int | None = None,
    ) -> Document:
        doc: Document = {
            "_id": str(uuid.uuid4()),
            "at": datetime.now(UTC),
            "sub": principal.sub,
            "role": principal.role.value,
            "action": action,
            "case_id": case_id,
            "fields": sorted(set(fields)),
        }
        if count is not None:
            doc["count"] = count
        return doc

    async def record(
        self,
        principal: Principal,
        action: str,
        *,
        case_id: str | None = None,
        fields: Iterable[str] = (),
        count: int | None = None,
    ) -> None:
        await self.collection.insert_one(
            self.entry(principal, action, case_id=case_id, fields=fields, count=count)
        )

    async def record_many(self, entries: list[Document]) -> None:
        for start in range(0, len(entries), 500):
            await self.collection.insert_many(entries[start : start + 500], ordered=False)

    async def for_case(self, case_id: str, limit: int = 100) -> list[Document]:
        cursor = self.collection.find({"case_id": case_id}).sort("at", -1).limit(limit)
        return [doc async for doc in cursor]
