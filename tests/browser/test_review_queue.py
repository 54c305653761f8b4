"""The review queue in headless Chromium, as a reviewer works through it from the keyboard: the queue opens on what
waits, the first decision's page shows what the model decided and on what, the reason is typed and Ctrl+Enter
confirms, the next decision opens, and "o" with a final decision overrides it (waiting for a second person).
Screenshots go to the test's temporary folder, or with SAVE_SCREENSHOTS=1 to docs/admin-review-*.png."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from governance.models import ReviewItem
from tests import factories as f
from tests.browser import CHROMIUM, CHROMIUM_ARGS, session_cookie

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def test_a_reviewer_works_through_the_queue_from_the_keyboard(chain, live_server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    for i, (income, prediction, score) in enumerate([(850, "deny", 0.31), (1900, "deny", 0.48), (1200, "deny", 0.2)]):
        decision = f.DecisionFactory(
            model_version=chain.version,
            request_id=f"loan-2026-{i:04d}",
            prediction=prediction,
            score=score,
            features={"income": income, "age": 30 + i, "employment_years": 2 + i},
        )
        ReviewItem.objects.create(
            project=chain.project,
            model_version=chain.version,
            request_id=decision.request_id,
            decision_id=decision.pk,
            decision_occurred_at=decision.occurred_at,
            reasons=["label"] if i else ["label", "score"],
            priority=10 if i == 2 else 0,
            entered_at=decision.occurred_at.replace(hour=i),
        )
    cookie = session_cookie("rita", "reviewer", chain.project, live_server)
    shots = ROOT / "docs" if os.environ.get("SAVE_SCREENSHOTS") == "1" else tmp_path
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_cookies([cookie])
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{live_server.url}/admin/governance/reviewitem/")
            rows = page.locator("#result_list tbody tr")
            expect(rows).to_have_count(3)
            expect(rows.first).to_contain_text("contested")  # a contested decision heads the queue
            page.screenshot(path=str(shots / "admin-review-queue.png"), full_page=True)

            rows.first.locator("a").first.click()
            expect(page.locator(".review-prediction")).to_have_text("deny")
            expect(page.locator("#id_reason")).to_be_focused()
            page.keyboard.type("Income below the floor; checked the payslip")
            page.screenshot(path=str(shots / "admin-review-item.png"), full_page=True)
            page.keyboard.press("Control+Enter")
            expect(page.locator(".messagelist")).to_contain_text("recorded")

            # the next item opened: "o" with a final decision overrides it
            expect(page.locator(".review-head")).to_contain_text("waiting")
            page.locator("#id_reason").fill("Bureau score was stale; the new one approves")
            page.locator("#id_final_decision").fill("approve")
            page.locator("body").click(position={"x": 5, "y": 5})  # out of the text fields
            page.keyboard.press("o")
            expect(page.locator(".messagelist")).to_contain_text("recorded")
        finally:
            browser.close()
    statuses = dict(ReviewItem.objects.values_list("request_id", "status"))
    assert statuses == {"loan-2026-0002": "confirmed", "loan-2026-0000": "second", "loan-2026-0001": "pending"}
