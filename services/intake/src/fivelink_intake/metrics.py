"""Intake's domain metrics (no personal data, bounded labels)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from fivelink_shared.events import NeedType, OfferKind


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
        for reason in ("validation", "idempotency_conflict", "unauthorized", "forbidden"):
            self.rejected.labels(reason)
        for need_type in NeedType:
            self.need_lines.labels(need_type.value, "none")
        for kind in OfferKind:
            self.offers.labels(kind.value, "none")
