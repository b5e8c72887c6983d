"""The notifier's own picture of each assignment (from Kafka): parties, state, follow-ups,
and the traceability records of confirmed ones. Single-document conditional updates only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from fivelink_shared.events import AssignmentProposed
from fivelink_shared.mongo import Document

#: States a new proposal must not overwrite (the loop has moved on).
SETTLED = ("accepted", "delivered", "confirmed", "declined", "released")


class AssignmentStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.assignments = db["assignments"]
        self.traceability = db["traceability"]

    async def ensure_indexes(self) -> None:
        await self.assignments.create_index([("status", 1), ("urgency", 1)])
        await self.traceability.create_index("org_id")

    async def proposed(self, event: AssignmentProposed, parties: list[dict[str, str]]) -> None:
        """Record a proposal unless the assignment has already moved past it."""
        now = datetime.now(UTC)
        fields = {
            "county": event.county,
            "case_id": event.case_id,
            "line_id": event.line_id,
            "offer_id": event.offer_id,
            "org_id": event.org_id,
            "urgency": event.urgency.value,
            "correlation_id": event.correlation_id,
            "parties": parties,
            "roles": {p["party_id"]: p["role"] for p in parties},
            "event": event.model_dump(mode="json"),
            "status": "proposed",
            "proposed_at": now,
            "proposal_event_id": event.event_id,
        }
        try:  # the common case first: a new assignment (an _id-only write, fast everywhere)
            await self.assignments.insert_one({"_id": event.assignment_id, **fields})
            return
        except DuplicateKeyError:
            pass
        # seen before: a re-proposal after a withdrawal counts; a settled one stays as it is
        await self.assignments.update_one(
            {"_id": event.assignment_id, "status": {"$nin": list(SETTLED)}},
            {"$set": fields, "$unset": {"reminded_at": "", "released_at": ""}},
        )

    async def get(self, assignment_id: str) -> Document | None:
        return await self.assignments.find_one({"_id": assignment_id})

    async def transition(
        self, assignment_id: str, from_states: tuple[str, ...], to: str, **fields: Any
    ) -> bool:
        """Move to ``to`` only from ``from_states``; True if this call made the change."""
        result = await self.assignments.update_one(
            {"_id": assignment_id, "status": {"$in": list(from_states)}},
            {"$set": {"status": to, f"{to}_at": datetime.now(UTC), **fields}},
        )
        return result.modified_count == 1

    async def mark_once(self, assignment_id: str, status: str, flag: str) -> bool:
        """Set ``flag`` (a time) once while the assignment is in ``status``; True if we won."""
        result = await self.assignments.update_one(
            {"_id": assignment_id, "status": status, flag: {"$exists": False}},
            {"$set": {flag: datetime.now(UTC)}},
        )
        return result.modified_count == 1

    async def set_fields(self, assignment_id: str, **fields: Any) -> None:
        await self.assignments.update_one({"_id": assignment_id}, {"$set": fields})

    async def waiting(
        self, status: str, urgency: str, since_field: str, before: datetime, unless: str
    ) -> list[Document]:
        """Assignments in ``status`` since before ``before`` that have no ``unless`` flag yet."""
        query = {
            "status": status,
            "urgency": urgency,
            since_field: {"$lte": before},
            unless: {"$exists": False},
        }
        return [d async for d in self.assignments.find(query).limit(500)]

    async def unpublished_releases(self) -> list[Document]:
        return [d async for d in self.assignments.find({"release_published": False})]

    async def put_trace(self, record: Document) -> None:
        await self.traceability.replace_one({"_id": record["_id"]}, record, upsert=True)

    async def traces(self, org_id: str) -> list[Document]:
        cursor = self.traceability.find({"org_id": org_id}).sort("confirmed_at", -1)
        return [d async for d in cursor.limit(1000)]
