"""The matcher's command line.

    uv run python -m fivelink_matcher.cli solve problem.json [-o result.json] [--rule optimal]
    uv run python -m fivelink_matcher.cli what-if --url http://127.0.0.1:8001 --county 150102 \\
        --offer offer.json
    uv run python -m fivelink_matcher.cli schema [-o docs/matcher-problem.schema.json]
    uv run python -m fivelink_matcher.cli synth --lines 200 --seed 1 -o problem.json

`solve` reads a problem file (see problem_file.py and docs/matcher-problem.schema.json) and
writes the result file: assignments with explanations, unmet lines with reasons, objective,
bound, gap and solver path. `what-if` asks a running matcher (POST /v1/what-if) what a
hypothetical offer would change; nothing is published.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from fivelink_matcher.domain.solver import BASELINES, baseline, solve
from fivelink_matcher.domain.synthetic import county_instance
from fivelink_matcher.problem_file import ProblemFile, ResultFile, dump, load, schema_json
from fivelink_shared.security import bearer
from fivelink_shared.settings import CommonSettings

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
RULES = ("optimal", *BASELINES)


def _err(msg: str) -> None:
    typer.echo(msg, err=True)


@app.command("solve")
def solve_cmd(
    problem: Annotated[Path, typer.Argument(help="Problem file (JSON)", exists=True)],
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Result file")] = None,
    rule: Annotated[str, typer.Option(help=f"One of {', '.join(RULES)}")] = "optimal",
    time_limit: Annotated[float | None, typer.Option(help="Override policy.time_limit_s")] = None,
    workers: Annotated[int | None, typer.Option(help="Override policy.workers")] = None,
) -> None:
    """Solve one county's problem file and write the result as JSON."""
    if rule not in RULES:
        raise typer.BadParameter(f"rule must be one of {', '.join(RULES)}")
    pf = load(problem)
    cfg = pf.config()
    if time_limit is not None:
        cfg = replace(cfg, time_limit_s=time_limit)
    if workers is not None:
        cfg = replace(cfg, workers=workers)
    prob = pf.problem()
    sol = solve(prob, cfg) if rule == "optimal" else baseline(prob, cfg, rule)
    text = ResultFile.of(pf.county, sol, rule).model_dump_json(indent=1) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text)
    _err(
        f"{pf.county}: {len(sol.assignments)} assignments, {len(sol.unmet)} unmet; "
        f"path {sol.solver_path}, objective {sol.objective:.4f}, bound {sol.bound:.4f}, "
        f"gap {sol.gap:.2%}, coverage {sol.coverage:.4f}, {sol.solve_seconds:.2f} s"
    )


@app.command("what-if")
def what_if_cmd(
    county: Annotated[str, typer.Option(help="County code")],
    offer: Annotated[
        list[Path], typer.Option(help="Hypothetical OfferPublished JSON (one or a list)")
    ],
    url: Annotated[str, typer.Option(help="Matcher base URL")] = "http://127.0.0.1:8001",
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole response")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait")] = 60.0,
    token: Annotated[
        str | None,
        typer.Option(help="Service token (default: FIVELINK_SERVICE_TOKEN or the dev default)"),
    ] = None,
) -> None:
    """Solve the county's current state plus hypothetical offers; print what would change."""
    token = token or CommonSettings().service_token.get_secret_value()
    offers: list[Any] = []
    for path in offer:
        doc = json.loads(path.read_text())
        offers.extend(doc if isinstance(doc, list) else [doc])
    body = json.dumps({"county": county, "offers": offers}).encode()
    req = urllib.request.Request(
        url.rstrip("/") + "/v1/what-if",
        data=body,
        headers={"content-type": "application/json", **bearer(token)},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            result = json.loads(resp.read())
    except urllib.error.HTTPError as e:
        _err(f"what-if failed: HTTP {e.code}: {e.read().decode(errors='replace')}")
        raise typer.Exit(1) from e
    except urllib.error.URLError as e:
        _err(f"what-if failed: {e.reason}")
        raise typer.Exit(1) from e
    if as_json:
        typer.echo(json.dumps(result, indent=1, ensure_ascii=False))
        return
    ch = result.get("changes", {})
    typer.echo(
        f"county {county}: path {result['solver_path']}, objective {result['objective']:.4f}, "
        f"bound {result['bound']:.4f}, gap {result['gap']:.2%}, coverage {result['coverage']:.4f}"
    )
    typer.echo(
        f"would propose {len(ch.get('proposed', []))}, withdraw "
        f"{len(ch.get('withdrawn', []))}, keep {ch.get('kept', 0)}; "
        f"{len(result.get('unmet', []))} lines unmet"
    )
    for a in ch.get("proposed", []):
        typer.echo(
            f"  + {a['line_id']} <- {a['offer_id']} {a['quantity']:g} "
            f"(was {a['before']:g}): {a['summary']}"
        )
    for a in ch.get("withdrawn", []):
        typer.echo(f"  - {a['line_id']} <- {a['offer_id']} {a['quantity']:g}")


@app.command("schema")
def schema_cmd(
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Write it here")] = None,
) -> None:
    """Print (or write) the JSON Schema of the problem file (result file under $defs)."""
    text = schema_json()
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text)


@app.command("synth")
def synth_cmd(
    out: Annotated[Path, typer.Option("-o", "--out", help="Problem file to write")],
    lines: Annotated[int, typer.Option(help="Need lines")] = 200,
    seed: Annotated[int, typer.Option(help="Generator seed")] = 0,
    resources: Annotated[int | None, typer.Option(help="Offers (default: by lines)")] = None,
    workers: Annotated[int | None, typer.Option(help="Of which workers")] = None,
    time_limit: Annotated[float, typer.Option(help="policy.time_limit_s")] = 2.0,
) -> None:
    """Write a seeded synthetic county (synthetic ids only) as a problem file."""
    from fivelink_matcher.domain.model import SolverConfig

    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    prob = county_instance(lines, seed=seed, now=now, n_resources=resources, n_workers=workers)
    dump(ProblemFile.of(prob, SolverConfig(time_limit_s=time_limit)), out)
    _err(f"wrote {out}: {len(prob.lines)} lines, {len(prob.resources)} resources")


if __name__ == "__main__":
    app()
