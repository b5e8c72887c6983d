"""The benchmark's generator stays valid and de-duplication keeps beating the baseline."""

from __future__ import annotations

from bench_scripts import load_bench

from fivelink_intake.discovery import evaluate, load_rules, parse_batch


def test_small_benchmark_run() -> None:
    bench = load_bench("discovery")
    records, truth = bench.generate(800, seed=3)
    signals, errors = parse_batch(bench.to_jsonl(records), "jsonl")
    assert errors == [] and len(signals) == 800
    csv_signals, csv_errors = parse_batch(bench.to_csv(records), "csv")
    assert csv_errors == [] and csv_signals == signals
    cases = evaluate(signals, load_rules(), bench.NOW, key=bench.KEY)
    _, _, dedup_rate, mixed = bench.duplicate_rate(cases, truth)
    _, _, naive_rate, _ = bench.duplicate_rate(bench.naive(signals, truth), truth)
    assert mixed == 0
    assert dedup_rate < naive_rate
