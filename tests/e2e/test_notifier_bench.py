"""The notifier benchmark still runs against the real stack (a small burst), so that the
script recorded in docs/notifier.md cannot rot unnoticed."""

from __future__ import annotations

from bench_scripts import load_bench

from fivelink_cli import infra


async def test_a_small_burst_goes_through_the_whole_path(stack: infra.Stack) -> None:
    bench = load_bench("notifier")
    receivers = [bench.Receiver() for _ in range(2)]
    try:
        full = await bench.pipeline(stack, receivers, 20)
        base = await bench.baseline(receivers, 20, 4)
    finally:
        for r in receivers:
            r.stop()
    # every event arrived (pipeline() exits otherwise), at a measured rate and latency
    assert full["rate"] > 0 and 0 < full["p50"] <= full["p95"]
    assert base["rate"] > 0
