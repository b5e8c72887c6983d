"""The supervisor's two actions in a real browser, against the real running services: a
what-if run with a hypothetical offer, and an override of a real proposal."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from browser.webtest import User, community_of_run, publish_offer, submit, submit_case, text_of

pytestmark = pytest.mark.browser


def test_what_if_then_override(sign_in: Callable[..., User]) -> None:
    community, amount = community_of_run(), random.randint(300, 899)
    worker = sign_in("sw-bayar")
    case_id = submit_case(worker, community, amount)

    # What if a large unearmarked fund came in? The new case (no offer yet) would be served.
    supervisor = sign_in("sup-xincheng")
    page = supervisor.page
    card = f'li.card[data-case="{case_id}"]'
    supervisor.go("/ui/supervisor")
    page.select_option("#f-kind", "money")
    page.select_option("#f-need_type", "living_aid")
    page.fill("#f-quantity", "1000000")
    page.fill("#f-unit", "CNY")
    page.keyboard.press("Escape")
    with page.expect_navigation():
        submit(page, 'form[action^="/ui/supervisor/what-if"]')
    supervisor.shot("30-supervisor-what-if")
    result = text_of(page, "#whatif-result")
    assert int(text_of(page, '#whatif-result dd[data-stat="served"]')) >= 1
    served = [li.inner_text() for li in page.locator("#whatif-result li").all()]
    mine = [row for row in served if case_id in row]
    assert mine, f"{case_id} not served in the what-if: {result}"
    assert "优先级" in mine[0] and " 元 → " in mine[0], mine[0]  # in the page's language
    assert page.locator(card).count() == 0  # a what-if publishes nothing

    # A real offer for the case: the matcher proposes it; the supervisor overrides it.
    charity = sign_in("charity-redcross")
    publish_offer(charity, community, amount)
    supervisor.wait_for("/ui/supervisor", f'{card}[data-status="proposed"]', what="the proposal")
    assert "优先级" in text_of(page, f"{card} p.why")
    proposal = f'li.card[data-assignment="{page.get_attribute(card, "data-assignment")}"]'
    page.select_option(f"{card} select[name=reason]", index=1)
    supervisor.shot("31-supervisor-override")
    with page.expect_navigation():
        page.click(f"{card} button.danger")
    assert "notice=overridden" in page.url
    assert page.locator(".notice").count() == 1
    # The override is a decline through the loop: that proposal is no longer open anywhere
    # (the matcher may propose another offer; this one is not offered again).
    gone = f'{proposal}[data-status="proposed"]'
    supervisor.wait_gone("/ui/supervisor", gone, what="the overridden proposal")
    worker.wait_gone("/ui/worker", gone, what="the overridden proposal in the worker's inbox")
