"""Parse a batch of signals from JSON lines or CSV, validating every record.

``parse_batch(data: bytes, fmt="auto", *, now=None, max_records=100_000) -> BatchResult``

``BatchResult`` unpacks as ``(records, errors)``. Errors are per line (1-based, the line a
record starts on; 0 for the batch as a whole) with the offending field and a reason. The
caller stores nothing when ``errors`` is non-empty (all-or-nothing) unless it asked for a
dry-run report; this module only reports. Reasons never echo the input, since records hold
personal data.

JSON lines: one object per line, shaped like ``Signal`` (``region`` and ``location`` nested).
CSV: a header row naming columns from ``CSV_COLUMNS``; ``categories`` separated by ``;`` or
``|``; ``lat``/``lon`` both or neither. Both: UTF-8 (a BOM is fine), blank lines skipped.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, ValidationError

from fivelink_intake.discovery.signals import Signal

Format = Literal["auto", "jsonl", "csv"]

CSV_COLUMNS = (
    "signal_id",
    "source",
    "observed_at",
    "kind",
    "value",
    "county",
    "township",
    "community",
    "grid",
    "lat",
    "lon",
    "categories",
    "id_number",
    "phone",
    "name",
)
CSV_REQUIRED = ("signal_id", "source", "observed_at", "kind", "county")
CLOCK_SKEW = timedelta(minutes=10)


class BatchError(BaseModel):
    """What is wrong with one line of a batch."""

    model_config = ConfigDict(frozen=True)

    line: int
    field: str
    reason: str


class BatchResult(NamedTuple):
    records: list[Signal]
    errors: list[BatchError]

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_batch(
    data: bytes, fmt: Format = "auto", *, now: datetime | None = None, max_records: int = 100_000
) -> BatchResult:
    """Validate every record of a batch; see the module docstring."""
    if fmt == "auto":
        fmt = "jsonl" if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else "csv"
    rows = _jsonl_rows(data) if fmt == "jsonl" else _csv_rows(data)
    records: list[Signal] = []
    errors: list[BatchError] = []
    first_line_of: dict[str, int] = {}
    for line, row in rows:
        if isinstance(row, BatchError):
            errors.append(row)
            continue
        if len(records) + len(errors) >= max_records:
            errors.append(BatchError(line=line, field="", reason=f"batch exceeds {max_records}"))
            break
        try:
            signal = Signal.model_validate(row)
        except ValidationError as exc:
            errors.extend(_from_validation(line, exc, csv_mode=fmt == "csv"))
            continue
        if signal.signal_id in first_line_of:
            reason = f"duplicate signal_id, first seen on line {first_line_of[signal.signal_id]}"
            errors.append(BatchError(line=line, field="signal_id", reason=reason))
            continue
        if now is not None and signal.observed_at > now + CLOCK_SKEW:
            errors.append(BatchError(line=line, field="observed_at", reason="is in the future"))
            continue
        first_line_of[signal.signal_id] = line
        records.append(signal)
    if not records and not errors:
        errors.append(BatchError(line=0, field="", reason="batch has no records"))
    return BatchResult(records, errors)


Row = tuple[int, dict[str, Any] | BatchError]


def _decode_error(exc: UnicodeDecodeError, raw: bytes, line: int) -> BatchError:
    try:
        raw.decode("gb18030")
        hint = " (looks like GBK/GB18030: save the file as UTF-8)"
    except UnicodeDecodeError:
        hint = ""
    return BatchError(line=line, field="", reason=f"not valid UTF-8{hint}")


def _jsonl_rows(data: bytes) -> list[Row]:
    rows: list[Row] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            rows.append((number, _decode_error(exc, raw, number)))
            continue
        except json.JSONDecodeError as exc:
            rows.append((number, BatchError(line=number, field="", reason=f"bad JSON: {exc.msg}")))
            continue
        if not isinstance(obj, dict):
            rows.append((number, BatchError(line=number, field="", reason="not a JSON object")))
            continue
        rows.append((number, obj))
    return rows


def _csv_rows(data: bytes) -> list[Row]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return [(line, _decode_error(exc, data, line))]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return []
    except csv.Error as exc:
        return [(1, BatchError(line=1, field="", reason=f"bad CSV: {exc}"))]
    problems = [
        BatchError(line=1, field=h, reason="unknown column") for h in header if h not in CSV_COLUMNS
    ]
    problems += [
        BatchError(line=1, field=c, reason="required column is missing")
        for c in CSV_REQUIRED
        if c not in header
    ]
    problems += [
        BatchError(line=1, field=h, reason="column appears twice")
        for i, h in enumerate(header)
        if h in header[:i]
    ]
    if problems:
        return [(1, p) for p in problems]
    rows: list[Row] = []
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            rows.append((start, BatchError(line=start, field="", reason=f"bad CSV: {exc}")))
            break
        line, start = start, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            reason = f"has {len(cells)} cells, the header has {len(header)} columns"
            rows.append((line, BatchError(line=line, field="", reason=reason)))
            continue
        rows.append((line, _csv_record(dict(zip(header, cells, strict=True)))))
    return rows


def _csv_record(cells: dict[str, str]) -> dict[str, Any]:
    """Turn flat CSV cells into the nested shape of ``Signal``; empty cells are absent."""
    get = {k: v.strip() for k, v in cells.items() if v.strip()}
    record: dict[str, Any] = {
        k: get[k] for k in ("signal_id", "source", "observed_at", "kind", "value") if k in get
    }
    record["region"] = {k: get[k] for k in ("county", "township", "community", "grid") if k in get}
    if "lat" in get or "lon" in get:
        record["location"] = {"lat": get.get("lat"), "lon": get.get("lon")}
    if "categories" in get:
        parts = get["categories"].replace("|", ";").split(";")
        record["categories"] = [p.strip() for p in parts if p.strip()]
    for k in ("id_number", "phone", "name"):
        if k in get:
            record[k] = get[k]
    return record


def _from_validation(line: int, exc: ValidationError, *, csv_mode: bool) -> list[BatchError]:
    errors = []
    for err in exc.errors(include_input=False, include_url=False):
        loc = [str(part) for part in err["loc"]]
        reason = str(err["msg"]).removeprefix("Value error, ")
        if loc == ["region"] and reason.split()[0] in ("county", "township", "community"):
            loc.append(reason.split()[0])  # our region checks name the level first
        if csv_mode and loc and loc[0] in ("region", "location", "categories"):
            field = loc[1] if loc[0] != "categories" and len(loc) > 1 else loc[0]
        else:
            field = ".".join(loc) or "record"
        errors.append(BatchError(line=line, field=field, reason=reason))
    return errors
