"""Shared builders for the discovery unit tests (synthetic people only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fivelink_intake.discovery.identity import id_check_digit
from fivelink_intake.discovery.signals import Signal

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
KEY = b"unit-test-hmac-key-0123456789"


def make_id(seq: int, birth: str = "19450312", area: str = "150105") -> str:
    """A valid 18-character ID number for a synthetic person."""
    first17 = f"{area}{birth}{seq % 1000:03d}"
    return first17 + id_check_digit(first17)


def sig(
    signal_id: str,
    kind: str,
    *,
    source: str = "civil_affairs",
    days_ago: float = 1.0,
    value: float | None = None,
    categories: tuple[str, ...] = (),
    person: int | None = 1,
    phone: str | None = None,
    name: str | None = None,
    county: str = "150105",
    **extra: Any,
) -> Signal:
    """A signal about synthetic person ``person`` (by ID) observed ``days_ago`` before NOW."""
    return Signal.model_validate(
        {
            "signal_id": signal_id,
            "source": source,
            "kind": kind,
            "observed_at": NOW - timedelta(days=days_ago),
            "value": value,
            "region": {"county": county},
            "categories": list(categories),
            "id_number": make_id(person) if person is not None else None,
            "phone": phone,
            "name": name,
            **extra,
        }
    )
