"""The letter answering a subject access request in headless Chromium, as the compliance officer prints it:
the person's decisions with the principal reasons and factors, the data sets holding them, how to contest.
Screenshot to the test's temporary folder, or with SAVE_SCREENSHOTS=1 to docs/admin-access-letter.png."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from governance.models import Policy, ReviewItem
from governance.services.access import access_request_receive
from registry.actors import Actor
from registry.models import SubjectIndex
from registry.subjects import subject_key
from tests import factories as f
from tests.browser import CHROMIUM, CHROMIUM_ARGS, session_cookie

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)
RAW = "customer-4711@example.com"


def test_the_officer_reads_the_letter(chain, live_server, tmp_path):
    from django.utils import timezone

    Policy.objects.update_or_create(
        project=chain.project,
        defaults={"reason_codes": {"R01": "Income too low for the amount asked", "R02": "Recent missed payments"}},
    )
    SubjectIndex.objects.create(data_version=chain.train, subject_key=subject_key(RAW))
    chain.train.dataset.description = "Loan applications, to train the credit model"
    chain.train.dataset.legal_basis = "contract (GDPR Art. 6(1)(b))"
    chain.train.dataset.save()
    denied = f.DecisionFactory(
        model_version=chain.version,
        request_id="loan-2026-1102",
        subject_key=subject_key(RAW),
        prediction="deny",
        score=0.31,
        occurred_at=datetime(2026, 11, 2, 9, 14, tzinfo=UTC),
        explanation={
            "attributions": {"income": -0.21, "missed_payments": -0.09, "age": 0.02, "tenure": 0.04},
            "base_value": 0.55,
            "library": "shap",
            "method": "permutation",
            "reason_codes": ["R01", "R02"],
        },
    )
    ReviewItem.objects.create(
        project=chain.project,
        model_version=chain.version,
        request_id=denied.request_id,
        decision_id=denied.pk,
        decision_occurred_at=denied.occurred_at,
        status=ReviewItem.Status.CONFIRMED,
        entered_at=timezone.now(),
    )
    f.DecisionFactory(
        model_version=chain.version,
        request_id="limit-2026-1120",
        subject_key=subject_key(RAW),
        prediction="approve",
        score=0.82,
        occurred_at=datetime(2026, 11, 20, 16, 2, tzinfo=UTC),
    )
    request = access_request_receive(
        actor=Actor.system(), project=chain.project, subject_id=RAW, reference="SAR-2026-31"
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
            page.goto(f"{live_server.url}/admin/governance/accessrequest/{request.pk}/change/")
            expect(page.locator(".letter-decisions")).to_contain_text("Income too low for the amount asked")
            expect(page.locator(".letter-decisions")).to_contain_text("income lowered the score by 0.21")
            expect(page.locator(".letter-data")).to_contain_text("contract")
            page.screenshot(path=str(shots / "admin-access-letter.png"), full_page=True)
            page.click("button[name=answer]")
            expect(page.locator(".messagelist")).to_contain_text("answered")
        finally:
            browser.close()
