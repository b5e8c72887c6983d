"""Matcher's event handlers: fold needs, offers and responses into the store, mark dirty."""

from __future__ import annotations

from datetime import UTC, datetime

from fivelink_matcher.adapters.store import MatcherStore, upsert_revision
from fivelink_matcher.engine import Rebalancer
from fivelink_shared.events import (
    NeedClosed,
    NeedOpened,
    OfferPublished,
    OfferWithdrawn,
    ResponseKind,
    ResponseRecorded,
)

# Which response moves an assignment from which states (the closed loop's life cycle).
TRANSITIONS: dict[ResponseKind, tuple[str, ...]] = {
    ResponseKind.ACCEPTED: ("proposed",),
    ResponseKind.DECLINED: ("proposed", "accepted"),
    ResponseKind.DELIVERED: ("proposed", "accepted"),
    ResponseKind.CONFIRMED: ("accepted", "delivered"),
}


class MatcherHandlers:
    def __init__(self, store: MatcherStore, rebalancer: Rebalancer) -> None:
        self.store = store
        self.rebalancer = rebalancer

    async def on_need(self, event: NeedOpened | NeedClosed) -> None:
        if isinstance(event, NeedOpened):
            changed = await upsert_revision(
                self.store.cases,
                event.case_id,
                event.revision,
                {"county": event.county, "status": "open", "need": event.model_dump(mode="json")},
            )
        else:
            changed = await upsert_revision(
                self.store.cases,
                event.case_id,
                event.revision,
                {"county": event.county, "status": "closed", "closed_reason": event.reason},
            )
        if changed:
            self.rebalancer.mark_dirty(event.county)

    async def on_offer(self, event: OfferPublished | OfferWithdrawn) -> None:
        if isinstance(event, OfferPublished):
            changed = await upsert_revision(
                self.store.offers,
                event.offer_id,
                event.revision,
                {
                    "county": event.county,
                    "status": "active",
                    "offer": event.model_dump(mode="json"),
                },
            )
        else:
            changed = await upsert_revision(
                self.store.offers,
                event.offer_id,
                event.revision,
                {"county": event.county, "status": "withdrawn"},
            )
        if changed:
            self.rebalancer.mark_dirty(event.county)

    async def on_response(self, event: ResponseRecorded) -> None:
        fields: dict[str, object] = {
            "status": event.response.value,
            f"responded.{event.response.value}": datetime.now(UTC),
        }
        if event.reason is not None:
            fields["decline_reason"] = event.reason.value
        changed = await self.store.set_assignment(
            event.assignment_id, fields, expect_status=TRANSITIONS[event.response]
        )
        if changed:
            self.rebalancer.mark_dirty(event.county)
