"""The gate's path walkable in admin (issue 15 item 5): a version's page shows every check for production with
why, the verdict and the approvals; a compliance officer approves there; the model card is edited there until
production; a refused promotion names every failed check; and a version registered with an empty card walks
the whole path to production."""

from __future__ import annotations

from django.contrib.messages import get_messages
from django.urls import reverse

from governance.models import FairnessAudit, ModelVersionApproval, Policy
from governance.presenters.gate import model_version_gate
from registry import hooks
from registry.actors import Actor
from registry.models import AuditEvent, Model, ModelVersion
from tests.governance.admin.pages import version_page
from tests.helpers import staff_client


def _section(response, anchor: str) -> str:
    body = response.content.decode()
    return body[body.index(f'id="{anchor}"') :]


def _passing_audit(version) -> None:
    Policy.objects.get_or_create(project_id=version.project_id)
    Policy.objects.filter(project_id=version.project_id).update(required_sensitive_features=["sex"])
    FairnessAudit.objects.create(
        project_id=version.project_id,
        model_version=version,
        sensitive_features=["sex"],
        positive_label=1,
        row_count=1000,
        overall={},
        by_group=[],
        disparities={},
        policy={},
        passed=True,
    )


# The presenter -----------------------------------------------------------------------------------------


def test_the_presenter_lists_every_check_with_why(chain):
    gate = model_version_gate(actor=Actor(roles={chain.project.pk: "data_scientist"}), model_version=chain.version)
    by_name = {c["check"]: c for c in gate["checks"]}
    assert {"fairness_audit", "model_card", "no_open_incident"} <= set(by_name)
    assert by_name["model_card"]["passed"] is False
    assert "intended_use, limitations" in by_name["model_card"]["message"]
    assert by_name["no_open_incident"]["passed"] is True
    assert gate["allowed"] is False
    assert gate["failed"] == sum(1 for c in gate["checks"] if not c["passed"])
    assert gate["verdict"]["tone"] == "danger"
    assert gate["may_approve"] is False  # a data scientist


def test_the_presenter_offers_approval_to_a_compliance_officer_only_before_production(chain):
    officer = Actor(roles={chain.project.pk: "compliance_officer"})
    assert model_version_gate(actor=officer, model_version=chain.version)["may_approve"] is True
    ModelVersion.objects.filter(pk=chain.version.pk).update(stage="production")
    chain.version.refresh_from_db()
    assert model_version_gate(actor=officer, model_version=chain.version)["may_approve"] is False


# The page ----------------------------------------------------------------------------------------------


def test_the_page_shows_each_check_with_why_and_the_verdict(chain):
    client = staff_client("dana", "data_scientist", chain.project)
    response = client.get(version_page(chain.version))
    assert response.status_code == 200
    section = _section(response, "promotion-gate")
    for check in response.context["gate"]["checks"]:
        assert check["check"] in section
        assert check["message"] in section
    assert "the model card lacks intended_use, limitations" in section
    assert "refused:" in section
    assert 'name="_approve"' not in section  # a data scientist sees no Approve form
    assert 'name="_card"' in _section(response, "model-card")
    assert "style=" not in section


def test_a_compliance_officer_approves_from_the_page(chain):
    client = staff_client("olga", "compliance_officer", chain.project)
    page = version_page(chain.version)
    assert 'name="_approve"' in _section(client.get(page), "promotion-gate")
    response = client.post(page, {"_approve": "1", "approval-comment": "card and audit reviewed"})
    assert response.status_code == 302
    approval = ModelVersionApproval.objects.get(model_version=chain.version)
    assert approval.comment == "card and audit reviewed"
    assert approval.created_by_user.username == "olga"
    assert AuditEvent.objects.filter(target_id=str(chain.version.pk), after__approval=approval.pk).exists()
    section = _section(client.get(page), "promotion-gate")
    assert "card and audit reviewed" in section
    assert "user:olga" in section


def test_an_approval_needs_a_comment(chain):
    client = staff_client("olga", "compliance_officer", chain.project)
    response = client.post(version_page(chain.version), {"_approve": "1", "approval-comment": ""})
    assert response.status_code == 200
    assert response.context["approval_form"].errors["comment"]
    assert not ModelVersionApproval.objects.exists()


def test_a_data_scientist_cannot_approve_by_posting_the_form(chain):
    client = staff_client("dana", "data_scientist", chain.project)
    response = client.post(version_page(chain.version), {"_approve": "1", "approval-comment": "me myself"})
    assert response.status_code in (302, 403)
    assert not ModelVersionApproval.objects.exists()


def test_a_compliance_officer_of_another_project_cannot_approve(chain, other_project):
    client = staff_client("otto", "compliance_officer", other_project)
    response = client.post(version_page(chain.version), {"_approve": "1", "approval-comment": "from elsewhere"})
    assert response.status_code == 302  # the admin's "does not exist" redirect: the version is not theirs to see
    assert not ModelVersionApproval.objects.exists()


# The card form -----------------------------------------------------------------------------------------


def _card(**values) -> dict:
    return {
        "_card": "1",
        "card-intended_use": values.get("intended_use", ""),
        "card-limitations": values.get("limitations", ""),
        "card-risk_tier": values.get("risk_tier", "limited"),
    }


def test_the_card_form_edit_is_audited(chain):
    client = staff_client("dana", "data_scientist", chain.project)
    response = client.post(
        version_page(chain.version), _card(intended_use="loan pre-screening", limitations="adults", risk_tier="high")
    )
    assert response.status_code == 302
    version = ModelVersion.objects.select_related("model").get(pk=chain.version.pk)
    assert (version.intended_use, version.limitations, version.model.risk_tier) == (
        "loan pre-screening",
        "adults",
        "high",
    )
    event = AuditEvent.objects.get(event_type="model_version.card_updated")
    assert event.actor_name == "user:dana"
    assert event.before == {"intended_use": "", "limitations": "", "risk_tier": "limited"}


def test_the_card_is_not_offered_while_an_incident_is_open(chain):
    from datetime import UTC, datetime

    from governance.services.incidents import incident_open

    incident_open(
        actor=Actor.system(),
        project=chain.project,
        title="shadow run skewed",
        description="d",
        category="other",
        aware_at=datetime(2026, 3, 1, tzinfo=UTC),
        model_versions=[chain.version],
    )
    client = staff_client("olga", "compliance_officer", chain.project)
    page = version_page(chain.version)
    section = _section(client.get(page), "model-card")
    assert 'name="_card"' not in section
    assert "shadow run skewed" in section and "Art. 73" in section
    assert client.post(page, _card(intended_use="rewritten")).status_code == 403
    assert ModelVersion.objects.get(pk=chain.version.pk).intended_use == ""
    assert not AuditEvent.objects.filter(event_type="model_version.card_updated").exists()


def test_a_refused_card_edit_shows_why_beside_the_field(chain):
    from tests import factories as f

    f.ModelVersionFactory(model=chain.model, run=chain.run, version=2, stage="production")
    client = staff_client("dana", "data_scientist", chain.project)
    response = client.post(version_page(chain.version), _card(intended_use="screening", risk_tier="minimal"))
    assert response.status_code == 200
    [error] = response.context["card_form"].errors["risk_tier"]
    assert "serves production" in error
    assert "serves production" in _section(response, "model-card")
    assert ModelVersion.objects.get(pk=chain.version.pk).intended_use == ""  # nothing of the refused edit
    assert Model.objects.get(pk=chain.model.pk).risk_tier == "limited"


def test_the_card_is_not_offered_once_in_production(chain):
    ModelVersion.objects.filter(pk=chain.version.pk).update(stage="production")
    client = staff_client("dana", "data_scientist", chain.project)
    page = version_page(chain.version)
    section = _section(client.get(page), "model-card")
    assert 'name="_card"' not in section
    assert "frozen" in section
    response = client.post(page, _card(intended_use="after the fact"))
    assert response.status_code == 403  # the admin's read-only change form refuses the post
    assert ModelVersion.objects.get(pk=chain.version.pk).intended_use == ""


def test_a_risk_analyst_sees_no_card_form(chain):
    client = staff_client("rita", "risk_analyst", chain.project)
    section = _section(client.get(version_page(chain.version)), "model-card")
    assert 'name="_card"' not in section


# Refused promotions and the whole path -----------------------------------------------------------------


def test_a_refused_promotion_lists_every_failed_check(chain):
    client = staff_client("dana", "data_scientist", chain.project)
    transition = reverse("admin:registry_modelversion_transition", args=[chain.version.pk])
    response = client.post(transition, {"to_stage": "production", "reason": "ship it"})
    assert response.status_code == 302
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    checks = hooks.gate_checks(Actor.for_user(response.wsgi_request.user), chain.version, "production")
    failed = [c["message"] for c in checks if not c["passed"]]
    assert len(failed) >= 2
    for reason in failed:
        assert reason in message
    assert ModelVersion.objects.get(pk=chain.version.pk).stage == "none"


def test_a_version_registered_with_an_empty_card_walks_the_path_to_production(chain, make_client):
    """From a notebook's key: register with no card, PATCH the card, a compliance officer approves on the page,
    and the data scientist's promotion passes the gate."""
    Model.objects.filter(pk=chain.model.pk).update(risk_tier="limited")
    scientist = make_client("data_scientist", chain.project)
    registered = scientist.post(
        "/api/v1/model-versions/",
        {"model": chain.model.pk, "run": chain.run.pk, "artifact_uri": "s3://m/2.pkl", "artifact_sha256": "c" * 64},
        format="json",
    )
    assert registered.status_code == 201, registered.content
    version = ModelVersion.objects.get(pk=registered.json()["id"])
    _passing_audit(version)

    refused = scientist.post(
        f"/api/v1/model-versions/{version.pk}/transition/", {"to_stage": "production", "reason": "r"}, format="json"
    )
    assert refused.status_code == 400
    assert any("model card" in reason for reason in refused.json()["error"]["fields"]["to_stage"])

    card = scientist.patch(
        f"/api/v1/model-versions/{version.pk}/",
        {"intended_use": "loan pre-screening", "limitations": "adults, EU", "risk_tier": "high"},
        format="json",
    )
    assert card.status_code == 200, card.content
    assert AuditEvent.objects.filter(event_type="model_version.card_updated", target_id=str(version.pk)).exists()

    still = scientist.get(f"/api/v1/model-versions/{version.pk}/gate/").json()
    assert [c["check"] for c in still["checks"] if not c["passed"]] == ["second_approver"]

    officer = staff_client("olga", "compliance_officer", chain.project)
    approved = officer.post(version_page(version), {"_approve": "1", "approval-comment": "card and audit read"})
    assert approved.status_code == 302

    promoted = scientist.post(
        f"/api/v1/model-versions/{version.pk}/transition/",
        {"to_stage": "production", "reason": "gate passed"},
        format="json",
    )
    assert promoted.status_code == 200, promoted.content
    assert ModelVersion.objects.get(pk=version.pk).stage == "production"
    frozen = scientist.patch(f"/api/v1/model-versions/{version.pk}/", {"limitations": "none"}, format="json")
    assert frozen.status_code == 409
