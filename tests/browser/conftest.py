"""Browser fixtures: Debian's Chromium driven by Playwright against the real stack.

Nothing is downloaded: Chromium is ``/usr/bin/chromium``. Each signed-in user gets their own
browser profile (a fresh user-data dir), so sessions never mix. Screenshots go to
``artifacts/screenshots/`` (CI keeps that folder as output).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Playwright, sync_playwright

from browser.webtest import User
from fivelink_cli import infra

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}
PASSWORD = "demo"


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    with sync_playwright() as p:
        yield p


@pytest.fixture
def sign_in(playwright: Playwright, stack: infra.Stack) -> Iterator[Callable[..., User]]:
    """``sign_in("sw-bayar", phone=True)``: a new browser profile, signed in on the page."""
    profiles: list[tuple[BrowserContext, str]] = []
    base = stack.url("intake")

    def open_as(sub: str, phone: bool = False, lang: str = "zh") -> User:
        data_dir = tempfile.mkdtemp(prefix="fivelink-chromium-")
        context = playwright.chromium.launch_persistent_context(
            data_dir,
            executable_path=CHROMIUM,
            args=ARGS,
            headless=True,
            viewport=PHONE if phone else DESK,
            locale="zh-CN" if lang == "zh" else "en-US",
            accept_downloads=True,
        )
        context.set_default_timeout(15_000)
        profiles.append((context, data_dir))
        # a page of our own: the profile's first tab keeps no viewport after a full-page shot
        page = context.new_page()
        for blank in context.pages[:-1]:
            blank.close()
        user = User(sub, page, base)
        if lang != "zh":
            user.go(f"/ui/lang/{lang}?next=/ui/signin")
        user.go("/ui/signin")
        page.select_option("#f-user", sub)
        page.fill("#f-password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert "/ui/signin" not in page.url, f"{sub} could not sign in"
        return user

    yield open_as
    for context, data_dir in profiles:
        context.close()
        shutil.rmtree(data_dir, ignore_errors=True)
