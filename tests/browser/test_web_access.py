"""Roles and regions in the browser: a role cannot open another's pages, a worker sees no
other region's people, and a bad form shows a message next to the field and stores nothing."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from browser.webtest import User, community_of_run, submit, submit_case, text_of
from fivelink_cli import infra
from fivelink_intake.tokens import bearer

pytestmark = pytest.mark.browser


def _problem(user: User, path: str) -> tuple[int, str]:
    response = user.go(path)
    return response.status, user.page.locator("h1").inner_text()


def test_a_role_cannot_open_another_roles_pages(sign_in: Callable[..., User]) -> None:
    worker = sign_in("sw-bayar", lang="en")
    for path in ("/ui/charity", "/ui/supervisor", "/ui/charity/offers/new"):
        status, heading = _problem(worker, path)
        assert status == 403 and "not for your role" in heading, path
    worker.shot("20-worker-refused-charity-page")
    charity = sign_in("charity-foodbank", lang="en")
    for path in ("/ui/worker", "/ui/worker/cases/new", "/ui/supervisor"):
        status, _ = _problem(charity, path)
        assert status == 403, path
    # signed out: every page sends the browser to the sign-in page
    charity.page.click("form.signout button")
    charity.page.wait_for_url("**/ui/signin")
    charity.go("/ui/charity")
    assert charity.page.url.endswith("/ui/signin")


def test_a_worker_sees_no_other_regions_people(
    sign_in: Callable[..., User], stack: infra.Stack
) -> None:
    community = community_of_run()
    bayar = sign_in("sw-bayar")
    case_id = submit_case(bayar, community, 123)
    person_ref = bayar.page.locator('a[href^="/ui/worker/people/"]').first.get_attribute("href")
    assert person_ref
    bayar.go(person_ref)
    assert bayar.page.locator(f'tr[data-case="{case_id}"]').count() == 1

    qiqige = sign_in("sw-qiqige", lang="en")  # a worker of county 150103
    status, heading = _problem(qiqige, f"/ui/worker/cases/{case_id}")
    assert status == 403 and "outside your region" in heading
    qiqige.shot("21-other-region-case-refused")
    qiqige.go(person_ref)
    assert qiqige.page.locator(f'tr[data-case="{case_id}"]').count() == 0
    assert qiqige.page.locator("tr.empty").count() == 1
    qiqige.shot("22-other-region-history-empty")
    qiqige.go("/ui/worker/cases")
    assert case_id not in qiqige.page.content()
    qiqige.go("/ui/worker")
    assert case_id not in qiqige.page.content()
    # the supervisor of the other county does not see it either
    huimin = sign_in("sup-huimin")
    huimin.go("/ui/supervisor")
    assert community not in huimin.page.content()
    del stack


def _case_count(stack: infra.Stack) -> int:
    headers = bearer(role="supervisor", sub="test-counter", county="150102")
    with httpx.Client(timeout=10) as http:
        response = http.get(f"{stack.url('intake')}/v1/needs", params={"limit": 1}, headers=headers)
    response.raise_for_status()
    return int(response.json()["total"])


def test_a_bad_case_form_shows_field_messages_and_stores_nothing(
    sign_in: Callable[..., User], stack: infra.Stack
) -> None:
    worker = sign_in("sw-bayar", phone=True, lang="en")
    page = worker.page
    before = _case_count(stack)
    worker.go("/ui/worker/cases/new")
    # validate as you type: the message appears before anything is sent
    page.fill("#f-person-id_number", "12345")
    page.locator("#f-person-id_number").blur()
    page.wait_for_selector('#err-f-person-id_number:has-text("format")', timeout=10_000)
    page.select_option("#f-lines-0-need_type", "food")
    page.fill("#f-lines-0-quantity", "-5")
    page.fill("#f-lines-0-unit", "kg")
    page.wait_for_selector('#err-f-lines-0-quantity:has-text("more than 0")', timeout=10_000)
    worker.shot("23-worker-validate-as-you-type-phone")
    with page.expect_navigation():
        submit(page, "form#case-form")
    assert "more than 0" in text_of(page, "#err-f-lines-0-quantity")
    assert "format" in text_of(page, "#err-f-person-id_number")
    assert text_of(page, "#err-f-person-consent-given_by")  # consent is required
    assert page.locator("#f-lines-0-quantity").get_attribute("aria-invalid") == "true"
    assert page.input_value("#f-person-id_number") == "12345"  # what was typed stays
    worker.shot("24-worker-bad-form-refused-phone")
    assert _case_count(stack) == before


def test_a_post_without_the_csrf_token_is_refused(sign_in: Callable[..., User]) -> None:
    worker = sign_in("sw-bayar")
    response = worker.page.request.post(
        worker.base + "/ui/worker/cases",
        form={"lines.0.need_type": "food", "lines.0.quantity": "1", "lines.0.unit": "kg"},
    )
    assert response.status == 403
