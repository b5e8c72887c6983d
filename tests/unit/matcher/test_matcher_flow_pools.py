"""Interchangeable money offers pooled in the flow: same optimum, budgets kept, few splits."""

from __future__ import annotations

from collections import defaultdict

import pytest
from matcher_support import NOW

from fivelink_matcher.domain import flow
from fivelink_matcher.domain.alloc import Alloc, score
from fivelink_matcher.domain.model import SolverConfig
from fivelink_matcher.domain.prepare import Prepared, prepare
from fivelink_matcher.domain.solver import _partition
from fivelink_matcher.domain.synthetic import county_instance


def _transport(seed: int) -> tuple[Prepared, list[int], list[int]]:
    p = county_instance(
        400, seed=seed, now=NOW, n_resources=80, n_workers=0, visit_share=0.0, bundle_share=0.0
    )
    prep = prepare(p, SolverConfig())
    parts = _partition(prep)
    return prep, parts.flow_lines, parts.transport_res


def _unpooled(prep: Prepared, lines: list[int], res: list[int]) -> Alloc:
    real = flow._interchangeable
    flow._interchangeable = lambda *_: []  # type: ignore[assignment]
    try:
        got = flow.solve_flow(prep, lines, res)
    finally:
        flow._interchangeable = real
    assert got is not None
    return got


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pooling_keeps_the_optimum_and_every_budget(seed: int) -> None:
    prep, lines, res = _transport(seed)
    pools = flow._interchangeable(prep, prep.pairs_of(lines), res)
    assert pools, "the generator's funds without earmarks should pool"
    pooled = flow.solve_flow(prep, lines, res)
    assert pooled is not None
    assert score(prep, pooled) == score(prep, _unpooled(prep, lines, res))
    spent: dict[int, int] = defaultdict(int)
    for k, units in pooled.items():
        assert units > 0
        spent[prep.pairs[k].res] += units
    assert all(spent[j] <= prep.cap[j] for j in spent)


def test_a_pool_splits_a_line_only_where_a_fund_runs_out() -> None:
    prep, lines, res = _transport(0)
    pooled = flow.solve_flow(prep, lines, res)
    assert pooled is not None
    for pool in flow._interchangeable(prep, prep.pairs_of(lines), res):
        funds_of_line: dict[int, set[int]] = defaultdict(set)
        for keys, j in zip(pool.keys, pool.funds, strict=True):
            for k in keys:
                if k in pooled:
                    funds_of_line[prep.pairs[k].line].add(j)
        split = sum(1 for fs in funds_of_line.values() if len(fs) > 1)
        assert split <= len(pool.funds) - 1


def test_funds_with_kept_units_are_not_pooled() -> None:
    prep, lines, res = _transport(0)
    pools = flow._interchangeable(prep, prep.pairs_of(lines), res)
    member = pools[0].funds[1]
    k = pools[0].keys[1][0]
    keep = prep.pair_arrays()["keep"]
    keep[k] = 1  # as if a previous proposal had put a unit on this pair
    again = flow._interchangeable(prep, prep.pairs_of(lines), res)
    assert all(member not in pool.funds for pool in again)
