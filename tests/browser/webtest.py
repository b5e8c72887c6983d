"""Helpers of the browser tests: a signed-in user's page, and the forms as a person fills them."""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from fivelink_cli import infra

SCREENSHOTS = infra.REPO_ROOT / "artifacts" / "screenshots"


@dataclass
class User:
    """One signed-in person with their own browser profile."""

    sub: str
    page: Page
    base: str

    def go(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        size = self.page.viewport_size
        self.page.screenshot(path=str(path), full_page=True)
        if size:  # a full-page shot can leave the page laid out at its full height
            self.page.set_viewport_size(size)
        return path

    def wait_for(self, path: str, selector: str, timeout: float = 60.0, what: str = "") -> None:
        """Reload ``path`` until ``selector`` is on the page (the loop is asynchronous)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.go(path)
            if self.page.locator(selector).count():
                return
            time.sleep(1.0)
        raise AssertionError(f"{what or selector} not on {path} within {timeout}s")

    def wait_gone(self, path: str, selector: str, timeout: float = 60.0, what: str = "") -> None:
        """Reload ``path`` until ``selector`` is no longer on the page."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.go(path)
            if not self.page.locator(selector).count():
                return
            time.sleep(1.0)
        raise AssertionError(f"{what or selector} still on {path} after {timeout}s")


def text_of(page: Page, selector: str) -> str:
    return re.sub(r"\s+", " ", page.locator(selector).first.inner_text()).strip()


COUNTY = "150102"  # the demo users' county
TOWNSHIP = "150102001"


def community_of_run() -> str:
    """A community code of this run alone, so an earlier run's needs and offers stay apart."""
    return f"{TOWNSHIP}{random.randint(100000, 999999)}"


def table_cell(user: User, community: str, need_type: str, col: str) -> int:
    row = f'tr[data-community="{community}"][data-need-type="{need_type}"]'
    if not user.page.locator(row).count():
        return 0
    return int(text_of(user.page, f'{row} td[data-col="{col}"]'))


def submit_case(worker: User, community: str, amount: int, shot: str | None = None) -> str:
    """Fill the case form as a worker would; returns the new case id."""
    page = worker.page
    worker.go("/ui/worker/cases/new")
    page.fill("#f-region-community", community)
    page.fill("#f-person-name", "浏览器测试")
    page.check('input[name="person.categories"][value="minimum_living"]')
    page.select_option("#f-person-consent-given_by", "self")
    page.select_option("#f-lines-0-need_type", "living_aid")
    page.fill("#f-lines-0-quantity", str(amount))
    page.fill("#f-lines-0-unit", "CNY")
    page.keyboard.press("Escape")  # close the unit suggestions, as a person would
    page.select_option("#f-lines-0-urgency", "high")
    if shot:
        worker.shot(shot)
    with page.expect_navigation():
        submit(page, "form#case-form")
    assert "/ui/worker/cases/c-" in page.url, f"case refused: {form_errors(page)}"
    return page.url.rsplit("/", 1)[-1].split("?")[0]


def publish_offer(charity: User, community: str, amount: int, shot: str | None = None) -> None:
    page = charity.page
    charity.go("/ui/charity/offers/new")
    page.select_option("#f-kind", "money")
    page.fill("#f-quantity", str(amount))
    page.fill("#f-unit", "CNY")
    page.keyboard.press("Escape")
    page.fill("#f-valid_until", (datetime.now(UTC) + timedelta(days=30)).date().isoformat())
    page.check('input[name="need_types"][value="living_aid"]')
    page.fill("#f-region-county", COUNTY)
    page.fill("#f-region-community", community)
    page.fill("#f-earmarks-communities", community)
    if shot:
        charity.shot(shot)
    with page.expect_navigation():
        submit(page, "form#offer-form")
    assert "notice=published" in page.url, f"offer refused: {form_errors(page)}"


def form_errors(page: Page) -> dict[str, str]:
    """The messages shown next to fields (to say why a form was refused)."""
    out = {}
    for el in page.locator(".field-error").all():
        if el.inner_text().strip():
            out[el.get_attribute("data-for") or ""] = el.inner_text().strip()
    out["(heading)"] = page.locator("h1").first.inner_text()
    return out


def submit(page: Page, form: str) -> None:
    """Send a form from the keyboard (focus its button, press Enter), as a keyboard user does."""
    page.focus(f"{form} button[type=submit]")
    page.keyboard.press("Enter")
