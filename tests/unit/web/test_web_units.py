"""The web pages' pure parts: labels, form nesting and errors, counts, CSV, CSRF."""

from __future__ import annotations

import csv
import io
import json

import pytest
from starlette.requests import Request

from fivelink_intake.domain.cases import CaseCreate
from fivelink_intake.web import forms, i18n, session
from fivelink_intake.web.clients import Assignment, Unmet
from fivelink_intake.web.reports import offer_reports, reports_csv, supervisor_table


def test_every_language_has_every_label() -> None:
    keys = {lang: set(i18n.catalog(lang)) for lang in i18n.LANGUAGES}
    assert keys["zh"] == keys["mn"] == keys["en"]
    assert all(v.strip() for lang in i18n.LANGUAGES for v in i18n.catalog(lang).values())


def test_language_choice_cookie_then_header_then_chinese() -> None:
    assert i18n.pick("mn", "en-US") == "mn"
    assert i18n.pick(None, "en-US,en;q=0.9") == "en"
    assert i18n.pick("xx", "fr") == "zh"
    assert i18n.Translator("en")("err.gt", gt=0) == "Must be more than 0"


def test_nest_builds_the_api_body_and_rows_keep_their_form_index() -> None:
    items = [
        ("csrf", "t"),
        ("person.name", " 甲 "),
        ("person.categories", "disabled"),
        ("person.categories", "veteran"),
        ("lines.0.urgency", "normal"),  # row 0 left empty
        ("lines.1.need_type", "food"),
        ("lines.1.quantity", "-1"),
        ("lines.1.deadline", "2030-01-02"),
    ]
    body = forms.nest(items, ("person.categories",))
    assert body["person"] == {"name": "甲", "categories": ["disabled", "veteran"]}
    assert body["lines"][1]["deadline"] == "2030-01-02T23:59:59+08:00"
    renames = forms.drop_empty_rows(body, "lines", ("need_type", "quantity", "unit"))
    assert len(body["lines"]) == 1
    _, errors = forms.validate(CaseCreate, body, i18n.Translator("en"))
    errors = forms.renamed(errors, renames)
    assert errors["lines.1.quantity"] == "Must be more than 0"
    assert errors["lines.1.unit"] == "Required"
    assert errors["region"] == "Required" and "person.consent" in errors


def test_submitted_counts_rows() -> None:
    values = forms.Submitted([("lines.0.unit", "kg"), ("lines.3.unit", "kg"), ("x", "1")])
    assert values.rows("lines") == 4 and values.get("x") == "1" and values.has("x", "1")


def _assignment(status: str, community: str = "c1", line: str = "l1") -> Assignment:
    return Assignment.from_api(
        {
            "assignment_id": f"a-{line}-{status}",
            "county": "150102",
            "case_id": "case-1",
            "line_id": line,
            "offer_id": "o-1",
            "org_id": "org",
            "quantity": 5,
            "status": status,
            "event": {
                "need_type": "food",
                "unit": "kg",
                "urgency": "high",
                "region": {"county": "150102", "township": "t1", "community": community},
                "explanation": {"summary": "why", "solver": "min_cost_flow"},
            },
        }
    )


def test_supervisor_table_counts_per_community_and_type() -> None:
    cases = [
        {
            "case_id": "case-1",
            "status": "open",
            "community": "c1",
            "case": {"lines": [{"line_id": "l1", "need_type": "food"}]},
        }
    ]
    unmet = [Unmet(line_id="l1", case_id="case-1", reason="out_of_stock")]
    rows = supervisor_table(cases, [_assignment("delivered")], unmet)
    assert [(r.community, r.need_type, r.open_lines, r.unmet) for r in rows] == [
        ("c1", "food", 1, 1)
    ]
    assert rows[0].counts["delivered"] == 1


def test_charity_report_and_csv_are_de_identified() -> None:
    assignments = [_assignment("delivered"), _assignment("withdrawn", line="l2")]
    reports = offer_reports([{"offer_id": "o-1", "kind": "goods"}], assignments, lambda x: "n-x")
    assert reports[0].delivered == 1 and reports[0].amounts() == {"kg": 5.0}
    text = reports_csv(reports)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows == [
        {
            "offer_id": "o-1",
            "need_ref": "n-x",
            "need_type": "food",
            "quantity": "5.0",
            "unit": "kg",
            "urgency": "high",
            "county": "150102",
            "township": "t1",
            "status": "delivered",
        }
    ]
    assert "case-1" not in text and "l1" not in text and "c1" not in json.dumps(rows)


def _request(cookies: str = "") -> Request:
    headers = [(b"cookie", cookies.encode())] if cookies else []
    return Request({"type": "http", "headers": headers, "method": "POST", "path": "/ui/x"})


def test_csrf_token_is_bound_to_the_browser_seed() -> None:
    token = session._csrf_of("secret", "seed-1")
    session.check_csrf(_request("fl_csrf=seed-1"), "secret", token)
    for cookies, submitted in (("fl_csrf=seed-2", token), ("", token), ("fl_csrf=seed-1", None)):
        with pytest.raises(session.CsrfFailed):
            session.check_csrf(_request(cookies), "secret", submitted)
