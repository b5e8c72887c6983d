"""Webhook signatures and signed response links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fivelink_notifier.signing import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureError,
    TokenError,
    is_valid,
    make_response_token,
    parse_response_token,
    response_links,
    sign,
    signature_headers,
    verify,
)
from fivelink_shared.events import ResponseKind

SECRET = "whsec-0123456789abcdef"
BODY = '{"event_id":"e-1","subject":"新任务 ᠮᠣᠩᠭᠣᠯ"}'.encode()
NOW = 1_780_000_000


def test_sign_is_hmac_sha256_over_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, BODY) == expected
    assert sign(SECRET, NOW, BODY.decode()) == expected


def test_good_signature_passes() -> None:
    headers = signature_headers(SECRET, BODY, "e-1", now=NOW)
    assert headers[SIGNATURE_HEADER].startswith("v1=")
    assert headers[EVENT_ID_HEADER] == "e-1"
    assert verify(SECRET, headers, BODY, now=NOW + 10) == NOW


def test_header_names_are_case_insensitive() -> None:
    headers = {k.lower(): v for k, v in signature_headers(SECRET, BODY, "e-1", now=NOW).items()}
    assert verify(SECRET, headers, BODY, now=NOW) == NOW


def test_tampered_body_fails() -> None:
    headers = signature_headers(SECRET, BODY, "e-1", now=NOW)
    with pytest.raises(SignatureError, match="mismatch"):
        verify(SECRET, headers, BODY.replace(b"e-1", b"e-2"), now=NOW)


def test_wrong_secret_fails() -> None:
    headers = signature_headers(SECRET, BODY, "e-1", now=NOW)
    assert not is_valid("another-secret-0123456", headers, BODY, now=NOW)


def test_replayed_old_timestamp_fails_even_with_valid_signature() -> None:
    headers = signature_headers(SECRET, BODY, "e-1", now=NOW)
    assert is_valid(SECRET, headers, BODY, now=NOW + 300)
    with pytest.raises(SignatureError, match="tolerance"):
        verify(SECRET, headers, BODY, now=NOW + 301)


def test_timestamp_too_far_in_future_fails() -> None:
    headers = signature_headers(SECRET, BODY, "e-1", now=NOW + 1000)
    assert not is_valid(SECRET, headers, BODY, now=NOW)


def test_changed_timestamp_breaks_signature() -> None:
    headers = signature_headers(SECRET, BODY, "e-1", now=NOW)
    headers[TIMESTAMP_HEADER] = str(NOW + 1)
    assert not is_valid(SECRET, headers, BODY, now=NOW)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {TIMESTAMP_HEADER: str(NOW)},
        {TIMESTAMP_HEADER: "yesterday", SIGNATURE_HEADER: "v1=00"},
        {TIMESTAMP_HEADER: str(NOW), SIGNATURE_HEADER: "v0=abc"},
    ],
)
def test_missing_or_malformed_headers_fail(headers: dict[str, str]) -> None:
    with pytest.raises(SignatureError):
        verify(SECRET, headers, BODY, now=NOW)


def test_rotation_accepts_any_of_several_signatures() -> None:
    old = sign("old-secret-0123456789", NOW, BODY)
    new = sign(SECRET, NOW, BODY)
    headers = {TIMESTAMP_HEADER: str(NOW), SIGNATURE_HEADER: f"v1={old}, v1={new}"}
    assert verify(SECRET, headers, BODY, now=NOW) == NOW


def test_verify_accepts_datetime_now() -> None:
    headers = signature_headers(SECRET, BODY, "e-1", now=NOW)
    assert is_valid(SECRET, headers, BODY, now=datetime.fromtimestamp(NOW, UTC))


# --- response tokens --------------------------------------------------------------------------

EXPIRES = datetime(2026, 6, 1, tzinfo=UTC)


def test_token_round_trip() -> None:
    token = make_response_token(SECRET, "a-1", "sw-9", ResponseKind.DECLINED, EXPIRES)
    parsed = parse_response_token(SECRET, token, now=EXPIRES - timedelta(hours=1))
    assert parsed.assignment_id == "a-1"
    assert parsed.party_id == "sw-9"
    assert parsed.action is ResponseKind.DECLINED
    assert parsed.expires_at == EXPIRES


def test_token_is_url_safe() -> None:
    token = make_response_token(SECRET, "a:1.x_y-z", "sw-9", "accepted", EXPIRES)
    assert all(c.isalnum() or c in "-_." for c in token)


def test_expired_token_is_rejected() -> None:
    token = make_response_token(SECRET, "a-1", "sw-9", ResponseKind.ACCEPTED, EXPIRES)
    with pytest.raises(TokenError, match="expired"):
        parse_response_token(SECRET, token, now=EXPIRES)


def test_tampered_token_is_rejected() -> None:
    token = make_response_token(SECRET, "a-1", "sw-9", ResponseKind.ACCEPTED, EXPIRES)
    other = make_response_token(SECRET, "a-1", "sw-9", ResponseKind.CONFIRMED, EXPIRES)
    payload, _, mac = token.partition(".")
    other_payload, _, _ = other.partition(".")
    with pytest.raises(TokenError, match="signature"):
        parse_response_token(SECRET, f"{other_payload}.{mac}", now=EXPIRES - timedelta(1))
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    with pytest.raises(TokenError):
        parse_response_token(SECRET, f"{payload}.{flipped}", now=EXPIRES - timedelta(1))


def test_token_with_other_secret_is_rejected() -> None:
    token = make_response_token(SECRET, "a-1", "sw-9", ResponseKind.ACCEPTED, EXPIRES)
    with pytest.raises(TokenError):
        parse_response_token("other-secret-0123456789", token, now=EXPIRES - timedelta(1))


@pytest.mark.parametrize("token", ["", "nodot", ".mac", "payload.", "a.b.c"])
def test_malformed_token_is_rejected(token: str) -> None:
    with pytest.raises(TokenError):
        parse_response_token(SECRET, token, now=0)


def test_response_links_carry_parseable_tokens() -> None:
    links = response_links(
        "https://notify.example/r/",
        SECRET,
        "a-1",
        "sw-9",
        (ResponseKind.ACCEPTED, ResponseKind.DECLINED),
        EXPIRES,
    )
    assert list(links) == ["accepted", "declined"]
    for action, url in links.items():
        assert url.startswith("https://notify.example/r/")
        token = url.rsplit("/", 1)[1]
        assert parse_response_token(SECRET, token, now=EXPIRES - timedelta(1)).action == action
