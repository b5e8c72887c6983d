"""The signal file CLI: chunking keeps every record once; a bad file is never sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fivelink_intake.discovery import parse_batch
from fivelink_intake.ingest import chunks, main

RECORD = {
    "source": "hotline",
    "observed_at": "2025-05-20T08:00:00+08:00",
    "kind": "crisis_call",
    "value": 5,
    "region": {"county": "150102"},
    "phone": "13800138000",
    "name": "测试",
}


def _jsonl(n: int) -> bytes:
    return b"\n".join(
        json.dumps(RECORD | {"signal_id": f"u-{i}"}, ensure_ascii=False).encode() for i in range(n)
    )


def test_jsonl_and_csv_chunks_hold_every_record_once() -> None:
    parts = list(chunks(_jsonl(7), "jsonl", 3))
    assert len(parts) == 3
    ids = [s.signal_id for p in parts for s in parse_batch(p, "jsonl").records]
    assert ids == [f"u-{i}" for i in range(7)]
    csv = b"signal_id,source,observed_at,kind,value,county,phone,name\n" + b"".join(
        f'c-{i},hotline,2025-05-20T08:00:00,crisis_call,5,150102,13800138000,"a,{i}"\n'.encode()
        for i in range(5)
    )
    parts = list(chunks(csv, "csv", 2))
    assert [len(parse_batch(p, "csv").records) for p in parts] == [2, 2, 1]
    assert all(p.startswith(b"signal_id,") for p in parts)


def test_a_bad_file_lists_its_lines_and_sends_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "signals.jsonl"
    path.write_bytes(_jsonl(2) + b"\n{not json}\n" + json.dumps(RECORD | {"value": 99}).encode())
    # an address nothing listens on: the command must stop before any request
    code = main([str(path), "--url", "http://127.0.0.1:9", "--token", "t"])
    err = capsys.readouterr().err
    assert code == 1
    assert "nothing sent" in err and "line 3" in err and "line 4" in err
    assert "13800138000" not in err
