"""Against the real stack and its real Prometheus: drive a small workload, then run every
panel query of every dashboard and every alert expression through Prometheus's HTTP API.

A query that errors fails; a panel that returns no series after the workload fails. Panels
of the programme dashboard are fed by the matcher's ``observe_programme`` after each solve.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from waiting import wait_for

from fivelink_cli import infra
from fivelink_cli.receiver import WebhookReceiver

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
RULES = ROOT / "deploy" / "prometheus" / "fivelink.rules.yml"
COUNTY = "150123"  # Horinger County; used by no other test
GRAFANA_VARS = {"$__rate_interval": "1m", "$__range": "1h", "${datasource}": "prometheus"}

#: Metrics set by ``MatcherMetrics.observe_programme``, which ``Rebalancer._observe`` must call.


def panel_queries() -> list[Any]:
    params = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        dash = json.loads(path.read_text())
        for panel in dash["panels"]:
            for target in panel.get("targets", []):
                expr = target["expr"]
                params.append(
                    pytest.param(expr, id=f"{dash['uid']}/{panel['title']}/{target['refId']}")
                )
    return params


def alert_exprs() -> list[Any]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [pytest.param(r["expr"], id=r["alert"]) for g in groups for r in g["rules"]]


def substitute(expr: str, county: str) -> str:
    for name, value in GRAFANA_VARS.items():
        expr = expr.replace(name, value)
    return expr.replace("$county", county)


class Prom:
    def __init__(self, port: int) -> None:
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=15)

    def query(self, expr: str) -> list[dict[str, Any]]:
        resp = self.http.get("/api/v1/query", params={"query": expr})
        body = resp.json()
        assert resp.status_code == 200 and body["status"] == "success", f"{expr}\n{body}"
        return list(body["data"]["result"])


def auth(role: str, **claims: str) -> dict[str, str]:
    """Bearer headers when intake has tokens (FIVELINK_AUTH_REQUIRED), else none."""
    try:
        from fivelink_intake import tokens
    except ImportError:
        return {}
    return {"Authorization": f"Bearer {tokens.issue(role=role, sub=f'obs-{role}', **claims)}"}


def _consent() -> dict[str, Any]:
    return {"given_by": "self", "given_at": datetime.now(UTC).isoformat(), "purposes": ["matching"]}


@pytest.fixture(scope="module")
def workload(stack: infra.Stack) -> dict[str, str]:
    """One matched need (delivered by webhook), one unmet crisis need, one bad request."""
    run = uuid.uuid4().hex[:8]
    org = f"org-obs-{run}"
    secret = f"obs-secret-{run}-0123456789"
    cid = f"obs-{run}"
    worker = auth("social_worker", county=COUNTY)
    receiver = WebhookReceiver(secret).start()
    try:
        with httpx.Client(timeout=15, headers=stack.service_headers()) as http:
            sub = http.post(
                f"{stack.url('notifier')}/v1/subscriptions",
                json={
                    "party_id": org,
                    "role": "charity",
                    "channel": "webhook",
                    "language": "zh",
                    "target": {"kind": "webhook", "url": receiver.url, "secret": secret},
                },
            )
            assert sub.status_code == 201, sub.text
            offer = http.post(
                f"{stack.url('intake')}/v1/offers",
                headers={"Idempotency-Key": f"obs-offer-{run}", **auth("charity", org_id=org)},
                json={
                    "org_id": org,
                    "kind": "goods",
                    "item": "flour",
                    "region": {"county": COUNTY, "community": f"{COUNTY}001001"},
                    "need_types": ["food"],
                    "quantity": 40,
                    "unit": "kg",
                    "valid_until": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
                },
            )
            assert offer.status_code == 201, offer.text
            need = http.post(
                f"{stack.url('intake')}/v1/needs",
                headers={"Idempotency-Key": f"obs-need-{run}", "X-Correlation-Id": cid, **worker},
                json={
                    "region": {"county": COUNTY, "community": f"{COUNTY}001001"},
                    "person": {"categories": ["extreme_poverty"], "consent": _consent()},
                    "lines": [
                        {"need_type": "food", "quantity": 10, "unit": "kg", "urgency": "high"}
                    ],
                },
            )
            assert need.status_code == 201, need.text
            assert need.headers["X-Correlation-Id"] == cid
            unmet = http.post(
                f"{stack.url('intake')}/v1/needs",
                headers={"Idempotency-Key": f"obs-unmet-{run}", **worker},
                json={
                    "region": {"county": COUNTY, "community": f"{COUNTY}001002"},
                    "person": {"categories": ["elderly_alone"], "consent": _consent()},
                    "lines": [
                        {
                            "need_type": "legal_aid",
                            "quantity": 1,
                            "unit": "case",
                            "urgency": "crisis",
                        }
                    ],
                },
            )
            assert unmet.status_code == 201, unmet.text
            assert len(unmet.headers["X-Correlation-Id"]) == 36  # generated by intake
            bad = http.post(
                f"{stack.url('intake')}/v1/needs",
                headers={"Idempotency-Key": f"obs-bad-{run}", **worker},
                json={"region": {"county": "1"}, "lines": []},
            )
            assert bad.status_code in (401, 403, 422), bad.text
            wait_for(
                lambda: [m for m in receiver.messages() if m["recipient"] == org],
                timeout=90,
                what="webhook delivery",
            )
    finally:
        receiver.stop()
    prom = Prom(stack.ports.prometheus)
    wait_for(
        lambda: (
            prom.query(f'sum(fivelink_intake_need_lines_created_total{{county="{COUNTY}"}}) >= 2')
            and prom.query('sum(fivelink_notifier_deliveries_total{result="delivered"}) >= 1')
            and prom.query(f'fivelink_matcher_problem_lines{{county="{COUNTY}"}}')
        ),
        timeout=60,
        what="Prometheus scraping the workload",
    )
    time.sleep(11)  # two more scrapes, so every rate() window holds two samples
    return {"cid": cid, "org": org}


@pytest.fixture(scope="module")
def prom(stack: infra.Stack) -> Prom:
    return Prom(stack.ports.prometheus)


@pytest.mark.parametrize("expr", panel_queries())
def test_obs_panel_query_returns_data(workload: dict[str, str], prom: Prom, expr: str) -> None:
    result = prom.query(substitute(expr, COUNTY))
    assert result, f"panel query returned no series:\n{substitute(expr, COUNTY)}"


@pytest.mark.parametrize("expr", alert_exprs())
def test_obs_alert_expression_evaluates(workload: dict[str, str], prom: Prom, expr: str) -> None:
    prom.query(expr)  # parses and evaluates (an alert that does not fire returns no series)


def test_obs_prometheus_loaded_every_rule_healthy(workload: dict[str, str], prom: Prom) -> None:
    names = {p.id for p in alert_exprs()}

    def loaded() -> list[dict[str, Any]]:
        groups = prom.http.get("/api/v1/rules").json()["data"]["groups"]
        rules = [r for g in groups for r in g["rules"] if r["name"] in names]
        done = len(rules) == len(names) and all(r["health"] != "unknown" for r in rules)
        return rules if done else []

    rules = wait_for(loaded, timeout=30, what="rules evaluated")
    assert {r["name"] for r in rules} == names
    assert [r for r in rules if r["health"] != "ok"] == []
    firing = {r["name"] for r in rules if r.get("state") == "firing"}
    assert not firing & {"FivelinkServiceDown", "FivelinkDependencyDown"}


def test_obs_every_scrape_target_is_up_and_cardinality_bounded(
    workload: dict[str, str], prom: Prom
) -> None:
    up = prom.query('up{job=~"intake|matcher|notifier"}')
    assert sorted(s["metric"]["job"] for s in up) == ["intake", "matcher", "notifier"]
    assert all(s["value"][1] == "1" for s in up)
    counts = prom.query('count by (__name__) ({__name__=~"fivelink_.*"})')
    assert counts and max(int(s["value"][1]) for s in counts) < 2000


def test_obs_consumer_lag_is_measured_for_every_group(workload: dict[str, str], prom: Prom) -> None:
    groups = {s["metric"]["group"] for s in prom.query("fivelink_kafka_consumer_lag")}
    assert {
        "fivelink-matcher.fivelink.needs.v1",
        "fivelink-matcher.fivelink.offers.v1",
        "fivelink-notifier.fivelink.assignments.v1",
    } <= groups


def test_obs_one_correlation_id_through_all_three_services(
    workload: dict[str, str], stack: infra.Stack
) -> None:
    cid = workload["cid"]

    def lines(name: str) -> list[dict[str, Any]]:
        found = []
        for raw in stack.logfile(name).read_text(errors="replace").splitlines():
            if cid in raw:
                record = json.loads(raw)  # every line with it is one JSON object
                if record.get("correlation_id") == cid:
                    found.append(record)
        return found

    by_service = wait_for(
        lambda: (got := {n: lines(n) for n in infra.SERVICES}) and all(got.values()) and got,
        timeout=30,
        what=f"correlation id {cid} in every service's log",
    )
    assert any(r["logger"] == "fivelink.access" for r in by_service["intake"])
    assert any(r["msg"] == "event handled" for r in by_service["matcher"])
    assert any(r["msg"] == "event handled" for r in by_service["notifier"])
