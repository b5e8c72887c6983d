"""Matcher benchmark: seeded synthetic counties, ours against the greedy baselines, in one run.

    uv run python benchmarks/matcher/bench.py --quick        # CI-size check, about a minute
    uv run python benchmarks/matcher/bench.py --full         # the recorded table (~15 min)
    uv run python benchmarks/matcher/bench.py --full --only quality flow

Sections (each prints a markdown table on stdout; progress goes to stderr):

- quality: 20 seeds of a 2,000-line county (500 offers, 100 workers, hour budgets, visits,
  bundles), each written to a problem file and read back, solved by ours (2 CP-SAT workers,
  5 s) and the baselines (priority greedy, value-per-hour greedy, scarcest-first): per-seed
  gains in coverage, crisis lines served and travel; gap to the LP bound solved without a
  time limit; solve time; churn after a micro-batch.
- flow: money and goods only (the min-cost-flow path), 2,000 lines, 20 seeds: p50/p95 time.
- one_to_one: visits only, each worker takes one line: ours (the min-cost flow with one line
  per worker) against scipy.optimize.linear_sum_assignment on the same scores (a dense
  matrix built from the pair arrays): optimum and time.
- large: 10,000 lines x 3,000 offers x 500 workers.
- province: 100 counties of 2,000 lines solved county by county on a pool of 2 processes:
  wall time and peak memory (RSS) of every process.

Every ratio compares results measured in the same run; absolute times depend on the load.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fivelink_matcher.domain.model import Problem, Proposed, Solution, SolverConfig, Weights
from fivelink_matcher.domain.solver import BASELINES, baseline, greedy, solve
from fivelink_matcher.domain.synthetic import county_instance
from fivelink_matcher.problem_file import ProblemFile, dump, load
from fivelink_shared.events import Urgency

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
NAMES = {"priority": "priority greedy", "value_per_hour": "value/hour", "scarcest_first": "CAS"}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {msg}", file=sys.stderr)


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))] if xs else float("nan")


def mean(xs: list[float]) -> float:
    return statistics.fmean(xs) if xs else float("nan")


# --- measures --------------------------------------------------------------------------


def travel_per_unit(sol: Solution) -> float:
    """Travel km per line-equivalent served (fraction-weighted; money travels free)."""
    km = served = 0.0
    for a in sol.assignments:
        terms = {t.name: t.value for t in a.explanation.terms}
        frac = terms.get("fraction", 1.0)
        km += terms.get("travel_km", 0.0) * frac
        served += frac
    return km / served if served else 0.0


def crisis_served(p: Problem, sol: Solution) -> int:
    """Crisis-urgency lines served in full."""
    short = {u.line_id for u in sol.unmet}
    got = {a.line_id for a in sol.assignments}
    return sum(
        1
        for x in p.lines
        if x.urgency == Urgency.CRISIS and x.line_id in got and x.line_id not in short
    )


def micro_batch(p: Problem, first: Solution, seed: int, config: SolverConfig) -> float:
    """Add ~2 % new lines and one offer, re-solve with the proposals: the share of the first
    solution's assignments (none of them touched by the new events) that changed."""
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


def reference_bound(p: Problem, cfg: SolverConfig) -> float:
    """The LP relaxation of the whole model, solved without a time limit."""
    return greedy(p, replace(cfg, time_limit_s=300.0, compute_bound=True)).bound


def county(n: int, seed: int, **kw: Any) -> Problem:
    """The county shape of the targets: n lines, n/4 offers of which n/20 workers."""
    return county_instance(n, seed=seed, now=NOW, n_resources=n // 4, n_workers=n // 20, **kw)


# --- sections --------------------------------------------------------------------------


@dataclass
class Run:
    sol: Solution
    seconds: float


def timed(f: Callable[[], Solution]) -> Run:
    t0 = time.perf_counter()
    sol = f()
    return Run(sol, time.perf_counter() - t0)


def quality(n: int, seeds: int, cfg: SolverConfig, churn_seeds: int) -> dict[str, Any]:
    no_bound = replace(cfg, compute_bound=False)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for s in range(seeds):
            path = Path(tmp) / f"county-{s}.json"
            dump(ProblemFile.of(county(n, s), cfg), path)
            pf = load(path)
            p, c = pf.problem(), pf.config()
            ours = timed(lambda p=p, c=c: solve(p, c))
            base = {r: timed(lambda r=r, p=p: baseline(p, no_bound, r)) for r in BASELINES}
            ref = reference_bound(p, c)
            row: dict[str, Any] = {
                "seed": s,
                "cov": ours.sol.coverage,
                "gap": max(0.0, ref - ours.sol.objective) / max(abs(ref), 1.0),
                "obj": ours.sol.objective,
                "sec": ours.seconds,
                "path": ours.sol.solver_path,
                "crisis": crisis_served(p, ours.sol),
                "travel": travel_per_unit(ours.sol),
                "base": {
                    r: {
                        "cov": b.sol.coverage,
                        "obj": b.sol.objective,
                        "crisis": crisis_served(p, b.sol),
                        "travel": travel_per_unit(b.sol),
                        "sec": b.seconds,
                    }
                    for r, b in base.items()
                },
            }
            if s < churn_seeds:
                row["churn"] = micro_batch(p, ours.sol, s, c)
                row["churn0"] = micro_batch(p, ours.sol, s, replace(c, weights=Weights(churn=0)))
            rows.append(row)
            log(
                f"quality seed {s}: cov {row['cov']:.4f} (greedy "
                f"{row['base']['priority']['cov']:.4f}), gap {row['gap']:.4%}, "
                f"{row['sec']:.2f} s, {row['path']}"
            )
    print(f"\n### Quality: {seeds} seeds, {n} lines x {n // 4} offers x {n // 20} workers\n")
    print(
        f"Ours: time limit {cfg.time_limit_s:g} s, {cfg.workers} CP-SAT workers. Gains are ours "
        "over each baseline: coverage ratio − 1, crisis lines served (difference), travel per "
        "unit served (ratio, lower is better).\n"
    )
    head = "| seed | coverage ours | gap to LP | s |"
    for r in BASELINES:
        head += f" cov gain vs {NAMES[r]} | crisis +/− | travel × |"
    print(head)
    print("|" + "---|" * (4 + 3 * len(BASELINES)))
    for row in rows:
        line = f"| {row['seed']} | {row['cov']:.4f} | {row['gap']:.4%} | {row['sec']:.2f} |"
        for r in BASELINES:
            b = row["base"][r]
            tr = row["travel"] / b["travel"] if b["travel"] else 1.0
            line += f" {row['cov'] / b['cov'] - 1:+.2%} | {row['crisis'] - b['crisis']:+d} |"
            line += f" {tr:.3f} |"
        print(line)
    best = [max(row["base"][r]["cov"] for r in BASELINES) for row in rows]
    wins = sum(1 for row, b in zip(rows, best, strict=True) if row["cov"] >= b - 1e-9)
    tr = {r: mean([row["travel"] / row["base"][r]["travel"] for row in rows]) for r in BASELINES}
    covs = {r: mean([row["cov"] / row["base"][r]["cov"] - 1 for row in rows]) for r in BASELINES}
    churn = [row["churn"] for row in rows if "churn" in row]
    churn0 = [row["churn0"] for row in rows if "churn0" in row]
    secs = [row["sec"] for row in rows]
    summary = {
        "wins": wins,
        "seeds": seeds,
        "gap_mean": mean([row["gap"] for row in rows]),
        "gap_max": max(row["gap"] for row in rows),
        "travel": tr,
        "cov_gain": covs,
        "sec_p50": pct(secs, 0.5),
        "sec_p95": pct(secs, 0.95),
        "churn": mean(churn),
        "churn_max": max(churn, default=float("nan")),
        "churn0": mean(churn0),
        "never_worse": all(row["obj"] >= row["base"]["priority"]["obj"] - 1e-6 for row in rows),
        "paths": Counter(row["path"] for row in rows),
        "base_sec": {r: pct([row["base"][r]["sec"] for row in rows], 0.5) for r in BASELINES},
    }
    print(
        f"\nCoverage ≥ the best baseline on {wins}/{seeds} seeds; gap to the LP bound mean "
        f"{summary['gap_mean']:.4%}, max {summary['gap_max']:.4%}; mean coverage gain "
        + ", ".join(f"{NAMES[r]} {covs[r]:+.2%}" for r in BASELINES)
        + "; mean travel ratio "
        + ", ".join(f"{NAMES[r]} {tr[r]:.3f}" for r in BASELINES)
        + f"; solve s p50 {summary['sec_p50']:.2f}, p95 {summary['sec_p95']:.2f} (baselines p50 "
        + ", ".join(f"{NAMES[r]} {summary['base_sec'][r]:.2f}" for r in BASELINES)
        + f"); never worse than priority greedy: {summary['never_worse']}; churn over "
        f"{len(churn)} seeds mean {summary['churn']:.3f} (max {summary['churn_max']:.3f}), "
        f"without the churn penalty {summary['churn0']:.3f}; paths "
        + ", ".join(f"{k} {v}" for k, v in sorted(summary["paths"].items())),
        flush=True,
    )
    return summary


def flow(n: int, seeds: int, cfg: SolverConfig) -> None:
    times: list[float] = []
    paths: Counter[str] = Counter()
    gaps: list[float] = []
    gains: list[float] = []
    for s in range(seeds):
        p = county_instance(
            n, seed=s, now=NOW, n_resources=n // 5, n_workers=0, visit_share=0.0, bundle_share=0.0
        )
        ours = timed(lambda p=p: solve(p, cfg))
        g = baseline(p, replace(cfg, compute_bound=False), "priority")
        times.append(ours.seconds)
        paths[ours.sol.solver_path] += 1
        gains.append(ours.sol.coverage / g.coverage - 1)
        if s < 3:
            ref = reference_bound(p, cfg)
            gaps.append(max(0.0, ref - ours.sol.objective) / max(abs(ref), 1.0))
        log(f"flow seed {s}: {ours.seconds:.2f} s, {ours.sol.solver_path}")
    print(f"\n### Flow path: {seeds} seeds, {n} money/goods lines x {n // 5} offers\n")
    print(
        "| solve s p50 | solve s p95 | max | gap to LP (3 seeds, max) | cov gain vs greedy "
        "| paths |"
    )
    print("|---|---|---|---|---|---|")
    print(
        f"| {pct(times, 0.5):.3f} | {pct(times, 0.95):.3f} | {max(times):.3f} | "
        f"{max(gaps):.2e} | {mean(gains):+.2%} | "
        + ", ".join(f"{k} {v}" for k, v in sorted(paths.items()))
        + " |",
        flush=True,
    )


def one_to_one(n: int, workers: int, seeds: int) -> None:
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    from fivelink_matcher.domain.assign import solve_one_to_one
    from fivelink_matcher.domain.prepare import PSCALE, prepare

    cfg = SolverConfig(weights=Weights(fairness=0.0))
    rows = []
    for s in range(seeds):
        p = county_instance(
            n,
            seed=s,
            now=NOW,
            n_resources=workers,
            n_workers=workers,
            visit_share=1.0,
            bundle_share=0.0,
            caseload_caps=(1,),
        )
        ours = timed(lambda p=p: solve(p, cfg))
        prep = prepare(p, cfg)
        lines = [i for i in range(len(prep.lines)) if prep.line_pairs[i]]
        res = [j for j in range(len(prep.res)) if prep.res_pairs[j]]
        t0 = time.perf_counter()
        solve_one_to_one(prep, lines, res)
        core_ours = time.perf_counter() - t0
        # scipy on the same scores: a dense lines x workers matrix (0 = not eligible), filled
        # from the pair arrays in one vectorised step.
        arr = prep.pair_arrays()
        t0 = time.perf_counter()
        lpos = np.full(len(prep.lines), -1)
        lpos[lines] = np.arange(len(lines))
        rpos = np.full(len(prep.res), -1)
        rpos[res] = np.arange(len(res))
        m = np.zeros((len(lines), len(res)))
        m[lpos[arr["line"]], rpos[arr["res"]]] = arr["best_unit"] / PSCALE
        t1 = time.perf_counter()
        r, c = linear_sum_assignment(m, maximize=True)
        t2 = time.perf_counter()
        sp = float(m[r, c].sum())
        rows.append((ours.sol.objective, sp, ours.seconds, core_ours, t2 - t0, t2 - t1))
        log(f"one-to-one seed {s}: ours {ours.sol.objective:.4f} scipy {sp:.4f}")
    print(f"\n### One-to-one: {seeds} seeds, {n} visit lines x {workers} workers (caseload 1)\n")
    print(
        "| seed | objective ours | objective scipy | ours − scipy | ours solve s (all) | "
        "ours flow s | scipy s (matrix + solve) | scipy solve s "
        "| ours flow / scipy (matrix + solve) | ours flow / scipy solve |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for s, (o, sp, t_all, t_core, t_sp, t_sps) in enumerate(rows):
        print(
            f"| {s} | {o:.4f} | {sp:.4f} | {o - sp:+.2e} | {t_all:.3f} | {t_core:.3f} | "
            f"{t_sp:.3f} | {t_sps:.3f} | {t_core / t_sp:.2f} | {t_core / t_sps:.2f} |",
            flush=True,
        )


def large(n: int, n_res: int, n_work: int, seeds: int, cfg: SolverConfig) -> None:
    no_bound = replace(cfg, compute_bound=False)
    print(f"\n### Large: {n} lines x {n_res} offers x {n_work} workers, {seeds} seed(s)\n")
    print(
        "| seed | coverage ours | best baseline | gap (own bound) | solve s | "
        "priority greedy s | path |"
    )
    print("|---|---|---|---|---|---|---|")
    for s in range(seeds):
        p = county_instance(n, seed=s, now=NOW, n_resources=n_res, n_workers=n_work)
        ours = timed(lambda p=p: solve(p, cfg))
        base = {r: timed(lambda r=r, p=p: baseline(p, no_bound, r)) for r in BASELINES}
        best = max(b.sol.coverage for b in base.values())
        print(
            f"| {s} | {ours.sol.coverage:.4f} | {best:.4f} | {ours.sol.gap:.4%} | "
            f"{ours.seconds:.2f} | {base['priority'].seconds:.2f} | {ours.sol.solver_path} |",
            flush=True,
        )
        log(f"large seed {s}: {ours.seconds:.2f} s")


def _county_job(args: tuple[int, int, float]) -> dict[str, Any]:
    i, n, limit = args
    p = county(n, 1000 + i, county=f"15{i:04d}")
    cfg = SolverConfig(time_limit_s=limit, workers=1)
    t0 = time.perf_counter()
    sol = solve(p, cfg)
    return {
        "county": p.county,
        "lines": len(p.lines),
        "sec": time.perf_counter() - t0,
        "gap": sol.gap,
        "objective": sol.objective,
        "coverage": sol.coverage,
        "path": sol.solver_path,
        "pid": os.getpid(),
        "rss_kib": peak_rss_kib(),
    }


def peak_rss_kib() -> int:
    """This process's peak resident memory (VmHWM: of its own address space; ru_maxrss
    would also count what the process it was forked and exec'd from had used)."""
    try:
        with open("/proc/self/status") as f:
            for row in f:
                if row.startswith("VmHWM:"):
                    return int(row.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def province(counties: int, n: int, limit: float, procs: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    out: list[dict[str, Any]] = []
    # Fresh processes (spawn): their peak RSS is the matcher's own, not inherited.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=procs, mp_context=ctx) as pool:
        jobs = [(i, n, limit) for i in range(counties)]
        for r in pool.map(_county_job, jobs):
            out.append(r)
            if len(out) % 10 == 0:
                log(f"province: {len(out)}/{counties} counties, {time.perf_counter() - t0:.1f} s")
    wall = time.perf_counter() - t0
    rss: dict[int, int] = {}
    for r in out:
        rss[r["pid"]] = max(rss.get(r["pid"], 0), r["rss_kib"])
    parent = peak_rss_kib()
    total_mib = (sum(rss.values()) + parent) / 1024
    secs = [r["sec"] for r in out]
    paths = Counter(r["path"] for r in out)
    lines = sum(r["lines"] for r in out)
    # Outside the timed run: the true gap (LP without a time limit) and the coverage against
    # priority greedy on a sample of the counties.
    sample = sorted({0, counties // 4, counties // 2, 3 * counties // 4})
    true_gap: list[float] = []
    cov_gain: list[float] = []
    for i in sample:
        p = county(n, 1000 + i, county=f"15{i:04d}")
        ref = reference_bound(p, SolverConfig())
        true_gap.append(max(0.0, ref - out[i]["objective"]) / max(abs(ref), 1.0))
        g = baseline(p, SolverConfig(compute_bound=False), "priority")
        cov_gain.append(out[i]["coverage"] / g.coverage - 1)
        log(f"province sample county {i}: true gap {true_gap[-1]:.4%}")
    print(f"\n### Province: {counties} counties x {n} lines ({lines} lines), {procs} processes\n")
    print(
        f"Time limit {limit:g} s per county, 1 CP-SAT worker each. On {len(sample)} sampled "
        f"counties: gap to the LP bound (solved afterwards, no time limit) mean "
        f"{mean(true_gap):.4%}, max {max(true_gap):.4%}; coverage over priority greedy mean "
        f"{mean(cov_gain):+.2%}, min {min(cov_gain):+.2%}. The gap column below is against "
        "the bound each timed solve reported (a loose one when its LP did not fit).\n"
    )
    print(
        "| wall s | county solve s p50 / p95 / max | gap mean / max | peak RSS per worker MiB "
        "| peak RSS benchmark parent + workers MiB | paths |"
    )
    print("|---|---|---|---|---|---|")
    print(
        f"| {wall:.1f} | {pct(secs, 0.5):.2f} / {pct(secs, 0.95):.2f} / {max(secs):.2f} | "
        f"{mean([r['gap'] for r in out]):.4%} / {max(r['gap'] for r in out):.4%} | "
        + " / ".join(f"{v / 1024:.0f}" for v in rss.values())
        + f" | {total_mib:.0f} | "
        + ", ".join(f"{k} {v}" for k, v in sorted(paths.items()))
        + " |",
        flush=True,
    )
    return {"wall": wall, "mib": total_mib}


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for row in f:
                if row.startswith("model name"):
                    return row.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "cpu"


SECTIONS = ("quality", "flow", "one_to_one", "large", "province")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small sizes (default)")
    mode.add_argument("--full", action="store_true", help="the sizes of the targets")
    ap.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    ap.add_argument("--seeds", type=int, help="seeds for quality and flow")
    ap.add_argument("--time-limit", type=float, default=5.0, help="ours, quality and large")
    ap.add_argument("--workers", type=int, default=2, help="CP-SAT workers")
    ap.add_argument("--province-limit", type=float, default=1.0, help="time limit per county")
    a = ap.parse_args()
    full = a.full
    seeds = a.seeds or (20 if full else 3)
    cfg = SolverConfig(time_limit_s=a.time_limit, workers=a.workers)
    la = os.getloadavg()
    print(
        f"date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.platform()}; {_cpu()}, "
        f"{os.cpu_count()} cores; load average {la[0]:.1f} / {la[1]:.1f} / {la[2]:.1f}; "
        f"mode {'full' if full else 'quick'}"
    )
    if "quality" in a.only:
        quality(2000 if full else 300, seeds, cfg, churn_seeds=5 if full else 2)
    if "flow" in a.only:
        flow(2000 if full else 500, seeds, replace(cfg, time_limit_s=2.0))
    if "one_to_one" in a.only:
        one_to_one(2000 if full else 300, 500 if full else 80, 5 if full else 2)
    if "large" in a.only and full:
        large(10_000, 3_000, 500, 1, replace(cfg, time_limit_s=20.0))
    if "province" in a.only:
        if full:
            province(100, 2000, a.province_limit, 2)
        else:
            province(4, 300, a.province_limit, 2)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
