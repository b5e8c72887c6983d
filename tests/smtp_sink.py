"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it accepts."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class SmtpSink:
    """aiosmtpd handler: stores what it receives; may refuse recipients with a given reply."""

    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    rcpt_reply: str | None = None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        """Parsed messages whose To header is ``address``."""
        parsed = [email.message_from_bytes(c, policy=default_policy) for _, _, c in self.received]
        return [m for m in parsed if m["To"] == address]  # type: ignore[misc]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_sink(port: int | None = None) -> Iterator[tuple[SmtpSink, int]]:
    """Serve an SmtpSink on 127.0.0.1 (a free port unless one is given) until the block ends."""
    sink = SmtpSink()
    port = port or free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()
