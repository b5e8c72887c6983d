"""Page labels in Chinese (default), traditional Mongolian and English.

Labels live in ``messages/<lang>.json`` (flat keys, e.g. ``"nav.inbox"``; enum labels as
``"need_type.food"``). A key missing in one language falls back to Chinese, then to the key.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LANGUAGES = ("zh", "mn", "en")
DEFAULT = "zh"
#: BCP 47 tags for the ``lang`` attribute: traditional Mongolian script is ``mn-Mong``.
HTML_LANG = {"zh": "zh-Hans", "mn": "mn-Mong", "en": "en"}
NAMES = {"zh": "中文", "mn": "ᠮᠣᠩᠭᠣᠯ", "en": "English"}
MESSAGES_DIR = Path(__file__).parent / "messages"


@cache
def catalog(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((MESSAGES_DIR / f"{lang}.json").read_text("utf-8"))
    return data


def pick(requested: str | None, accept_language: str = "") -> str:
    """The page language: the user's choice (cookie), else Accept-Language, else Chinese."""
    if requested in LANGUAGES:
        return str(requested)
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag[:2] in LANGUAGES:
            return tag[:2]
    return DEFAULT


class Translator:
    """``t("nav.inbox")`` or ``t("err.min", n=3)``: a label in the page language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT
        self._own = catalog(self.lang)
        self._fallback = catalog(DEFAULT)

    def __call__(self, key: str, **values: object) -> str:
        text = self._own.get(key) or self._fallback.get(key) or key
        return text.format(**values) if values else text

    def enum(self, group: str, value: str | None) -> str:
        """The label of an enum value (``need_type``, ``urgency``, ...), or the value itself."""
        if not value:
            return ""
        key = f"{group}.{value}"
        return self._own.get(key) or self._fallback.get(key) or value
