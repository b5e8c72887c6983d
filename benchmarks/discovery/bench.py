"""Benchmark proactive discovery on seeded synthetic signals.

    uv run python benchmarks/discovery/bench.py [--n 10000] [--seed 7]

Generates people in Inner Mongolia counties and signals about them from every source, the
way feeds really present people: health insurance and civil affairs by ID number (sometimes
with a lower-case x or spaces), utilities and the hotline by phone + name (``+86``, spaces),
grid workers with all three (the link), plus ~3% re-sent copies. It times parsing (JSON lines
and CSV) and rule evaluation, then compares the cases opened with de-duplication against a
naive baseline that groups by the identifiers exactly as each source sent them.
All data is synthetic; nothing here is a real person.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fivelink_intake.discovery import evaluate, load_rules, parse_batch
from fivelink_intake.discovery.batch import CSV_COLUMNS
from fivelink_intake.discovery.engine import DiscoveredCase, evaluate_person
from fivelink_intake.discovery.identity import id_check_digit
from fivelink_intake.discovery.persons import Person
from fivelink_intake.discovery.signals import Signal

NOW = datetime(2025, 6, 1, tzinfo=UTC)
KEY = b"benchmark-hmac-key-not-a-secret"
COUNTIES = ["150102", "150103", "150104", "150105", "150121", "150202", "150203", "150302"]
SURNAMES = "王李张刘陈杨赵黄周吴巴乌其苏阿"
GIVEN = "芳强军敏静丽勇艳杰娟涛明超秀霞平刚桂英特尔图雅"

# profile -> (categories, [(source, kind, value range)])
PROFILES: dict[str, tuple[list[str], list[tuple[str, str, tuple[float, float]]]]] = {
    "elderly_alone": (
        ["elderly_alone"],
        [
            ("utility", "utility_arrears", (1, 5)),
            ("civil_affairs", "missed_survival_certification", (1, 40)),
            ("grid_visit", "grid_observation", (0, 3)),
            ("hotline", "self_assessment", (2, 9)),
        ],
    ),
    "low_income": (
        ["minimum_living"],
        [
            ("medical_insurance", "hospital_bill", (500, 30000)),
            ("grid_visit", "grid_observation", (0, 3)),
            ("self_report", "self_assessment", (3, 10)),
            ("grid_visit", "housing_damage", (0, 5)),
        ],
    ),
    "return_risk": (
        ["poverty_return_risk"],
        [
            ("poverty_monitoring", "income_drop", (5, 60)),
            ("medical_insurance", "hospital_bill", (500, 15000)),
            ("grid_visit", "job_loss", (0, 6)),
        ],
    ),
    "child": (
        ["left_behind_child"],
        [
            ("school", "school_absence", (0, 8)),
            ("grid_visit", "grid_observation", (0, 3)),
            ("hotline", "crisis_call", (0, 5)),
        ],
    ),
    "general": (
        [],
        [
            ("hotline", "crisis_call", (0, 5)),
            ("self_report", "self_assessment", (0, 10)),
            ("grid_visit", "housing_damage", (0, 4)),
        ],
    ),
}
BY_ID = {"medical_insurance", "civil_affairs", "poverty_monitoring", "school"}
BY_PHONE = {"utility", "hotline", "self_report"}


@dataclass
class Truth:
    person: int
    raw_key: str  # the identifier exactly as the source sent it


def _person(rng: random.Random, i: int) -> dict[str, Any]:
    birth = f"{rng.randint(1935, 2015)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first17 = f"{rng.choice(COUNTIES)}{birth}{i % 1000:03d}"
    return {
        "id": first17 + id_check_digit(first17),
        "phone": f"1{rng.choice('3578')}{i:09d}",
        "name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", *GIVEN]),
        "county": rng.choice(COUNTIES),
        "profile": rng.choices(list(PROFILES), weights=[3, 3, 2, 1, 2])[0],
        "linked": rng.random() < 0.8,  # a grid worker recorded all identifiers
    }


def _present_id(rng: random.Random, idn: str) -> str:
    r = rng.random()
    if r < 0.15:
        return idn.lower()
    if r < 0.25:
        return f"{idn[:6]} {idn[6:14]} {idn[14:]}"
    return idn


def _present_phone(rng: random.Random, phone: str) -> str:
    return rng.choice(
        [phone, phone, f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}", f"{phone[:3]}-{phone[3:]}"]
    )


def _present_name(rng: random.Random, name: str) -> str:
    return rng.choice([name, name, " ".join(name)])


def generate(n: int, seed: int) -> tuple[list[dict[str, Any]], dict[str, Truth]]:
    """``n`` signal records (as JSON-ready dicts) and who each one truly is about."""
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    truth: dict[str, Truth] = {}
    people: list[dict[str, Any]] = []
    while len(records) < n:
        i = len(people)
        p = _person(rng, i)
        people.append(p)
        cats, menu = PROFILES[p["profile"]]
        for _ in range(min(rng.randint(1, 7), n - len(records))):
            source, kind, (lo, hi) = rng.choice(menu)
            rec: dict[str, Any] = {
                "signal_id": f"s{len(records):06d}",
                "source": source,
                "observed_at": (NOW - timedelta(minutes=rng.randint(0, 120 * 24 * 60))).isoformat(),
                "kind": kind,
                "value": round(rng.uniform(lo, hi), 0),
                "region": {"county": p["county"]},
                "categories": cats
                if source in ("civil_affairs", "grid_visit", "school") or rng.random() < 0.5
                else [],
            }
            if source in BY_ID or (source == "grid_visit" and not p["linked"]):
                rec["id_number"] = _present_id(rng, p["id"])
                raw = rec["id_number"]
            elif source in BY_PHONE:
                rec["phone"] = _present_phone(rng, p["phone"])
                rec["name"] = _present_name(rng, p["name"])
                raw = rec["phone"] + "|" + rec["name"]
            else:  # a grid visit that recorded everything
                rec["id_number"] = p["id"]
                rec["phone"] = p["phone"]
                rec["name"] = p["name"]
                raw = p["id"]
            truth[rec["signal_id"]] = Truth(i, f"{source}:{raw}")
            records.append(rec)
            if rng.random() < 0.03 and len(records) < n:  # the feed re-sent it
                copy = dict(rec, signal_id=f"s{len(records):06d}")
                truth[copy["signal_id"]] = Truth(i, f"{source}:{raw}")
                records.append(copy)
    return records, truth


def to_jsonl(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


def to_csv(records: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for r in records:
        writer.writerow(
            {**r, "county": r["region"]["county"], "categories": ";".join(r["categories"])}
        )
    return out.getvalue().encode()


def naive(signals: list[Signal], truth: dict[str, Truth]) -> list[DiscoveredCase]:
    """Baseline: every source's own raw identifier is a person; no normalising, no linking."""
    rules = load_rules()
    groups: dict[str, Person] = {}
    for s in signals:
        raw = truth[s.signal_id].raw_key
        groups.setdefault(raw, Person(f"naive-{len(groups)}")).signals.append(s)
    cases = [evaluate_person(p, rules, NOW) for p in groups.values()]
    return [c for c in cases if c is not None]


def duplicate_rate(
    cases: list[DiscoveredCase], truth: dict[str, Truth]
) -> tuple[int, int, float, int]:
    """(cases, people, share of cases that repeat a person, cases mixing two people)."""
    per_person: Counter[int] = Counter()
    mixed = 0
    for c in cases:
        people = {truth[sid].person for sid in c.signal_ids}
        mixed += len(people) > 1
        per_person.update(people)
    extra = sum(k - 1 for k in per_person.values())
    return len(cases), len(per_person), extra / len(cases) if cases else 0.0, mixed


def _timed(fn: Any, *args: Any, repeat: int = 3, **kw: Any) -> tuple[Any, float]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn(*args, **kw)
        best = min(best, time.perf_counter() - t)
    return result, best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    records, truth = generate(args.n, args.seed)
    rules = load_rules()
    jsonl, csv_bytes = to_jsonl(records), to_csv(records)

    (signals, errors), t_jsonl = _timed(parse_batch, jsonl, "jsonl", max_records=10**7)
    (csv_signals, csv_errors), t_csv = _timed(parse_batch, csv_bytes, "csv", max_records=10**7)
    assert not errors and not csv_errors, (errors[:3], csv_errors[:3])
    assert csv_signals == signals, "CSV and JSON lines must parse to the same signals"
    cases, t_eval = _timed(evaluate, signals, rules, NOW, key=KEY)
    base, t_naive = _timed(naive, signals, truth)
    d_cases, d_people, d_rate, d_mixed = duplicate_rate(cases, truth)
    n_cases, n_people, n_rate, n_mixed = duplicate_rate(base, truth)
    resent = len(records) - len(
        {(r["source"], r["kind"], r["observed_at"], truth[r["signal_id"]].person) for r in records}
    )

    n = len(records)
    print(
        f"discovery benchmark: {n} signals, seed {args.seed}, {len(rules.rules)} rules, "
        f"{len({t.person for t in truth.values()})} synthetic people, {resent} re-sent copies\n"
    )
    print("| step | time (s) | records/s |")
    print("|---|---:|---:|")
    print(f"| parse JSON lines ({len(jsonl) / 1e6:.1f} MB) | {t_jsonl:.3f} | {n / t_jsonl:,.0f} |")
    print(f"| parse CSV ({len(csv_bytes) / 1e6:.1f} MB) | {t_csv:.3f} | {n / t_csv:,.0f} |")
    print(f"| evaluate (resolve persons + rules) | {t_eval:.3f} | {n / t_eval:,.0f} |")
    print(f"| naive baseline evaluate | {t_naive:.3f} | {n / t_naive:,.0f} |")
    print()
    print("| grouping | cases | distinct people | duplicate-case rate | cases mixing 2 people |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| naive (raw identifier per source) | {n_cases} | {n_people} | {n_rate:.1%} | {n_mixed} |"
    )
    print(
        f"| fivelink (normalise + link + de-dup) | {d_cases} | {d_people} "
        f"| {d_rate:.1%} | {d_mixed} |"
    )
    fired = Counter(r for c in cases for r in c.rule_ids)
    urg = Counter(c.urgency.value for c in cases)
    print()
    print("rules fired:", ", ".join(f"{k} {v}" for k, v in sorted(fired.items())))
    print("case urgency:", ", ".join(f"{k} {v}" for k, v in sorted(urg.items())))


if __name__ == "__main__":
    main()
