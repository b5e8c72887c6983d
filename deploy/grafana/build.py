"""Dashboards as code: ``uv run python deploy/grafana/build.py`` writes dashboards/*.json.

Each panel carries the question it answers (its description); docs/observability.md lists them.
Every dashboard has a Prometheus datasource variable and a county variable; queries filter on
``county=~"$county"`` wherever the metric has a county label. The generated JSON is committed,
and tests/integration/observability runs every query against a real Prometheus.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "dashboards"
SERVICES = 'job=~"intake|matcher|notifier"'
C = 'county=~"$county"'
RI = "$__rate_interval"
DS = {"type": "prometheus", "uid": "${datasource}"}


@dataclass(frozen=True)
class Q:
    """One PromQL query of a panel and its legend."""

    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    """A panel: title, the question it answers, its queries, how it is drawn."""

    title: str
    question: str
    queries: tuple[Q, ...]
    kind: str = "timeseries"  # timeseries | stat | bargauge
    unit: str = "short"
    width: int = 8


@dataclass(frozen=True)
class Row:
    title: str
    panels: tuple[Panel, ...]


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    rows: tuple[Row, ...]
    tags: tuple[str, ...] = field(default=("fivelink",))


def p95(metric: str, by: str, selector: str = "", q: float = 0.95) -> str:
    """The q-quantile of a histogram over the rate interval, per ``by`` labels."""
    sel = f"{{{selector}}}" if selector else ""
    return f"histogram_quantile({q}, sum by (le, {by}) (rate({metric}_bucket{sel}[{RI}])))"


def quantiles(metric: str, by: str, selector: str = "") -> tuple[Q, ...]:
    return (
        Q(p95(metric, by, selector, 0.5), f"p50 {{{{{by}}}}}"),
        Q(p95(metric, by, selector, 0.95), f"p95 {{{{{by}}}}}"),
        Q(p95(metric, by, selector, 0.99), f"p99 {{{{{by}}}}}"),
    )


# --- the four dashboards ---------------------------------------------------------------------

OPS = Dashboard(
    uid="fivelink-ops",
    title="fivelink / ops overview",
    description="Is fivelink healthy, keeping up, and fast? Health, throughput, lag, errors.",
    rows=(
        Row(
            "Health",
            (
                Panel(
                    "Services up",
                    "Is each service answering Prometheus's scrape right now?",
                    (Q(f"up{{{SERVICES}}}", "{{job}}"),),
                    kind="stat",
                ),
                Panel(
                    "Dependencies seen by each service",
                    "Can each service reach its store and Kafka (its own last check)?",
                    (Q("fivelink_dependency_up", "{{job}} → {{dependency}}"),),
                    kind="stat",
                ),
                Panel(
                    "Versions running",
                    "Which version of each service is running?",
                    (Q("fivelink_build_info", "{{service}} {{version}}"),),
                    kind="stat",
                ),
            ),
        ),
        Row(
            "Throughput",
            (
                Panel(
                    "HTTP requests by route and status",
                    "How much work arrives over HTTP, and with which answers?",
                    (
                        Q(
                            "sum by (route, status) "
                            f"(rate(fivelink_intake_http_requests_total[{RI}]))",
                            "{{route}} {{status}}",
                        ),
                    ),
                    unit="reqps",
                ),
                Panel(
                    "Events consumed by service",
                    "How many Kafka events does each service take in per second?",
                    (
                        Q(
                            "sum by (job, handler) "
                            f"(rate(faststream_received_messages_total[{RI}]))",
                            "{{job}} {{handler}}",
                        ),
                    ),
                    unit="ops",
                ),
                Panel(
                    "Events published by destination",
                    "How many events does each service publish per second, and where?",
                    (
                        Q(
                            "sum by (job, destination) "
                            f"(rate(faststream_published_messages_total[{RI}]))",
                            "{{job}} → {{destination}}",
                        ),
                    ),
                    unit="ops",
                ),
            ),
        ),
        Row(
            "Lag",
            (
                Panel(
                    "Consumer lag by group",
                    "Is any consumer group falling behind its topic?",
                    (Q("sum by (group) (fivelink_kafka_consumer_lag)", "{{group}}"),),
                    width=12,
                ),
                Panel(
                    "Consumer lag by partition",
                    "Is the lag on one partition (one set of counties) or everywhere?",
                    (Q("fivelink_kafka_consumer_lag", "{{group}} p{{partition}}"),),
                    width=12,
                ),
            ),
        ),
        Row(
            "Errors",
            (
                Panel(
                    "HTTP error ratio (5xx)",
                    "What share of HTTP requests fail on our side?",
                    (
                        Q(
                            "(sum(rate(fivelink_intake_http_requests_total"
                            f'{{status=~"5.."}}[{RI}])) or vector(0)) / clamp_min(sum(rate('
                            f"fivelink_intake_http_requests_total[{RI}])), 1e-9)",
                            "5xx ratio",
                        ),
                    ),
                    unit="percentunit",
                ),
                Panel(
                    "Dead letters in the last hour",
                    "Which consumer dead-lettered messages, and why?",
                    (
                        Q(
                            "sum by (consumer, reason) (increase(fivelink_dead_letters_total[1h]))",
                            "{{consumer}} {{reason}}",
                        ),
                    ),
                ),
                Panel(
                    "Rejected requests by reason",
                    "Why does intake refuse input (validation, auth, idempotency)?",
                    (
                        Q(
                            f"sum by (reason) (rate(fivelink_intake_rejected_total[{RI}]))",
                            "{{reason}}",
                        ),
                    ),
                    unit="reqps",
                ),
                Panel(
                    "Handler exceptions",
                    "Do event handlers raise (before retries and dead-lettering)?",
                    (
                        Q(
                            "sum by (job) (rate("
                            f"faststream_received_processed_messages_exceptions_total[{RI}]))"
                            " or on() vector(0)",
                            "{{job}}",
                        ),
                    ),
                    unit="ops",
                ),
            ),
        ),
        Row(
            "Latency",
            (
                Panel(
                    "HTTP latency by route",
                    "How long do HTTP requests take (p50/p95/p99)?",
                    quantiles("fivelink_intake_http_request_duration_seconds", "route"),
                    unit="s",
                ),
                Panel(
                    "Event handling latency by service",
                    "How long does each service take to process one event?",
                    quantiles("faststream_received_processed_messages_duration_seconds", "job"),
                    unit="s",
                ),
                Panel(
                    "Store latency by service (p95)",
                    "Is the store (MongoDB/FerretDB) slowing a service down?",
                    (
                        Q(
                            p95("fivelink_store_operation_duration_seconds", "job, command"),
                            "{{job}} {{command}}",
                        ),
                    ),
                    unit="s",
                ),
            ),
        ),
        Row(
            "Processes",
            (
                Panel(
                    "Resident memory",
                    "Is a service growing in memory?",
                    (Q(f"process_resident_memory_bytes{{{SERVICES}}}", "{{job}}"),),
                    unit="bytes",
                    width=12,
                ),
                Panel(
                    "CPU",
                    "How much CPU does each service use?",
                    (Q(f"rate(process_cpu_seconds_total{{{SERVICES}}}[{RI}])", "{{job}}"),),
                    unit="percentunit",
                    width=12,
                ),
            ),
        ),
    ),
)

MATCHER = Dashboard(
    uid="fivelink-matcher",
    title="fivelink / matcher",
    description="Is the matcher solving fast and well? Solve time, gap, fallbacks, unmet needs.",
    rows=(
        Row(
            "Solving",
            (
                Panel(
                    "Solve time by solver path",
                    "How long do solves take, per path (min-cost flow, CP-SAT, greedy)?",
                    quantiles("fivelink_matcher_solve_duration_seconds", "path"),
                    unit="s",
                ),
                Panel(
                    "Solves per minute by path",
                    "Which solver path is used, and how often?",
                    (
                        Q(
                            f"sum by (path) (rate(fivelink_matcher_solves_total[{RI}])) * 60",
                            "{{path}}",
                        ),
                    ),
                ),
                Panel(
                    "Greedy fallback share (1h)",
                    "How often does a solve run out of time and fall back to greedy?",
                    (
                        Q(
                            "sum(increase(fivelink_matcher_greedy_fallbacks_total[1h])) / "
                            "clamp_min(sum(increase(fivelink_matcher_solves_total[1h])), 1)",
                            "fallback share",
                        ),
                    ),
                    kind="stat",
                    unit="percentunit",
                ),
            ),
        ),
        Row(
            "Quality",
            (
                Panel(
                    "Gap to the LP bound by county",
                    "How far from the best possible is each county's last solution?",
                    (Q(f"fivelink_matcher_gap_ratio{{{C}}}", "{{county}}"),),
                    unit="percentunit",
                ),
                Panel(
                    "Objective and bound by county",
                    "Is the objective tracking its bound?",
                    (
                        Q(f"fivelink_matcher_objective{{{C}}}", "objective {{county}}"),
                        Q(f"fivelink_matcher_bound{{{C}}}", "bound {{county}}"),
                    ),
                ),
                Panel(
                    "Problem size by county",
                    "How big is each county's problem (lines and resources)?",
                    (
                        Q(f"fivelink_matcher_problem_lines{{{C}}}", "lines {{county}}"),
                        Q(f"fivelink_matcher_problem_resources{{{C}}}", "resources {{county}}"),
                    ),
                ),
            ),
        ),
        Row(
            "Outcomes",
            (
                Panel(
                    "Unmet lines by reason",
                    "Why are need lines left without a resource?",
                    (
                        Q(
                            f"sum by (reason) (fivelink_matcher_unmet_lines{{{C}}})",
                            "{{reason}}",
                        ),
                    ),
                    kind="bargauge",
                ),
                Panel(
                    "Oldest unmet line by urgency",
                    "How long has the oldest unmet line of each urgency waited?",
                    (
                        Q(
                            f"max by (urgency) (fivelink_matcher_unmet_oldest_seconds{{{C}}})",
                            "{{urgency}}",
                        ),
                    ),
                    unit="s",
                ),
                Panel(
                    "Assignment changes per minute",
                    "How many assignments are proposed and withdrawn (churn)?",
                    (
                        Q(
                            "sum by (change) "
                            f"(rate(fivelink_matcher_assignments_total[{RI}])) * 60",
                            "{{change}}",
                        ),
                    ),
                ),
                Panel(
                    "Re-solve backlog",
                    "How many counties wait for a re-solve?",
                    (Q("fivelink_matcher_backlog_counties", "counties waiting"),),
                ),
                Panel(
                    "Matcher consumer lag by topic",
                    "Is the matcher keeping up with needs, offers and responses?",
                    (
                        Q(
                            'sum by (topic) (fivelink_kafka_consumer_lag{job="matcher"})',
                            "{{topic}}",
                        ),
                    ),
                ),
                Panel(
                    "Matcher dead letters (1h)",
                    "Did the matcher give up on any event?",
                    (
                        Q(
                            "sum by (reason) (increase("
                            'fivelink_dead_letters_total{consumer="matcher"}[1h]))',
                            "{{reason}}",
                        ),
                    ),
                ),
            ),
        ),
    ),
)

NOTIFIER = Dashboard(
    uid="fivelink-notifier",
    title="fivelink / notifier",
    description="Do the parties hear about their assignments? Deliveries, retries, dead letters.",
    rows=(
        Row(
            "Deliveries",
            (
                Panel(
                    "Deliveries per minute by channel and result",
                    "How many messages reach (or fail to reach) parties, per channel?",
                    (
                        Q(
                            "sum by (channel, result) "
                            f"(rate(fivelink_notifier_deliveries_total[{RI}])) * 60",
                            "{{channel}} {{result}}",
                        ),
                    ),
                ),
                Panel(
                    "Failure share by channel (1h)",
                    "Which channel is failing, and how badly?",
                    (
                        Q(
                            "sum by (channel) (increase("
                            'fivelink_notifier_deliveries_total{result="failed"}[1h])) / '
                            "clamp_min(sum by (channel) (increase("
                            "fivelink_notifier_deliveries_total[1h])), 1)",
                            "{{channel}}",
                        ),
                    ),
                    unit="percentunit",
                ),
                Panel(
                    "Delivery latency by channel",
                    "How long from the assignment to the party's message (p50/p95/p99)?",
                    quantiles("fivelink_notifier_delivery_latency_seconds", "channel"),
                    unit="s",
                ),
            ),
        ),
        Row(
            "Retries and dead letters",
            (
                Panel(
                    "Attempts by channel and outcome",
                    "Are attempts failing in a retryable or a permanent way?",
                    (
                        Q(
                            "sum by (channel, outcome) "
                            f"(rate(fivelink_notifier_delivery_attempts_total[{RI}])) * 60",
                            "{{channel}} {{outcome}}",
                        ),
                    ),
                ),
                Panel(
                    "Retries per minute by channel",
                    "How much retrying does each channel need?",
                    (
                        Q(
                            f"sum by (channel) (rate(fivelink_notifier_retries_total[{RI}])) * 60",
                            "{{channel}}",
                        ),
                    ),
                ),
                Panel(
                    "Notifier dead letters (1h)",
                    "Did the notifier give up on any assignment event?",
                    (
                        Q(
                            "sum by (reason) (increase("
                            'fivelink_dead_letters_total{consumer="notifier"}[1h]))',
                            "{{reason}}",
                        ),
                    ),
                ),
            ),
        ),
        Row(
            "Closed loop",
            (
                Panel(
                    "Responses by kind (1h)",
                    "Do parties accept, decline and report delivery through their links?",
                    (
                        Q(
                            "sum by (response) (increase(fivelink_notifier_responses_total[1h]))",
                            "{{response}}",
                        ),
                    ),
                ),
                Panel(
                    "Escalation messages by level (1h)",
                    "How many escalations were told to the community, township, county?",
                    (
                        Q(
                            "sum by (level) "
                            "(increase(fivelink_notifier_escalations_notified_total[1h]))",
                            "{{level}}",
                        ),
                    ),
                ),
                Panel(
                    "Notifier consumer lag",
                    "Is the notifier keeping up with assignments?",
                    (
                        Q(
                            'sum by (topic) (fivelink_kafka_consumer_lag{job="notifier"})',
                            "{{topic}}",
                        ),
                    ),
                ),
            ),
        ),
    ),
)

PROGRAMME = Dashboard(
    uid="fivelink-programme",
    title="fivelink / programme (station supervisors)",
    description="Who is still waiting, how fast are they served, are donor resources used?",
    rows=(
        Row(
            "Needs",
            (
                Panel(
                    "Open need lines by county",
                    "Where are people waiting for help right now?",
                    (
                        Q(
                            f"sum by (county) (fivelink_matcher_open_lines{{{C}}})",
                            "{{county}}",
                        ),
                    ),
                    kind="bargauge",
                ),
                Panel(
                    "Open need lines by type",
                    "What kind of help is waited for?",
                    (
                        Q(
                            f"sum by (need_type) (fivelink_matcher_open_lines{{{C}}})",
                            "{{need_type}}",
                        ),
                    ),
                    kind="bargauge",
                ),
                Panel(
                    "New need lines per day by type",
                    "What is coming in?",
                    (
                        Q(
                            "sum by (need_type) (increase("
                            f"fivelink_intake_need_lines_created_total{{{C}}}[1d]))",
                            "{{need_type}}",
                        ),
                    ),
                ),
            ),
        ),
        Row(
            "Service to people",
            (
                Panel(
                    "Time to first assignment",
                    "How long does a need line wait for its first proposal (median, p90)?",
                    (
                        Q(
                            "histogram_quantile(0.5, sum by (le) (rate("
                            "fivelink_matcher_time_to_first_assignment_seconds_bucket"
                            f"{{{C}}}[1d])))",
                            "median",
                        ),
                        Q(
                            "histogram_quantile(0.9, sum by (le) (rate("
                            "fivelink_matcher_time_to_first_assignment_seconds_bucket"
                            f"{{{C}}}[1d])))",
                            "p90",
                        ),
                    ),
                    unit="s",
                ),
                Panel(
                    "Coverage by county",
                    "What share of the (priority-weighted) need is covered?",
                    (Q(f"fivelink_matcher_coverage_ratio{{{C}}}", "{{county}}"),),
                    unit="percentunit",
                ),
                Panel(
                    "Delivered share of proposals (7d)",
                    "Of what was proposed, how much was reported delivered or confirmed?",
                    (
                        Q(
                            "sum(increase(fivelink_notifier_responses_total"
                            '{response=~"delivered|confirmed"}[7d])) / clamp_min(sum(increase('
                            'fivelink_matcher_assignments_total{change="proposed"}[7d])), 1)',
                            "delivered share",
                        ),
                    ),
                    kind="stat",
                    unit="percentunit",
                ),
            ),
        ),
        Row(
            "Escalations",
            (
                Panel(
                    "Unmet lines past their SLA",
                    "Who has waited past the SLA of their urgency?",
                    (
                        Q(
                            f"sum by (urgency) (fivelink_matcher_unmet_over_sla_lines{{{C}}})",
                            "{{urgency}}",
                        ),
                    ),
                    kind="bargauge",
                ),
                Panel(
                    "Escalations raised by level (7d)",
                    "How often did we blow the whistle (社区吹哨), and how high?",
                    (
                        Q(
                            "sum by (level) (increase(fivelink_matcher_escalations_total[7d]))",
                            "{{level}}",
                        ),
                    ),
                    kind="bargauge",
                ),
                Panel(
                    "Unmet lines by reason",
                    "What is missing: resources, stock, range, skills?",
                    (
                        Q(
                            f"sum by (reason) (fivelink_matcher_unmet_lines{{{C}}})",
                            "{{reason}}",
                        ),
                    ),
                    kind="bargauge",
                ),
            ),
        ),
        Row(
            "Donor resources",
            (
                Panel(
                    "Resources used vs idle by kind",
                    "Are donors' money, goods and volunteers put to use?",
                    (
                        Q(
                            f"sum by (kind, state) (fivelink_matcher_resources{{{C}}})",
                            "{{kind}} {{state}}",
                        ),
                    ),
                    kind="bargauge",
                    width=12,
                ),
                Panel(
                    "Offers published per day by kind",
                    "How much is offered?",
                    (
                        Q(
                            "sum by (kind) (increase("
                            f"fivelink_intake_offers_published_total{{{C}}}[1d]))",
                            "{{kind}}",
                        ),
                    ),
                    width=12,
                ),
            ),
        ),
    ),
)

DASHBOARDS = (OPS, MATCHER, NOTIFIER, PROGRAMME)


# --- rendering to Grafana JSON ---------------------------------------------------------------


def _variables() -> list[dict[str, Any]]:
    return [
        {
            "name": "datasource",
            "label": "Prometheus",
            "type": "datasource",
            "query": "prometheus",
            "current": {},
            "hide": 0,
        },
        {
            "name": "county",
            "label": "County",
            "type": "query",
            "datasource": DS,
            "query": {
                "query": "label_values(fivelink_intake_need_lines_created_total, county)",
                "refId": "county",
            },
            "definition": "label_values(fivelink_intake_need_lines_created_total, county)",
            "refresh": 2,
            "includeAll": True,
            "multi": True,
            "allValue": ".*",
            "current": {"text": "All", "value": "$__all"},
            "sort": 1,
            "hide": 0,
        },
    ]


def _panel(panel: Panel, pid: int, x: int, y: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": pid,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.question,
        "datasource": DS,
        "gridPos": {"h": 8, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
        "targets": [
            {
                "refId": chr(ord("A") + i),
                "datasource": DS,
                "expr": q.expr,
                "legendFormat": q.legend or "__auto",
                "range": True,
            }
            for i, q in enumerate(panel.queries)
        ],
    }
    if panel.kind in ("stat", "bargauge"):
        out["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": ""}}
    return out


def render(dash: Dashboard) -> dict[str, Any]:
    """The Grafana dashboard JSON (schema 39) of one dashboard."""
    panels: list[dict[str, Any]] = []
    pid, y = 1, 0
    for row in dash.rows:
        panels.append(
            {
                "id": pid,
                "type": "row",
                "title": row.title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                "panels": [],
            }
        )
        pid, y, x = pid + 1, y + 1, 0
        for panel in row.panels:
            if x + panel.width > 24:
                x, y = 0, y + 8
            panels.append(_panel(panel, pid, x, y))
            pid, x = pid + 1, x + panel.width
        y += 8
    return {
        "uid": dash.uid,
        "title": dash.title,
        "description": dash.description,
        "tags": list(dash.tags),
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "30s",
        "timezone": "browser",
        "templating": {"list": _variables()},
        "annotations": {"list": []},
        "links": [
            {"title": d.title, "type": "link", "url": f"/d/{d.uid}"}
            for d in DASHBOARDS
            if d.uid != dash.uid
        ],
        "panels": panels,
    }


def main(check: bool = False) -> int:
    """Write every dashboard; with ``--check``, fail if a committed file is out of date."""
    OUT.mkdir(parents=True, exist_ok=True)
    stale = []
    for dash in DASHBOARDS:
        path = OUT / f"{dash.uid}.json"
        text = json.dumps(render(dash), indent=2, ensure_ascii=False) + "\n"
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(path.name)
        else:
            path.write_text(text)
    if stale:
        print(f"out of date (run deploy/grafana/build.py): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(check="--check" in sys.argv))
