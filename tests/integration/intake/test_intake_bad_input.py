"""Bad input → a clear 4xx with the reason, nothing stored, nothing published."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest
from intake_support import (
    COUNTY,
    auth,
    fresh_township,
    intake_db,
    need_body,
    offer_body,
    run_id,
    topic_events,
)

from fivelink_cli import infra
from fivelink_intake.domain.cases import case_id_for
from fivelink_intake.domain.offers import offer_id_for
from fivelink_shared import topics

pytestmark = pytest.mark.integration
ADMIN = auth("admin", "admin-bad")


def _mutations(township: str) -> list[tuple[str, dict[str, Any], tuple[Any, ...]]]:
    good = need_body(township)

    def change(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
        body = need_body(township)
        target = body
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
        return body

    no_lines = {k: v for k, v in good.items() if k != "lines"}
    return [
        ("wrong type", change(("lines", 0, "quantity"), "ten"), ("body", "lines", 0, "quantity")),
        ("missing field", no_lines, ("body", "lines")),
        (
            "unknown enum",
            change(("lines", 0, "need_type"), "spaceship"),
            ("body", "lines", 0, "need_type"),
        ),
        ("unknown field", change(("person", "surname"), "x"), ("body", "person", "surname")),
        ("bad county", change(("region", "county"), "15A102"), ("body", "region", "county")),
        (
            "no consent purpose",
            change(("person", "consent", "purposes"), ["notification"]),
            ("body", "person", "consent"),
        ),
        (
            "bad ID check digit",
            change(("person", "id_number"), "110105194912310021"),
            ("body", "person", "id_number"),
        ),
        (
            "negative quantity",
            change(("lines", 0, "quantity"), -1),
            ("body", "lines", 0, "quantity"),
        ),
    ]


@pytest.mark.parametrize("case", range(8))
def test_bad_case_is_refused_and_leaves_no_trace(stack: infra.Stack, case: int) -> None:
    township = fresh_township()
    name, body, loc = _mutations(township)[case]
    idem = f"bad-{run_id()}-{case}"
    with httpx.Client(base_url=stack.url("intake"), timeout=20, headers=ADMIN) as http:
        response = http.post("/v1/needs", json=body, headers={"Idempotency-Key": idem})
    assert response.status_code == 422, name
    assert loc in {tuple(e["loc"]) for e in response.json()["errors"]}, response.json()
    case_id = case_id_for(idem)
    assert intake_db(stack)["cases"].find_one({"_id": case_id}) is None
    assert topic_events(stack, topics.NEEDS, case_id=case_id) == []


def test_oversize_body_is_refused_before_parsing(stack: infra.Stack) -> None:
    body = need_body(fresh_township())
    body["person"]["address"] = "x" * 300_000
    with httpx.Client(base_url=stack.url("intake"), timeout=20, headers=ADMIN) as http:
        response = http.post("/v1/needs", json=body, headers={"Idempotency-Key": "big-" + run_id()})
    assert response.status_code == 413
    assert "over" in response.json()["detail"]


def test_bad_offers_are_refused(stack: infra.Stack) -> None:
    org = f"org-bad-{run_id()}"
    charity = auth("charity", "c-bad", org_id=org)
    people = offer_body(org) | {"kind": "people", "item": ""}
    cases = [
        (people, charity, 422),  # a people offer needs worker_id
        (offer_body(org) | {"quantity": 0}, charity, 422),
        (offer_body("org-someone-else"), charity, 403),
        (offer_body(org) | {"kind": "gold"}, charity, 422),
    ]
    with httpx.Client(base_url=stack.url("intake"), timeout=20) as http:
        for i, (body, headers, expected) in enumerate(cases):
            idem = f"bad-offer-{run_id()}-{i}"
            response = http.post(
                "/v1/offers", json=body, headers=headers | {"Idempotency-Key": idem}
            )
            assert response.status_code == expected, (i, response.text)
            assert response.json()["detail"]
            offer_id = offer_id_for(idem)
            assert intake_db(stack)["offers"].find_one({"_id": offer_id}) is None
            assert topic_events(stack, topics.OFFERS, offer_id=offer_id) == []


def _junk(rng: random.Random, depth: int = 0) -> Any:
    choices: list[Any] = [
        None,
        True,
        -1,
        0,
        10**30,
        1e308,
        -0.5,
        "",
        "x" * rng.randrange(1, 300),
        "空",
        "2025-13-45",
        "150102",
        "\x00",
        "food",
        "verification_visit",
    ]
    if depth < 3:
        choices += [
            [_junk(rng, depth + 1) for _ in range(rng.randrange(0, 4))],
            {
                rng.choice(
                    [
                        "region",
                        "lines",
                        "person",
                        "county",
                        "quantity",
                        "kind",
                        "delta",
                        "need_types",
                        "consent",
                        "x",
                    ]
                ): _junk(rng, depth + 1)
                for _ in range(rng.randrange(0, 4))
            },
        ]
    return rng.choice(choices)


def test_seeded_fuzz_over_the_openapi_spec_never_gives_5xx(stack: infra.Stack) -> None:
    """Property: for any body and path value, intake answers 2xx/4xx, never 5xx."""
    rng = random.Random(20250601)
    with httpx.Client(base_url=stack.url("intake"), timeout=20, headers=ADMIN) as http:
        spec = http.get("/openapi.json").json()
        township = fresh_township()
        case = http.post(
            "/v1/needs",
            json=need_body(township, county=COUNTY),
            headers={"Idempotency-Key": "fz-" + run_id()},
        ).json()
        ids = [case["case_id"], f"{case['case_id']}-l1", "c-nope", "x" * 200, "%00", "..", "-"]
        operations = [
            (path, method)
            for path, item in spec["paths"].items()
            if path.startswith("/v1/")
            for method in item
            if method in ("get", "post", "patch")
        ]
        failures = []
        for _ in range(240):
            path, method = rng.choice(operations)
            url = path
            for param in ("case_id", "line_id", "offer_id", "person_ref"):
                url = url.replace("{" + param + "}", rng.choice(ids))
            params = {
                rng.choice(
                    ["limit", "offset", "status", "county", "need_type", "format", "dry_run"]
                ): str(_junk(rng))
            }
            if method == "get":
                response = http.get(url, params=params)
            elif path.endswith("signals:batch"):
                response = http.post(url, content=str(_junk(rng)).encode(), params=params)
            else:
                response = http.request(
                    method.upper(),
                    url,
                    json=_junk(rng),
                    headers={"Idempotency-Key": "fz-" + run_id()},
                )
            if response.status_code >= 500:
                failures.append((method, url, response.status_code, response.text[:200]))
        assert failures == []
