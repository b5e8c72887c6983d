"""Cases, lines and offers on the real store and Kafka: every change is one event."""

from __future__ import annotations

import httpx
import pytest
from intake_support import (
    COUNTY,
    auth,
    fresh_township,
    intake_db,
    key,
    need_body,
    offer_body,
    run_id,
    topic_events,
)

from fivelink_cli import infra
from fivelink_shared import topics

pytestmark = pytest.mark.integration

ID_NUMBER = "11010519491231002X"


@pytest.fixture
def http(stack: infra.Stack) -> httpx.Client:
    with httpx.Client(base_url=stack.url("intake"), timeout=20) as client:
        yield client


def test_case_revisions_publish_higher_revisions_then_need_closed(
    stack: infra.Stack, http: httpx.Client
) -> None:
    township = fresh_township()
    sw = auth("social_worker", "sw-flow", county=COUNTY, township=township)
    body = need_body(
        township, name="王五", id_number=ID_NUMBER, phone="13800138000", address="某路1号"
    )
    created = http.post("/v1/needs", json=body, headers=sw | key("flow"))
    assert created.status_code == 201, created.text
    case_id = created.json()["case_id"]
    line2 = http.post(
        f"/v1/needs/{case_id}/lines",
        headers=sw | key("line"),
        json={"need_type": "medical_aid", "quantity": 800, "unit": "CNY"},
    )
    assert line2.status_code == 201, line2.text
    assert [x["line_id"] for x in line2.json()["case"]["lines"]] == [
        f"{case_id}-l1",
        f"{case_id}-l2",
    ]
    changed = http.patch(
        f"/v1/needs/{case_id}/lines/{case_id}-l1",
        headers=sw,
        json={"quantity": 15, "expected_revision": 2},
    )
    assert changed.status_code == 200, changed.text
    stale = http.patch(
        f"/v1/needs/{case_id}/lines/{case_id}-l1",
        headers=sw,
        json={"quantity": 16, "expected_revision": 2},
    )
    assert stale.status_code == 409
    closed_line = http.post(
        f"/v1/needs/{case_id}/lines/{case_id}-l2:close", headers=sw, json={"reason": "delivered"}
    )
    assert closed_line.json()["revision"] == 4
    closed = http.post(f"/v1/needs/{case_id}:close", headers=sw, json={"reason": "resolved"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    again = http.post(f"/v1/needs/{case_id}:close", headers=sw)
    assert again.json()["revision"] == 5  # closing twice changes nothing
    refused = http.post(
        f"/v1/needs/{case_id}/lines",
        headers=sw | key("late"),
        json={"need_type": "food", "quantity": 1, "unit": "kg"},
    )
    assert refused.status_code == 409

    events = topic_events(stack, topics.NEEDS, case_id=case_id)
    assert [(e["type"], e["revision"]) for e in events] == [
        ("need_opened", 1),
        ("need_opened", 2),
        ("need_opened", 3),
        ("need_opened", 4),
        ("need_closed", 5),
    ]
    assert [x["quantity"] for x in events[2]["lines"]] == [15, 800]
    assert [x["line_id"] for x in events[3]["lines"]] == [f"{case_id}-l1"]
    text = str(events)
    for secret in ("王五", ID_NUMBER, "13800138000", "某路1号"):
        assert secret not in text  # no personal data on Kafka

    stored = intake_db(stack)["cases"].find_one({"_id": case_id})
    assert ID_NUMBER not in str(stored) and "王五" not in str(stored)  # encrypted at rest
    assert stored["outbox"] == {}


def test_personal_data_reads_and_writes_are_audited(stack: infra.Stack, http: httpx.Client) -> None:
    township = fresh_township()
    sw = auth("social_worker", "sw-audit", county=COUNTY, township=township)
    case_id = http.post(
        "/v1/needs",
        json=need_body(township, name="赵六", phone="13900139000"),
        headers=sw | key("audit"),
    ).json()["case_id"]
    person = http.get(f"/v1/needs/{case_id}/person", headers=sw)
    assert person.json()["name"] == "赵六"
    http.patch(f"/v1/needs/{case_id}", headers=sw, json={"person": {"address": "新地址"}})
    assert http.get(f"/v1/needs/{case_id}/person", headers=sw).json()["address"] == "新地址"
    trail = http.get(f"/v1/needs/{case_id}/audit", headers=auth("supervisor", county=COUNTY))
    assert trail.status_code == 200
    actions = [(a["action"], a["sub"], a["role"]) for a in reversed(trail.json())]
    assert actions == [
        ("case.create", "sw-audit", "social_worker"),
        ("personal.read", "sw-audit", "social_worker"),
        ("personal.write", "sw-audit", "social_worker"),
        ("personal.read", "sw-audit", "social_worker"),
    ]
    assert "赵六" not in str(trail.json()) and "新地址" not in str(trail.json())
    assert trail.json()[1]["fields"] == ["address"]


def test_listing_filters_paging_and_history(stack: infra.Stack, http: httpx.Client) -> None:
    township = fresh_township()
    sw = auth("social_worker", "sw-list", county=COUNTY, township=township)
    ids = []
    for i in range(5):
        body = need_body(township, id_number=ID_NUMBER if i < 2 else None)
        if i == 4:
            body["lines"][0]["need_type"] = "legal_aid"
        ids.append(http.post("/v1/needs", json=body, headers=sw | key("list")).json()["case_id"])
    http.post(f"/v1/needs/{ids[0]}:close", headers=sw)
    page1 = http.get("/v1/needs", headers=sw, params={"limit": 2}).json()
    page2 = http.get("/v1/needs", headers=sw, params={"limit": 2, "offset": 2}).json()
    page3 = http.get("/v1/needs", headers=sw, params={"limit": 2, "offset": 4}).json()
    assert page1["total"] == 5
    seen = [c["case_id"] for p in (page1, page2, page3) for c in p["items"]]
    assert sorted(seen) == sorted(ids)
    open_ = http.get("/v1/needs", headers=sw, params={"status": "open"}).json()
    assert open_["total"] == 4
    legal = http.get("/v1/needs", headers=sw, params={"need_type": "legal_aid"}).json()
    assert [c["case_id"] for c in legal["items"]] == [ids[4]]
    cat = http.get("/v1/needs", headers=sw, params={"category": "disabled"}).json()
    assert cat["total"] == 0
    ref = http.get(f"/v1/needs/{ids[0]}", headers=sw).json()["person_ref"]
    history = http.get(f"/v1/persons/{ref}/cases", headers=sw).json()
    assert sorted(c["case_id"] for c in history["items"]) == sorted(ids[:2])
    assert {c["status"] for c in history["items"]} == {"open", "closed"}


def test_offer_update_stock_and_withdraw(stack: infra.Stack, http: httpx.Client) -> None:
    org = f"org-flow-{run_id()}"
    charity = auth("charity", "c-flow", org_id=org)
    created = http.post("/v1/offers", json=offer_body(org), headers=charity | key("offer"))
    assert created.status_code == 201, created.text
    offer_id = created.json()["offer_id"]
    updated = http.patch(
        f"/v1/offers/{offer_id}",
        headers=charity,
        json={"quantity": 80, "need_types": ["food", "living_aid"]},
    )
    assert updated.json()["revision"] == 2
    stock_key = key("stock")
    taken = http.post(
        f"/v1/offers/{offer_id}/stock",
        headers=charity | stock_key,
        json={"delta": -30, "reason": "spoiled"},
    )
    retried = http.post(
        f"/v1/offers/{offer_id}/stock",
        headers=charity | stock_key,
        json={"delta": -30, "reason": "spoiled"},
    )
    assert taken.json()["offer"]["quantity"] == 50 and retried.json()["offer"]["quantity"] == 50
    too_much = http.post(f"/v1/offers/{offer_id}/stock", headers=charity, json={"delta": -51})
    assert too_much.status_code == 409
    withdrawn = http.post(f"/v1/offers/{offer_id}:withdraw", headers=charity)
    assert withdrawn.json()["status"] == "withdrawn"
    after = http.patch(f"/v1/offers/{offer_id}", headers=charity, json={"quantity": 1})
    assert after.status_code == 409
    mine = http.get("/v1/offers", headers=charity).json()
    assert [o["offer_id"] for o in mine["items"]] == [offer_id]

    events = topic_events(stack, topics.OFFERS, offer_id=offer_id)
    assert [(e["type"], e["revision"], e.get("quantity")) for e in events] == [
        ("offer_published", 1, 50),
        ("offer_published", 2, 80),
        ("offer_published", 3, 50),
        ("offer_withdrawn", 4, None),
    ]
    assert events[1]["need_types"] == ["food", "living_aid"]


def test_idempotency_keys_on_creates(stack: infra.Stack, http: httpx.Client) -> None:
    township = fresh_township()
    sw = auth("social_worker", county=COUNTY, township=township)
    k = key("idem")
    first = http.post("/v1/needs", json=need_body(township), headers=sw | k)
    body = need_body(township)
    body["person"]["consent"] = first.json()["consent"]
    body["person"]["consent"]["given_at"] = first.json()["consent"]["given_at"]
    changed = need_body(township)
    changed["lines"][0]["quantity"] = 99
    assert http.post("/v1/needs", json=changed, headers=sw | k).status_code == 409
    case_id = first.json()["case_id"]
    lk = key("idem-line")
    line = {"need_type": "food", "quantity": 2, "unit": "kg"}
    assert http.post(f"/v1/needs/{case_id}/lines", json=line, headers=sw | lk).status_code == 201
    replay = http.post(f"/v1/needs/{case_id}/lines", json=line, headers=sw | lk)
    assert replay.status_code == 200 and len(replay.json()["case"]["lines"]) == 2
    other = http.post(f"/v1/needs/{case_id}/lines", json={**line, "quantity": 3}, headers=sw | lk)
    assert other.status_code == 409
    assert len(topic_events(stack, topics.NEEDS, case_id=case_id)) == 2
