"""Self-assessment (自评): five plain questions turned into a ``self_assessment`` signal.

``score(answers) -> int`` (0-10) and ``to_signal(answers, *, signal_id, observed_at, region,
...) -> Signal``. Each answer is 0 (no), 1 (sometimes) or 2 (often / yes, badly); the score
is their sum, so the packaged ``self-assessment-high`` rule (>= 7) means several serious
answers. Question texts are given in zh and en; mn is still to be written by a translator.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from fivelink_intake.discovery.signals import Signal, SignalKind, Source
from fivelink_shared.events import Category, GeoPoint, Region

QUESTIONS: dict[str, dict[str, str]] = {
    "food": {
        "zh": "近一个月，家里是否有吃不饱、断粮的时候？",
        "en": "In the past month, was there not enough food at home?",
    },
    "medical": {
        "zh": "近一个月，是否有病却因为钱看不上、买不起药？",
        "en": "In the past month, did you go without a doctor or medicine because of cost?",
    },
    "income": {
        "zh": "家里的收入是否明显减少，或有人失去了工作？",
        "en": "Has the household's income dropped, or has someone lost their job?",
    },
    "housing": {
        "zh": "住房是否漏雨、取暖不足或有安全隐患？",
        "en": "Does your home leak, lack heating, or feel unsafe?",
    },
    "support": {
        "zh": "遇到困难时，是否找不到人帮忙？",
        "en": "When things go wrong, is there nobody you can ask for help?",
    },
}
ANSWERS = {0: "no", 1: "sometimes", 2: "often"}


def score(answers: Mapping[str, int]) -> int:
    """Sum of the answers; every question answered with 0, 1 or 2."""
    missing = sorted(set(QUESTIONS) - set(answers))
    unknown = sorted(set(answers) - set(QUESTIONS))
    if missing or unknown:
        raise ValueError(f"answers missing {missing} / unknown {unknown}")
    bad = sorted(q for q, a in answers.items() if a not in ANSWERS)
    if bad:
        raise ValueError(f"answers must be 0, 1 or 2: {bad}")
    return sum(answers.values())


def to_signal(
    answers: Mapping[str, int],
    *,
    signal_id: str,
    observed_at: datetime,
    region: Region,
    location: GeoPoint | None = None,
    categories: tuple[Category, ...] = (),
    id_number: str | None = None,
    phone: str | None = None,
    name: str | None = None,
) -> Signal:
    """The ``self_report`` / ``self_assessment`` signal for a completed questionnaire."""
    return Signal(
        signal_id=signal_id,
        source=Source.SELF_REPORT,
        observed_at=observed_at,
        kind=SignalKind.SELF_ASSESSMENT,
        value=float(score(answers)),
        region=region,
        location=location,
        categories=categories,
        id_number=id_number,
        phone=phone,
        name=name,
    )
