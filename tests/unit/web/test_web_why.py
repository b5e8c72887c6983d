"""Why an assignment was proposed, in each page language, from the matcher's structured
explanation (never its English summary)."""

from __future__ import annotations

import pytest

from fivelink_intake.web.clients import Assignment
from fivelink_intake.web.i18n import LANGUAGES, Translator
from fivelink_intake.web.why import BINDINGS, bindings, joined, reasons, terms_of

EXPLANATION = {
    "summary": "money offer o-1 gives 200 CNY for food (high); priority 8.00, travel 3.2 km",
    "solver": "cp_sat",
    "binding": ["stock", "earmark:category", "bundle:b-7", "something_new"],
    "terms": [
        {"name": "priority", "value": 8.0},
        {"name": "travel_km", "value": 3.2},
        {"name": "continuity", "value": 0.5},
        {"name": "waiting_days", "value": 4.0},
        {"name": "displaced", "value": 2.0},
        {"name": "fraction", "value": 0.4},
        {"name": "churn", "value": 0.0},
    ],
}


def test_terms_are_read_by_name() -> None:
    terms = terms_of(EXPLANATION)
    assert terms["priority"] == 8.0 and terms["travel_km"] == 3.2 and terms["churn"] == 0.0
    assert terms_of({}) == {}


def test_the_chinese_page_says_why_in_chinese() -> None:
    t = Translator("zh")
    text = joined(reasons(terms_of(EXPLANATION), t))
    assert text == (
        "优先级 8.00 · 路程 3.2 公里 · 上次服务的社工（延续服务） · 已等待 4 天 · "
        "另有 2 条需求在等此资源 · 满足 40%"
    )
    assert "priority" not in text and "offer" not in text
    assert bindings(EXPLANATION["binding"], t) == [  # type: ignore[arg-type]
        "资源已用完",
        "定向用途：类别",
        "组合需求（须全部满足）",
        "something_new",  # an unknown constraint is shown as the matcher named it
    ]


def test_absent_or_neutral_terms_say_nothing() -> None:
    t = Translator("en")
    assert reasons({"priority": 1.5, "travel_km": 0.0, "continuity": 0.0, "fraction": 1.0}, t) == [
        "priority 1.50"
    ]
    assert reasons({}, t) == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_term_and_binding_has_a_label_in_every_language(lang: str) -> None:
    t = Translator(lang)
    own = t._own
    for key in ("why.priority", "why.travel", "why.continuity", "why.waiting", "why.displaced",
                "why.fraction"):  # fmt: skip
        assert own.get(key), f"{lang}: {key}"
    for name in [*BINDINGS, "bundle:x"]:
        label = bindings([name], t)[0]
        assert label != name and not label.startswith("binding."), f"{lang}: {name}"


def test_assignment_from_the_api_carries_the_terms() -> None:
    a = Assignment.from_api(
        {
            "assignment_id": "as-1",
            "case_id": "c-1",
            "line_id": "l-1",
            "offer_id": "o-1",
            "org_id": "org-1",
            "county": "150102",
            "quantity": 200.0,
            "status": "proposed",
            "event": {"explanation": EXPLANATION, "need_type": "food", "unit": "CNY"},
        }
    )
    assert a.terms["priority"] == 8.0 and a.binding[0] == "stock"
