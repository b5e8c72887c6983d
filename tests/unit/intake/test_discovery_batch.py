"""Batch parsing: every record validated, errors per line with field and reason."""

from __future__ import annotations

import json
from datetime import timedelta

from discovery_support import NOW, make_id

from fivelink_intake.discovery.batch import BatchError, parse_batch

HEADER = "signal_id,source,observed_at,kind,value,county,categories,id_number,phone,name\n"


def _row(sid: str, **over: str) -> str:
    cells = {
        "signal_id": sid,
        "source": "utility",
        "observed_at": "2025-05-20 08:00:00",
        "kind": "utility_arrears",
        "value": "3",
        "county": "150105",
        "categories": "elderly_alone;minimum_living",
        "id_number": make_id(1),
        "phone": "",
        "name": "",
    } | over
    return ",".join(cells.values()) + "\n"


def _json(sid: str, **over: object) -> str:
    record: dict[str, object] = {
        "signal_id": sid,
        "source": "medical_insurance",
        "observed_at": "2025-05-20T08:00:00+08:00",
        "kind": "hospital_bill",
        "value": 12000,
        "region": {"county": "150105", "township": "150105001"},
        "location": {"lat": 40.84, "lon": 111.75},
        "categories": ["minimum_living"],
        "phone": "+86 138 0000 1111",
        "name": "王芳",
    } | over
    return json.dumps(record, ensure_ascii=False) + "\n"


def _fields(errors: list[BatchError]) -> set[tuple[int, str]]:
    return {(e.line, e.field) for e in errors}


def test_good_csv_parses_and_normalises() -> None:
    second = _row("s2", id_number="", phone="138 0000 1111", name="王芳")
    records, errors = parse_batch((HEADER + _row("s1") + second).encode())
    assert errors == []
    assert [r.signal_id for r in records] == ["s1", "s2"]
    assert records[0].observed_at.utcoffset() == timedelta(0)
    assert records[0].observed_at.hour == 0  # 08:00 China Standard Time
    assert [c.value for c in records[0].categories] == ["elderly_alone", "minimum_living"]


def test_good_jsonl_parses_with_bom_and_blank_lines() -> None:
    data = "\ufeff" + _json("j1") + "\n  \n" + _json("j2", phone="13800001111")
    records, errors = parse_batch(data.encode(), "jsonl")
    assert errors == []
    assert {r.phone for r in records} == {"13800001111"}
    assert records[0].location is not None


def test_format_is_detected() -> None:
    assert parse_batch(_json("j1").encode()).ok
    assert parse_batch((HEADER + _row("s1")).encode()).ok


def test_bad_json_is_reported_on_its_line_and_the_rest_still_checked() -> None:
    data = _json("j1") + '{"signal_id": "j2",\n' + "[1, 2]\n" + _json("j4", kind="nope")
    records, errors = parse_batch(data.encode(), "jsonl")
    assert [r.signal_id for r in records] == ["j1"]
    assert _fields(errors) == {(2, ""), (3, ""), (4, "kind")}
    assert "bad JSON" in errors[0].reason


def test_unknown_json_field_is_an_error() -> None:
    _, errors = parse_batch(_json("j1", address="somewhere").encode())
    assert _fields(errors) == {(1, "address")}


def test_bad_csv_header_column() -> None:
    data = HEADER.replace("value", "amount") + _row("s1")
    records, errors = parse_batch(data.encode(), "csv")
    assert records == []
    assert _fields(errors) == {(1, "amount")}
    assert errors[0].reason == "unknown column"


def test_missing_required_csv_column() -> None:
    header = "signal_id,source,observed_at,value,county,id_number\n"
    _, errors = parse_batch(header.encode(), "csv")
    assert _fields(errors) == {(1, "kind")}


def test_csv_row_with_wrong_number_of_cells() -> None:
    data = HEADER + _row("s1") + "s2,utility,2025-05-20\n" + _row("s3")
    records, errors = parse_batch(data.encode(), "csv")
    assert [r.signal_id for r in records] == ["s1", "s3"]
    assert _fields(errors) == {(3, "")}
    assert "3 cells" in errors[0].reason


def test_bad_id_check_digit_names_the_line_and_field_but_not_the_value() -> None:
    bad = make_id(1)[:-1] + ("0" if make_id(1)[-1] != "0" else "1")
    data = HEADER + _row("s1") + _row("s2", id_number=bad)
    _, errors = parse_batch(data.encode())
    assert _fields(errors) == {(3, "id_number")}
    assert "check digit" in errors[0].reason
    assert bad not in errors[0].model_dump_json()


def test_bad_county_codes() -> None:
    data = (
        HEADER
        + _row("s1", county="15010")  # five digits
        + _row("s2", county="150100")  # a prefecture, not a county
        + _row("s3", county="990105")  # no such province
    )
    records, errors = parse_batch(data.encode())
    assert records == []
    assert _fields(errors) == {(2, "county"), (3, "county"), (4, "county")}
    assert "prefecture" in errors[1].reason


def test_bad_county_in_json_names_the_nested_field() -> None:
    _, errors = parse_batch(_json("j1", region={"county": "150100"}).encode())
    assert _fields(errors) == {(1, "region.county")}


def test_township_must_belong_to_county() -> None:
    _, errors = parse_batch(
        _json("j1", region={"county": "150105", "township": "150102001"}).encode()
    )
    assert _fields(errors) == {(1, "region.township")}


def test_value_out_of_range_for_kind() -> None:
    _, errors = parse_batch((HEADER + _row("s1", kind="income_drop", value="140")).encode())
    assert _fields(errors) == {(2, "value")}
    assert "percent" in errors[0].reason


def test_unidentified_person_is_an_error() -> None:
    _, errors = parse_batch(_json("j1", phone=None).encode())
    assert _fields(errors) == {(1, "record")}
    assert "id_number" in errors[0].reason


def test_duplicate_signal_id_in_one_batch() -> None:
    _, errors = parse_batch((HEADER + _row("s1") + _row("s1")).encode())
    assert _fields(errors) == {(3, "signal_id")}
    assert "line 2" in errors[0].reason


def test_future_observation_is_rejected_when_now_is_given() -> None:
    row = _row("s1", observed_at=(NOW + timedelta(days=2)).isoformat())
    assert parse_batch((HEADER + row).encode()).ok
    _, errors = parse_batch((HEADER + row).encode(), now=NOW)
    assert _fields(errors) == {(2, "observed_at")}


def test_gbk_file_gets_a_hint() -> None:
    data = (HEADER + _row("s1", name="王芳", id_number="", phone="13800001111")).encode("gbk")
    records, errors = parse_batch(data, "csv")
    assert records == []
    assert "GBK" in errors[0].reason and errors[0].line == 2


def test_empty_batch_and_record_cap() -> None:
    assert parse_batch(b"", "jsonl").errors[0].reason == "batch has no records"
    _, errors = parse_batch((_json("a") + _json("b") + _json("c")).encode(), max_records=2)
    assert _fields(errors) == {(3, "")}


def test_all_errors_of_a_record_are_reported() -> None:
    _, errors = parse_batch((HEADER + _row("s 1", source="fax", county="1")).encode())
    assert {e.field for e in errors} == {"signal_id", "source", "county"}
