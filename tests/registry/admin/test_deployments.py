"""registry.admin.deployments: a deployment created through deployment_create."""

from __future__ import annotations

from django.utils import timezone

from registry import services
from registry.actors import Actor
from registry.models import (
    Deployment,
)
from tests.helpers import make_promotable
from tests.registry.admin.pages import url


def test_deployment_is_created_by_the_service_and_ends_the_one_it_replaces(admin_client, chain):
    make_promotable(chain.version)
    services.model_version_transition(
        actor=Actor.system(), model_version=chain.version, to_stage="production", reason="passed"
    )
    start = timezone.now().replace(microsecond=0)
    form = {
        "model_version": chain.version.pk,
        "environment": "production",
        "strategy": "direct",
        "traffic_percent": "100",
        "started_at_0": start.strftime("%Y-%m-%d"),
        "started_at_1": start.strftime("%H:%M:%S"),
        "ended_at_0": "",
        "ended_at_1": "",
    }
    response = admin_client.post(url(Deployment, "add"), form)
    assert response.status_code == 302
    chain.deployment.refresh_from_db()
    assert chain.deployment.ended_at == start

    response = admin_client.post(url(Deployment, "add"), {**form, "strategy": "canary"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["traffic_percent"] == [
        "a canary takes a share of traffic below 100"
    ]
    assert Deployment.objects.count() == 2
