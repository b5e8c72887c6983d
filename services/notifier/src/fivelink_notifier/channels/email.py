"""E-mail channel: SMTP (standard-library smtplib, run in a worker thread)."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from fivelink_notifier.channels.base import (
    ChannelKind,
    DeliveryResult,
    EmailTarget,
    Message,
    Target,
    wrong_target,
)
from fivelink_notifier.rendering import render_email_html
from fivelink_notifier.signing import EVENT_ID_HEADER

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "fivelink <noreply@fivelink.local>"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    use_ssl: bool = False
    timeout_s: float = 10.0


def build_email(sender: str, to: str, message: Message) -> EmailMessage:
    """multipart/alternative: UTF-8 plain text first, then an autoescaped HTML version."""
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = sender
    mail["To"] = to
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = make_msgid(domain="fivelink.local")
    mail[EVENT_ID_HEADER] = message.event_id
    if message.urgency.value == "crisis":
        mail["Importance"] = "high"
    mail.set_content(message.body, charset="utf-8")
    html = render_email_html(message.subject, message.body, message.links, message.language)
    mail.add_alternative(html, subtype="html", charset="utf-8")
    mail["Content-Language"] = message.language.value  # after set_content, which drops Content-*
    return mail


def _classify_smtp(exc: smtplib.SMTPException) -> DeliveryResult:
    """4xx SMTP replies are transient, 5xx permanent; a dropped connection is transient."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        code = codes[0] if codes else 550
    elif isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
    else:  # SMTPServerDisconnected, SMTPNotSupportedError, ...
        retryable = isinstance(exc, smtplib.SMTPServerDisconnected)
        return DeliveryResult.failed("smtp_error", type(exc).__name__, retryable=retryable)
    return DeliveryResult.failed(f"smtp_{code}", type(exc).__name__, retryable=400 <= code < 500)


class EmailChannel:
    """Sends :func:`build_email` through one SMTP server; one connection per message."""

    kind = ChannelKind.EMAIL

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    async def send(self, target: Target, message: Message) -> DeliveryResult:
        if not isinstance(target, EmailTarget):
            return wrong_target(self.kind, target)
        mail = build_email(self.settings.sender, target.address, message)
        try:
            await asyncio.to_thread(self._deliver, mail)
        except smtplib.SMTPException as exc:
            result = _classify_smtp(exc)
        except (TimeoutError, OSError) as exc:
            result = DeliveryResult.failed("connect_error", type(exc).__name__, retryable=True)
        else:
            result = DeliveryResult.delivered("smtp_250")
        log.info(
            "email delivery",
            extra={"event_id": message.event_id, "status": result.status, "ok": result.ok},
        )
        return result

    def _deliver(self, mail: EmailMessage) -> None:
        s = self.settings
        smtp_cls = smtplib.SMTP_SSL if s.use_ssl else smtplib.SMTP
        with smtp_cls(s.host, s.port, timeout=s.timeout_s) as smtp:
            if s.starttls and not s.use_ssl:
                smtp.starttls(context=ssl.create_default_context())
            if s.username and s.password:
                smtp.login(s.username, s.password)
            smtp.send_message(mail)
