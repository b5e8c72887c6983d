"""SMS channel: a generic HTTP SMS gateway whose URL, method, auth and field names are set up."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from fivelink_notifier.channels.base import (
    ChannelKind,
    DeliveryResult,
    Message,
    SmsTarget,
    Target,
    wrong_target,
)
from fivelink_notifier.channels.webhook import classify_status

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmsGatewaySettings:
    """How to talk to the gateway. Field names may be dotted (``"message.content"``) to nest."""

    url: str
    method: str = "POST"
    auth_header: str = "Authorization"
    auth_value: str = field(default="", repr=False)
    phone_field: str = "phone"
    text_field: str = "text"
    event_id_field: str | None = "client_ref"
    extra_fields: dict[str, Any] = field(default_factory=dict)
    max_chars: int = 500
    timeout_s: float = 10.0


def sms_text(message: Message, max_chars: int) -> str:
    """Subject, body and links as one short text, cut at ``max_chars`` characters."""
    text = f"{message.subject}\n{message.body.strip()}"
    if len(text) <= max_chars:
        return text
    return text[: max(0, max_chars - 1)] + "…"


def _put(doc: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for name in parents:
        doc = doc.setdefault(name, {})
    doc[leaf] = value


def gateway_request(settings: SmsGatewaySettings, phone: str, message: Message) -> dict[str, Any]:
    """The JSON document (or query parameters, for GET) sent to the gateway."""
    doc: dict[str, Any] = {}
    for key, value in settings.extra_fields.items():
        _put(doc, key, value)
    _put(doc, settings.phone_field, phone)
    _put(doc, settings.text_field, sms_text(message, settings.max_chars))
    if settings.event_id_field:
        _put(doc, settings.event_id_field, message.event_id)
    return doc


class SmsGatewayChannel:
    """Hands the text to the gateway; a 2xx answer counts as delivered to the gateway."""

    kind = ChannelKind.SMS

    def __init__(
        self, settings: SmsGatewaySettings, client: httpx.AsyncClient | None = None
    ) -> None:
        self.settings = settings
        self._client = client

    async def send(self, target: Target, message: Message) -> DeliveryResult:
        if not isinstance(target, SmsTarget):
            return wrong_target(self.kind, target)
        s = self.settings
        doc = gateway_request(s, target.phone, message)
        headers = {s.auth_header: s.auth_value} if s.auth_value else {}
        method = s.method.upper()
        try:
            if self._client is not None:
                response = await self._call(self._client, method, doc, headers)
            else:
                async with httpx.AsyncClient() as client:
                    response = await self._call(client, method, doc, headers)
        except httpx.TimeoutException:
            return DeliveryResult.failed("timeout", "gateway timed out", retryable=True)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol):
            return DeliveryResult.failed("invalid_url", "gateway URL is invalid", retryable=False)
        except httpx.TransportError as exc:
            return DeliveryResult.failed("transport_error", type(exc).__name__, retryable=True)
        result = classify_status(response.status_code)
        log.info(
            "sms delivery",
            extra={"event_id": message.event_id, "status": result.status, "ok": result.ok},
        )
        return result

    async def _call(
        self, client: httpx.AsyncClient, method: str, doc: dict[str, Any], headers: dict[str, str]
    ) -> httpx.Response:
        timeout = httpx.Timeout(self.settings.timeout_s)
        if method == "GET":
            params = {k: str(v) for k, v in doc.items() if not isinstance(v, dict)}
            return await client.get(
                self.settings.url, params=params, headers=headers, timeout=timeout
            )
        return await client.request(
            method, self.settings.url, json=doc, headers=headers, timeout=timeout
        )
