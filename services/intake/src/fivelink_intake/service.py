"""Intake's use cases: open a case, publish an offer (store + outbox + publish)."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from fivelink_intake.adapters.crypto import FieldCipher
from fivelink_intake.adapters.outbox import OutboxRelay
from fivelink_intake.adapters.store import AggregateStore
from fivelink_intake.domain.cases import (
    CaseCreate,
    case_id_for,
    opened_event,
    person_ref,
)
from fivelink_intake.domain.offers import OfferCreate, offer_id_for, published_event
from fivelink_intake.metrics import IntakeMetrics
from fivelink_shared import topics
from fivelink_shared.events import utc_now
from fivelink_shared.logs import correlation_id
from fivelink_shared.mongo import Document


class IdempotencyConflict(Exception):
    """The idempotency key was used before with a different body."""


def _fingerprint(model: Any) -> str:
    payload = json.dumps(model.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def public_case(doc: Document) -> Document:
    """What the API shows of a case: never the encrypted personal fields or the outbox."""
    hidden = ("_id", "personal", "outbox", "fingerprint")
    return {k: v for k, v in doc.items() if k not in hidden} | {"case_id": doc["_id"]}


def public_offer(doc: Document) -> Document:
    return {k: v for k, v in doc.items() if k not in ("_id", "outbox", "fingerprint")} | {
        "offer_id": doc["_id"]
    }


class IntakeService:
    def __init__(
        self,
        *,
        cases: AggregateStore,
        offers: AggregateStore,
        relay: OutboxRelay,
        cipher: FieldCipher,
        ref_key: bytes,
        metrics: IntakeMetrics,
    ) -> None:
        self.cases = cases
        self.offers = offers
        self.relay = relay
        self.cipher = cipher
        self.ref_key = ref_key
        self.metrics = metrics

    async def open_case(
        self, body: CaseCreate, idempotency_key: str | None
    ) -> tuple[Document, bool]:
        """Store the case with its event in one write, then publish; retried keys are no-ops."""
        key = idempotency_key or str(uuid.uuid4())
        case_id = case_id_for(key)
        fingerprint = _fingerprint(body)
        existing = await self.cases.get(case_id)
        if existing:
            return self._replayed(existing, fingerprint, public_case)
        cid = correlation_id.get() if correlation_id.get() != "-" else str(uuid.uuid4())
        ref = person_ref(self.ref_key, body.person, fallback=case_id)
        event = opened_event(
            case_id=case_id, ref=ref, revision=1, body=body, opened_at=utc_now(), correlation_id=cid
        )
        doc: Document = {
            "_id": case_id,
            "revision": 1,
            "status": "open",
            "county": body.region.county,
            "person_ref": ref,
            "correlation_id": cid,
            "fingerprint": fingerprint,
            "personal": self.cipher.encrypt(
                body.person.model_dump(include={"name", "id_number", "phone", "address"})
            ),
            "consent": body.person.consent.model_dump(mode="json"),
            "case": event.model_dump(
                mode="json", exclude={"event_id", "occurred_at", "schema_version", "type"}
            ),
        }
        if not await self.cases.create(doc, topics.NEEDS, event):
            again = await self.cases.get(case_id)
            assert again is not None
            return self._replayed(again, fingerprint, public_case)
        for line in event.lines:
            self.metrics.need_lines.labels(line.need_type.value, event.county).inc()
        self.metrics.cases.labels(body.source).inc()
        await self.relay.flush(self.cases, case_id)
        stored = await self.cases.get(case_id)
        assert stored is not None
        return public_case(stored), True

    async def publish_offer(
        self, body: OfferCreate, idempotency_key: str | None
    ) -> tuple[Document, bool]:
        key = idempotency_key or str(uuid.uuid4())
        offer_id = offer_id_for(key)
        fingerprint = _fingerprint(body)
        existing = await self.offers.get(offer_id)
        if existing:
            return self._replayed(existing, fingerprint, public_offer)
        cid = correlation_id.get() if correlation_id.get() != "-" else str(uuid.uuid4())
        event = published_event(offer_id=offer_id, revision=1, body=body, correlation_id=cid)
        doc: Document = {
            "_id": offer_id,
            "revision": 1,
            "status": "active",
            "county": body.region.county,
            "org_id": body.org_id,
            "correlation_id": cid,
            "fingerprint": fingerprint,
            "offer": body.model_dump(mode="json"),
        }
        if not await self.offers.create(doc, topics.OFFERS, event):
            again = await self.offers.get(offer_id)
            assert again is not None
            return self._replayed(again, fingerprint, public_offer)
        self.metrics.offers.labels(body.kind.value, event.county).inc()
        await self.relay.flush(self.offers, offer_id)
        stored = await self.offers.get(offer_id)
        assert stored is not None
        return public_offer(stored), True

    def _replayed(self, doc: Document, fingerprint: str, view: Any) -> tuple[Document, bool]:
        if doc.get("fingerprint") != fingerprint:
            self.metrics.rejected.labels("idempotency_conflict").inc()
            raise IdempotencyConflict("this Idempotency-Key was already used with a different body")
        return view(doc), False

    async def get_case(self, case_id: str) -> Document | None:
        doc = await self.cases.get(case_id)
        return public_case(doc) if doc else None

    async def get_offer(self, offer_id: str) -> Document | None:
        doc = await self.offers.get(offer_id)
        return public_offer(doc) if doc else None
