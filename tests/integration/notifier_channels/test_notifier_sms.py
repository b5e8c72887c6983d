"""SMS gateway channel against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from notifier_receiver import Receiver

from fivelink_notifier.channels.base import ChannelKind, InboxTarget, Message, Role, SmsTarget
from fivelink_notifier.channels.sms import SmsGatewayChannel, SmsGatewaySettings, sms_text
from fivelink_shared.events import Language, Urgency

pytestmark = pytest.mark.integration

PHONE = "+8613800000000"


def message(body: str = "数量：25 公斤\n") -> Message:
    return Message(
        recipient="sw-11",
        role=Role.SOCIAL_WORKER,
        channel=ChannelKind.SMS,
        language=Language.ZH,
        subject="【紧急】新任务",
        body=body,
        event_id="e-9",
        urgency=Urgency.HIGH,
    )


async def test_default_json_post(receiver: Receiver) -> None:
    settings = SmsGatewaySettings(url=f"{receiver.url}/send", auth_value="Bearer t0k")
    result = await SmsGatewayChannel(settings).send(SmsTarget(phone=PHONE), message())
    assert result.ok
    [req] = receiver.requests
    assert req.method == "POST" and req.path == "/send"
    assert req.headers["Authorization"] == "Bearer t0k"
    doc = json.loads(req.body)
    assert doc == {"phone": PHONE, "text": "【紧急】新任务\n数量：25 公斤", "client_ref": "e-9"}


async def test_configured_field_names_method_and_auth(receiver: Receiver) -> None:
    settings = SmsGatewaySettings(
        url=f"{receiver.url}/v2/sms",
        method="PUT",
        auth_header="X-Api-Key",
        auth_value="k-123",
        phone_field="to",
        text_field="message.content",
        event_id_field=None,
        extra_fields={"sign_name": "fivelink", "message.type": "text"},
    )
    assert (await SmsGatewayChannel(settings).send(SmsTarget(phone=PHONE), message())).ok
    [req] = receiver.requests
    assert req.method == "PUT" and req.headers["X-Api-Key"] == "k-123"
    assert "Authorization" not in req.headers
    assert json.loads(req.body) == {
        "sign_name": "fivelink",
        "to": PHONE,
        "message": {"type": "text", "content": "【紧急】新任务\n数量：25 公斤"},
    }


async def test_get_gateway_uses_query_parameters(receiver: Receiver) -> None:
    settings = SmsGatewaySettings(url=f"{receiver.url}/send", method="GET", text_field="msg")
    assert (await SmsGatewayChannel(settings).send(SmsTarget(phone=PHONE), message())).ok
    query = parse_qs(urlsplit(receiver.requests[0].path).query)
    assert query["phone"] == [PHONE] and query["msg"] == ["【紧急】新任务\n数量：25 公斤"]


async def test_gateway_errors_are_classified(receiver: Receiver) -> None:
    receiver.statuses[:] = [502, 400]
    channel = SmsGatewayChannel(SmsGatewaySettings(url=receiver.url))
    first = await channel.send(SmsTarget(phone=PHONE), message())
    second = await channel.send(SmsTarget(phone=PHONE), message())
    assert not first.ok and first.retryable
    assert not second.ok and not second.retryable


async def test_long_text_is_cut() -> None:
    text = sms_text(message("很" * 1000), max_chars=70)
    assert len(text) == 70 and text.endswith("…")


async def test_wrong_target_is_permanent(receiver: Receiver) -> None:
    channel = SmsGatewayChannel(SmsGatewaySettings(url=receiver.url))
    result = await channel.send(InboxTarget(user_id="u-1"), message())
    assert result.status == "wrong_target" and not receiver.requests
