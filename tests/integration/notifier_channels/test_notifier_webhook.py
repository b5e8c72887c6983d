"""Webhook channel against a real HTTP receiver on 127.0.0.1 that verifies signatures."""

from __future__ import annotations

import json
import socket

import httpx
import pytest
from notifier_receiver import Receiver

from fivelink_notifier.channels import Message, Role, WebhookChannel, WebhookTarget
from fivelink_notifier.channels.base import ChannelKind, EmailTarget
from fivelink_notifier.signing import EVENT_ID_HEADER, is_valid, verify
from fivelink_shared.events import Language, Urgency

pytestmark = pytest.mark.integration

SECRET = "whsec-test-0123456789abcdef"


def message() -> Message:
    return Message(
        recipient="org-5",
        role=Role.CHARITY,
        channel=ChannelKind.WEBHOOK,
        language=Language.MN,
        subject="ᠮᠣᠩᠭᠣᠯ 新任务",
        body="需求类型：食物\n",
        event_id="e-123",
        urgency=Urgency.HIGH,
        links={"accepted": "https://n.example/r/tok"},
    )


async def test_signed_post_is_verified_by_receiver(receiver: Receiver) -> None:
    target = WebhookTarget(url=f"{receiver.url}/hook", secret=SECRET)
    result = await WebhookChannel().send(target, message())
    assert result.ok and result.status == "http_200"
    [req] = receiver.requests
    assert req.method == "POST" and req.path == "/hook"
    verify(SECRET, req.headers, req.body)  # raises if the signature is wrong
    assert not is_valid("wrong-secret-0123456789", req.headers, req.body)
    assert req.headers[EVENT_ID_HEADER] == "e-123"
    doc = json.loads(req.body)
    assert doc["subject"] == "ᠮᠣᠩᠭᠣᠯ 新任务"
    assert doc["links"] == {"accepted": "https://n.example/r/tok"}
    assert doc["event_id"] == "e-123" and doc["language"] == "mn"


async def test_500_then_200_is_retryable_then_ok(receiver: Receiver) -> None:
    receiver.statuses[:] = [500, 200]
    channel = WebhookChannel()
    target = WebhookTarget(url=receiver.url, secret=SECRET)
    first = await channel.send(target, message())
    assert not first.ok and first.retryable and first.status == "http_500"
    second = await channel.send(target, message())
    assert second.ok
    assert len(receiver.requests) == 2
    assert all(is_valid(SECRET, r.headers, r.body) for r in receiver.requests)


@pytest.mark.parametrize(
    ("status", "retryable"), [(400, False), (401, False), (404, False), (429, True), (503, True)]
)
async def test_status_classification(receiver: Receiver, status: int, retryable: bool) -> None:
    receiver.statuses[:] = [status]
    result = await WebhookChannel().send(WebhookTarget(url=receiver.url, secret=SECRET), message())
    assert not result.ok
    assert result.retryable is retryable
    assert result.status == f"http_{status}"


async def test_timeout_is_retryable(receiver: Receiver) -> None:
    receiver.delay_s = 2.0
    result = await WebhookChannel(timeout_s=0.3).send(
        WebhookTarget(url=receiver.url, secret=SECRET), message()
    )
    assert not result.ok and result.retryable and result.status == "timeout"


async def test_connection_refused_is_retryable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = await WebhookChannel().send(
        WebhookTarget(url=f"http://127.0.0.1:{port}/", secret=SECRET), message()
    )
    assert not result.ok and result.retryable


async def test_bad_url_and_wrong_target_are_permanent() -> None:
    channel = WebhookChannel()
    bad = await channel.send(WebhookTarget(url="ftp://x/", secret=SECRET), message())
    assert not bad.ok and not bad.retryable
    wrong = await channel.send(EmailTarget(address="a@b.example"), message())
    assert wrong.status == "wrong_target" and not wrong.retryable


async def test_shared_client_is_used(receiver: Receiver) -> None:
    async with httpx.AsyncClient() as client:
        channel = WebhookChannel(client)
        for _ in range(3):
            assert (
                await channel.send(WebhookTarget(url=receiver.url, secret=SECRET), message())
            ).ok
    assert len(receiver.requests) == 3
