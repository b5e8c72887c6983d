"""In-app inbox channel: writes messages to an :class:`InboxStore` the web pages read."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from fivelink_notifier.channels.base import (
    ChannelKind,
    DeliveryResult,
    InboxTarget,
    Message,
    Target,
    wrong_target,
)


@dataclass(frozen=True)
class InboxItem:
    item_id: str
    user_id: str
    message: Message
    created_at: datetime
    read_at: datetime | None = None


class InboxStore(Protocol):
    """Storage of inbox items. ``add`` is idempotent on (user_id, message.event_id)."""

    async def add(self, user_id: str, message: Message) -> InboxItem: ...

    async def list(self, user_id: str, unread_only: bool = False) -> list[InboxItem]: ...

    async def mark_read(self, user_id: str, item_id: str) -> bool: ...


class InMemoryInboxStore:
    """Dict-backed store for tests and single-process runs."""

    def __init__(self) -> None:
        self._items: dict[str, list[InboxItem]] = {}
        self._lock = asyncio.Lock()

    async def add(self, user_id: str, message: Message) -> InboxItem:
        async with self._lock:
            items = self._items.setdefault(user_id, [])
            for item in items:
                if item.message.event_id == message.event_id:
                    return item
            item = InboxItem(uuid.uuid4().hex, user_id, message, datetime.now(UTC))
            items.append(item)
            return item

    async def list(self, user_id: str, unread_only: bool = False) -> list[InboxItem]:
        items = self._items.get(user_id, [])
        chosen = [i for i in items if not (unread_only and i.read_at)]
        return sorted(chosen, key=lambda i: i.created_at, reverse=True)

    async def mark_read(self, user_id: str, item_id: str) -> bool:
        async with self._lock:
            items = self._items.get(user_id, [])
            for n, item in enumerate(items):
                if item.item_id == item_id:
                    if item.read_at is None:
                        items[n] = replace(item, read_at=datetime.now(UTC))
                    return True
            return False


class InboxChannel:
    """Delivery is a store write; a store failure is retryable."""

    kind = ChannelKind.INBOX

    def __init__(self, store: InboxStore) -> None:
        self.store = store

    async def send(self, target: Target, message: Message) -> DeliveryResult:
        if not isinstance(target, InboxTarget):
            return wrong_target(self.kind, target)
        try:
            item = await self.store.add(target.user_id, message)
        except Exception as exc:  # the store's driver errors are not ours to enumerate
            return DeliveryResult.failed("store_error", type(exc).__name__, retryable=True)
        return DeliveryResult.delivered("stored", item.item_id)
