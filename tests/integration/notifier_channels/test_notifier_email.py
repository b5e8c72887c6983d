"""E-mail channel against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import email
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from smtp_sink import SmtpSink, free_port, running_sink

from fivelink_notifier.channels.base import ChannelKind, EmailTarget, Message, Role, SmsTarget
from fivelink_notifier.channels.email import EmailChannel, SmtpSettings
from fivelink_shared.events import Language, Urgency

pytestmark = pytest.mark.integration

SUBJECT = "【紧急】新任务：食物/助餐 ᠮᠣᠩᠭᠣᠯ"
BODY = "您好！数量：25 公斤\nᠰᠠᠢᠨ ᠪᠠᠢᠨ᠎ᠠ ᠤᠤ\n<not html>\n"


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpSink, int]]:
    with running_sink() as served:
        yield served


def message(urgency: Urgency = Urgency.HIGH) -> Message:
    return Message(
        recipient="sw-11",
        role=Role.SOCIAL_WORKER,
        channel=ChannelKind.EMAIL,
        language=Language.ZH,
        subject=SUBJECT,
        body=BODY,
        event_id="e-77",
        urgency=urgency,
        links={"accepted": "https://n.example/r/tok?a=1&b=2"},
    )


async def test_utf8_message_arrives(smtp: tuple[SmtpSink, int]) -> None:
    mailbox, port = smtp
    channel = EmailChannel(SmtpSettings(port=port, sender="fivelink <noreply@fivelink.test>"))
    result = await channel.send(EmailTarget(address="worker@example.test"), message())
    assert result.ok, result
    [(mail_from, rcpts, content)] = mailbox.received
    assert mail_from == "noreply@fivelink.test"
    assert rcpts == ["worker@example.test"]
    parsed = email.message_from_bytes(content, policy=default_policy)
    assert isinstance(parsed, EmailMessage)
    assert parsed["Subject"] == SUBJECT
    assert parsed["X-Fivelink-Event-Id"] == "e-77"
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert text is not None and html is not None
    assert text.get_content().replace("\r\n", "\n") == BODY
    assert text.get_content_charset() == "utf-8"
    html_text = html.get_content()
    assert "&lt;not html&gt;" in html_text and "<not html>" not in html_text
    assert "https://n.example/r/tok?a=1&amp;b=2" in html_text


async def test_crisis_mail_is_marked_important(smtp: tuple[SmtpSink, int]) -> None:
    mailbox, port = smtp
    await EmailChannel(SmtpSettings(port=port)).send(
        EmailTarget(address="w@example.test"), message(Urgency.CRISIS)
    )
    parsed = email.message_from_bytes(mailbox.received[0][2], policy=default_policy)
    assert parsed["Importance"] == "high"


@pytest.mark.parametrize(
    ("reply", "status", "retryable"),
    [("550 5.1.1 no such user", "smtp_550", False), ("451 4.3.0 try later", "smtp_451", True)],
)
async def test_refused_recipient_is_classified(
    smtp: tuple[SmtpSink, int], reply: str, status: str, retryable: bool
) -> None:
    mailbox, port = smtp
    mailbox.rcpt_reply = reply
    result = await EmailChannel(SmtpSettings(port=port)).send(
        EmailTarget(address="gone@example.test"), message()
    )
    assert not result.ok
    assert result.status == status and result.retryable is retryable
    assert "gone@example.test" not in result.detail
    assert not mailbox.received


async def test_server_down_is_retryable() -> None:
    result = await EmailChannel(SmtpSettings(port=free_port(), timeout_s=2)).send(
        EmailTarget(address="w@example.test"), message()
    )
    assert not result.ok and result.retryable and result.status == "connect_error"


async def test_wrong_target_is_permanent() -> None:
    result = await EmailChannel(SmtpSettings()).send(SmsTarget(phone="+8613800000000"), message())
    assert result.status == "wrong_target" and not result.retryable
