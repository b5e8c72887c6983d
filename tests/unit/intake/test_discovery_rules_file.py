"""The rules file: the packaged one loads, bad files get clear errors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from fivelink_intake.discovery.rules import RulesError, load_rules, parse_rules
from fivelink_shared.events import NeedType

GOOD = """
version: 1
name: test
verification: {deadline_hours: {crisis: 24, high: 72, normal: 168}}
rules:
  - id: big-bill
    description: {zh: 大额账单, en: big bill}
    when: {signal: {kinds: [hospital_bill], within_days: 30, value: {gte: 100}}}
    score: 40
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(RulesError) as info:
        parse_rules(text, "t.yaml")
    assert str(info.value).startswith("t.yaml: bad discovery rules")
    return info.value.problems


def _with(**rule_over: object) -> str:
    doc = yaml.safe_load(GOOD)
    doc["rules"][0].update(rule_over)
    return yaml.safe_dump(doc, allow_unicode=True)


def test_packaged_rules_load_and_are_realistic() -> None:
    rules = load_rules()
    assert rules.version == 1
    assert 6 <= len(rules.rules) <= 10
    assert rules.lookback == timedelta(days=180)
    for rule in rules.rules:
        assert rule.description.zh and rule.description.en
        assert all(line.need is not NeedType.VERIFICATION_VISIT for line in rule.open)


def test_load_from_path(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(GOOD, "utf-8")
    assert load_rules(path).rules[0].id == "big-bill"


def test_good_minimal_file() -> None:
    assert parse_rules(GOOD).rules[0].score == 40


def test_yaml_syntax_error_has_a_line_number() -> None:
    (problem,) = _problems(GOOD + "  - id: [unclosed\n")
    assert problem.startswith("line ") and "not valid YAML" in problem


def test_not_a_mapping() -> None:
    assert "mapping" in _problems("- 1\n- 2\n")[0]


def test_unsupported_version() -> None:
    (problem,) = _problems(GOOD.replace("version: 1", "version: 2"))
    assert "version 2 is not supported" in problem


def test_unknown_kind_points_at_the_rule_and_field() -> None:
    text = _with(when={"signal": {"kinds": ["hospital_bil"], "within_days": 30}})
    (problem,) = _problems(text)
    assert problem.startswith("rules[0] (id=big-bill).when.signal.kinds[0]:")
    assert "hospital_bill" in problem  # pydantic lists the allowed kinds


def test_condition_needs_exactly_one_key() -> None:
    text = _with(when={"signal": {"kinds": ["hospital_bill"], "within_days": 3}, "any": []})
    (problem,) = _problems(text)
    assert "exactly one of" in problem and problem.startswith("rules[0] (id=big-bill).when")


def test_nested_condition_error_location() -> None:
    text = _with(
        when={"all": [{"signal": {"kinds": ["hospital_bill"], "within_days": 3}}, {"signal": {}}]}
    )
    problems = _problems(text)
    assert any(p.startswith("rules[0] (id=big-bill).when.all[1].signal.kinds") for p in problems)
    assert any(".within_days: Field required" in p for p in problems)


@pytest.mark.parametrize(
    ("over", "fragment"),
    [
        ({"score": 0}, "score"),
        ({"score": 101}, "score"),
        ({"id": "Bad Id"}, ".id:"),
        ({"urgency": "asap"}, "urgency"),
        ({"categories": ["rich"]}, "categories[0]"),
        ({"open": [{"need": "verification_visit"}]}, "starts with a verification visit"),
        ({"open": [{"need": "medical_aid", "quantity": -1}]}, "quantity"),
        ({"when": {"signal": {"kinds": ["hospital_bill"], "within_days": 0}}}, "within_days"),
        (
            {"when": {"signal": {"kinds": ["hospital_bill"], "within_days": 9, "value": {}}}},
            "threshold",
        ),
        ({"when": {"distinct_sources": {"min_sources": 1, "within_days": 9}}}, "min_sources"),
        ({"when": {"any": []}}, "when.any"),
        ({"description": {"zh": "只有中文"}}, "description.en"),
        ({"typo_field": 1}, "typo_field"),
    ],
)
def test_bad_rule_fields(over: dict[str, object], fragment: str) -> None:
    problems = _problems(_with(**over))
    assert any(fragment in p for p in problems), problems


def test_duplicate_rule_ids() -> None:
    doc = yaml.safe_load(GOOD)
    doc["rules"].append(doc["rules"][0])
    assert "appears twice" in _problems(yaml.safe_dump(doc))[0]


def test_verification_needs_every_urgency() -> None:
    text = GOOD.replace("crisis: 24, ", "")
    assert "missing: crisis" in _problems(text)[0]


def test_every_problem_is_reported_at_once() -> None:
    text = _with(score=0, urgency="asap")
    assert len(_problems(text)) == 2
