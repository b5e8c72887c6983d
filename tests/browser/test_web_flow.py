"""Each role's main path in a real browser, against the real running services:
a worker submits a case, a charity publishes an offer, the match reaches the worker's inbox,
the worker accepts and reports delivery, the charity sees it delivered, the supervisor sees
the numbers change."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable

import pytest

from browser.webtest import User, community_of_run, publish_offer, submit_case, table_cell, text_of

pytestmark = pytest.mark.browser


def test_case_offer_match_accept_deliver_seen_by_all(sign_in: Callable[..., User]) -> None:
    community = community_of_run()
    amount = random.randint(300, 900)

    supervisor = sign_in("sup-xincheng")
    supervisor.go("/ui/supervisor")
    supervisor.shot("01-supervisor-before")
    delivered_before = int(text_of(supervisor.page, 'dd[data-stat="delivered"]'))
    assert table_cell(supervisor, community, "living_aid", "open_lines") == 0

    worker = sign_in("sw-bayar", phone=True)
    case_id = submit_case(worker, community, amount, shot="02-worker-case-form-phone")
    worker.shot("03-worker-case-saved-phone")
    assert worker.page.locator(".notice").count() == 1

    charity = sign_in("charity-redcross")
    publish_offer(charity, community, amount, shot="04-charity-offer-form")
    charity.shot("05-charity-offer-published")

    card = f'li.card[data-case="{case_id}"]'
    worker.wait_for("/ui/worker", f'{card}[data-status="proposed"]', what="the proposal")
    worker.shot("06-worker-inbox-proposed-phone")
    assert str(amount) in text_of(worker.page, card)
    # why it was proposed, in the page's language, from the matcher's score terms
    why = text_of(worker.page, f"{card} p.why")
    assert why.startswith("优先级 ") and "offer" not in why, why
    worker.page.click(f"{card} button.accept")
    worker.page.wait_for_url("**/ui/worker?notice=accepted")
    worker.wait_for("/ui/worker", f'{card}[data-status="accepted"]', what="the acceptance")
    worker.shot("07-worker-inbox-accepted-phone")
    worker.page.click(f"{card} button.accept")  # "report delivered"
    worker.page.wait_for_url("**/ui/worker?notice=delivered")
    worker.wait_for("/ui/worker", f'{card}[data-status="delivered"]', what="the delivery")
    worker.shot("08-worker-inbox-delivered-phone")

    charity.wait_for(
        "/ui/charity", 'tr[data-status="delivered"]', what="the delivered card on the charity page"
    )
    charity.shot("09-charity-sees-delivered")
    section = charity.page.locator(
        "section.offer", has=charity.page.locator('tr[data-status="delivered"]')
    )
    assert section.locator('dd[data-stat="delivered"]').first.inner_text().strip() == "1"
    assert case_id not in charity.page.content()  # de-identified need cards only

    with charity.page.expect_download() as download:
        charity.page.click('a[href="/ui/charity/report.csv"]')
    text = download.value.path().read_text("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert any(r["status"] == "delivered" and float(r["quantity"]) == amount for r in rows)
    assert case_id not in text and "浏览器测试" not in text

    supervisor.go("/ui/supervisor")
    supervisor.shot("10-supervisor-after")
    assert table_cell(supervisor, community, "living_aid", "delivered") == 1
    assert int(text_of(supervisor.page, 'dd[data-stat="delivered"]')) >= delivered_before + 1
