"""Kafka topic names. Every topic is keyed by county code, so one consumer owns a county."""

NEEDS = "fivelink.needs.v1"
OFFERS = "fivelink.offers.v1"
ASSIGNMENTS = "fivelink.assignments.v1"
RESPONSES = "fivelink.responses.v1"
ESCALATIONS = "fivelink.escalations.v1"

ALL = (NEEDS, OFFERS, ASSIGNMENTS, RESPONSES, ESCALATIONS)

# Consumer groups; each has its own dead-letter topic.
CONSUMERS = ("matcher", "notifier", "intake")


def dead_letter(consumer: str) -> str:
    """Dead-letter topic of one consumer group, e.g. ``fivelink.dlq.matcher.v1``."""
    return f"fivelink.dlq.{consumer}.v1"
