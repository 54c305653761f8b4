"""A technical documentation pack of the demo's model across its versions in headless Chromium, generated from the
model's page by a compliance officer: the model, each version under its heading, the change log across versions.
Screenshot to the test's temporary folder, or with SAVE_SCREENSHOTS=1 to docs/admin-model-evidence-pack.png."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from governance.demo import DEMO_PROJECT, demo_load
from registry.models import Model, Project
from tests.browser import CHROMIUM, CHROMIUM_ARGS, session_cookie

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def test_the_officer_generates_and_reads_the_model_pack(live_server, tmp_path, settings):
    settings.ARTIFACT_ROOT = tmp_path / "artifacts"
    demo_load()
    model = Model.objects.get(project__slug=DEMO_PROJECT, name="arrests-release")
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
            page.goto(f"{live_server.url}/admin/registry/model/{model.pk}/change/")
            expect(page.locator("#evidence")).to_contain_text("Technical documentation across versions")
            page.click("text=Generate a documentation pack of the model now")
            expect(page.locator("#description")).to_contain_text("2 versions: v1 (staging")
            expect(page.locator("#description h3")).to_have_text(
                ["The model", "Version 1 (staging)", "Version 2 (production)"]
            )
            expect(page.locator("#changes")).to_contain_text("Across versions, oldest first")
            expect(page.locator("#changes")).to_contain_text("staging → production")
            page.screenshot(path=str(shots / "admin-model-evidence-pack.png"), full_page=False)
            page.locator("#changes").scroll_into_view_if_needed()
            page.screenshot(path=str(tmp_path / "model-pack-changes.png"), full_page=False)
        finally:
            browser.close()
