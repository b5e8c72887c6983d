"""Self-assessment questionnaire → signal → the self-assessment rule."""

from __future__ import annotations

import pytest
from discovery_support import KEY, NOW

from fivelink_intake.discovery.engine import evaluate
from fivelink_intake.discovery.rules import load_rules
from fivelink_intake.discovery.selfcheck import QUESTIONS, score, to_signal
from fivelink_shared.events import Region


def _answers(*values: int) -> dict[str, int]:
    return dict(zip(QUESTIONS, values, strict=True))


def test_score_sums_answers() -> None:
    assert score(_answers(2, 2, 1, 1, 1)) == 7
    assert score(_answers(0, 0, 0, 0, 0)) == 0


@pytest.mark.parametrize(
    "answers",
    [{"food": 1}, {**_answers(0, 0, 0, 0, 0), "pets": 1}, _answers(3, 0, 0, 0, 0)],
)
def test_incomplete_or_bad_answers(answers: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        score(answers)


@pytest.mark.parametrize(("values", "fires"), [((2, 2, 1, 1, 1), True), ((2, 2, 1, 1, 0), False)])
def test_questionnaire_feeds_the_rule(values: tuple[int, ...], fires: bool) -> None:
    signal = to_signal(
        _answers(*values),
        signal_id="sa-1",
        observed_at=NOW,
        region=Region(county="150105"),
        phone="13800001111",
        name="王芳",
    )
    cases = evaluate([signal], load_rules(), NOW, key=KEY)
    assert bool(cases) is fires
    assert all(QUESTIONS[q]["zh"] and QUESTIONS[q]["en"] for q in QUESTIONS)
