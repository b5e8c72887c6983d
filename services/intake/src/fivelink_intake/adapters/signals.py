"""Stored signals (collection ``signals``) and ingested batches (collection ``batches``).

A signal's identifiers (ID number, phone, name) are stored encrypted, next to their
pseudonymous refs, which are what later batches look the person up by.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from fivelink_intake.adapters.crypto import FieldCipher
from fivelink_intake.discovery import Signal
from fivelink_shared.mongo import Document

CHUNK = 1000
DUPLICATE_KEY = 11000


def fingerprint(signal: Signal) -> str:
    return hashlib.sha256(signal.model_dump_json().encode()).hexdigest()


class SignalStore:
    def __init__(
        self,
        signals: AsyncCollection[Document],
        batches: AsyncCollection[Document],
        cipher: FieldCipher,
        key: bytes,
    ) -> None:
        self.signals = signals
        self.batches = batches
        self.cipher = cipher
        self.key = key

    def to_doc(self, signal: Signal, batch_id: str) -> Document:
        return {
            "_id": signal.signal_id,
            "source": signal.source.value,
            "kind": signal.kind.value,
            "value": signal.value,
            "observed_at": signal.observed_at,
            "region": signal.region.model_dump(),
            "location": signal.location.model_dump() if signal.location else None,
            "categories": [c.value for c in signal.categories],
            "refs": [r for r in signal.person_keys(self.key) if r],
            "personal": self.cipher.encrypt(
                {"id_number": signal.id_number, "phone": signal.phone, "name": signal.name}
            ),
            "fingerprint": fingerprint(signal),
            "batch_id": batch_id,
            "ingested_at": datetime.now(UTC),
        }

    def from_doc(self, doc: Document) -> Signal:
        return Signal.model_validate(
            {
                "signal_id": doc["_id"],
                "source": doc["source"],
                "kind": doc["kind"],
                "value": doc.get("value"),
                "observed_at": doc["observed_at"],
                "region": doc["region"],
                "location": doc.get("location"),
                "categories": doc.get("categories", []),
                **self.cipher.decrypt(doc.get("personal", {})),
            }
        )

    async def lookup(
        self, ids: list[str], refs: set[str], since: datetime, rounds: int = 2
    ) -> tuple[dict[str, str], list[Signal]]:
        """In as few reads as possible (FerretDB scans a collection per query): the
        fingerprints of signals already stored under ``ids``, and the stored signals since
        ``since`` of the people with these refs, following ID ↔ phone+name links."""
        fingerprints: dict[str, str] = {}
        docs: dict[str, Document] = {}
        id_set = set(ids)
        wanted, asked = set(refs), set()
        for round_ in range(rounds):
            query_refs = sorted(wanted - asked)
            if not query_refs and round_:
                break
            asked |= set(query_refs)
            clauses: list[Document] = [
                {"refs": {"$in": query_refs}, "observed_at": {"$gte": since}}
            ]
            if round_ == 0 and ids:
                clauses.append({"_id": {"$in": ids}})
            async for doc in self.signals.find({"$or": clauses}):
                if doc["_id"] in id_set:
                    fingerprints[doc["_id"]] = doc["fingerprint"]
                if doc["observed_at"] >= since and set(doc.get("refs", [])) & (asked | wanted):
                    docs[doc["_id"]] = doc
                    wanted.update(doc.get("refs", []))
        history = [self.from_doc(d) for d in docs.values() if d["_id"] not in id_set]
        return fingerprints, history

    async def insert(self, docs: list[Document]) -> int:
        """Insert new signals; ids stored meanwhile are skipped. Returns how many were new."""
        inserted = 0
        for start in range(0, len(docs), CHUNK):
            chunk = docs[start : start + CHUNK]
            try:
                result = await self.signals.insert_many(chunk, ordered=False)
                inserted += len(result.inserted_ids)
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors", [])
                if any(e.get("code") != DUPLICATE_KEY for e in errors):
                    raise
                inserted += len(chunk) - len(errors)
        return inserted

    async def batch(self, batch_id: str) -> Document | None:
        return await self.batches.find_one({"_id": batch_id})

    async def save_batch(self, batch_id: str, fingerprint_: str, report: Document) -> None:
        try:
            await self.batches.insert_one(
                {
                    "_id": batch_id,
                    "fingerprint": fingerprint_,
                    "report": report,
                    "at": datetime.now(UTC),
                }
            )
        except DuplicateKeyError:
            pass  # a concurrent retry of the same batch recorded it first
