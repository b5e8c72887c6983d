"""Intake's domain metrics (no personal data, bounded labels)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from fivelink_shared.events import NeedType, OfferKind

# Bounded reason classes for rejected signal records (never the record's content).
RECORD_REASONS = (
    "bad_format",
    "missing_field",
    "unknown_field",
    "invalid_value",
    "duplicate",
    "future",
    "conflict",
    "out_of_region",
    "too_many",
)


class IntakeMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "fivelink_intake_http_requests_total",
            "HTTP requests by route and status",
            ["route", "method", "status"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            "fivelink_intake_http_request_duration_seconds",
            "HTTP request duration by route",
            ["route"],
            registry=registry,
        )
        self.need_lines = Counter(
            "fivelink_intake_need_lines_created_total",
            "Need lines created by type and county",
            ["need_type", "county"],
            registry=registry,
        )
        self.cases = Counter(
            "fivelink_intake_cases_opened_total",
            "Cases opened by source",
            ["source"],
            registry=registry,
        )
        self.offers = Counter(
            "fivelink_intake_offers_published_total",
            "Offers published by kind and county",
            ["kind", "county"],
            registry=registry,
        )
        self.rejected = Counter(
            "fivelink_intake_rejected_total",
            "Rejected requests or records by reason",
            ["reason"],
            registry=registry,
        )
        self.cases_closed = Counter(
            "fivelink_intake_cases_closed_total",
            "Cases closed by reason",
            ["reason"],
            registry=registry,
        )
        self.offers_withdrawn = Counter(
            "fivelink_intake_offers_withdrawn_total", "Offers withdrawn", registry=registry
        )
        self.signals = Counter(
            "fivelink_intake_discovery_signals_ingested_total",
            "Discovery signals stored, by source",
            ["source"],
            registry=registry,
        )
        self.rules_fired = Counter(
            "fivelink_intake_discovery_rules_fired_total",
            "Discovery rules that fired for a person (new or merged case), by rule id",
            ["rule_id"],
            registry=registry,
        )
        self.discovery_merged = Counter(
            "fivelink_intake_discovery_cases_merged_total",
            "Discovered people merged into their open discovery case",
            registry=registry,
        )
        self.records_rejected = Counter(
            "fivelink_intake_discovery_records_rejected_total",
            "Rejected signal records by reason class",
            ["reason"],
            registry=registry,
        )
        self.batches = Counter(
            "fivelink_intake_discovery_batches_total",
            "Signal batches by outcome",
            ["outcome"],
            registry=registry,
        )
        for reason in (
            "validation",
            "idempotency_conflict",
            "unauthorized",
            "forbidden",
            "too_large",
            "not_found",
            "conflict",
        ):
            self.rejected.labels(reason)
        for source in ("social_worker", "discovery"):
            self.cases.labels(source)
        for reason in RECORD_REASONS:
            self.records_rejected.labels(reason)
        for outcome in ("stored", "dry_run", "rejected", "replayed"):
            self.batches.labels(outcome)
        for need_type in NeedType:
            self.need_lines.labels(need_type.value, "none")
        for kind in OfferKind:
            self.offers.labels(kind.value, "none")
