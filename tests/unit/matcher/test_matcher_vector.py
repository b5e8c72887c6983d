"""The vectorised pair checks give exactly the stages and distances of check_pair."""

from __future__ import annotations

from dataclasses import replace

from matcher_support import NOW

from fivelink_matcher.domain.eligibility import check_pair, due_at
from fivelink_matcher.domain.model import SolverConfig
from fivelink_matcher.domain.prepare import prepare, worker_key
from fivelink_matcher.domain.synthetic import county_instance
from fivelink_matcher.domain.vector import stages
from fivelink_shared.events import Earmarks


def test_vector_stages_equal_check_pair() -> None:
    p = county_instance(240, seed=9, now=NOW, n_resources=60, n_workers=15)
    lines = tuple(replace(x, location=None) if k % 6 == 0 else x for k, x in enumerate(p.lines))
    res = list(p.resources)
    res[0] = replace(res[0], earmarks=Earmarks(counties=("150999",)))
    res[1] = replace(res[1], quantity=0.0)
    res = [replace(r, location=None) if k % 5 == 0 else r for k, r in enumerate(res)]
    excluded = frozenset((lines[k].line_id, res[k % len(res)].offer_id) for k in range(0, 240, 7))
    p = replace(p, lines=lines, resources=tuple(res), excluded_pairs=excluded)
    cfg = SolverConfig()
    caseload = prepare(p, cfg).caseload
    checked = 0
    for nt in {x.need_type for x in p.lines}:
        ls = [x for x in p.lines if x.need_type == nt]
        rs = [r for r in p.resources if nt in r.need_types]
        left = [caseload.get(worker_key(r)) for r in rs]
        st, km = stages(nt, ls, rs, p, cfg, left, [due_at(x, p.now, cfg) for x in ls])
        for a, x in enumerate(ls):
            for b, r in enumerate(rs):
                chk = check_pair(x, r, p, cfg, left[b])
                assert st[a, b] == chk.stage, (x.line_id, r.offer_id, chk)
                if chk.stage >= 4:  # the distance is known from the range stage on
                    assert km[a, b] == chk.km
                checked += 1
    assert checked > 4000
