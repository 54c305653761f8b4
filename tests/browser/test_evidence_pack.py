"""A technical documentation pack of the demo's production version in headless Chromium, generated from the model
version's page by a compliance officer: the sections in Annex IV's order with their citations. Screenshot to the
test's temporary folder, or with SAVE_SCREENSHOTS=1 to docs/admin-evidence-pack.png."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from governance.demo import DEMO_PROJECT, demo_load
from registry.models import ModelVersion, Project, Stage
from tests.browser import CHROMIUM, CHROMIUM_ARGS, session_cookie

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def test_the_officer_generates_and_reads_the_pack(live_server, tmp_path, settings):
    settings.ARTIFACT_ROOT = tmp_path / "artifacts"
    demo_load()
    version = ModelVersion.objects.get(
        project__slug=DEMO_PROJECT, model__name="arrests-release", stage=Stage.PRODUCTION
    )
    cookie = session_cookie("olga", "compliance_officer", Project.objects.get(slug=DEMO_PROJECT), live_server)
    shots = ROOT / "docs" if os.environ.get("SAVE_SCREENSHOTS") == "1" else tmp_path
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_cookies([cookie])
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{live_server.url}/admin/registry/modelversion/{version.pk}/change/")
            page.click("text=Generate a documentation pack now")
            expect(page.locator("#description")).to_contain_text("risk tier high")
            expect(page.locator("#validation")).to_contain_text("Fairness audit")
            expect(page.locator("#changes")).to_contain_text("staging → production")
            page.screenshot(path=str(shots / "admin-evidence-pack.png"), full_page=False)
        finally:
            browser.close()
