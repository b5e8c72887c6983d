"""Min-cost flow for pure transport: money and goods, divisible, no bundles, no workers.

Network: source -> resource (stock) -> line (eligible pair) -> community group -> sink, with
a free source -> sink arc so that supply need not be used. Costs are negated scores, so the
cheapest flow is the best allocation; the fairness bonus sits on the first `share` units of
each community's arc to the sink, which makes spreading coverage pay (a concave reward).

Money offers that are interchangeable for these lines (the same eligible lines at the same
scores, nothing kept from a previous proposal: typically funds without earmarks) share one
node with their summed budget; the flow on it is then handed out fund by fund in offer
order, so a line is split between funds only where one runs out. A county's funds are a
third of its pairs, and the network about as much smaller.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

from .alloc import Alloc
from .prepare import Prepared


def solve_flow(
    p: Prepared, lines: list[int], resources: list[int], cap: list[int] | None = None
) -> Alloc | None:
    """Optimal allocation of the transport sub-problem, or None if the solver failed.

    `cap` overrides the resources' capacity (what other sub-problems left over).
    """
    caps = p.cap if cap is None else cap
    if not lines or not resources:
        return {}
    # Data: node numbers for source, sink, resources, lines and fairness groups.
    source, sink = 0, 1
    groups = sorted({p.group_of[i] for i in lines if i in p.group_of})
    rnode = np.full(len(p.res), -1, dtype=np.int64)
    rnode[resources] = 2 + np.arange(len(resources))
    lnode = np.full(len(p.lines), -1, dtype=np.int64)
    lnode[lines] = 2 + len(resources) + np.arange(len(lines))
    gnode = {g: 2 + len(resources) + len(lines) + n for n, g in enumerate(groups)}
    keys = p.pairs_of(lines)
    arr = p.pair_arrays()
    caps_arr = np.asarray(caps, dtype=np.int64)
    supply = int(caps_arr[resources].sum())
    demand = sum(p.need[i] for i in lines)
    pools = _interchangeable(p, keys, resources)
    if pools:
        # One node per pool: the first fund's pairs stand for the pool's, with its budget.
        caps_arr = caps_arr.copy()
        others = np.zeros(len(p.res), dtype=np.bool_)
        for pool in pools:
            caps_arr[pool.funds[0]] = sum(int(caps_arr[j]) for j in pool.funds)
            others[pool.funds[1:]] = True
        keys = keys[~others[arr["res"][keys]]]

    # Variables: one arc per stock, eligible pair, line outlet, group outlet (two pieces).
    # Constraints: a resource gives at most its stock (or budget).
    t_res = np.full(len(resources), source, dtype=np.int64)
    h_res = rnode[resources]
    c_res = caps_arr[resources]
    # Constraints: a pair carries at most what the line needs and the resource holds.
    # Objective: each unit on a pair earns its coefficient (cost is the negated score); units
    # kept from the previous proposal earn the churn bonus too, on a parallel arc that follows
    # the pair's own arc.
    coef = arr["coef"][keys]
    # A pair carries at most what the line needs and its resource (or pool) holds.
    ub = np.minimum(
        np.asarray(p.need, dtype=np.int64)[arr["line"][keys]], caps_arr[arr["res"][keys]]
    )
    ub = np.where(arr["ub"][keys] == 1, np.minimum(ub, 1), ub)  # a visit: one worker
    kept = np.minimum(arr["keep"][keys], ub)
    has = kept > 0
    per = 1 + has.astype(np.int64)
    at = np.cumsum(per) - per
    n_pair_arcs = int(per.sum())
    t_pair = np.empty(n_pair_arcs, dtype=np.int64)
    h_pair = np.empty(n_pair_arcs, dtype=np.int64)
    c_pair = np.empty(n_pair_arcs, dtype=np.int64)
    cost_pair = np.empty(n_pair_arcs, dtype=np.int64)
    k_pair = np.empty(n_pair_arcs, dtype=np.int64)
    tails_k, heads_k = rnode[arr["res"][keys]], lnode[arr["line"][keys]]
    for pos, cap_k, cost_k, sel in (
        (at, ub - kept, -coef, slice(None)),
        (at[has] + 1, kept[has], -coef[has] - arr["keep_bonus"][keys][has], has),
    ):
        t_pair[pos], h_pair[pos] = tails_k[sel], heads_k[sel]
        c_pair[pos], cost_pair[pos], k_pair[pos] = cap_k, cost_k, keys[sel]
    # Constraints: a line receives at most what it still needs.
    t_line = lnode[lines]
    h_line = np.asarray(
        [sink if p.group_of.get(i) is None else gnode[p.group_of[i]] for i in lines],
        dtype=np.int64,
    )
    c_line = np.asarray([p.need[i] for i in lines], dtype=np.int64)
    # Objective: fairness bonus on each community's coverage up to its fair share.
    t_grp = np.asarray([gnode[g] for g in groups for _ in (0, 1)], dtype=np.int64)
    h_grp = np.full(2 * len(groups), sink, dtype=np.int64)
    c_grp = np.asarray([c for g in groups for c in (p.groups[g].share, demand)], dtype=np.int64)
    cost_grp = np.asarray([c for g in groups for c in (-p.groups[g].bonus, 0)], dtype=np.int64)
    # Constraints: supply not used flows straight to the sink at no score.
    first_pair = len(resources)
    tails = np.concatenate([t_res, t_pair, t_line, t_grp, [source]])
    heads = np.concatenate([h_res, h_pair, h_line, h_grp, [sink]])
    arc_caps = np.concatenate([c_res, c_pair, c_line, c_grp, [supply]])
    costs = np.concatenate(
        [np.zeros(len(resources), np.int64), cost_pair, np.zeros(len(lines), np.int64),
         cost_grp, [0]]
    )  # fmt: skip
    pair_arcs = first_pair + np.arange(n_pair_arcs)

    mcf = min_cost_flow.SimpleMinCostFlow()
    mcf.add_arcs_with_capacity_and_unit_cost(
        np.asarray(tails, dtype=np.int32),
        np.asarray(heads, dtype=np.int32),
        np.asarray(arc_caps, dtype=np.int64),
        np.asarray(costs, dtype=np.int64),
    )
    n_nodes = 2 + len(resources) + len(lines) + len(groups)
    supplies = np.zeros(n_nodes, dtype=np.int64)
    supplies[source], supplies[sink] = supply, -supply
    mcf.set_nodes_supplies(np.arange(n_nodes, dtype=np.int32), supplies)

    # Solve.
    status = mcf.solve()
    if status != mcf.OPTIMAL:
        return None
    flows = mcf.flows(pair_arcs.astype(np.int32))
    alloc: Alloc = {}
    for k, f in zip(k_pair[flows > 0].tolist(), flows[flows > 0].tolist(), strict=True):
        alloc[k] = alloc.get(k, 0) + int(f)
    for pool in pools:
        _hand_out(pool, alloc, caps)
    return alloc


@dataclass(frozen=True, slots=True)
class Pool:
    """Interchangeable money offers: `keys[n]` are fund `funds[n]`'s pairs, line by line, in
    the same line order for every fund."""

    funds: list[int]
    keys: list[list[int]]


def _interchangeable(p: Prepared, keys: npt.NDArray[np.int64], resources: list[int]) -> list[Pool]:
    """Pools of two or more of `resources` with one money lead (the same eligible lines, so
    the same scores: see `Prepared.money_lead`) and nothing kept on them from a previous
    proposal, each fund with its pairs among `keys`."""
    arr = p.pair_arrays()
    lead = p.money_lead
    shared = np.bincount(lead[resources], minlength=len(p.res)) > 1
    candidate = np.zeros(len(p.res), dtype=np.bool_)
    candidate[resources] = shared[lead[resources]]
    keys = keys[candidate[arr["res"][keys]]]
    if not len(keys):
        return []
    keys = keys[np.argsort(arr["res"][keys], kind="stable")]  # by fund, lines in order
    funds, starts = np.unique(arr["res"][keys], return_index=True)
    members: dict[int, list[tuple[int, list[int]]]] = defaultdict(list)
    for j, run in zip(funds.tolist(), np.split(keys, starts[1:]), strict=True):
        if not arr["keep"][run].any():
            members[int(lead[j])].append((j, run.tolist()))
    return [
        Pool([j for j, _ in ms], [ks for _, ks in ms]) for ms in members.values() if len(ms) > 1
    ]


def _hand_out(pool: Pool, alloc: Alloc, caps: list[int]) -> None:
    """Move the flow on the pool's node (on the first fund's pairs) to its funds: each fund
    in turn, lines in order, so that a line is split only where a fund runs out."""
    lead = pool.keys[0]
    flows = [(n, alloc.pop(k)) for n, k in enumerate(lead) if k in alloc]
    left = [caps[j] for j in pool.funds]
    m = 0
    for n, units in flows:
        while units > 0:
            if m >= len(left):
                raise AssertionError("a pool gave more than its funds hold")
            take = min(units, left[m])
            if take:
                k = pool.keys[m][n]
                alloc[k] = alloc.get(k, 0) + take
                left[m] -= take
                units -= take
            if left[m] == 0:
                m += 1
