"""Webhooks and their deliveries in admin: read-only, scoped to the project, and a webhook's secret never
reaches a page."""

from __future__ import annotations

from django.urls import reverse

from governance.models import Webhook, WebhookDelivery
from tests.helpers import staff_client

WEBHOOKS = reverse("admin:governance_webhook_changelist")
DELIVERIES = reverse("admin:governance_webhookdelivery_changelist")


def page(obj, name: str = "change") -> str:
    return reverse(f"admin:governance_{obj._meta.model_name}_{name}", args=[obj.pk])


def test_webhook_pages_never_show_the_secret(admin_client, demo, other_project):
    secret = "whsec-very-secret-value-0123456789"
    hook = Webhook.objects.create(
        project_id=demo["version"].project_id, url="https://hooks.example.invalid/a", events=["*"], secret=secret
    )
    WebhookDelivery.objects.create(
        webhook=hook,
        event_type="drift.detected",
        payload={"alert": "drift.detected"},
        status="failed",
        attempts=5,
        last_status_code=500,
        last_error="HTTP 500",
    )
    delivery = WebhookDelivery.objects.create(
        webhook=hook, event_type="performance.degraded", payload={}, status="succeeded"
    )
    for url in (WEBHOOKS, page(hook), page(hook, "history"), DELIVERIES, page(delivery)):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert secret not in response.content.decode(), url
    body = admin_client.get(DELIVERIES).content.decode()
    assert ">failed<" in body and ">succeeded<" in body and "HTTP 500" in body
    assert admin_client.get(DELIVERIES, {"status__exact": "failed"}).context_data["cl"].result_count == 1
    assert (
        admin_client.get(DELIVERIES, {"event_type__exact": "performance.degraded"}).context_data["cl"].result_count == 1
    )
    assert admin_client.post(page(hook), {"url": "https://evil.invalid"}).status_code == 403
    assert admin_client.get(reverse("admin:governance_webhook_add")).status_code == 403
    officer = staff_client("olga", "compliance_officer", demo["version"].project)
    assert officer.get(WEBHOOKS).context_data["cl"].result_count == 1
    assert secret not in officer.get(page(hook)).content.decode()
    outsider = staff_client("otto", "compliance_officer", other_project)
    assert outsider.get(WEBHOOKS).context_data["cl"].result_count == 0
    assert outsider.get(DELIVERIES).context_data["cl"].result_count == 0
    assert staff_client("rita", "risk_analyst", demo["version"].project).get(WEBHOOKS).status_code == 403
