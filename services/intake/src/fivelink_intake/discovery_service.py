"""``POST /v1/signals:batch``: validate a batch, store its signals, open or merge cases.

1. ``parse_batch`` validates every record; any bad record (or one outside the caller's
   region, or a ``signal_id`` stored before with other content) rejects the whole batch.
2. The people's stored signals over the rules' lookback are loaded (by pseudonymous refs),
   and ``evaluate`` runs over them plus the batch.
3. Each discovered person with a signal new to the store gets a new case (verification
   visit first, ``source="discovery"``; opened in bulk) or is merged into their open
   discovery case; then the new signals are stored (identifiers encrypted). A crash in
   between is repaired by resending the batch: its signals are still new, so they are looked
   at again, and cases already opened are merged into (nothing doubles).
``dry_run`` does steps 1–2 and reports what would open, storing nothing.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from fivelink_intake.adapters.audit import AuditLog
from fivelink_intake.adapters.crypto import FieldCipher
from fivelink_intake.adapters.outbox import OutboxRelay
from fivelink_intake.adapters.signals import SignalStore, fingerprint
from fivelink_intake.adapters.store import AggregateStore
from fivelink_intake.discovery import (
    BatchError,
    DiscoveredCase,
    RuleSet,
    Signal,
    evaluate,
    parse_batch,
)
from fivelink_intake.discovery.batch import Format
from fivelink_intake.domain.access import REGIONAL, Action, Principal, check
from fivelink_intake.metrics import IntakeMetrics
from fivelink_intake.service import Conflict, IdempotencyConflict, case_index, key_hash
from fivelink_shared import topics
from fivelink_shared.events import EventBase, NeedLine, NeedOpened, new_id, utc_now
from fivelink_shared.mongo import Document

CAS_ATTEMPTS = 5
log = logging.getLogger(__name__)


@dataclass
class BatchRejected(Exception):
    """The batch was refused as a whole; ``errors`` say which lines and why."""

    errors: list[dict[str, Any]]
    status: int = 422


@dataclass
class _Run:
    principal: Principal
    now: datetime
    batch_id: str
    signals: dict[str, list[Signal]]  # batch + history, by pseudonymous ref
    opened: list[Document] = field(default_factory=list)
    merged: list[Document] = field(default_factory=list)
    audit: list[Document] = field(default_factory=list)


def reason_class(error: BatchError) -> str:
    """A bounded metric label for a rejected record (never its content)."""
    r = error.reason
    checks = (
        ("batch exceeds", "too_many"),
        ("duplicate signal_id", "duplicate"),
        ("in the future", "future"),
        ("already stored", "conflict"),
        ("outside your region", "out_of_region"),
        ("Field required", "missing_field"),
        ("required column", "missing_field"),
        ("Extra inputs", "unknown_field"),
        ("unknown column", "unknown_field"),
    )
    for needle, label in checks:
        if needle in r:
            return label
    if error.field == "" and error.line > 0:
        return "bad_format"
    return "invalid_value"


class DiscoveryService:
    def __init__(
        self,
        *,
        signals: SignalStore,
        cases: AggregateStore,
        relay: OutboxRelay,
        cipher: FieldCipher,
        key: bytes,
        rules: RuleSet,
        metrics: IntakeMetrics,
        audit: AuditLog,
        max_records: int,
    ) -> None:
        self.signals = signals
        self.cases = cases
        self.relay = relay
        self.cipher = cipher
        self.key = key
        self.rules = rules
        self.metrics = metrics
        self.audit = audit
        self.max_records = max_records

    @property
    def case_collection(self) -> AsyncCollection[Document]:
        return self.cases.collection

    async def ingest(
        self,
        principal: Principal,
        data: bytes,
        fmt: Format,
        *,
        dry_run: bool = False,
        idempotency_key: str | None = None,
    ) -> tuple[Document, bool]:
        """Run a batch; returns (report, created). See the module docstring."""
        check(principal, Action.SIGNALS_INGEST)
        digest = hashlib.sha256(fmt.encode() + b"\0" + data).hexdigest()
        batch_id = "b-" + (key_hash(idempotency_key) if idempotency_key else digest[:20])
        if idempotency_key and not dry_run:
            done = await self.signals.batch(batch_id)
            if done is not None:
                if done["fingerprint"] != digest:
                    self.metrics.rejected.labels("idempotency_conflict").inc()
                    raise IdempotencyConflict(
                        "this Idempotency-Key was already used with a different batch"
                    )
                self.metrics.batches.labels("replayed").inc()
                return dict(done["report"]), False
        now = utc_now()
        records, errors = parse_batch(data, fmt, now=now, max_records=self.max_records)
        problems = [e.model_dump() for e in errors]
        status = 422
        if not problems:
            outside = [s for s in records if not _covers(principal, s)]
            if outside:
                status = 403
                problems = [
                    {
                        "line": 0,
                        "field": "region",
                        "reason": "outside your region",
                        "signal_id": s.signal_id,
                    }
                    for s in outside
                ]
        refs = {r for s in records for r in s.person_keys(self.key) if r}
        clock = _Clock()
        stored, history = await self.signals.lookup(
            [s.signal_id for s in records], refs, now - self.rules.lookback
        )
        if not problems:
            problems = [
                {
                    "line": 0,
                    "field": "signal_id",
                    "signal_id": s.signal_id,
                    "reason": "signal_id already stored with different content",
                }
                for s in records
                if s.signal_id in stored and stored[s.signal_id] != fingerprint(s)
            ]
        if problems:
            for p in problems:
                self.metrics.records_rejected.labels(
                    reason_class(BatchError(line=p["line"], field=p["field"], reason=p["reason"]))
                ).inc()
            self.metrics.batches.labels("rejected").inc()
            raise BatchRejected(problems, status)

        relevant = {s.signal_id for s in records} - set(stored)
        by_id = {s.signal_id: s for s in history} | {s.signal_id: s for s in records}
        clock.lap("lookup")
        discovery_cases = await self._discovery_cases(
            refs | {r for s in history for r in s.person_keys(self.key) if r}
        )
        open_refs = {
            r for d in discovery_cases if d["status"] == "open" for r in d["identity_refs"]
        }
        found = [
            case
            for case in evaluate(by_id.values(), self.rules, now, key=self.key, open_refs=open_refs)
            if relevant & set(case.signal_ids)
        ]
        run = _Run(principal, now, batch_id, _by_ref(by_id.values(), self.key))
        if dry_run:
            self.metrics.batches.labels("dry_run").inc()
            for case in found:
                target = run.merged if case.status == "merged" else run.opened
                target.append(_summary(case, self._case_id(case, discovery_cases)))
            return self._report(run, records, 0, len(stored), dry_run=True), True

        for case in found:
            for rule_id in case.rule_ids:
                self.metrics.rules_fired.labels(rule_id).inc()
        new = [c for c in found if c.status == "new"]
        clock.lap("evaluate")
        taken = {c.person_ref for c in await self._open_many(run, new, discovery_cases)}
        clock.lap("open")
        loaded = {d["_id"]: d for d in discovery_cases}
        revised: list[tuple[str, str, EventBase]] = []
        for case in found:
            if case.person_ref not in taken:
                case_id = self._case_id(case, discovery_cases)
                await self._merge(run, case, case_id, loaded.get(case_id), revised)
        await self.relay.publish_created(self.cases, revised)
        # Signals are stored last: a crash before this line leaves them unstored, so a resent
        # batch looks at them again (its cases merge into those opened, nothing doubles).
        new_docs = [self.signals.to_doc(s, batch_id) for s in records if s.signal_id not in stored]
        clock.lap("merge")
        inserted = await self.signals.insert(new_docs)
        clock.lap("store_signals")
        for doc in new_docs:
            self.metrics.signals.labels(doc["source"]).inc()
        run.audit.append(
            self.audit.entry(
                principal, "signals.write", fields=("id_number", "phone", "name"), count=inserted
            )
        )
        await self.audit.record_many(run.audit)
        clock.lap("audit")
        log.info("signal batch", extra={"records": len(records), "seconds": clock.laps})
        report = self._report(run, records, inserted, len(stored), dry_run=False)
        if idempotency_key:
            await self.signals.save_batch(batch_id, digest, report)
        self.metrics.batches.labels("stored").inc()
        return report, True

    async def _discovery_cases(self, refs: set[str]) -> list[Document]:
        if not refs:
            return []
        cursor = self.case_collection.find(
            {"source": "discovery", "identity_refs": {"$in": sorted(refs)}},
            {"outbox": 0, "personal": 0},
        )
        return [doc async for doc in cursor]

    def _case_id(self, case: DiscoveredCase, known: list[Document]) -> str:
        """Deterministic per person and episode: two batches racing get the same id."""
        mine = [d for d in known if set(d["identity_refs"]) & set(case.identity_refs)]
        for d in mine:
            if d["status"] == "open":
                return str(d["_id"])
        episode = len(mine)
        basis = f"discovery\0{case.person_ref}\0{episode}"
        return "c-" + hashlib.sha256(basis.encode()).hexdigest()[:20]

    def _identifiers(self, run: _Run, case: DiscoveredCase) -> dict[str, str | None]:
        """The person's identifiers from their signals (stored encrypted with the case)."""
        mine = sorted(
            {s.signal_id: s for r in case.identity_refs for s in run.signals.get(r, [])}.values(),
            key=lambda s: s.observed_at,
        )
        out: dict[str, str | None] = {"id_number": None, "phone": None, "name": None}
        for s in mine:
            for k in out:
                out[k] = getattr(s, k) or out[k]
        return out

    def _lines(self, case_id: str, lines: tuple[NeedLine, ...]) -> tuple[NeedLine, ...]:
        return tuple(
            line.model_copy(update={"line_id": f"{case_id}-{line.line_id}"}) for line in lines
        )

    def _discovery_fields(self, case: DiscoveredCase) -> Document:
        return {
            "rules_version": case.rules_version,
            "risk_score": case.risk_score,
            "urgency": case.urgency.value,
            "rule_ids": list(case.rule_ids),
            "firings": [f.model_dump() for f in case.firings],
            "signal_ids": list(case.signal_ids),
        }

    def _new_case(
        self, run: _Run, case: DiscoveredCase, case_id: str
    ) -> tuple[Document, NeedOpened]:
        """The document and first event of a newly discovered case."""
        event = case.to_need_opened(case_id, opened_at=run.now)
        event = event.model_copy(update={"lines": self._lines(case_id, event.lines)})
        identifiers = self._identifiers(run, case)
        doc: Document = {
            "_id": case_id,
            "revision": 1,
            "status": "open",
            "county": event.county,
            "person_ref": case.person_ref,
            "identity_refs": list(case.identity_refs),
            "correlation_id": event.correlation_id,
            "opened_by": run.principal.sub,
            "line_seq": 0,
            "personal": self.cipher.encrypt(identifiers),
            "consent": None,
            "rule_id": event.rule_id,
            "risk_score": case.risk_score,
            "discovery": self._discovery_fields(case),
            "batch_id": run.batch_id,
            **case_index(event),
        }
        return doc, event

    async def _open_many(
        self, run: _Run, cases: list[DiscoveredCase], known: list[Document]
    ) -> list[DiscoveredCase]:
        """Open new cases in bulk (one insert, one outbox clear); returns those opened. A case
        whose id exists already (a racing batch opened it) is left to merge."""
        built = {
            self._case_id(c, known): (c, *self._new_case(run, c, self._case_id(c, known)))
            for c in cases
        }
        inserted = await self.cases.create_many(
            [(doc, topics.NEEDS, event) for _, doc, event in built.values()]
        )
        opened = [(cid, *built[cid]) for cid in built if cid in inserted]
        for case_id, case, doc, event in opened:
            self.metrics.cases.labels("discovery").inc()
            for line in event.lines:
                self.metrics.need_lines.labels(line.need_type.value, event.county).inc()
            fields = [k for k, v in self.cipher.decrypt(doc["personal"]).items() if v]
            run.audit.append(
                self.audit.entry(run.principal, "case.create", case_id=case_id, fields=fields)
            )
            run.opened.append(_summary(case, case_id))
        await self.relay.publish_created(
            self.cases, [(cid, topics.NEEDS, event) for cid, _, _, event in opened]
        )
        return [case for _, case, _, _ in opened]

    async def _merge(
        self,
        run: _Run,
        case: DiscoveredCase,
        case_id: str,
        doc: Document | None,
        revised: list[tuple[str, str, EventBase]],
    ) -> None:
        """Add the new signals, firings and lines to the person's open discovery case; the
        event joins ``revised``, published in bulk after the batch (the outbox keeps it)."""
        for attempt in range(CAS_ATTEMPTS):
            if attempt or doc is None:
                doc = await self.cases.get(case_id)
            if doc is None or doc["status"] != "open":
                return  # closed meanwhile: the next batch opens a new episode
            old = doc.get("discovery", {})
            if not set(case.signal_ids) - set(old.get("signal_ids", [])):
                return  # nothing new (a resent batch)
            current = NeedOpened.model_validate({**doc["case"], "revision": doc["revision"]})
            have = {line.line_id for line in current.lines}
            extra = [line for line in self._lines(case_id, case.lines) if line.line_id not in have]
            event = current.model_copy(
                update={
                    "revision": doc["revision"] + 1,
                    "lines": (*current.lines, *extra),
                    "event_id": new_id(),
                    "occurred_at": run.now,
                }
            )
            firings = {f["rule_id"]: f for f in old.get("firings", [])}
            firings.update({f.rule_id: f.model_dump() for f in case.firings})
            merged = self._discovery_fields(case) | {
                "risk_score": max(case.risk_score, int(old.get("risk_score", 0))),
                "rule_ids": sorted(firings),
                "firings": list(firings.values()),
                "signal_ids": sorted({*old.get("signal_ids", []), *case.signal_ids}),
            }
            changes = case_index(event) | {
                "discovery": merged,
                "risk_score": merged["risk_score"],
                "identity_refs": sorted({*doc["identity_refs"], *case.identity_refs}),
            }
            if await self.cases.revise(case_id, doc["revision"], changes, topics.NEEDS, event):
                self.metrics.discovery_merged.inc()
                revised.append((case_id, topics.NEEDS, event))
                run.merged.append(_summary(case, case_id))
                return
        raise Conflict("a discovery case changed concurrently; resend the batch")

    def _report(
        self, run: _Run, records: list[Signal], inserted: int, known: int, *, dry_run: bool
    ) -> Document:
        return {
            "batch_id": run.batch_id,
            "dry_run": dry_run,
            "rules_version": self.rules.version,
            "received": len(records),
            "stored": inserted,
            "already_stored": known,
            "cases_opened": run.opened,
            "cases_merged": run.merged,
        }


class _Clock:
    """Seconds per step of a batch, for the log (no personal data)."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self.last, 3)
        self.last = now


def _by_ref(signals: Iterable[Signal], key: bytes) -> dict[str, list[Signal]]:
    out: dict[str, list[Signal]] = defaultdict(list)
    for s in signals:
        for ref in s.person_keys(key):
            if ref:
                out[ref].append(s)
    return out


def _covers(principal: Principal, signal: Signal) -> bool:
    return principal.role not in REGIONAL or principal.covers(signal.region)


def _summary(case: DiscoveredCase, case_id: str) -> Document:
    return {
        "case_id": case_id,
        "person_ref": case.person_ref,
        "county": case.region.county,
        "rule_ids": list(case.rule_ids),
        "risk_score": case.risk_score,
        "urgency": case.urgency.value,
        "need_types": [line.need_type.value for line in case.lines],
        "signal_ids": list(case.signal_ids),
    }
