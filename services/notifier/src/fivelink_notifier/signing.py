"""HMAC-SHA256 signatures for webhooks, and signed response links for messages.

Webhook signature: ``v1=<hex>`` of HMAC-SHA256(secret, f"{timestamp}.{body}"), sent with
``X-Fivelink-Timestamp`` (Unix seconds). A receiver recomputes it with :func:`verify`, which also
rejects timestamps outside the tolerance so a captured request cannot be replayed later.

Response token: ``<payload>.<mac>``, both base64url without padding; the payload is a compact
JSON object naming the assignment, the party, the action and the expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from fivelink_shared.events import ResponseKind

TIMESTAMP_HEADER = "X-Fivelink-Timestamp"
SIGNATURE_HEADER = "X-Fivelink-Signature"
EVENT_ID_HEADER = "X-Fivelink-Event-Id"
SCHEME = "v1"
DEFAULT_TOLERANCE_S = 300

Secret = str | bytes
Body = str | bytes


class SignatureError(ValueError):
    """A webhook request whose signature or timestamp does not check out."""


class TokenError(ValueError):
    """A response token that is malformed, tampered with, or expired."""


def _key(secret: Secret) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def _bytes(body: Body) -> bytes:
    return body.encode() if isinstance(body, str) else body


def _epoch(now: datetime | float | None) -> float:
    if now is None:
        return time.time()
    return now.timestamp() if isinstance(now, datetime) else float(now)


def sign(secret: Secret, timestamp: int, body: Body) -> str:
    """Hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` (without the ``v1=`` prefix)."""
    signed = str(int(timestamp)).encode() + b"." + _bytes(body)
    return hmac.new(_key(secret), signed, hashlib.sha256).hexdigest()


def signature_headers(
    secret: Secret, body: Body, event_id: str, now: datetime | float | None = None
) -> dict[str, str]:
    """The three headers a signed webhook request carries."""
    ts = int(_epoch(now))
    return {
        TIMESTAMP_HEADER: str(ts),
        SIGNATURE_HEADER: f"{SCHEME}={sign(secret, ts, body)}",
        EVENT_ID_HEADER: event_id,
    }


def verify(
    secret: Secret,
    headers: Mapping[str, str],
    body: Body,
    now: datetime | float | None = None,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> int:
    """Check a signed request; return its timestamp or raise :class:`SignatureError`.

    Header names are matched case-insensitively. The signature header may carry several
    comma-separated ``v1=`` values (sent during secret rotation); one match is enough.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    raw_ts = lower.get(TIMESTAMP_HEADER.lower())
    raw_sig = lower.get(SIGNATURE_HEADER.lower())
    if not raw_ts or not raw_sig:
        raise SignatureError("missing signature headers")
    try:
        ts = int(raw_ts)
    except ValueError:
        raise SignatureError("malformed timestamp") from None
    if abs(_epoch(now) - ts) > tolerance_s:
        raise SignatureError("timestamp outside tolerance (replayed or clock skew)")
    expected = sign(secret, ts, body)
    candidates = [
        part.strip()[len(SCHEME) + 1 :]
        for part in raw_sig.split(",")
        if part.strip().startswith(f"{SCHEME}=")
    ]
    if not any(hmac.compare_digest(expected, c) for c in candidates):
        raise SignatureError("signature mismatch")
    return ts


def is_valid(
    secret: Secret,
    headers: Mapping[str, str],
    body: Body,
    now: datetime | float | None = None,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> bool:
    """Boolean form of :func:`verify`."""
    try:
        verify(secret, headers, body, now, tolerance_s)
    except SignatureError:
        return False
    return True


# --- signed response links -------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseToken:
    """What a response link authorises: ``party_id`` may record ``action`` on ``assignment_id``."""

    assignment_id: str
    party_id: str
    action: ResponseKind
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _token_mac(secret: Secret, payload: str) -> str:
    digest = hmac.new(_key(secret), b"fivelink-response." + payload.encode(), hashlib.sha256)
    return _b64(digest.digest())


def make_response_token(
    secret: Secret,
    assignment_id: str,
    party_id: str,
    action: ResponseKind | str,
    expires_at: datetime,
) -> str:
    """A URL-safe token for one response link; valid until ``expires_at``."""
    claims = {
        "a": assignment_id,
        "p": party_id,
        "k": ResponseKind(action).value,
        "e": int(expires_at.timestamp()),
    }
    payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_token_mac(secret, payload)}"


def parse_response_token(
    secret: Secret, token: str, now: datetime | float | None = None
) -> ResponseToken:
    """Check the MAC and the expiry of a token; raise :class:`TokenError` if either fails."""
    payload, sep, mac = token.partition(".")
    if not sep or not payload or not mac:
        raise TokenError("malformed token")
    if not hmac.compare_digest(_token_mac(secret, payload), mac):
        raise TokenError("bad token signature")
    try:
        claims = json.loads(_unb64(payload))
        result = ResponseToken(
            assignment_id=str(claims["a"]),
            party_id=str(claims["p"]),
            action=ResponseKind(claims["k"]),
            expires_at=datetime.fromtimestamp(int(claims["e"]), UTC),
        )
    except (ValueError, KeyError, TypeError):
        raise TokenError("malformed token") from None
    if _epoch(now) >= result.expires_at.timestamp():
        raise TokenError("token expired")
    return result


def response_links(
    base_url: str,
    secret: Secret,
    assignment_id: str,
    party_id: str,
    actions: tuple[ResponseKind, ...],
    expires_at: datetime,
) -> dict[str, str]:
    """``{action: f"{base_url}/{token}"}`` for each action, ready for the templates.

    ``base_url`` is the notifier's public response endpoint, e.g. ``https://host/r``.
    """
    root = base_url.rstrip("/")
    links: dict[str, str] = {}
    for action in actions:
        token = make_response_token(secret, assignment_id, party_id, action, expires_at)
        links[action.value] = f"{root}/{quote(token)}"
    return links
