"""An incident's page in headless Chromium, as a compliance officer sees it on the day: the clock to the report's
deadline, the frozen version, the affected decisions; then the initial report recorded from its form. Screenshots
go to the test's temporary folder, or with SAVE_SCREENSHOTS=1 to docs/admin-incident*.png."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from governance.models import Incident
from governance.services.incidents import incident_open
from registry.actors import Actor
from tests import factories as f
from tests.browser import CHROMIUM, CHROMIUM_ARGS, session_cookie

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def test_an_officer_sees_the_clock_and_records_the_initial_report(chain, live_server, tmp_path):
    for i in range(12):
        f.DecisionFactory(model_version=chain.version, occurred_at=datetime(2026, 11, 20, i, tzinfo=UTC))
    incident = incident_open(
        actor=Actor.system(),
        project=chain.project,
        title="Denials for one postcode",
        description="Every applicant from one postcode was denied between 20 and 27 November.\nFound by a branch.",
        category="other",
        aware_at=timezone.now() - timedelta(days=12),
        model_versions=[chain.version],
        deployments=[chain.deployment],
        affected_after=datetime(2026, 11, 20, tzinfo=UTC),
        affected_before=datetime(2026, 11, 28, tzinfo=UTC),
    )
    cookie = session_cookie("olga", "compliance_officer", chain.project, live_server)
    shots = ROOT / "docs" if os.environ.get("SAVE_SCREENSHOTS") == "1" else tmp_path
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_cookies([cookie])
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{live_server.url}/admin/governance/incident/{incident.pk}/change/")
            expect(page.locator(".incident-clock")).to_contain_text("3 days")
            expect(page.locator(".incident-scope")).to_contain_text("frozen")
            expect(page.locator(".incident-scope")).to_contain_text("12")
            page.screenshot(path=str(shots / "admin-incident.png"), full_page=True)
            page.select_option("#id_report-kind", "initial")
            page.fill("#id_report-text", "Initial notice: one postcode denied for a week; causes under analysis.")
            now = timezone.now()
            page.fill("#id_report-sent_at_0", now.strftime("%Y-%m-%d"))
            page.fill("#id_report-sent_at_1", now.strftime("%H:%M:%S"))
            page.fill("#id_report-recipient", "Market surveillance authority, by its portal")
            page.click("input[name=record_report]")
            expect(page.locator(".messagelist")).to_contain_text("Report recorded")
            expect(page.locator(".incident-clock")).to_contain_text("reported in time")
        finally:
            browser.close()
    assert Incident.objects.get().status == "reported"
