"""Budgets in admin: their state, and compliance officers set them through the service."""

from __future__ import annotations

from datetime import UTC

from django.utils import timezone

from llmops.models import Budget
from registry.models import AuditEvent
from tests.helpers import staff_client
from tests.llmops.admin.pages import USAGE, page, url
from tests.llmops.test_calls import call, post


def test_budgets_show_their_state_and_officers_set_them_through_the_service(llm, ingest):
    now = timezone.now().astimezone(UTC).isoformat()
    post(ingest, [call(f"now{i}", usage=USAGE, occurred_at=now) for i in range(4)])  # 4 x $0.0033 (March prices)
    officer = staff_client("olga", "compliance_officer", llm.project)
    response = officer.get(url("budget_changelist"))
    body = response.content.decode()
    assert "exceeded" in body and "132%" in body and "$0.0132</span> / $0.01" in body
    detail = officer.get(page(llm.budget)).content.decode()
    assert "Alerts raised" in detail and "100% of the limit" in detail and "50% of the limit" in detail
    response = officer.post(
        url("budget_add"),
        {
            "project": llm.project.pk,
            "name": "gpt-4o daily",
            "scope": "model",
            "scope_value": "gpt-4o",
            "period": "daily",
            "limit": "5",
            "thresholds": "0.5, 0.9, 1",
        },
    )
    assert response.status_code == 302
    budget = Budget.objects.get(name="gpt-4o daily")
    assert budget.thresholds == [0.5, 0.9, 1.0]
    assert AuditEvent.objects.filter(event_type="llm.budget_set", actor_name="user:olga").exists()
    refused = officer.post(
        url("budget_add"),
        {"project": llm.project.pk, "name": "x", "scope": "tag", "period": "daily", "limit": "5", "thresholds": "0.5"},
    )
    assert refused.status_code == 200 and "name the tag" in refused.content.decode()
