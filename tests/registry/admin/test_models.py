"""registry.admin.models: model versions registered through their service; stage transitions."""

from __future__ import annotations

from django.urls import reverse

from registry import services
from registry.actors import Actor
from registry.models import (
    ModelVersion,
    StageTransition,
)
from tests.helpers import make_promotable, staff_client
from tests.registry.admin.pages import url


def test_model_version_is_registered_by_the_service(admin_client, chain):
    response = admin_client.post(
        url(ModelVersion, "add"),
        {
            "model": chain.model.pk,
            "run": chain.run.pk,
            "artifact_uri": "file:///m2.pkl",
            "artifact_sha256": "ab" * 32,
            "framework": "sklearn",
            "intended_use": "",
            "limitations": "",
        },
    )
    assert response.status_code == 302
    version = ModelVersion.objects.get(artifact_uri="file:///m2.pkl")
    assert version.version == 2  # numbered by services.model_version_register
    assert version.metrics == chain.run.metrics


def test_transition_action_goes_through_an_intermediate_page(admin_client, chain):
    changelist = url(ModelVersion, "changelist")
    selected = {"action": "transition_stage", "_selected_action": [chain.version.pk]}
    response = admin_client.post(changelist, {**selected, "index": 0})
    assert response.status_code == 200
    assert "Change stage" in response.content.decode()
    assert not StageTransition.objects.exists()

    response = admin_client.post(changelist, {**selected, "to_stage": "", "reason": "", "apply": "Change stage"})
    assert response.status_code == 200  # invalid form: the page again, nothing recorded
    assert not StageTransition.objects.exists()

    response = admin_client.post(
        changelist, {**selected, "to_stage": "staging", "reason": "passed review", "apply": "Change stage"}, follow=True
    )
    assert response.status_code == 200
    transition = StageTransition.objects.get()
    assert (transition.from_stage, transition.to_stage, transition.reason) == ("none", "staging", "passed review")
    assert transition.created_by_user == admin_client.user
    chain.version.refresh_from_db()
    assert chain.version.stage == "staging"
    assert "credit v1: none → staging." in [str(m) for m in response.context["messages"]]


def test_refused_transition_is_reported_not_raised(admin_client, chain):
    services.model_version_transition(
        actor=Actor.system(), model_version=chain.version, to_stage="archived", reason="retired"
    )
    response = admin_client.post(
        url(ModelVersion, "changelist"),
        {
            "action": "transition_stage",
            "_selected_action": [chain.version.pk],
            "to_stage": "production",
            "reason": "try",
            "apply": "1",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "cannot move from archived to production" in response.content.decode()
    assert StageTransition.objects.count() == 1


def test_transition_page_of_one_version(admin_client, chain):
    make_promotable(chain.version)
    page = reverse("admin:registry_modelversion_transition", args=[chain.version.pk])
    assert page in admin_client.get(url(ModelVersion, "change", chain.version.pk)).content.decode()
    response = admin_client.get(page)
    assert [value for value, _ in response.context["form"].fields["to_stage"].choices] == [
        "",  # nothing preselected: the officer chooses
        "staging",
        "production",
        "archived",
    ]
    response = admin_client.post(page, {"to_stage": "production", "reason": "approved by the committee"})
    assert response.status_code == 302
    assert response["Location"] == url(ModelVersion, "change", chain.version.pk)
    assert StageTransition.objects.get().to_stage == "production"


def test_compliance_officer_may_transition_risk_analyst_may_not(chain):
    officer = staff_client("olga", "compliance_officer", chain.project)
    response = officer.post(
        url(ModelVersion, "changelist"),
        {
            "action": "transition_stage",
            "_selected_action": [chain.version.pk],
            "to_stage": "staging",
            "reason": "approved",
            "apply": "1",
        },
    )
    assert response.status_code == 302
    assert StageTransition.objects.get().created_by_user.username == "olga"

    analyst = staff_client("rita", "risk_analyst", chain.project)
    response = analyst.get(url(ModelVersion, "changelist"))
    assert response.status_code == 200
    assert "transition_stage" not in response.content.decode()
    page = reverse("admin:registry_modelversion_transition", args=[chain.version.pk])
    assert analyst.post(page, {"to_stage": "production", "reason": "x"}).status_code == 403
    assert StageTransition.objects.count() == 1
