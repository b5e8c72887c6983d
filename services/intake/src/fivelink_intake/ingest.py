"""Send a file of signals (JSON lines or CSV) to intake's ``POST /v1/signals:batch``.

    uv run python -m fivelink_intake.ingest signals.jsonl --url http://127.0.0.1:8000 \\
        --token "$(uv run python -m fivelink_intake.tokens --role admin --sub feed-1)"

The whole file is validated here first, with the same parser the server uses: if any record
is bad, every bad line is listed with its reason and nothing is sent (exit 1). Then the file
goes in chunks (``--chunk`` records each, default 2000), each with an ``Idempotency-Key``
derived from the file's content and the chunk number, so running the command again after an
interruption sends nothing twice. ``--dry-run`` reports what would be opened, storing nothing.
Progress goes to stderr; the summary (JSON) to stdout.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fivelink_intake.discovery import parse_batch
from fivelink_intake.discovery.batch import Format

CONTENT_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv"}


def detect(data: bytes) -> Format:
    return "jsonl" if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else "csv"


def chunks(data: bytes, fmt: Format, size: int) -> Iterator[bytes]:
    """The file cut into bodies of at most ``size`` records (CSV: each with the header)."""
    if fmt == "jsonl":
        lines = [line for line in data.split(b"\n") if line.strip()]
        for start in range(0, len(lines), size):
            yield b"\n".join(lines[start : start + size]) + b"\n"
        return
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    header, body = rows[0], [r for r in rows[1:] if any(c.strip() for c in r)]
    for start in range(0, len(body), size):
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(body[start : start + size])
        yield out.getvalue().encode()


@dataclass
class Summary:
    records: int = 0
    stored: int = 0
    already_stored: int = 0
    opened: int = 0
    merged: int = 0
    chunks: int = 0
    seconds: float = 0.0
    rules: dict[str, int] = field(default_factory=dict)

    def add(self, report: dict[str, Any]) -> None:
        self.chunks += 1
        self.records += int(report["received"])
        self.stored += int(report["stored"])
        self.already_stored += int(report["already_stored"])
        self.opened += len(report["cases_opened"])
        self.merged += len(report["cases_merged"])
        for case in [*report["cases_opened"], *report["cases_merged"]]:
            for rule in case["rule_ids"]:
                self.rules[rule] = self.rules.get(rule, 0) + 1

    @property
    def per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


class IngestError(Exception):
    """The server refused a chunk; ``body`` is its answer."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:2000]}")
        self.status = status


def post_chunk(
    url: str, token: str, body: bytes, fmt: Format, key: str, dry_run: bool, timeout: float
) -> dict[str, Any]:
    query = "?dry_run=true" if dry_run else ""
    request = urllib.request.Request(
        f"{url.rstrip('/')}/v1/signals:batch{query}",
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": CONTENT_TYPES[fmt],
            "Idempotency-Key": key,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            report: dict[str, Any] = json.loads(response.read())
            return report
    except urllib.error.HTTPError as exc:
        raise IngestError(exc.code, exc.read().decode(errors="replace")) from exc


def ingest(
    data: bytes,
    *,
    url: str,
    token: str,
    fmt: Format = "auto",
    chunk: int = 2000,
    dry_run: bool = False,
    timeout: float = 300,
    progress: Callable[[str], None] = lambda _: None,
) -> Summary:
    """Validate, then send ``data`` chunk by chunk; raises ``ValueError`` listing bad lines."""
    fmt = detect(data) if fmt == "auto" else fmt
    _, errors = parse_batch(data, fmt, now=datetime.now(UTC))
    if errors:
        lines = [f"line {e.line}: {e.field or 'record'}: {e.reason}" for e in errors]
        raise ValueError(f"{len(errors)} bad records, nothing sent:\n" + "\n".join(lines))
    digest = hashlib.sha256(data).hexdigest()[:16]
    bodies = list(chunks(data, fmt, chunk))
    summary = Summary()
    started = time.perf_counter()
    for i, body in enumerate(bodies, start=1):
        report = post_chunk(url, token, body, fmt, f"ingest-{digest}-{chunk}-{i}", dry_run, timeout)
        summary.add(report)
        summary.seconds = time.perf_counter() - started
        progress(
            f"chunk {i}/{len(bodies)}: {summary.records} records, {summary.opened} cases opened, "
            f"{summary.merged} merged, {summary.per_second:,.0f} records/s"
        )
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fivelink_intake.ingest", description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="intake's base URL")
    parser.add_argument("--token", required=True, help="bearer token (see fivelink_intake.tokens)")
    parser.add_argument("--format", choices=["auto", "jsonl", "csv"], default="auto")
    parser.add_argument("--chunk", type=int, default=2000, help="records per request")
    parser.add_argument("--dry-run", action="store_true", help="report only, store nothing")
    args = parser.parse_args(argv)
    data = args.file.read_bytes()
    try:
        summary = ingest(
            data,
            url=args.url,
            token=args.token,
            fmt=args.format,
            chunk=args.chunk,
            dry_run=args.dry_run,
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    except IngestError as exc:
        print(f"intake refused a chunk: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(summary.__dict__ | {"records_per_second": round(summary.per_second, 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
