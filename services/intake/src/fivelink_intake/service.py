"""Intake's use cases for cases and offers: check access, store + outbox, publish, audit.

Every change is one single-document write that also queues its event (the outbox); the
relay publishes it right after, and its sweep republishes whatever a crash left behind.
Revisions are compare-and-set on the document's ``revision`` (FerretDB does not isolate
concurrent updates of one document otherwise).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid
from collections.abc import Callable
from typing import Any

from fivelink_intake.adapters.audit import AuditLog
from fivelink_intake.adapters.crypto import PERSONAL_FIELDS, FieldCipher
from fivelink_intake.adapters.outbox import OutboxRelay
from fivelink_intake.adapters.store import AggregateStore
from fivelink_intake.domain import cases as dc
from fivelink_intake.domain import offers as do
from fivelink_intake.domain.access import Action, Forbidden, Principal, Role, check, may
from fivelink_intake.metrics import IntakeMetrics
from fivelink_shared import topics
from fivelink_shared.events import EventBase, NeedLine, NeedOpened, Region, utc_now
from fivelink_shared.logs import correlation_id
from fivelink_shared.mongo import Document

MAX_CAS_ATTEMPTS = 5
EVENT_META = {"event_id", "occurred_at", "schema_version", "type"}
HIDDEN = ("_id", "personal", "outbox", "fingerprint", "line_keys", "stock_keys", "identity_refs")


class IntakeError(Exception):
    """A request the domain refuses; the API maps each subclass to a 4xx."""


class NotFound(IntakeError):
    pass


class Conflict(IntakeError):
    pass


class IdempotencyConflict(Conflict):
    """The idempotency key was used before with a different body."""


class Unprocessable(IntakeError):
    pass


def fingerprint(model: Any) -> str:
    payload = json.dumps(model.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def key_hash(idempotency_key: str) -> str:
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]


def public_case(doc: Document) -> Document:
    """What casework roles see of a case: never the encrypted personal fields or the outbox."""
    return {k: v for k, v in doc.items() if k not in HIDDEN} | {"case_id": doc["_id"]}


def public_offer(doc: Document) -> Document:
    return {k: v for k, v in doc.items() if k not in HIDDEN} | {"offer_id": doc["_id"]}


def case_state(event: NeedOpened) -> Document:
    """The stored picture of a case: its latest ``NeedOpened`` without the event metadata."""
    return event.model_dump(mode="json", exclude=EVENT_META)


def case_index(event: NeedOpened) -> Document:
    """Top-level fields the listings filter on."""
    return {
        "case": case_state(event),
        "need_types": sorted({line.need_type.value for line in event.lines}),
        "categories": [c.value for c in event.categories],
        "township": event.region.township,
        "community": event.region.community,
        "source": event.source,
    }


def _cid() -> str:
    return correlation_id.get() if correlation_id.get() != "-" else str(uuid.uuid4())


Mutation = Callable[[Document], tuple[Document, EventBase | None]]


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
        audit: AuditLog,
        crash_after_store: bool = False,
    ) -> None:
        self.cases = cases
        self.offers = offers
        self.relay = relay
        self.cipher = cipher
        self.ref_key = ref_key
        self.metrics = metrics
        self.audit = audit
        self.crash_after_store = crash_after_store

    # --- cases: create and read ----------------------------------------------------------

    async def open_case(
        self, principal: Principal, body: dc.CaseCreate, idempotency_key: str | None
    ) -> tuple[Document, bool]:
        """Store the case with its event in one write, then publish; retried keys are no-ops."""
        check(principal, Action.CASE_WRITE, region=body.region)
        key = idempotency_key or str(uuid.uuid4())
        case_id = dc.case_id_for(key)
        digest = fingerprint(body)
        existing = await self.cases.get(case_id)
        if existing:
            return self._replayed(principal, existing, digest, public_case)
        identifiers = body.person.model_dump(include=set(PERSONAL_FIELDS))
        ref = dc.person_ref(self.ref_key, body.person, fallback=case_id)
        event = dc.opened_event(
            case_id=case_id,
            ref=ref,
            revision=1,
            body=body,
            opened_at=utc_now(),
            correlation_id=_cid(),
        )
        doc: Document = {
            "_id": case_id,
            "revision": 1,
            "status": "open",
            "county": body.region.county,
            "person_ref": ref,
            "identity_refs": dc.identity_refs(self.ref_key, identifiers),
            "correlation_id": event.correlation_id,
            "fingerprint": digest,
            "opened_by": principal.sub,
            "line_seq": len(event.lines),
            "personal": self.cipher.encrypt(identifiers),
            "consent": body.person.consent.model_dump(mode="json"),
            **case_index(event),
        }
        if not await self.cases.create(doc, topics.NEEDS, event):
            again = await self.cases.get(case_id)
            assert again is not None
            return self._replayed(principal, again, digest, public_case)
        if self.crash_after_store:
            os._exit(70)  # test-only: die between the store write and the publish
        self._count_lines(event.lines, event.county)
        self.metrics.cases.labels(body.source).inc()
        fields = [k for k, v in identifiers.items() if v] + ["categories", "consent"]
        await self.audit.record(principal, "case.create", case_id=case_id, fields=fields)
        await self.relay.flush(self.cases, case_id)
        return await self._case_view(principal, case_id), True

    def _count_lines(self, lines: tuple[NeedLine, ...], county: str) -> None:
        for line in lines:
            self.metrics.need_lines.labels(line.need_type.value, county).inc()

    def _replayed(
        self, principal: Principal, doc: Document, digest: str, view: Callable[[Document], Document]
    ) -> tuple[Document, bool]:
        if doc.get("fingerprint") != digest:
            self.metrics.rejected.labels("idempotency_conflict").inc()
            raise IdempotencyConflict("this Idempotency-Key was already used with a different body")
        return view(doc), False

    async def _load_case(self, case_id: str) -> Document:
        doc = await self.cases.get(case_id)
        if doc is None:
            raise NotFound(f"no case {case_id}")
        return doc

    async def _case_view(self, principal: Principal, case_id: str) -> Document:
        return self.view_case(principal, await self._load_case(case_id))

    def view_case(self, principal: Principal, doc: Document) -> Document:
        """Casework roles get the pseudonymous case, charities and ops a de-identified card."""
        if may(principal, Action.CASE_READ):
            return public_case(doc)
        return dc.need_card(doc["case"], self.card_id(doc["_id"]), doc["status"])

    def card_id(self, case_id: str) -> str:
        return "n-" + hmac.new(self.ref_key, case_id.encode(), hashlib.sha256).hexdigest()[:20]

    async def get_case(self, principal: Principal, case_id: str) -> Document:
        doc = await self._load_case(case_id)
        if may(principal, Action.CASE_READ):
            check(principal, Action.CASE_READ, region=_region(doc))
            await self.audit.record(principal, "case.read", case_id=case_id)
        else:
            check(principal, Action.CARD_READ)
        return self.view_case(principal, doc)

    async def get_personal(self, principal: Principal, case_id: str) -> Document:
        """The decrypted identifiers of a case's person; every call leaves an audit record."""
        doc = await self._load_case(case_id)
        check(principal, Action.PERSONAL_READ, region=_region(doc))
        personal = self.cipher.decrypt(doc.get("personal", {}))
        await self.audit.record(principal, "personal.read", case_id=case_id, fields=personal)
        return {"case_id": case_id, "person_ref": doc["person_ref"], **personal}

    async def list_cases(
        self, principal: Principal, filters: dict[str, str | None], limit: int, offset: int
    ) -> Document:
        casework = may(principal, Action.CASE_READ)
        if not casework:
            check(principal, Action.CARD_READ)
        query = _scoped_query(principal, filters)
        docs = await self.cases.find(query, limit=limit, skip=offset)
        total = await self.cases.count(query)
        if casework and docs:
            await self.audit.record_many(
                [self.audit.entry(principal, "case.list", case_id=d["_id"]) for d in docs]
            )
        items = [self.view_case(principal, d) for d in docs]
        return {"items": items, "total": total, "limit": limit, "offset": offset}

    async def person_history(
        self, principal: Principal, person_ref: str, limit: int, offset: int
    ) -> Document:
        """Every case of one person (any status) that the principal may see, newest first."""
        check(principal, Action.CASE_READ)
        return await self.list_cases(principal, {"person_ref": person_ref}, limit, offset)

    async def audit_trail(self, principal: Principal, case_id: str) -> list[Document]:
        if principal.role not in (Role.ADMIN, Role.SUPERVISOR):
            raise Forbidden("only supervisors and admins read the audit trail")
        doc = await self._load_case(case_id)
        check(principal, Action.CASE_READ, region=_region(doc))
        return [
            {k: v for k, v in e.items() if k != "_id"} for e in await self.audit.for_case(case_id)
        ]

    # --- cases: revisions ----------------------------------------------------------------

    async def _revise_case(
        self,
        principal: Principal,
        case_id: str,
        mutate: Mutation,
        expected_revision: int | None = None,
        *,
        allow_closed: bool = False,
    ) -> Document:
        """Load, check, apply ``mutate`` and compare-and-set; retry when another write won."""
        for _ in range(MAX_CAS_ATTEMPTS):
            doc = await self._load_case(case_id)
            check(principal, Action.CASE_WRITE, region=_region(doc))
            if doc["status"] != "open" and not allow_closed:
                raise Conflict("the case is closed")
            if expected_revision is not None and doc["revision"] != expected_revision:
                raise Conflict(
                    f"the case is at revision {doc['revision']}, not {expected_revision}"
                )
            changes, event = mutate(doc)
            if not changes and event is None:
                return public_case(doc)  # nothing to change
            topic = topics.NEEDS if event is not None else None
            if await self.cases.revise(case_id, doc["revision"], changes, topic, event):
                if event is not None:
                    await self.relay.flush(self.cases, case_id)
                return public_case(await self._load_case(case_id))
        raise Conflict("the case changed concurrently; try again")

    def _next_opened(self, doc: Document, **changes: Any) -> NeedOpened:
        return dc.revised(doc["case"], revision=doc["revision"] + 1, **changes)

    async def update_case(
        self, principal: Principal, case_id: str, update: dc.CaseUpdate
    ) -> Document:
        """Change the person's details or the location; publishes the next revision."""
        person = update.person
        identifiers = person.identifiers() if person else {}
        written = [k for k, v in identifiers.items() if v]

        def mutate(doc: Document) -> tuple[Document, EventBase | None]:
            changes: Document = {}
            event_changes: Document = {}
            if update.location is not None:
                event_changes["location"] = update.location
            if person is not None:
                if person.categories is not None:
                    event_changes["categories"] = person.categories
                if person.language is not None:
                    event_changes["language"] = person.language
                if person.consent is not None:
                    changes["consent"] = person.consent.model_dump(mode="json")
                if written:
                    encrypted = self.cipher.encrypt(identifiers)
                    changes["personal"] = {**doc.get("personal", {}), **encrypted}
                    merged = self.cipher.decrypt(changes["personal"])
                    refs = dc.identity_refs(self.ref_key, dict(merged))
                    changes["identity_refs"] = sorted({*doc.get("identity_refs", []), *refs})
            event = self._next_opened(doc, **event_changes) if event_changes else None
            if event is not None:
                changes |= case_index(event)
            return changes, event

        result = await self._revise_case(principal, case_id, mutate, update.expected_revision)
        if person is not None:
            fields = [*written, *(["consent"] if person.consent else [])]
            if person.categories is not None:
                fields.append("categories")
            await self.audit.record(principal, "personal.write", case_id=case_id, fields=fields)
        return result

    async def add_line(
        self,
        principal: Principal,
        case_id: str,
        line: dc.NeedLineIn,
        idempotency_key: str | None,
    ) -> tuple[Document, bool]:
        """Add a need line (idempotent per key); publishes the next revision."""
        key = key_hash(idempotency_key or str(uuid.uuid4()))
        digest = fingerprint(line)
        doc = await self._load_case(case_id)
        if key in doc.get("line_keys", {}):
            check(principal, Action.CASE_WRITE, region=_region(doc))
            if doc["line_keys"][key]["fingerprint"] != digest:
                self.metrics.rejected.labels("idempotency_conflict").inc()
                raise IdempotencyConflict(
                    "this Idempotency-Key was already used with a different body"
                )
            return public_case(doc), False

        def mutate(doc: Document) -> tuple[Document, EventBase | None]:
            seq = int(doc.get("line_seq", len(doc["case"]["lines"]))) + 1
            line_id = dc.line_ids(case_id, 1, start=seq)[0]
            current = [NeedLine.model_validate(x) for x in doc["case"]["lines"]]
            event = self._next_opened(doc, lines=dc.add_line(current, line_id, line))
            changes = case_index(event) | {
                "line_seq": seq,
                f"line_keys.{key}": {"line_id": line_id, "fingerprint": digest},
            }
            return changes, event

        result = await self._revise_case(principal, case_id, mutate)
        self.metrics.need_lines.labels(line.need_type.value, result["county"]).inc()
        return result, True

    async def update_line(
        self, principal: Principal, case_id: str, line_id: str, update: dc.LineUpdate
    ) -> Document:
        def mutate(doc: Document) -> tuple[Document, EventBase | None]:
            current = [NeedLine.model_validate(x) for x in doc["case"]["lines"]]
            try:
                lines = dc.update_line(current, line_id, update)
            except LookupError as exc:
                raise NotFound(str(exc)) from exc
            except ValueError as exc:
                raise Unprocessable(str(exc)) from exc
            event = self._next_opened(doc, lines=lines)
            return case_index(event), event

        return await self._revise_case(principal, case_id, mutate, update.expected_revision)

    async def close_line(
        self, principal: Principal, case_id: str, line_id: str, reason: str
    ) -> Document:
        """Close one line; closing the last open line closes the case."""

        def mutate(doc: Document) -> tuple[Document, EventBase | None]:
            current = [NeedLine.model_validate(x) for x in doc["case"]["lines"]]
            try:
                lines = dc.remove_line(current, line_id)
            except LookupError as exc:
                raise NotFound(str(exc)) from exc
            closed = {"line_id": line_id, "reason": reason, "at": utc_now(), "by": principal.sub}
            if not lines:
                return self._closing(doc, "all_lines_closed", principal) | {
                    "closed_lines": [*doc.get("closed_lines", []), closed]
                }, self._closed_event(doc, "all_lines_closed")
            event = self._next_opened(doc, lines=lines)
            return case_index(event) | {
                "closed_lines": [*doc.get("closed_lines", []), closed]
            }, event

        return await self._revise_case(principal, case_id, mutate)

    async def close_case(self, principal: Principal, case_id: str, reason: str) -> Document:
        """Close a case (its lines leave the matcher); closing a closed case changes nothing."""

        def mutate(doc: Document) -> tuple[Document, EventBase | None]:
            if doc["status"] != "open":
                return {}, None
            return self._closing(doc, reason, principal), self._closed_event(doc, reason)

        return await self._revise_case(principal, case_id, mutate, allow_closed=True)

    def _closing(self, doc: Document, reason: str, principal: Principal) -> Document:
        return {
            "status": "closed",
            "closed_reason": reason,
            "closed_at": utc_now(),
            "closed_by": principal.sub,
        }

    def _closed_event(self, doc: Document, reason: str) -> EventBase:
        self.metrics.cases_closed.labels(reason if reason in CLOSE_REASONS else "other").inc()
        return dc.closed_event(
            case_id=doc["_id"],
            county=doc["county"],
            revision=doc["revision"] + 1,
            reason=reason,
            correlation_id=doc.get("correlation_id") or _cid(),
        )

    # --- offers --------------------------------------------------------------------------

    async def publish_offer(
        self, principal: Principal, body: do.OfferCreate, idempotency_key: str | None
    ) -> tuple[Document, bool]:
        check(principal, Action.OFFER_WRITE, org_id=body.org_id)
        key = idempotency_key or str(uuid.uuid4())
        offer_id = do.offer_id_for(key)
        digest = fingerprint(body)
        existing = await self.offers.get(offer_id)
        if existing:
            return self._replayed(principal, existing, digest, public_offer)
        event = do.published_event(offer_id=offer_id, revision=1, body=body, correlation_id=_cid())
        doc: Document = {
            "_id": offer_id,
            "revision": 1,
            "status": "active",
            "county": body.region.county,
            "township": body.region.township,
            "community": body.region.community,
            "org_id": body.org_id,
            "kind": body.kind.value,
            "need_types": [n.value for n in body.need_types],
            "correlation_id": event.correlation_id,
            "fingerprint": digest,
            "published_by": principal.sub,
            "offer": body.model_dump(mode="json"),
        }
        if not await self.offers.create(doc, topics.OFFERS, event):
            again = await self.offers.get(offer_id)
            assert again is not None
            return self._replayed(principal, again, digest, public_offer)
        self.metrics.offers.labels(body.kind.value, event.county).inc()
        await self.relay.flush(self.offers, offer_id)
        return public_offer(await self._load_offer(offer_id)), True

    async def _load_offer(self, offer_id: str) -> Document:
        doc = await self.offers.get(offer_id)
        if doc is None:
            raise NotFound(f"no offer {offer_id}")
        return doc

    def _check_offer(self, principal: Principal, action: Action, doc: Document) -> None:
        region = Region.model_validate(doc["offer"]["region"])
        if principal.role is Role.CHARITY or action is Action.OFFER_WRITE:
            check(principal, action, org_id=doc["org_id"])
        else:
            check(principal, action, region=region)

    async def get_offer(self, principal: Principal, offer_id: str) -> Document:
        doc = await self._load_offer(offer_id)
        self._check_offer(principal, Action.OFFER_READ, doc)
        return public_offer(doc)

    async def list_offers(
        self, principal: Principal, filters: dict[str, str | None], limit: int, offset: int
    ) -> Document:
        check(principal, Action.OFFER_READ)
        wanted = {k: v for k, v in filters.items() if v}
        if principal.role is Role.CHARITY:
            if wanted.get("org_id", principal.org_id) != principal.org_id:
                raise Forbidden("a charity lists only its own offers")
            wanted["org_id"] = principal.org_id
        query = _scoped_query(principal, wanted)
        docs = await self.offers.find(query, limit=limit, skip=offset)
        total = await self.offers.count(query)
        items = [public_offer(d) for d in docs]
        return {"items": items, "total": total, "limit": limit, "offset": offset}

    async def _revise_offer(
        self,
        principal: Principal,
        offer_id: str,
        mutate: Mutation,
        expected_revision: int | None = None,
    ) -> Document:
        for _ in range(MAX_CAS_ATTEMPTS):
            doc = await self._load_offer(offer_id)
            self._check_offer(principal, Action.OFFER_WRITE, doc)
            if expected_revision is not None and doc["revision"] != expected_revision:
                raise Conflict(
                    f"the offer is at revision {doc['revision']}, not {expected_revision}"
                )
            changes, event = mutate(doc)
            if not changes and event is None:
                return public_offer(doc)
            topic = topics.OFFERS if event is not None else None
            if await self.offers.revise(offer_id, doc["revision"], changes, topic, event):
                if event is not None:
                    await self.relay.flush(self.offers, offer_id)
                return public_offer(await self._load_offer(offer_id))
        raise Conflict("the offer changed concurrently; try again")

    async def update_offer(
        self, principal: Principal, offer_id: str, update: do.OfferUpdate
    ) -> Document:
        """Revise an active offer; publishes ``OfferPublished`` with the next revision."""

        def mutate(doc: Document) -> tuple[Document, EventBase | None]:
            _require_active(doc)
            try:
                body = do.updated_body(doc["offer"], update)
            except ValueError as exc:
                raise Unprocessable(str(exc).splitlines()[-1][:300]) from exc
            event = do.published_event(
                offer_id=offer_id,
                revision=doc["revision"] + 1,
                body=body,
                correlation_id=doc["correlation_id"],
            )
            changes = {
                "offer": body.model_dump(mode="json"),
                "need_types": [n.value for n in body.need_types],
            }
            return changes, event

        return await self._revise_offer(principal, offer_id, mutate, update.expected_revision)

    async def correct_stock(
        self,
        principal: Principal,
        offer_id: str,
        correction: do.StockCorrection,
        idempotency_key: str | None,
    ) -> Document:
        """Set or change the stock, compare-and-set; a retried key is applied once."""
        key = key_hash(idempotency_key) if idempotency_key else None
        digest = fingerprint(correction)

        def mutate(doc: Document) -> tuple[Document, EventBase | None]:
            seen = doc.get("stock_keys", {})
            if key and key in seen:
                if seen[key] != digest:
                    raise IdempotencyConflict(
                        "this Idempotency-Key was already used with a different body"
                    )
                return {}, None
            _require_active(doc)
            try:
                quantity = correction.apply(float(doc["offer"]["quantity"]))
            except ValueError as exc:
                raise Conflict(str(exc)) from exc
            event = do.stock_event(
                current=doc["offer"],
                offer_id=offer_id,
                revision=doc["revision"] + 1,
                quantity=quantity,
                correlation_id=doc["correlation_id"],
            )
            changes: Document = {"offer.quantity": quantity, "last_stock_reason": correction.reason}
            if key:
                changes[f"stock_keys.{key}"] = digest
            return changes, event

        return await self._revise_offer(principal, offer_id, mutate)

    async def withdraw_offer(self, principal: Principal, offer_id: str, reason: str) -> Document:
        def mutate(doc: Document) -> tuple[Document, EventBase | None]:
            if doc["status"] != "active":
                return {}, None
            event = do.withdrawn_event(
                offer_id=offer_id,
                county=doc["county"],
                revision=doc["revision"] + 1,
                correlation_id=doc["correlation_id"],
            )
            self.metrics.offers_withdrawn.inc()
            return {"status": "withdrawn", "withdrawn_reason": reason}, event

        return await self._revise_offer(principal, offer_id, mutate)


CLOSE_REASONS = ("resolved", "withdrawn", "duplicate", "moved", "all_lines_closed", "deceased")


def _region(doc: Document) -> Region:
    return Region.model_validate(doc["case"]["region"])


def _require_active(doc: Document) -> None:
    if doc["status"] != "active":
        raise Conflict("the offer is withdrawn")


def _scoped_query(principal: Principal, filters: dict[str, str | None]) -> Document:
    """Filters plus the principal's region; a filter outside the region is refused."""
    query: Document = {}
    for name, value in filters.items():
        if value is None or value == "":
            continue
        field = {"need_type": "need_types", "category": "categories"}.get(name, name)
        query[field] = value
    for level, value in principal.region_filter().items():
        if query.get(level, value) != value:
            raise Forbidden("outside your region")
        query[level] = value
    return query
