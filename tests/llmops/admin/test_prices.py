"""The price catalog in admin: a superuser adds a row through prices_import."""

from __future__ import annotations

from llmops.models import Price
from registry.models import AuditEvent
from tests.llmops.admin.pages import url


def test_a_superuser_adds_a_price_through_prices_import(admin_client, llm):
    data = {
        "provider": "openai",
        "model": "gpt-9-turbo",
        "model_pattern": "",
        "effective_from_0": "2026-01-01",
        "effective_from_1": "00:00:00",
        "input_uncached": "1.00",
        "output": "4.00",
        "source": "https://openai.com/api/pricing/",
    }
    response = admin_client.post(url("price_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Price.objects.filter(model="gpt-9-turbo", output="4").exists()
    assert AuditEvent.objects.filter(event_type="llm.prices_imported", actor_name="user:root").exists()
    both = admin_client.post(url("price_add"), {**data, "model_pattern": "gpt-9-*"})
    assert both.status_code == 200 and "exactly one" in both.content.decode()
