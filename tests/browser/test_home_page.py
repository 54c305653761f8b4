"""The compliance home in headless Chromium, as an officer opens admin in the morning: what is due, what failed,
what waits. Screenshot to the test's temporary folder, or with SAVE_SCREENSHOTS=1 to docs/admin-home.png."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS, session_cookie
from tests.governance.admin.test_home import seed

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def test_the_home_shows_what_to_do_today(chain, live_server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    seed(chain, 3)
    cookie = session_cookie("olga", "compliance_officer", chain.project, live_server)
    shots = ROOT / "docs" if os.environ.get("SAVE_SCREENSHOTS") == "1" else tmp_path
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 1000})
            context.add_cookies([cookie])
            page = context.new_page()
            page.goto(f"{live_server.url}/admin/")
            expect(page.locator(".home-requests")).to_contain_text("overdue")
            expect(page.locator(".home-incidents")).to_contain_text("Denials for one postcode")
            expect(page.locator(".home-reviews")).to_contain_text("3 waiting")
            page.screenshot(path=str(shots / "admin-home.png"), full_page=True)
            page.locator(".home-incidents a", has_text="Denials").click()
            expect(page.locator(".incident-clock")).to_be_visible()
        finally:
            browser.close()
