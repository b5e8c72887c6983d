"""In-app inbox channel and the in-memory store."""

from __future__ import annotations

from fivelink_notifier.channels.base import ChannelKind, InboxTarget, Message, Role, WebhookTarget
from fivelink_notifier.channels.inbox import (
    InboxChannel,
    InboxItem,
    InboxStore,
    InMemoryInboxStore,
)
from fivelink_shared.events import Language, Urgency


def message(event_id: str) -> Message:
    return Message(
        recipient="sw-1",
        role=Role.SOCIAL_WORKER,
        channel=ChannelKind.INBOX,
        language=Language.ZH,
        subject="新任务",
        body="正文\n",
        event_id=event_id,
        urgency=Urgency.NORMAL,
    )


async def test_send_stores_and_lists_newest_first() -> None:
    store = InMemoryInboxStore()
    channel = InboxChannel(store)
    for n in range(3):
        result = await channel.send(InboxTarget(user_id="sw-1"), message(f"e-{n}"))
        assert result.ok and result.status == "stored"
    items = await store.list("sw-1")
    assert [i.message.event_id for i in items] == ["e-2", "e-1", "e-0"]
    assert await store.list("sw-2") == []


async def test_redelivery_of_same_event_is_idempotent() -> None:
    store = InMemoryInboxStore()
    channel = InboxChannel(store)
    first = await channel.send(InboxTarget(user_id="sw-1"), message("e-1"))
    again = await channel.send(InboxTarget(user_id="sw-1"), message("e-1"))
    assert first.detail == again.detail
    assert len(await store.list("sw-1")) == 1


async def test_mark_read_and_unread_filter() -> None:
    store: InboxStore = InMemoryInboxStore()
    a = await store.add("sw-1", message("e-a"))
    b = await store.add("sw-1", message("e-b"))
    assert await store.mark_read("sw-1", a.item_id)
    assert await store.mark_read("sw-1", a.item_id)  # idempotent
    assert not await store.mark_read("sw-2", b.item_id)  # not someone else's
    assert not await store.mark_read("sw-1", "missing")
    unread = await store.list("sw-1", unread_only=True)
    assert [i.item_id for i in unread] == [b.item_id]
    everything = await store.list("sw-1")
    assert {i.item_id for i in everything if i.read_at} == {a.item_id}


class BrokenStore:
    async def add(self, user_id: str, message: Message) -> InboxItem:
        raise ConnectionError("store down")

    async def list(self, user_id: str, unread_only: bool = False) -> list[InboxItem]:
        return []

    async def mark_read(self, user_id: str, item_id: str) -> bool:
        return False


async def test_store_failure_is_retryable() -> None:
    result = await InboxChannel(BrokenStore()).send(InboxTarget(user_id="u"), message("e"))
    assert not result.ok and result.retryable and result.status == "store_error"


async def test_wrong_target_is_permanent() -> None:
    result = await InboxChannel(InMemoryInboxStore()).send(
        WebhookTarget(url="http://x", secret="s" * 16), message("e")
    )
    assert not result.ok and not result.retryable
