"""HTML forms ↔ the API's pydantic models: nest flat field names, map errors back to fields.

Field names are dotted paths of the API body (``person.name``, ``lines.0.quantity``), so a
validation error's ``loc`` names the field it belongs to. Empty inputs are left out, so the
model's defaults apply; fields in ``multi`` keep every value (checkbox groups).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from fivelink_intake.web.i18n import Translator

M = TypeVar("M", bound=BaseModel)
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: A date picked in a form means the end of that day, China time.
END_OF_DAY = "T23:59:59+08:00"
FORM_ONLY = {"csrf", "action", "outcome", "idempotency_key"}

# pydantic error type -> message key (with the error's ctx as values)
MESSAGES = {
    "missing": "err.required",
    "greater_than": "err.gt",
    "greater_than_equal": "err.ge",
    "less_than_equal": "err.le",
    "less_than": "err.lt",
    "string_pattern_mismatch": "err.pattern",
    "string_too_long": "err.too_long",
    "string_too_short": "err.required",
    "too_short": "err.at_least_one",
    "too_long": "err.too_many",
    "float_parsing": "err.number",
    "int_parsing": "err.integer",
    "float_type": "err.number",
    "enum": "err.choice",
    "literal_error": "err.choice",
    "datetime_parsing": "err.date",
    "datetime_from_date_parsing": "err.date",
    "datetime_type": "err.date",
    "extra_forbidden": "err.unknown_field",
}


def _set(tree: dict[str, Any], path: list[str], value: Any) -> None:
    node: Any = tree
    for part in path[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            return  # "a" and "a.b" both given: the plain value wins
    node[path[-1]] = value


def _lists(node: Any) -> Any:
    """Turn dicts keyed "0", "1", ... into lists (a row left wholly empty becomes ``{}``)."""
    if not isinstance(node, dict):
        return node
    fixed = {k: _lists(v) for k, v in node.items()}
    if fixed and all(k.isdigit() and len(k) < 4 for k in fixed):
        return [fixed.get(str(i), {}) for i in range(max(map(int, fixed)) + 1)]
    return fixed


def nest(items: Iterable[tuple[str, str]], multi: Iterable[str] = ()) -> dict[str, Any]:
    """Flat form items -> a nested body; empty values dropped, ``multi`` fields as lists."""
    multi = set(multi)
    tree: dict[str, Any] = {}
    grouped: dict[str, list[str]] = {}
    for name, raw in items:
        if name in FORM_ONLY:
            continue
        value = raw.strip()
        if name in multi or _generic(name) in multi:
            grouped.setdefault(name, [])
            if value:
                grouped[name].append(value)
            continue
        if not value:
            continue
        if DATE_ONLY.match(value) and name.rsplit(".", 1)[-1] in ("deadline", "valid_until"):
            value += END_OF_DAY
        _set(tree, name.split("."), value)
    for name, values in grouped.items():
        if values:
            _set(tree, name.split("."), values)
    result: dict[str, Any] = _lists(tree)
    return result


def _generic(name: str) -> str:
    """``lines.3.languages`` -> ``lines.*.languages`` (for the ``multi`` set)."""
    return ".".join("*" if p.isdigit() else p for p in name.split("."))


def field_errors(
    exc: ValidationError, t: Translator, rename: Mapping[str, str] | None = None
) -> dict[str, str]:
    """One translated message per form field (``""`` for errors of the whole form)."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(p) for p in error["loc"]]
        # a union's or enum's branch name in the loc ("function-after[...]") is not a field
        loc = [p for p in loc if "[" not in p]
        name = ".".join(loc)
        name = (rename or {}).get(name, name)
        key = MESSAGES.get(error["type"])
        ctx = {k: _plain(v) for k, v in (error.get("ctx") or {}).items() if _plain(v) is not None}
        if key is not None:
            message = t(key, **ctx) if ctx else t(key)
        else:
            message = t("err.invalid", detail=str(error["msg"]).removeprefix("Value error, "))
        errors.setdefault(name, message)
    return errors


def _plain(value: object) -> int | float | str | None:
    """A ctx value fit for a message: 0.0 shows as 0; other objects are left out."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, int | float | str) else None


def validate(
    model: type[M], body: Mapping[str, Any], t: Translator
) -> tuple[M | None, dict[str, str]]:
    """The model, or the per-field messages; nothing is stored either way."""
    try:
        return model.model_validate(body), {}
    except ValidationError as exc:
        return None, field_errors(exc, t)


def flat(body: Any, prefix: str = "") -> dict[str, Any]:
    """The inverse of ``nest`` for re-rendering a form: dotted names -> submitted values."""
    out: dict[str, Any] = {}
    if isinstance(body, dict):
        for k, v in body.items():
            out |= flat(v, f"{prefix}{k}.")
    elif isinstance(body, list) and body and all(isinstance(v, dict) for v in body):
        for i, v in enumerate(body):
            out |= flat(v, f"{prefix}{i}.")
    else:
        out[prefix.rstrip(".")] = body
    return out


class Submitted:
    """What the user typed, to fill the form again next to its error messages."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in items:
            self._values.setdefault(name, []).append(value)

    def get(self, name: str, default: str = "") -> str:
        return self._values.get(name, [default])[0]

    def getlist(self, name: str) -> list[str]:
        return self._values.get(name, [])

    def has(self, name: str, value: str) -> bool:
        return value in self._values.get(name, [])

    def rows(self, prefix: str, minimum: int = 1) -> int:
        """How many repeated rows (``lines.0.…``, ``lines.1.…``) were sent."""
        seen = [
            int(parts[1])
            for name in self._values
            if (parts := name.split("."))[0] == prefix and len(parts) > 2 and parts[1].isdigit()
        ]
        return max(minimum, max(seen, default=-1) + 1)


def drop_empty_rows(body: dict[str, Any], key: str, required: tuple[str, ...]) -> dict[str, str]:
    """Leave out repeated rows where none of ``required`` was filled; returns the renames of
    the kept rows' error names (``lines.0`` of the body may be row 2 of the form)."""
    rows = body.get(key)
    if not isinstance(rows, list):
        return {}
    kept: list[Any] = []
    renames: dict[str, str] = {}
    for index, row in enumerate(rows):
        if isinstance(row, dict) and any(row.get(f) for f in required):
            renames[f"{key}.{len(kept)}"] = f"{key}.{index}"
            kept.append(row)
    body[key] = kept
    return renames


def renamed(errors: Mapping[str, str], renames: Mapping[str, str]) -> dict[str, str]:
    """Error names with row prefixes mapped back to the form's rows."""
    out: dict[str, str] = {}
    for name, message in errors.items():
        for old, new in renames.items():
            if name == old or name.startswith(old + "."):
                name = new + name[len(old) :]
                break
        out.setdefault(name, message)
    return out
