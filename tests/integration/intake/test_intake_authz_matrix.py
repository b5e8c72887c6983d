"""The authorization matrix: each role × each endpoint × own / other region or organisation."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from intake_support import COUNTY, OTHER_COUNTY, auth, key, need_body, offer_body

from fivelink_cli import infra

pytestmark = pytest.mark.integration

TOWNSHIP = f"{COUNTY}777"
ORG = "org-matrix-own"

PRINCIPALS: dict[str, dict[str, str]] = {
    "anonymous": {},
    "bad_token": {"Authorization": "Bearer not-a-token"},
    "sw_own": auth("social_worker", "sw-own", county=COUNTY, township=TOWNSHIP),
    "sw_other": auth("social_worker", "sw-other", county=OTHER_COUNTY),
    "sup_own": auth("supervisor", "sup-own", county=COUNTY),
    "sup_other": auth("supervisor", "sup-other", county=OTHER_COUNTY),
    "charity_own": auth("charity", "c-own", org_id=ORG),
    "charity_other": auth("charity", "c-other", org_id="org-matrix-other"),
    "ops": auth("ops", "ops-1"),
    "admin": auth("admin", "admin-1"),
}
ADMIN = PRINCIPALS["admin"]

CASEWORK = {"sw_own": 2, "sup_own": 2, "admin": 2}  # 2 = any 2xx; others 403
CASE_READ = CASEWORK | {"charity_own": 2, "charity_other": 2, "ops": 2}  # cards
OFFER_WRITE = {"charity_own": 2, "admin": 2}
OFFER_READ = {"charity_own": 2, "sw_own": 2, "sup_own": 2, "admin": 2}
OFFER_LIST = OFFER_READ | {"charity_other": 2, "sw_other": 2, "sup_other": 2}
SCOPED_LIST = CASE_READ | {"sw_other": 2, "sup_other": 2}  # filtered to their own region
AUDIT = {"sup_own": 2, "admin": 2}


def _signal_line() -> bytes:
    return json.dumps(
        {
            "signal_id": f"mx-{uuid.uuid4().hex[:10]}",
            "source": "hotline",
            "kind": "crisis_call",
            "observed_at": datetime.now(UTC).isoformat(),
            "value": 5,
            "region": {"county": COUNTY, "township": TOWNSHIP},
            "phone": "13800000001",
            "name": "矩阵",
        }
    ).encode()


Request = Callable[[httpx.Client, dict[str, str], dict[str, str]], httpx.Response]


def _endpoints() -> dict[str, tuple[Request, dict[str, int]]]:
    line = {"need_type": "food", "quantity": 1, "unit": "kg"}
    return {
        "create_need": (
            lambda h, a, r: h.post("/v1/needs", json=need_body(TOWNSHIP), headers=a | key("mx")),
            CASEWORK,
        ),
        "list_needs": (lambda h, a, r: h.get("/v1/needs"), SCOPED_LIST),
        "get_need": (lambda h, a, r: h.get(f"/v1/needs/{r['case']}"), CASE_READ),
        "update_need": (
            lambda h, a, r: h.patch(
                f"/v1/needs/{r['case']}", json={"location": {"lat": 40.8, "lon": 111.7}}
            ),
            CASEWORK,
        ),
        "close_need": (lambda h, a, r: h.post(f"/v1/needs/{r['case']}:close"), CASEWORK),
        "get_person": (lambda h, a, r: h.get(f"/v1/needs/{r['case']}/person"), CASEWORK),
        "get_audit": (lambda h, a, r: h.get(f"/v1/needs/{r['case']}/audit"), AUDIT),
        "add_line": (
            lambda h, a, r: h.post(
                f"/v1/needs/{r['case']}/lines", json=line, headers=a | key("mx")
            ),
            CASEWORK,
        ),
        "update_line": (
            lambda h, a, r: h.patch(
                f"/v1/needs/{r['case']}/lines/{r['case']}-l1", json={"quantity": 2}
            ),
            CASEWORK,
        ),
        "close_line": (
            lambda h, a, r: h.post(f"/v1/needs/{r['case']}/lines/{r['case']}-l1:close"),
            CASEWORK,
        ),
        "history": (
            lambda h, a, r: h.get(f"/v1/persons/{r['ref']}/cases"),
            CASEWORK | {"sw_other": 2, "sup_other": 2},
        ),
        "create_offer": (
            lambda h, a, r: h.post(
                "/v1/offers", json=offer_body(ORG, township=TOWNSHIP), headers=a | key("mx")
            ),
            OFFER_WRITE,
        ),
        "list_offers": (lambda h, a, r: h.get("/v1/offers"), OFFER_LIST),
        "get_offer": (lambda h, a, r: h.get(f"/v1/offers/{r['offer']}"), OFFER_READ),
        "update_offer": (
            lambda h, a, r: h.patch(f"/v1/offers/{r['offer']}", json={"quantity": 9}),
            OFFER_WRITE,
        ),
        "stock": (
            lambda h, a, r: h.post(f"/v1/offers/{r['offer']}/stock", json={"delta": -1}),
            OFFER_WRITE,
        ),
        "withdraw": (lambda h, a, r: h.post(f"/v1/offers/{r['offer']}:withdraw"), OFFER_WRITE),
        "signals_dry_run": (
            lambda h, a, r: h.post(
                "/v1/signals:batch?dry_run=true", content=_signal_line(), headers=a
            ),
            CASEWORK,
        ),
    }


ENDPOINTS = _endpoints()


@pytest.fixture(scope="module")
def admin_http(stack: infra.Stack) -> httpx.Client:
    with httpx.Client(base_url=stack.url("intake"), timeout=20, headers=ADMIN) as client:
        yield client


def _fresh(admin_http: httpx.Client) -> dict[str, str]:
    """A case in TOWNSHIP and an offer of ORG, new for each cell (cells change them)."""
    body = need_body(TOWNSHIP, id_number="11010519491231002X")
    case = admin_http.post("/v1/needs", json=body, headers=key("mx-setup")).json()
    offer = admin_http.post(
        "/v1/offers", json=offer_body(ORG, township=TOWNSHIP), headers=key("mx-setup")
    ).json()
    return {"case": case["case_id"], "ref": case["person_ref"], "offer": offer["offer_id"]}


@pytest.mark.parametrize("who", list(PRINCIPALS))
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_matrix(stack: infra.Stack, admin_http: httpx.Client, endpoint: str, who: str) -> None:
    call, allowed = ENDPOINTS[endpoint]
    headers = PRINCIPALS[who]
    refs = _fresh(admin_http)
    with httpx.Client(base_url=stack.url("intake"), timeout=20, headers=headers) as http:
        response = call(http, headers, refs)
    if who in ("anonymous", "bad_token"):
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"] == "Bearer"
    elif who in allowed:
        assert 200 <= response.status_code < 300, response.text
        _check_visibility(endpoint, who, response.json(), refs)
    else:
        assert response.status_code == 403, response.text
        assert response.json()["detail"]


def _check_visibility(endpoint: str, who: str, body: Any, refs: dict[str, str]) -> None:
    """Listings and reads show only what the caller may see, in the form they may see it."""
    if endpoint in ("list_needs", "history"):
        ids = {item.get("case_id") for item in body["items"]}
        if who in ("sw_other", "sup_other"):
            assert refs["case"] not in ids
        if who in ("charity_own", "charity_other", "ops"):
            assert all("case_id" not in item and "person_ref" not in item for item in body["items"])
    if endpoint == "get_need" and who in ("charity_own", "charity_other", "ops"):
        assert set(body) == {"card_id", "status", "county", "township", "opened_at", "lines"}
    if endpoint == "list_offers":
        orgs = {item["org_id"] for item in body["items"]}
        if who.startswith("charity"):
            assert orgs <= {ORG if who == "charity_own" else "org-matrix-other"}
        if who in ("sw_other", "sup_other"):
            assert all(item["county"] == OTHER_COUNTY for item in body["items"])
