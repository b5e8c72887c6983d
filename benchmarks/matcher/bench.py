"""Matcher benchmark: seeded synthetic counties, ours (flow + CP-SAT) against greedy.

    uv run python benchmarks/matcher/bench.py [--sizes 200 1000 2000] [--seeds 5]

Prints a markdown table. Every ratio compares two results measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

from fivelink_matcher.domain.model import Problem, Proposed, Solution, SolverConfig, Weights
from fivelink_matcher.domain.solver import greedy, solve
from fivelink_matcher.domain.synthetic import county_instance

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def travel_per_line(sol: Solution) -> float:
    """Travel km per line-equivalent served (fraction-weighted)."""
    km = served = 0.0
    for a in sol.assignments:
        terms = {t.name: t.value for t in a.explanation.terms}
        frac = terms.get("fraction", 1.0)
        km += terms.get("travel_km", 0.0) * frac
        served += frac
    return km / served if served else 0.0


def micro_batch(p: Problem, first: Solution, seed: int, config: SolverConfig) -> float:
    """Add ~2 % new lines and one offer, re-solve with the proposals; share that moved."""
    extra = county_instance(max(4, len(p.lines) // 50), seed=seed + 10_000, now=NOW)
    p2 = replace(
        p,
        lines=p.lines + extra.lines,
        resources=p.resources + extra.resources[:1],
        proposed=tuple(Proposed(a.line_id, a.offer_id, a.quantity) for a in first.assignments),
    )
    second = solve(p2, config)
    before = {(a.line_id, a.offer_id): a.quantity for a in first.assignments}
    after = {(a.line_id, a.offer_id): a.quantity for a in second.assignments}
    moved = sum(1 for k, q in before.items() if abs(after.get(k, 0.0) - q) > 1e-6)
    return moved / max(1, len(before))


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def run(sizes: list[int], seeds: int, time_limit: float) -> None:
    cfg = SolverConfig(time_limit_s=time_limit)
    no_churn = replace(cfg, weights=Weights(churn=0.0))
    print(f"date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.platform()}; ", end="")
    print(f"{_cpu()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; ", end="")
    print(f"time limit {time_limit:g} s, 1 CP-SAT worker, {seeds} seeds per size\n")
    print(
        "| lines | coverage ours | coverage greedy | ours/greedy | gap to LP bound (p50/max) "
        "| travel km/line ours/greedy | solve s p50 | solve s p95 | greedy s p50 "
        "| churn (penalty / none) | paths |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        cov_o, cov_g, gaps, trav, times, gtimes, churn, churn0 = ([] for _ in range(8))
        paths: Counter[str] = Counter()
        for s in range(seeds):
            p = county_instance(n, seed=s, now=NOW)
            ours = solve(p, cfg)
            t0 = time.perf_counter()
            base = greedy(p, replace(cfg, compute_bound=False))
            gtimes.append(time.perf_counter() - t0)
            # The reference bound: the LP relaxation solved without a time limit.
            ref = greedy(p, replace(cfg, time_limit_s=120.0)).bound
            cov_o.append(ours.coverage)
            cov_g.append(base.coverage)
            gaps.append(max(0.0, ref - ours.objective) / max(abs(ref), 1.0))
            tg = travel_per_line(base)
            trav.append(travel_per_line(ours) / tg if tg else 1.0)
            times.append(ours.solve_seconds)
            paths[ours.solver_path] += 1
            churn.append(micro_batch(p, ours, s, cfg))
            churn0.append(micro_batch(p, ours, s, no_churn))
        med = statistics.median
        print(
            f"| {n} | {med(cov_o):.4f} | {med(cov_g):.4f} | {med(cov_o) / med(cov_g):.4f} "
            f"| {med(gaps):.4f} / {max(gaps):.4f} | {med(trav):.3f} | {pct(times, 0.5):.2f} "
            f"| {pct(times, 0.95):.2f} | {med(gtimes):.2f} | {med(churn):.3f} / {med(churn0):.3f} "
            f"| {', '.join(f'{k} {v}' for k, v in sorted(paths.items()))} |",
            flush=True,
        )
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for row in f:
                if row.startswith("model name"):
                    return row.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "cpu"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[200, 1000, 2000])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--time-limit", type=float, default=2.0)
    a = ap.parse_args()
    run(a.sizes, a.seeds, a.time_limit)


if __name__ == "__main__":
    main()
