"""Proactive discovery over HTTP: batches in, cases out, on the real store and Kafka."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from intake_support import COUNTY, OTHER_COUNTY, auth, intake_db, run_id, topic_events

from fivelink_cli import infra
from fivelink_intake.discovery.identity import id_check_digit
from fivelink_shared import topics

pytestmark = pytest.mark.integration
SUPERVISOR = auth("supervisor", "sup-signals", county=COUNTY)
JSONL = {"content-type": "application/x-ndjson"}


def new_id_number() -> str:
    first17 = f"{COUNTY}1958{random.randrange(1, 13):02d}15{random.randrange(100, 999)}"
    return first17 + id_check_digit(first17)


def signal(run: str, n: int, kind: str, source: str, value: float, **extra: Any) -> dict[str, Any]:
    return {
        "signal_id": f"it-{run}-{n}",
        "source": source,
        "kind": kind,
        "value": value,
        "observed_at": (datetime.now(UTC) - timedelta(hours=n + 1)).isoformat(),
        "region": {"county": COUNTY, "township": f"{COUNTY}001"},
        **extra,
    }


def jsonl(*records: dict[str, Any]) -> bytes:
    return b"\n".join(json.dumps(r, ensure_ascii=False).encode() for r in records)


@pytest.fixture
def http(stack: infra.Stack) -> httpx.Client:
    with httpx.Client(base_url=stack.url("intake"), timeout=30, headers=SUPERVISOR) as client:
        yield client


def test_one_bad_record_rejects_the_batch_and_stores_nothing(
    stack: infra.Stack, http: httpx.Client
) -> None:
    run, person = run_id(), new_id_number()
    good = signal(run, 1, "crisis_call", "hotline", 5, id_number=person)
    bad = signal(run, 2, "hospital_bill", "medical_insurance", -3, id_number=person)
    unknown = signal(run, 3, "crisis_call", "hotline", 5, id_number=person, surname="x")
    response = http.post("/v1/signals:batch", content=jsonl(good, bad, unknown), headers=JSONL)
    assert response.status_code == 422
    errors = {(e["line"], e["field"]) for e in response.json()["errors"]}
    assert errors == {(2, "value"), (3, "surname")}
    assert person not in response.text  # reasons never echo the data
    ids = [good["signal_id"], bad["signal_id"], unknown["signal_id"]]
    assert intake_db(stack)["signals"].count_documents({"_id": {"$in": ids}}) == 0
    assert (
        intake_db(stack)["cases"].count_documents({"discovery.signal_ids": good["signal_id"]}) == 0
    )


def test_csv_batch_opens_a_discovery_case_with_the_verification_visit_first(
    stack: infra.Stack, http: httpx.Client
) -> None:
    run = run_id()
    csv = (
        "signal_id,source,observed_at,kind,value,county,township,phone,name\n"
        f"it-{run}-c1,hotline,{datetime.now(UTC).isoformat()},crisis_call,5,{COUNTY},"
        f"{COUNTY}001,138 0013 {random.randrange(1000, 9999)},测 试\n"
    ).encode()
    dry = http.post("/v1/signals:batch", params={"dry_run": "true", "format": "csv"}, content=csv)
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True and len(dry.json()["cases_opened"]) == 1
    assert intake_db(stack)["signals"].find_one({"_id": f"it-{run}-c1"}) is None
    would = dry.json()["cases_opened"][0]["case_id"]
    assert intake_db(stack)["cases"].find_one({"_id": would}) is None

    stored = http.post("/v1/signals:batch", content=csv, headers={"content-type": "text/csv"})
    assert stored.status_code == 201, stored.text
    report = stored.json()
    assert report["stored"] == 1 and len(report["cases_opened"]) == 1
    opened = report["cases_opened"][0]
    assert opened["case_id"] == would and opened["rule_ids"] == ["crisis-call"]
    case = http.get(f"/v1/needs/{opened['case_id']}").json()
    assert case["source"] == "discovery" and case["rule_id"] == "crisis-call"
    assert case["discovery"]["signal_ids"] == [f"it-{run}-c1"]
    assert case["risk_score"] == 80
    lines = case["case"]["lines"]
    assert lines[0]["need_type"] == "verification_visit" and lines[0]["urgency"] == "crisis"
    events = topic_events(stack, topics.NEEDS, case_id=opened["case_id"])
    assert [(e["type"], e["source"], e["rule_id"]) for e in events] == [
        ("need_opened", "discovery", "crisis-call")
    ]
    doc = intake_db(stack)["signals"].find_one({"_id": f"it-{run}-c1"})
    assert "测" not in str(doc) and "0013" not in str(doc)  # identifiers encrypted


def test_stored_signals_feed_later_batches_and_cases_merge(
    stack: infra.Stack, http: httpx.Client
) -> None:
    run, person = run_id(), new_id_number()
    bill = signal(run, 5, "hospital_bill", "medical_insurance", 6000, id_number=person)
    first = http.post("/v1/signals:batch", content=jsonl(bill), headers=JSONL)
    assert first.status_code == 201 and first.json()["cases_opened"] == []

    drop = signal(
        run, 4, "income_drop", "poverty_monitoring", 35, id_number=person[:-1] + person[-1].lower()
    )
    second = http.post("/v1/signals:batch", content=jsonl(drop), headers=JSONL)
    (opened,) = second.json()["cases_opened"]
    assert set(opened["rule_ids"]) >= {"illness-induced-poverty-risk"}
    assert set(opened["signal_ids"]) == {bill["signal_id"], drop["signal_id"]}

    job = signal(run, 3, "job_loss", "grid_visit", 2, id_number=person)
    key = {"Idempotency-Key": f"it-merge-{run}"}
    third = http.post("/v1/signals:batch", content=jsonl(job), headers=JSONL | key)
    assert third.status_code == 201
    assert third.json()["cases_opened"] == []
    (merged,) = third.json()["cases_merged"]
    assert merged["case_id"] == opened["case_id"]
    replay = http.post("/v1/signals:batch", content=jsonl(job), headers=JSONL | key)
    assert replay.status_code == 200 and replay.json() == third.json()

    case = http.get(f"/v1/needs/{opened['case_id']}").json()
    assert case["revision"] == 2
    assert job["signal_id"] in case["discovery"]["signal_ids"]
    events = topic_events(stack, topics.NEEDS, case_id=opened["case_id"])
    assert [(e["type"], e["revision"]) for e in events] == [("need_opened", 1), ("need_opened", 2)]
    assert intake_db(stack)["cases"].count_documents({"identity_refs": opened["person_ref"]}) == 1


def test_records_outside_the_callers_region_are_refused(
    stack: infra.Stack, http: httpx.Client
) -> None:
    run = run_id()
    other = signal(run, 1, "crisis_call", "hotline", 5, id_number=new_id_number())
    other["region"] = {"county": OTHER_COUNTY}
    response = http.post("/v1/signals:batch", content=jsonl(other), headers=JSONL)
    assert response.status_code == 403
    assert response.json()["errors"][0]["signal_id"] == other["signal_id"]
    assert intake_db(stack)["signals"].find_one({"_id": other["signal_id"]}) is None
    charity = auth("charity", "c-sig", org_id="org-sig")
    refused = http.post("/v1/signals:batch", content=jsonl(other), headers=JSONL | charity)
    assert refused.status_code == 403


def test_discovery_metrics_have_no_personal_labels(stack: infra.Stack) -> None:
    text = httpx.get(f"{stack.url('intake')}/metrics/").text
    assert "fivelink_intake_discovery_signals_ingested_total" in text
    assert 'fivelink_intake_discovery_rules_fired_total{rule_id="crisis-call"}' in text
    assert 'fivelink_intake_cases_opened_total{source="discovery"}' in text
    assert 'fivelink_intake_discovery_records_rejected_total{reason="invalid_value"}' in text
    labels = " ".join(re.findall(r"\{[^}]*\}", text))
    assert not re.search(r"p-[0-9a-f]{20}|\d{17}[\dX]|1[3-9]\d{9}", labels)  # no personal data
