"""Personal identifiers: normalisation, validation and pseudonymous references.

Identifiers (ID number, phone, name) exist only inside intake. Everything that leaves the
discovery core carries a ``person_ref`` instead: a keyed HMAC-SHA256 of the normalised
identifier, so the same person reported by different sources gets the same ref while the
ref itself reveals nothing without the key.

- ``normalize_id_number(raw) -> str``: 18-character GB 11643 number, check digit validated,
  upper-case ``X``; a 15-digit pre-1999 number is upgraded to 18 digits.
- ``normalize_phone(raw) -> str``: digits only, ``+86``/``0086`` stripped; mobile or landline.
- ``normalize_name(raw) -> str``: NFKC, no spaces, one kind of middle dot, case-folded.
- ``id_ref(id_number, key)`` / ``phone_name_ref(phone, name, key)``: pseudonymous refs.

Error messages never repeat the offending value.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date

MIN_KEY_BYTES = 16
REF_PREFIX = "p-"

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_ID18 = re.compile(r"^\d{17}[\dX]$")
_ID15 = re.compile(r"^\d{15}$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")
_MIDDLE_DOTS = re.compile(r"[·•‧・･∙⋅]")
_SPACES = re.compile(r"\s+")


def id_check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits of an ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def _valid_birth_date(digits: str) -> bool:
    try:
        born = date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return False
    return born.year >= 1880


def normalize_id_number(raw: str) -> str:
    """Return the canonical 18-character ID number or raise ``ValueError``."""
    text = _SPACES.sub("", unicodedata.normalize("NFKC", raw)).upper()
    if _ID15.match(text):
        first17 = text[:6] + "19" + text[6:]
        text = first17 + id_check_digit(first17)
    if not _ID18.match(text):
        raise ValueError("ID number must be 18 characters: 17 digits and a digit or X")
    if not _valid_birth_date(text[6:14]):
        raise ValueError("ID number has an impossible birth date")
    if id_check_digit(text[:17]) != text[17]:
        raise ValueError("ID number check digit does not match (GB 11643)")
    return text


def normalize_phone(raw: str) -> str:
    """Return the phone number as digits only, without the +86 country code."""
    text = unicodedata.normalize("NFKC", raw)
    text = re.sub(r"[\s\-().]", "", text)
    if text.startswith("+"):
        if not text.startswith("+86"):
            raise ValueError("only mainland China (+86) phone numbers are accepted")
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    elif len(text) == 13 and text.startswith("86"):
        text = text[2:]
    if not text.isdigit() or not (_MOBILE.match(text) or _LANDLINE.match(text)):
        raise ValueError("phone must be an 11-digit mobile or a landline with area code")
    return text


def normalize_name(raw: str) -> str:
    """Return a comparison form of a person's name (not for display)."""
    text = unicodedata.normalize("NFKC", raw)
    text = _MIDDLE_DOTS.sub("·", text)
    text = _SPACES.sub("", text).casefold()
    if not text:
        raise ValueError("name is empty")
    if len(text) > 64:
        raise ValueError("name is longer than 64 characters")
    return text


def _ref(key: bytes, *parts: str) -> str:
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"HMAC key must be at least {MIN_KEY_BYTES} bytes")
    message = "\x00".join(("fivelink/person/v1", *parts)).encode()
    return REF_PREFIX + hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def id_ref(id_number: str, key: bytes) -> str:
    """Pseudonymous ref of a (normalised) ID number."""
    return _ref(key, "id", id_number)


def phone_name_ref(phone: str, name: str, key: bytes) -> str:
    """Pseudonymous ref of a (normalised) phone number and name pair."""
    return _ref(key, "phone+name", phone, name)
