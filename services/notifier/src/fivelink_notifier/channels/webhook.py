"""Webhook channel: a signed JSON POST to the party's registered URL."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import httpx

from fivelink_notifier.channels.base import (
    ChannelKind,
    DeliveryResult,
    Message,
    Target,
    WebhookTarget,
    wrong_target,
)
from fivelink_notifier.signing import (
    SCHEME,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    signature_headers,
)

log = logging.getLogger(__name__)

# 408 Request Timeout and 429 Too Many Requests are worth retrying; other 4xx are not.
RETRYABLE_4XX = frozenset({408, 425, 429})


def webhook_payload(message: Message, sent_at: datetime) -> dict[str, Any]:
    """The JSON document a receiver gets (documented in docs/notifier.md)."""
    return {
        "type": "notification",
        "event_id": message.event_id,
        "sent_at": sent_at.isoformat(),
        "recipient": message.recipient,
        "role": message.role.value,
        "language": message.language.value,
        "urgency": message.urgency.value,
        "subject": message.subject,
        "body": message.body,
        "links": message.links,
    }


def encode_body(payload: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON; these exact bytes are what the signature covers."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def classify_status(code: int) -> DeliveryResult:
    """Map an HTTP status to a delivery result: 2xx ok, 5xx/408/429 retryable, rest permanent."""
    status = f"http_{code}"
    if 200 <= code < 300:
        return DeliveryResult.delivered(status)
    if code >= 500 or code in RETRYABLE_4XX:
        return DeliveryResult.failed(status, "receiver error, will retry", retryable=True)
    return DeliveryResult.failed(status, "rejected by receiver", retryable=False)


def rotation_headers(
    target: WebhookTarget, body: bytes, event_id: str, now: datetime
) -> dict[str, str]:
    """Signature headers; during a secret rotation one ``v1=`` value per secret, newest first."""
    headers = signature_headers(target.secret, body, event_id, now)
    ts = int(headers[TIMESTAMP_HEADER])
    extra = [f"{SCHEME}={sign(old, ts, body)}" for old in target.previous_secrets]
    if extra:
        headers[SIGNATURE_HEADER] = ",".join([headers[SIGNATURE_HEADER], *extra])
    return headers


class WebhookChannel:
    """POSTs :func:`webhook_payload` signed with the target's secret (see ``signing``)."""

    kind = ChannelKind.WEBHOOK

    def __init__(self, client: httpx.AsyncClient | None = None, timeout_s: float = 10.0) -> None:
        self._client = client
        self._timeout = httpx.Timeout(timeout_s)

    async def send(self, target: Target, message: Message) -> DeliveryResult:
        if not isinstance(target, WebhookTarget):
            return wrong_target(self.kind, target)
        now = datetime.now(UTC)
        body = encode_body(webhook_payload(message, now))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "fivelink-notifier/1",
            **rotation_headers(target, body, message.event_id, now),
        }
        try:
            if self._client is not None:
                response = await self._post(self._client, target.url, body, headers)
            else:
                async with httpx.AsyncClient() as client:
                    response = await self._post(client, target.url, body, headers)
        except httpx.TimeoutException:
            return DeliveryResult.failed("timeout", "receiver timed out", retryable=True)
        except httpx.InvalidURL:
            return DeliveryResult.failed("invalid_url", "webhook URL is invalid", retryable=False)
        except httpx.UnsupportedProtocol:
            return DeliveryResult.failed("invalid_url", "unsupported URL scheme", retryable=False)
        except httpx.TransportError as exc:
            return DeliveryResult.failed("transport_error", type(exc).__name__, retryable=True)
        result = classify_status(response.status_code)
        log.info(
            "webhook delivery",
            extra={"event_id": message.event_id, "status": result.status, "ok": result.ok},
        )
        return result

    async def _post(
        self, client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]
    ) -> httpx.Response:
        # Redirects are not followed: a receiver must register its final URL.
        return await client.post(
            url, content=body, headers=headers, timeout=self._timeout, follow_redirects=False
        )
