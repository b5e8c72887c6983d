"""What the pages count: the supervisor's table, the charity's offer report and its CSV.

Pure functions over the documents the service and the matcher return; nothing here reads
a store, so the numbers are testable on their own.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fivelink_intake.web.clients import Assignment, Unmet

STATUSES = ("proposed", "accepted", "delivered", "confirmed", "declined")
REACHED = ("delivered", "confirmed")


@dataclass
class Row:
    """One line of the supervisor's table: a community and a need type."""

    community: str
    need_type: str
    open_lines: int = 0
    unmet: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))


def supervisor_table(
    cases: Iterable[Mapping[str, Any]],
    assignments: Iterable[Assignment],
    unmet: Iterable[Unmet],
) -> list[Row]:
    """Open lines, assignments by status and unmet lines per (community, need type)."""
    rows: dict[tuple[str, str], Row] = {}
    community_of: dict[str, str] = {}
    line_type: dict[str, str] = {}

    def row(community: str, need_type: str) -> Row:
        key = (community or "-", need_type)
        return rows.setdefault(key, Row(*key))

    for case in cases:
        community = str(
            case.get("community") or case.get("case", {}).get("region", {}).get("community", "")
        )
        community_of[str(case["case_id"])] = community
        for line in case.get("case", {}).get("lines", []):
            line_type[str(line["line_id"])] = str(line["need_type"])
            if case.get("status") == "open":
                row(community, str(line["need_type"])).open_lines += 1
    for a in assignments:
        if a.status in STATUSES:
            row(a.region.community, a.need_type).counts[a.status] += 1
    for u in unmet:
        need_type = line_type.get(u.line_id)
        if need_type is not None:
            row(community_of.get(u.case_id, ""), need_type).unmet += 1
    return sorted(rows.values(), key=lambda r: (r.community, r.need_type))


@dataclass
class CardRow:
    """Where part of an offer went, de-identified: no case, person, line or community."""

    offer_id: str
    need_ref: str
    need_type: str
    quantity: float
    unit: str
    urgency: str
    county: str
    township: str
    status: str


@dataclass
class OfferReport:
    offer_id: str
    kind: str
    cards: list[CardRow]

    @property
    def delivered(self) -> int:
        return sum(1 for c in self.cards if c.status == "delivered")

    @property
    def confirmed(self) -> int:
        return sum(1 for c in self.cards if c.status == "confirmed")

    def amounts(self) -> dict[str, float]:
        """Quantity that reached people (delivered or confirmed), per unit."""
        out: dict[str, float] = {}
        for c in self.cards:
            if c.status in REACHED:
                out[c.unit] = out.get(c.unit, 0.0) + c.quantity
        return out


def offer_reports(
    offers: Iterable[Mapping[str, Any]],
    assignments: Iterable[Assignment],
    need_ref: Callable[[str], str],
) -> list[OfferReport]:
    """One report per offer, its assignments as need cards (withdrawn ones left out)."""
    by_offer: dict[str, list[Assignment]] = {}
    for a in assignments:
        if a.status != "withdrawn":
            by_offer.setdefault(a.offer_id, []).append(a)
    reports = []
    for offer in offers:
        offer_id = str(offer["offer_id"])
        cards = [
            CardRow(
                offer_id=offer_id,
                need_ref=need_ref(a.line_id),
                need_type=a.need_type,
                quantity=a.quantity,
                unit=a.unit,
                urgency=a.urgency,
                county=a.region.county,
                township=a.region.township,
                status=a.status,
            )
            for a in by_offer.get(offer_id, [])
        ]
        reports.append(OfferReport(offer_id, str(offer.get("kind", "")), cards))
    return reports


CSV_COLUMNS = (
    "offer_id",
    "need_ref",
    "need_type",
    "quantity",
    "unit",
    "urgency",
    "county",
    "township",
    "status",
)


def reports_csv(reports: Iterable[OfferReport]) -> str:
    """The charity's export: one row per need card (UTF-8, with a header row)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for report in reports:
        for c in report.cards:
            writer.writerow([getattr(c, col) for col in CSV_COLUMNS])
    return out.getvalue()
