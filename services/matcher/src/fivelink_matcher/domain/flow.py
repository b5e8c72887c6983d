"""Min-cost flow for pure transport: money and goods, divisible, no bundles, no workers.

Network: source -> resource (stock) -> line (eligible pair) -> community group -> sink, with
a free source -> sink arc so that supply need not be used. Costs are negated scores, so the
cheapest flow is the best allocation; the fairness bonus sits on the first `share` units of
each community's arc to the sink, which makes spreading coverage pay (a concave reward).
"""

from __future__ import annotations

import numpy as np
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
    rnode = {j: 2 + n for n, j in enumerate(resources)}
    lnode = {i: 2 + len(resources) + n for n, i in enumerate(lines)}
    groups = sorted({p.group_of[i] for i in lines if i in p.group_of})
    gnode = {g: 2 + len(resources) + len(lines) + n for n, g in enumerate(groups)}
    pair_ids = [k for i in lines for k in p.line_pairs[i]]
    supply = sum(caps[j] for j in resources)
    demand = sum(p.need[i] for i in lines)

    # Variables: one arc per stock, eligible pair, line outlet, group outlet (two pieces).
    tails: list[int] = []
    heads: list[int] = []
    arc_caps: list[int] = []
    costs: list[int] = []

    def arc(t: int, h: int, c: int, cost: int) -> None:
        tails.append(t)
        heads.append(h)
        arc_caps.append(c)
        costs.append(cost)

    # Constraints: a resource gives at most its stock (or budget).
    for j in resources:
        arc(source, rnode[j], caps[j], 0)
    # Constraints: a pair carries at most what the line needs and the resource holds.
    # Objective: each unit on a pair earns its coefficient (cost is the negated score); units
    # kept from the previous proposal earn the churn bonus too, on a parallel arc.
    pair_arcs: list[int] = []
    pair_of_arc: dict[int, int] = {}
    for k in pair_ids:
        pr = p.pairs[k]
        kept = min(pr.keep, pr.ub)
        pair_arcs.append(len(tails))
        pair_of_arc[len(tails)] = k
        arc(rnode[pr.res], lnode[pr.line], pr.ub - kept, -pr.coef)
        if kept:
            pair_arcs.append(len(tails))
            pair_of_arc[len(tails)] = k
            arc(rnode[pr.res], lnode[pr.line], kept, -pr.coef - pr.keep_bonus)
    # Constraints: a line receives at most what it still needs.
    for i in lines:
        g = p.group_of.get(i)
        arc(lnode[i], sink if g is None else gnode[g], p.need[i], 0)
    # Objective: fairness bonus on each community's coverage up to its fair share.
    for g in groups:
        arc(gnode[g], sink, p.groups[g].share, -p.groups[g].bonus)
        arc(gnode[g], sink, demand, 0)
    # Constraints: supply not used flows straight to the sink at no score.
    arc(source, sink, supply, 0)

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
    flows = mcf.flows(np.asarray(pair_arcs, dtype=np.int32))
    alloc: Alloc = {}
    for a, f in zip(pair_arcs, flows, strict=True):
        if f > 0:
            k = pair_of_arc[a]
            alloc[k] = alloc.get(k, 0) + int(f)
    return alloc
