"""Stored signals (collection ``signals``) and ingested batches (collection ``batches``).

A signal's identifiers (ID number, phone, name) are stored encrypted, next to their
pseudonymous refs, which are what later batches look the person up by.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
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

    async def fingerprints(self, ids: list[str]) -> dict[str, str]:
        """Fingerprints of the signals already stored under these ids."""
        found: dict[str, str] = {}
        for start in range(0, len(ids), CHUNK):
            cursor = self.signals.find(
                {"_id": {"$in": ids[start : start + CHUNK]}}, {"fingerprint": 1}
            )
            found.update({doc["_id"]: doc["fingerprint"] async for doc in cursor})
        return found

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

    async def related(self, refs: Iterable[str], since: datetime, rounds: int = 2) -> list[Signal]:
        """Stored signals of these people since ``since``, following ID ↔ phone+name links."""
        wanted, seen_refs = set(refs), set()
        docs: dict[str, Document] = {}
        for _ in range(rounds):
            query_refs = sorted(wanted - seen_refs)
            if not query_refs:
                break
            seen_refs |= set(query_refs)
            for start in range(0, len(query_refs), CHUNK):
                cursor = self.signals.find(
                    {
                        "refs": {"$in": query_refs[start : start + CHUNK]},
                        "observed_at": {"$gte": since},
                    }
                )
                async for doc in cursor:
                    docs[doc["_id"]] = doc
                    wanted.update(doc.get("refs", []))
        return [self.from_doc(doc) for doc in docs.values()]

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
