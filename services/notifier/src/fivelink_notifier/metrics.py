"""Notifier's domain metrics (bounded labels: channel, result, role)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

CHANNELS = ("webhook", "email", "sms", "inbox")


class NotifierMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.deliveries = Counter(
            "fivelink_notifier_deliveries_total",
            "Deliveries by channel and final result",
            ["channel", "result"],
            registry=registry,
        )
        self.attempts = Counter(
            "fivelink_notifier_delivery_attempts_total",
            "Delivery attempts by channel and outcome",
            ["channel", "outcome"],
            registry=registry,
        )
        self.retries = Counter(
            "fivelink_notifier_retries_total",
            "Retried attempts by channel",
            ["channel"],
            registry=registry,
        )
        self.latency = Histogram(
            "fivelink_notifier_delivery_latency_seconds",
            "From the event's occurrence to delivery, by channel",
            ["channel"],
            registry=registry,
            buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
        )
        self.responses = Counter(
            "fivelink_notifier_responses_total",
            "Responses received through signed links, by kind",
            ["response"],
            registry=registry,
        )
        self.escalations = Counter(
            "fivelink_notifier_escalations_notified_total",
            "Escalation messages sent, by level",
            ["level"],
            registry=registry,
        )
        self.duplicates = Counter(
            "fivelink_notifier_duplicate_deliveries_total",
            "Deliveries not created because the event already reached that party",
            registry=registry,
        )
        self.deferred = Counter(
            "fivelink_notifier_deferred_total",
            "Deliveries deferred by quiet hours or the rate limit",
            ["channel", "reason"],
            registry=registry,
        )
        self.followups = Counter(
            "fivelink_notifier_followups_total",
            "SLA follow-ups: reminders and releases of unanswered proposals",
            ["kind"],
            registry=registry,
        )
        for kind in ("reminder", "delivery_reminder", "release"):
            self.followups.labels(kind)
        for response in ("accepted", "declined", "delivered", "confirmed"):
            self.responses.labels(response)
        for level in ("community", "township", "county"):
            self.escalations.labels(level)
        for channel in CHANNELS:
            for result in ("delivered", "failed"):
                self.deliveries.labels(channel, result)
            for outcome in ("ok", "retryable", "permanent"):
                self.attempts.labels(channel, outcome)
            self.retries.labels(channel)
            self.latency.labels(channel)
