"""Benchmark intake's discovery ingest end to end: HTTP → validation → store → cases → Kafka.

    uv run python benchmarks/intake/bench.py [--n 10000] [--seed 7] [--chunk 2000]
    uv run python benchmarks/intake/bench.py --url http://127.0.0.1:19204   # a running stack

Without ``--url`` it starts its own stack (real Kafka, FerretDB, the services) on
``--port-base`` (default 19250) and stops it afterwards. The signals are the discovery
benchmark's seeded synthetic people (benchmarks/discovery/bench.py), moved to the present and
given fresh ids per run. It reports records/s for the HTTP ingest (through
``fivelink_intake.ingest``, the file CLI's code) and for in-process rule evaluation, and the
duplicate-case rate among the cases the server opened. All data is synthetic.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fivelink_cli import infra
from fivelink_intake.discovery import evaluate, load_rules, parse_batch
from fivelink_intake.ingest import Summary, chunks, post_chunk
from fivelink_intake.settings import IntakeSettings
from fivelink_intake.tokens import issue

HERE = Path(__file__).resolve().parent
ENV = {"FIVELINK_BATCH_WINDOW_S": "0.5"}


def _discovery_bench() -> Any:
    spec = importlib.util.spec_from_file_location(
        "discovery_bench", HERE.parent / "discovery" / "bench.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["discovery_bench"] = module
    spec.loader.exec_module(module)
    return module


def signals(n: int, seed: int) -> tuple[bytes, dict[str, int]]:
    """JSON lines of ``n`` synthetic signals observed up to now, and who each one is about."""
    gen = _discovery_bench()
    records, truth = gen.generate(n, seed)
    shift = datetime.now(UTC) - timedelta(minutes=5) - gen.NOW
    run = uuid.uuid4().hex[:6]
    people = {}
    for r in records:
        people[f"b{run}-{r['signal_id']}"] = truth[r["signal_id"]].person
        r["signal_id"] = f"b{run}-{r['signal_id']}"
        r["observed_at"] = (datetime.fromisoformat(r["observed_at"]) + shift).isoformat()
    return gen.to_jsonl(records), people


def run(url: str, n: int, seed: int, chunk: int) -> None:
    data, people = signals(n, seed)
    token = issue(
        role="admin", sub="bench", secret=IntakeSettings().token_secret.get_secret_value()
    )

    started = time.perf_counter()
    records, _ = parse_batch(data, "jsonl", now=datetime.now(UTC))
    parse_s = time.perf_counter() - started
    started = time.perf_counter()
    key = IntakeSettings().person_ref_key.get_secret_value().encode()
    evaluate(records, load_rules(), datetime.now(UTC), key=key)
    eval_s = time.perf_counter() - started

    summary = Summary()
    case_signals: dict[str, set[str]] = defaultdict(set)
    bodies = list(chunks(data, "jsonl", chunk))
    started = time.perf_counter()
    for i, body in enumerate(bodies, start=1):
        report = post_chunk(url, token, body, "jsonl", f"bench-{uuid.uuid4().hex}", False, 600)
        summary.add(report)
        for case in [*report["cases_opened"], *report["cases_merged"]]:
            case_signals[case["case_id"]].update(case["signal_ids"])
        summary.seconds = time.perf_counter() - started
        print(
            f"  chunk {i}/{len(bodies)}: {summary.records} records, {summary.opened} opened, "
            f"{summary.merged} merged, {summary.per_second:,.0f} records/s",
            file=sys.stderr,
            flush=True,
        )
    per_person: Counter[int] = Counter()
    mixed = 0
    for ids in case_signals.values():
        who = {people[s] for s in ids if s in people}  # (merges may name older signals)
        mixed += len(who) > 1
        per_person.update(who)
    cases = len(case_signals)
    dup = sum(k - 1 for k in per_person.values()) / cases if cases else 0.0

    print(
        f"\nintake ingest benchmark: {n} signals, seed {seed}, {len(bodies)} requests of "
        f"≤{chunk}, {len(set(people.values()))} synthetic people\n"
    )
    print("| step | time (s) | records/s |")
    print("|---|---:|---:|")
    print(f"| parse + validate (in process) | {parse_s:.3f} | {n / parse_s:,.0f} |")
    print(f"| rule evaluation (in process) | {eval_s:.3f} | {n / eval_s:,.0f} |")
    print(
        f"| HTTP ingest → store → cases → Kafka | {summary.seconds:.2f} | "
        f"{summary.per_second:,.0f} |"
    )
    print()
    print("| cases opened | merges | distinct people | duplicate-case rate | mixing 2 people |")
    print("|---:|---:|---:|---:|---:|")
    print(f"| {summary.opened} | {summary.merged} | {len(per_person)} | {dup:.1%} | {mixed} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--chunk", type=int, default=2000)
    ap.add_argument("--url", default="", help="a running intake; default: start a stack")
    ap.add_argument("--port-base", type=int, default=19250)
    args = ap.parse_args()
    if args.url:
        run(args.url, args.n, args.seed, args.chunk)
        return
    state = infra.REPO_ROOT / ".run" / f"bench-{args.port_base}"
    stack = infra.Stack(state, infra.Ports.from_base(args.port_base))
    infra.stop_all(stack, lambda _: None)
    shutil.rmtree(state, ignore_errors=True)
    try:
        infra.start_all(stack, lambda m: print(m, file=sys.stderr), prometheus=False, env=ENV)
        run(stack.url("intake"), args.n, args.seed, args.chunk)
    finally:
        infra.stop_all(stack, lambda _: None)


if __name__ == "__main__":
    main()
