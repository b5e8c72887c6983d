"""Turn an allocation into assignments and unmet lines, each with its reason."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from functools import lru_cache

import numpy as np

from fivelink_shared.events import Explanation, OfferKind, ScoreTerm

from .alloc import Alloc, line_units
from .eligibility import STAGE_REASON
from .model import Assignment, Unmet, UnmetReason
from .prepare import PSCALE, QSCALE, UNLIMITED, Prepared


def _left(p: Prepared, alloc: Alloc) -> tuple[list[int], dict[str, int]]:
    """Capacity and caseload left after `alloc`."""
    cap = list(p.cap)
    case = dict(p.caseload)
    for k, u in alloc.items():
        pr = p.pairs[k]
        if p.worker[pr.res]:
            cap[pr.res] -= p.hours[pr.line]
            case[p.worker[pr.res]] -= 1
        else:
            cap[pr.res] -= u
    return cap, case


def _round(x: float) -> float:
    return round(x, 4)


@lru_cache(maxsize=1 << 14)
def _term(name: str, value: float) -> ScoreTerm:
    """A score term built without validation (a name and a float: nothing to check), since
    a county's explanations hold tens of thousands of them. Terms are immutable and many
    repeat (urgency, fraction, continuity...), so equal ones are shared."""
    return ScoreTerm.model_construct(name=name, value=float(value))


def assignments(p: Prepared, alloc: Alloc, solver: str) -> list[Assignment]:
    """Accepted assignments (fixed) first, then the new ones, each explained."""
    out: list[Assignment] = []
    for f, i, j in p.fixed:
        if i is None:
            continue
        line = p.lines[i]
        res = p.res[j] if j is not None else None
        out.append(
            Assignment(
                line_id=line.line_id,
                case_id=line.case_id,
                offer_id=f.offer_id,
                org_id=res.org_id if res else "",
                worker_id=res.worker_id if res else None,
                quantity=f.quantity,
                explanation=Explanation(
                    summary="accepted before; kept as it is",
                    terms=(ScoreTerm(name="priority", value=_round(p.prio[i].points)),),
                    binding=("fixed",),
                    solver=solver,
                ),
                fixed=True,
            )
        )
    cap, case = _left(p, alloc)
    got = line_units(p, alloc)
    moved = {q.line_id for q in p.problem.proposed}
    # What each offer displaced: lines left (partly) unmet that it could have served.
    short = [i for i in p.open_lines() if got[i] < p.need[i]]
    waiting = np.bincount(p.pair_arrays()["res"][p.pairs_of(short)], minlength=len(p.res))
    w = p.config.weights
    for k in sorted(alloc, key=lambda k: (p.lines[p.pairs[k].line].line_id, k)):
        pr = p.pairs[k]
        line, res, pri = p.lines[pr.line], p.res[pr.res], p.prio[pr.line]
        visit = line.is_visit
        qty = line.quantity if visit else alloc[k] / QSCALE
        binding: list[str] = []
        if visit:
            if cap[pr.res] < p.hours[pr.line]:
                binding.append("hours")
            if p.caseload[p.worker[pr.res]] < UNLIMITED and case[p.worker[pr.res]] <= 0:
                binding.append("caseload")
        elif cap[pr.res] <= 0:
            binding.append("stock")
        em = res.earmarks
        for name, on in (
            ("category", em.categories),
            ("need_type", em.need_types),
            ("county", em.counties),
            ("community", em.communities),
        ):
            if on:
                binding.append(f"earmark:{name}")
        if line.languages:
            binding.append("language")
        if line.skills:
            binding.append("skill")
        if res.valid_until is not None:
            due = line.deadline or p.problem.now
            if res.valid_until - due < timedelta(hours=24):
                binding.append("expiry")
        if res.delivery_radius_km is not None and pr.km >= 0.9 * res.delivery_radius_km:
            binding.append("radius")
        if line.bundle:
            binding.append(f"bundle:{line.bundle}")
        if got[pr.line] < p.need[pr.line]:
            binding.append("partial")
        frac = 1.0 if visit else alloc[k] / p.full[pr.line]
        displaced = int(waiting[pr.res])
        travel_km = 0.0 if res.kind == OfferKind.MONEY else pr.km
        churn = 0.0 if pr.kept or line.line_id not in moved else -w.churn
        terms = (
            _term("priority", _round(pri.points)),
            _term("policy_value", _round(pri.value)),
            _term("urgency", _round(pri.urgency)),
            _term("vulnerability", _round(pri.vulnerability)),
            _term("waiting_days", _round(pri.waiting_days)),
            _term("travel_km", _round(travel_km)),
            _term("continuity", w.continuity if pr.continuity else 0.0),
            _term("churn", churn),
            _term("score", _round(pr.value(alloc[k]) / PSCALE)),
            _term("fraction", _round(frac)),
            _term("displaced", float(displaced)),
        )
        extra = ""
        if displaced:
            extra += f"; {displaced} other eligible line(s) still waiting for this offer"
        if pr.continuity:
            extra += "; same worker as last time"
        if pr.kept:
            extra += "; kept from the previous proposal"
        summary = (
            f"{res.kind.value} offer {res.offer_id} gives {qty:g} {line.unit} for "
            f"{line.need_type.value} ({line.urgency.value}); priority {pri.points:.2f}, "
            f"travel {travel_km:.1f} km{extra}"
        )
        out.append(
            Assignment(
                line_id=line.line_id,
                case_id=line.case_id,
                offer_id=res.offer_id,
                org_id=res.org_id,
                worker_id=res.worker_id,
                quantity=qty,
                # Built without validation, like the terms: every field is made right here.
                explanation=Explanation.model_construct(
                    summary=summary, terms=terms, binding=tuple(binding), solver=solver
                ),
            )
        )
    return out


def unmet(p: Prepared, alloc: Alloc) -> list[Unmet]:
    """Every line not fully served, with the first constraint that stopped it."""
    cap, case = _left(p, alloc)
    got = line_units(p, alloc)
    takers: dict[int, list[int]] = defaultdict(list)
    for k in alloc:
        takers[p.pairs[k].res].append(p.pairs[k].line)
    out: list[Unmet] = []
    for i in p.open_lines():
        if got[i] >= p.need[i]:
            continue
        line = p.lines[i]
        wait_h = max(0.0, (p.problem.now - line.opened_at).total_seconds() / 3600.0)
        remaining = line.quantity if line.is_visit else (p.need[i] - got[i]) / QSCALE
        reason, detail = _why(p, i, cap, case, takers)
        out.append(
            Unmet(line.line_id, line.case_id, reason, detail, _round(wait_h), _round(remaining))
        )
    return out


def _why(
    p: Prepared,
    i: int,
    cap: list[int],
    case: dict[str, int],
    takers: dict[int, list[int]],
) -> tuple[UnmetReason, str]:
    """Why line `i` went (partly) without: no pair, bundle, or outranked by others."""
    if i in p.no_pair:
        stage, detail = p.no_pair[i]
        return STAGE_REASON[stage], detail
    line = p.lines[i]
    if line.bundle:
        missing = [m for m in p.bundles.get(line.bundle, []) if m in p.no_pair]
        if missing:
            who = p.lines[missing[0]].line_id
            return "bundle_incomplete", f"bundle {line.bundle}: line {who} has no resource"
        return "bundle_incomplete", f"bundle {line.bundle} could not be served in full"
    run = p.line_pairs[i]
    offers = np.unique(p.pair_arrays()["res"][run.start : run.stop]).tolist()
    names = ", ".join(p.res[j].offer_id for j in offers[:5])
    higher = any(
        p.prio[t].value > p.prio[i].value for j in offers for t in takers.get(j, []) if t != i
    )
    if higher:
        return "outranked", f"eligible offers ({names}) went to higher-priority lines"
    return "outranked", f"eligible offers ({names}) went to lines that score better overall"
