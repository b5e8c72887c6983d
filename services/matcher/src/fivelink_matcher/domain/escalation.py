"""SLA escalation of unmet lines up the chain: community -> township -> county (社区吹哨)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Literal, Protocol

from fivelink_shared.events import Urgency

Level = Literal["community", "township", "county"]

#: Each level is due once the line has waited this many SLA periods.
LEVELS: tuple[tuple[Level, float], ...] = (("community", 1.0), ("township", 2.0), ("county", 4.0))


class Waiting(Protocol):
    """Anything with a line id, an opening time and an urgency (e.g. `model.Line`)."""

    @property
    def line_id(self) -> str: ...
    @property
    def opened_at(self) -> datetime: ...
    @property
    def urgency(self) -> Urgency: ...


def due_escalations(
    lines: Iterable[Waiting],
    now: datetime,
    sla_hours: Mapping[Urgency, float],
    already_raised: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset(),
) -> list[tuple[str, Level, float]]:
    """(line_id, level, waiting_hours) for every level now due and not raised before.

    A line that has waited past several levels at once gets each of them, lowest first, so
    the chain is complete in the record.
    """
    out: list[tuple[str, Level, float]] = []
    for line in sorted(lines, key=lambda x: x.line_id):
        waited = max(0.0, (now - line.opened_at).total_seconds() / 3600.0)
        sla = sla_hours.get(line.urgency)
        if sla is None or sla <= 0:
            continue
        for level, times in LEVELS:
            if waited >= times * sla and (line.line_id, level) not in already_raised:
                out.append((line.line_id, level, round(waited, 4)))
    return out
