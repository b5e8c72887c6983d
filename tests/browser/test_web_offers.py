"""A charity changes its mind in a real browser, against the real running services: it
edits an offer that was already proposed, then withdraws it."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from browser.webtest import User, community_of_run, publish_offer, submit, submit_case, text_of

pytestmark = pytest.mark.browser


def test_charity_edits_then_withdraws_an_offer(sign_in: Callable[..., User]) -> None:
    community, amount = community_of_run(), random.randint(10_000, 99_999)
    worker = sign_in("sw-bayar")
    case_id = submit_case(worker, community, amount)
    charity = sign_in("charity-redcross")
    publish_offer(charity, community, amount)
    page = charity.page
    section = f'section.offer:has(h2:has-text("{amount} 元"))'
    assert page.locator(section).count() == 1
    offer_id = page.get_attribute(section, "data-offer")
    mine = f'li.card[data-case="{case_id}"][data-status="proposed"]'
    worker.wait_for("/ui/worker", mine, what="the proposal")

    # Edit: a larger amount, shown on the charity's page.
    page.click(f'section[data-offer="{offer_id}"] a[href="/ui/charity/offers/{offer_id}"]')
    page.fill("#f-quantity", str(amount + 1))
    charity.shot("32-charity-offer-edit")
    with page.expect_navigation():
        submit(page, f'form[action="/ui/charity/offers/{offer_id}"]')
    assert "notice=updated" in page.url
    assert f"{amount + 1} 元" in text_of(page, f'section[data-offer="{offer_id}"] h2')

    # Withdraw: the offer says so, has no actions left, and its proposal leaves the inbox.
    with page.expect_navigation():
        page.click(f'section[data-offer="{offer_id}"] button.danger')
    assert "notice=withdrawn" in page.url
    charity.shot("33-charity-offer-withdrawn")
    withdrawn = page.locator(f'section[data-offer="{offer_id}"]')
    assert withdrawn.locator("button.danger").count() == 0
    assert "已撤回" in withdrawn.locator(".badge").first.inner_text()
    worker.wait_gone("/ui/worker", mine, what="the withdrawn offer's proposal")
