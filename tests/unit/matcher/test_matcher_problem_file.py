"""The problem file (1:1 with the domain model, round trip, schema) and the matcher CLI."""

from __future__ import annotations

import dataclasses
import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from matcher_support import NOW
from typer.testing import CliRunner

from fivelink_matcher import problem_file as pf
from fivelink_matcher.cli import app
from fivelink_matcher.domain import model
from fivelink_matcher.domain.model import Fixed, Proposed, SolverConfig, Weights
from fivelink_matcher.domain.solver import solve
from fivelink_matcher.domain.synthetic import county_instance
from fivelink_matcher.whatif import changes

REPO = Path(__file__).resolve().parents[3]
PAIRS = [
    (pf.LineIn, model.Line),
    (pf.ResourceIn, model.Resource),
    (pf.FixedIn, model.Fixed),
    (pf.ProposedIn, model.Proposed),
    (pf.WeightsIn, model.Weights),
    (pf.PolicyIn, model.SolverConfig),
]


@pytest.mark.parametrize(("schema", "domain"), PAIRS, ids=[d.__name__ for _, d in PAIRS])
def test_file_models_map_one_to_one_onto_the_domain(schema: Any, domain: Any) -> None:
    names = [f.name for f in dataclasses.fields(domain) if f.init]
    assert list(schema.model_fields) == names
    # same defaults
    if domain in (model.Weights, model.SolverConfig):
        dumped = schema().model_dump()
        built = {n: getattr(domain(), n) for n in names}
        for n in names:
            if not dataclasses.is_dataclass(built[n]):
                assert dumped[n] == built[n], n


def test_problem_file_round_trip(tmp_path: Path) -> None:
    p = county_instance(80, seed=4, now=NOW)
    p = replace(
        p,
        fixed=(Fixed(p.lines[0].line_id, p.resources[0].offer_id, 100.0),),
        proposed=(Proposed(p.lines[1].line_id, p.resources[1].offer_id, 2.5),),
        excluded_pairs=frozenset({(p.lines[2].line_id, p.resources[2].offer_id)}),
        last_worker={p.lines[3].person_ref: "sw-4-0"},
    )
    cfg = SolverConfig(
        time_limit_s=1.5,
        workers=2,
        scarcity_policy="earliest_deadline",
        weights=Weights(travel_per_km=0.1, fairness=0.0),
        gap_limit=0.0,
    )
    path = tmp_path / "p.json"
    pf.dump(pf.ProblemFile.of(p, cfg), path)
    back = pf.load(path)
    assert back.problem() == p
    assert back.config() == cfg
    assert solve(back.problem(), back.config()).objective == pytest.approx(solve(p, cfg).objective)


def test_problem_file_refuses_unknown_fields() -> None:
    with pytest.raises(ValueError):
        pf.ProblemFile.model_validate({"county": "150105", "now": NOW, "nonsense": 1})


def test_schema_in_docs_is_current() -> None:
    assert (REPO / "docs" / "matcher-problem.schema.json").read_text() == pf.schema_json()


def test_example_in_docs_solves() -> None:
    ex = pf.load(REPO / "docs" / "examples" / "matcher-problem.json")
    sol = solve(ex.problem(), ex.config())
    assert sol.assignments and sol.bound >= sol.objective


runner = CliRunner()


def test_cli_solve_writes_the_result_fields(tmp_path: Path) -> None:
    problem = tmp_path / "county.json"
    out = runner.invoke(app, ["synth", "--lines", "120", "--seed", "2", "-o", str(problem)])
    assert out.exit_code == 0, out.output
    result = tmp_path / "result.json"
    out = runner.invoke(app, ["solve", str(problem), "-o", str(result)])
    assert out.exit_code == 0, out.output
    doc = json.loads(result.read_text())
    assert doc["format"] == pf.RESULT_FORMAT
    for key in ("objective", "bound", "gap", "solver_path", "coverage", "problem_size"):
        assert key in doc
    assert doc["bound"] >= doc["objective"] - 1e-9
    assert doc["solver_path"] in ("cp_sat", "greedy_fallback", "min_cost_flow")
    a = doc["assignments"][0]
    assert {"line_id", "offer_id", "quantity", "explanation"} <= set(a)
    assert {t["name"] for t in a["explanation"]["terms"]} >= {"priority", "score"}
    assert all(u["reason"] and "waiting_hours" in u for u in doc["unmet"])
    # the same problem through the domain gives the same answer
    direct = solve(pf.load(problem).problem(), pf.load(problem).config())
    assert doc["objective"] == pytest.approx(direct.objective, rel=1e-3)
    pf.ResultFile.model_validate(doc)


@pytest.mark.parametrize("rule", ["priority", "value_per_hour", "scarcest_first"])
def test_cli_solve_runs_each_baseline(tmp_path: Path, rule: str) -> None:
    problem = tmp_path / "county.json"
    pf.dump(pf.ProblemFile.of(county_instance(60, seed=1, now=NOW)), problem)
    out = runner.invoke(app, ["solve", str(problem), "--rule", rule])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["rule"] == rule and doc["solver_path"] == "greedy"


def test_cli_schema_prints_json() -> None:
    out = runner.invoke(app, ["schema"])
    assert out.exit_code == 0
    assert json.loads(out.stdout)["title"] == "ProblemFile"


class _Stub(http.server.BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []  # noqa: RUF012
    reply: dict[str, Any] = {}  # noqa: RUF012

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        _Stub.seen.append({"path": self.path, "body": json.loads(body)})
        data = json.dumps(_Stub.reply).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_cli_what_if_posts_the_offers_and_prints_the_changes(stub: str, tmp_path: Path) -> None:
    offer = {"offer_id": "o-1", "county": "150102", "quantity": 25}
    path = tmp_path / "offer.json"
    path.write_text(json.dumps(offer))
    _Stub.reply = {
        "solver_path": "min_cost_flow",
        "objective": 3.2,
        "bound": 3.2,
        "gap": 0.0,
        "coverage": 1.0,
        "assignments": [],
        "unmet": [],
        "changes": {
            "proposed": [
                {
                    "line_id": "l-1",
                    "case_id": "c-1",
                    "offer_id": "o-1",
                    "quantity": 25.0,
                    "before": 0.0,
                    "summary": "best offer",
                }
            ],
            "withdrawn": [{"line_id": "l-2", "offer_id": "o-0", "quantity": 5.0}],
            "kept": 3,
        },
    }
    out = runner.invoke(app, ["what-if", "--url", stub, "--county", "150102", "--offer", str(path)])
    assert out.exit_code == 0, out.output
    assert _Stub.seen[-1] == {
        "path": "/v1/what-if",
        "body": {"county": "150102", "offers": [offer]},
    }
    assert "would propose 1, withdraw 1, keep 3" in out.stdout
    assert "+ l-1 <- o-1 25" in out.stdout and "- l-2 <- o-0 5" in out.stdout


def test_cli_what_if_reports_an_unreachable_service(tmp_path: Path) -> None:
    path = tmp_path / "offer.json"
    path.write_text("[]")
    out = runner.invoke(
        app, ["what-if", "--url", "http://127.0.0.1:9", "--county", "150102", "--offer", str(path)]
    )
    assert out.exit_code == 1


def test_what_if_changes_against_current_assignments() -> None:
    p = county_instance(60, seed=2, now=NOW)
    sol = solve(p)
    a, b = sol.assignments[0], sol.assignments[1]
    current = [
        {
            "line_id": a.line_id,
            "offer_id": a.offer_id,
            "quantity": a.quantity,
            "status": "proposed",
        },
        {"line_id": b.line_id, "offer_id": b.offer_id, "quantity": 0.5, "status": "proposed"},
        {"line_id": "gone", "offer_id": "o", "quantity": 1.0, "status": "proposed"},
        {"line_id": "old", "offer_id": "o", "quantity": 1.0, "status": "withdrawn"},
    ]
    ch = changes(current, sol)
    assert ch["kept"] == 1
    assert [x["line_id"] for x in ch["withdrawn"]] == ["gone"]
    assert len(ch["proposed"]) == len(sol.assignments) - 1
    assert any(x["line_id"] == b.line_id and x["before"] == 0.5 for x in ch["proposed"])
