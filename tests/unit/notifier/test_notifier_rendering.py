"""Templates in zh / mn / en, fallback, labels, and the de-identified charity card."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jinja2 import TemplateNotFound

from fivelink_notifier import rendering
from fivelink_notifier.channels.base import Role
from fivelink_notifier.rendering import (
    assignment_context,
    escalation_context,
    label,
    reminder_context,
    render,
    template_language,
    withdrawn_context,
)
from fivelink_shared.events import (
    AssignmentProposed,
    AssignmentWithdrawn,
    DeclineReason,
    EscalationRaised,
    Explanation,
    Language,
    NeedType,
    OfferKind,
    Region,
    Urgency,
)

MONGOLIAN = re.compile(r"[\u1800-\u18AF]")
ROLES = (Role.SOCIAL_WORKER, Role.CHARITY, Role.BENEFICIARY)
LINKS = {"accepted": "https://n.example/r/tok-acc", "declined": "https://n.example/r/tok-dec"}


def proposed(**overrides: object) -> AssignmentProposed:
    fields: dict[str, object] = dict(
        county="150105",
        assignment_id="asg-42",
        case_id="case-7",
        person_ref="p-secret-7f3a",
        line_id="line-1",
        need_type=NeedType.FOOD,
        offer_id="off-3",
        org_id="org-5",
        offer_kind=OfferKind.GOODS,
        worker_id="sw-11",
        quantity=25.0,
        unit="kg",
        urgency=Urgency.HIGH,
        language=Language.MN,
        region=Region(county="150105", township="150105001", community="150105001002"),
        explanation=Explanation(summary="nearest", solver="min_cost_flow"),
    )
    fields.update(overrides)
    return AssignmentProposed.model_validate(fields)


@pytest.mark.parametrize("language", list(Language))
def test_social_worker_message_has_task_facts_and_links(language: Language) -> None:
    ctx = assignment_context(proposed(), Role.SOCIAL_WORKER, LINKS)
    subject, body = render("assignment_proposed.social_worker", language, ctx)
    assert "case-7" in subject
    for fact in ("25 ", "case-7", "line-1", "asg-42", *LINKS.values()):
        assert fact in body
    assert label(language, "need_type", NeedType.FOOD) in body
    assert label(language, "urgency", Urgency.HIGH) in body
    assert "p-secret-7f3a" not in body


@pytest.mark.parametrize("language", list(Language))
def test_charity_card_is_de_identified(language: Language) -> None:
    event = proposed()
    ctx = assignment_context(event, Role.CHARITY, LINKS)
    assert not {"person_ref", "case_id", "line_id", "worker_id"} & set(ctx)
    subject, body = render("assignment_proposed.charity", language, ctx)
    text = subject + body
    for secret in (event.person_ref, event.case_id, event.line_id, "sw-11"):
        assert secret not in text
    for fact in ("25", "150105", "150105001002", "asg-42"):
        assert fact in body
    assert label(language, "need_type", NeedType.FOOD) in text


def test_charity_card_ignores_person_ref_even_if_passed_in_context() -> None:
    ctx = {**assignment_context(proposed(), Role.CHARITY), "person_ref": "p-secret-7f3a"}
    _, body = render("assignment_proposed.charity", Language.ZH, ctx)
    assert "p-secret-7f3a" not in body


@pytest.mark.parametrize("language", list(Language))
def test_beneficiary_message_says_what_and_when(language: Language) -> None:
    when = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in Inner Mongolia
    ctx = assignment_context(proposed(), Role.BENEFICIARY, expected_by=when)
    _, body = render("assignment_proposed.beneficiary", language, ctx)
    assert "2026-03-01 10:00" in body
    assert label(language, "need_type", NeedType.FOOD) in body
    assert "case-7" not in body and "150105" not in body


def test_mongolian_is_in_traditional_script() -> None:
    subject, body = render(
        "assignment_proposed.social_worker",
        Language.MN,
        assignment_context(proposed(), Role.SOCIAL_WORKER, LINKS),
    )
    assert MONGOLIAN.search(subject) and MONGOLIAN.search(body)
    assert not re.search(r"[\u0400-\u04FF]", body), "Cyrillic is not the script used here"


def test_chinese_and_english_differ() -> None:
    ctx = assignment_context(proposed(), Role.CHARITY)
    zh = render("assignment_proposed.charity", Language.ZH, ctx)
    en = render("assignment_proposed.charity", Language.EN, ctx)
    assert "食物" in zh[1] and "food" in en[1] and zh != en


def test_crisis_notice_only_for_crisis() -> None:
    crisis = assignment_context(proposed(urgency=Urgency.CRISIS), Role.SOCIAL_WORKER)
    normal = assignment_context(proposed(urgency=Urgency.NORMAL), Role.SOCIAL_WORKER)
    assert "crisis case" in render("assignment_proposed.social_worker", "en", crisis)[1]
    assert "crisis case" not in render("assignment_proposed.social_worker", "en", normal)[1]


def test_missing_language_file_falls_back_to_zh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "zh").mkdir()
    (tmp_path / "en").mkdir()
    (tmp_path / "zh" / "only_zh.txt").write_text(
        "{% block subject %}主题{% endblock %}{% block body %}正文 {{ x }}{% endblock %}",
        encoding="utf-8",
    )
    (tmp_path / "en" / "only_en.txt").write_text(
        "{% block subject %}S{% endblock %}{% block body %}B {{ x }}{% endblock %}",
        encoding="utf-8",
    )
    monkeypatch.setattr(rendering, "TEMPLATE_DIR", tmp_path)
    rendering.environment.cache_clear()
    rendering.labels.cache_clear()
    try:
        assert template_language("only_zh", Language.MN) is Language.ZH
        assert render("only_zh", "mn", {"x": 1}) == ("主题", "正文 1\n")
        assert template_language("only_en", Language.MN) is Language.EN
        assert render("only_en", "zh", {"x": 2}) == ("S", "B 2\n")
        with pytest.raises(TemplateNotFound):
            render("nowhere", "en", {})
    finally:
        rendering.environment.cache_clear()
        rendering.labels.cache_clear()


def test_every_enum_value_has_a_label_in_every_language() -> None:
    tables = {"need_type": NeedType, "urgency": Urgency, "decline_reason": DeclineReason}
    for language in Language:
        data = json.loads(
            (rendering.TEMPLATE_DIR / language.value / "labels.json").read_text("utf-8")
        )
        for kind, enum in tables.items():
            missing = {v.value for v in enum} - set(data[kind])
            assert not missing, f"{language}: {kind} lacks {missing}"


def test_label_falls_back_to_raw_value() -> None:
    assert label(Language.MN, "unit", "bag") == "bag"
    assert label(Language.EN, "decline_reason", DeclineReason.TOO_FAR) == "too far away"


def test_unknown_language_is_rejected() -> None:
    with pytest.raises(ValueError):
        render("assignment_proposed.charity", "fr", {})


def test_missing_context_variable_is_an_error_not_a_blank() -> None:
    with pytest.raises(Exception, match="undefined"):
        render("assignment_proposed.charity", "en", {"need_type": "food"})


def test_html_email_is_autoescaped() -> None:
    html = rendering.render_email_html(
        "<b>hi</b>", "a < b & c", {"accepted": "https://x/?a=1&b=2"}, "en"
    )
    assert "&lt;b&gt;hi&lt;/b&gt;" in html
    assert "a &lt; b &amp; c" in html
    assert "https://x/?a=1&amp;b=2" in html


# --- withdrawn, escalation, reminder --------------------------------------------------------


def withdrawn() -> AssignmentWithdrawn:
    return AssignmentWithdrawn(
        county="150105",
        assignment_id="asg-42",
        case_id="case-7",
        line_id="line-1",
        offer_id="off-3",
        org_id="org-5",
        reason="re_solved",
    )


@pytest.mark.parametrize("language", list(Language))
def test_withdrawn_names_assignment_and_reason(language: Language) -> None:
    subject, body = render(
        "assignment_withdrawn", language, withdrawn_context(withdrawn(), Role.SOCIAL_WORKER)
    )
    assert "asg-42" in subject and "case-7" in body
    assert label(language, "withdraw_reason", "re_solved") in body
    _, charity_body = render(
        "assignment_withdrawn", language, withdrawn_context(withdrawn(), Role.CHARITY)
    )
    assert "case-7" not in charity_body and "asg-42" in charity_body


@pytest.mark.parametrize("language", list(Language))
def test_escalation_for_supervisor(language: Language) -> None:
    event = EscalationRaised(
        county="150105",
        case_id="case-7",
        line_id="line-1",
        need_type=NeedType.MEDICAL_AID,
        urgency=Urgency.CRISIS,
        level="township",
        reason="sla_breach",
        waiting_hours=49.26,
        region=Region(county="150105", township="150105001"),
    )
    subject, body = render("escalation_raised", language, escalation_context(event, "https://d/x"))
    assert label(language, "level", "township") in subject
    assert label(language, "urgency", Urgency.CRISIS) in subject
    for fact in ("case-7", "49.3", "150105001", "https://d/x"):
        assert fact in body
    assert label(language, "escalation_reason", "sla_breach") in body


@pytest.mark.parametrize("language", list(Language))
def test_reminder_keeps_charity_card_de_identified(language: Language) -> None:
    due = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    worker = render(
        "reminder", language, reminder_context(proposed(), Role.SOCIAL_WORKER, LINKS, due)
    )
    charity = render("reminder", language, reminder_context(proposed(), Role.CHARITY, LINKS, due))
    assert "asg-42" in worker[0] and "case-7" in worker[1]
    assert "2026-03-01 10:00" in worker[1] and LINKS["accepted"] in worker[1]
    assert "case-7" not in charity[1] and "p-secret-7f3a" not in charity[1]


def test_every_template_exists_in_every_language() -> None:
    names = {p.name for p in (rendering.TEMPLATE_DIR / "zh").glob("*.txt")}
    assert len(names) == 6
    for language in Language:
        have = {p.name for p in (rendering.TEMPLATE_DIR / language.value).glob("*.txt")}
        assert have == names, language
