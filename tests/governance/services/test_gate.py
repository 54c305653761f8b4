"""The promotion gate: production needs a passing fairness audit, a model card, metric floors and,
for a high-risk model, a second person's approval; the same checks over REST and for CI/CD."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from governance.models import FairnessAudit, Policy
from registry.models import Model, ModelVersion, StageTransition
from tests import factories as f


@pytest.fixture
def version(chain):
    Policy.objects.update_or_create(project=chain.project, defaults={"required_sensitive_features": ["sex"]})
    Model.objects.filter(pk=chain.model.pk).update(risk_tier="high")
    ModelVersion.objects.filter(pk=chain.version.pk).update(metrics={"accuracy": 0.8})
    chain.version.refresh_from_db()
    return chain.version


@pytest.fixture
def scientist(make_client, chain, django_user_model):
    return make_client("data_scientist", chain.project, owner=django_user_model.objects.create_user("dana"))


@pytest.fixture
def officer(make_client, chain, django_user_model):
    return make_client("compliance_officer", chain.project, owner=django_user_model.objects.create_user("olga"))


def promote(client, version):
    return client.post(
        f"/api/v1/model-versions/{version.pk}/transition/", {"to_stage": "production", "reason": "go"}, format="json"
    )


def checks(client, version):
    response = client.get(f"/api/v1/model-versions/{version.pk}/gate/", {"to_stage": "production"})
    assert response.status_code == 200, response.content
    return response.json()


def audit(version, passed: bool) -> FairnessAudit:
    return FairnessAudit.objects.create(
        project_id=version.project_id,
        model_version=version,
        sensitive_features=["sex"],
        positive_label=1,
        row_count=1000,
        overall={},
        by_group=[],
        disparities={},
        policy={},
        passed=passed,
        failed_checks=[] if passed else [{"check": "demographic_parity_ratio", "message": "ratio 0.6 is below 0.8"}],
    )


def test_a_bare_version_is_refused_with_every_reason(version, scientist):
    body = checks(scientist, version)
    assert body["allowed"] is False
    assert {c["check"]: c["passed"] for c in body["checks"]} == {
        "fairness_audit": False,
        "model_card": False,
        "second_approver": False,
        "no_open_incident": True,
    }
    response = promote(scientist, version)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "gate_refused"
    assert error["fields"]["to_stage"] == [
        "no fairness audit of this version by sex over at least 500 decisions with outcomes, "
        "its window ending within 90 days",
        "the model card lacks intended_use, limitations",
        "a high-risk model needs the approval of a compliance officer other than the person promoting it",
    ]
    version.refresh_from_db()
    assert version.stage == "none"
    assert not StageTransition.objects.exists()


def test_a_failed_audit_blocks_and_a_passing_one_with_approval_lets_it_through(version, scientist, officer):
    ModelVersion.objects.filter(pk=version.pk).update(intended_use="credit decisions", limitations="EU only")
    audit(version, passed=False)
    body = checks(scientist, version)
    fairness = next(c for c in body["checks"] if c["check"] == "fairness_audit")
    assert fairness["passed"] is False and "ratio 0.6 is below 0.8" in fairness["message"]

    audit(version, passed=True)  # the latest audit counts
    approval = officer.post(
        f"/api/v1/model-versions/{version.pk}/approve/", {"comment": "reviewed audit 2 and the card"}, format="json"
    )
    assert approval.status_code == 201, approval.json()
    assert approval.json()["created_by"].startswith("key:")
    assert checks(scientist, version)["allowed"] is True
    response = promote(scientist, version)
    assert response.status_code == 200, response.json()
    transition = StageTransition.objects.get(to_stage="production")
    assert {c["check"] for c in transition.checks} == {
        "fairness_audit",
        "model_card",
        "second_approver",
        "no_open_incident",
    }
    assert all(c["passed"] for c in transition.checks)


def test_the_approver_cannot_be_the_promoter(version, officer):
    ModelVersion.objects.filter(pk=version.pk).update(intended_use="x", limitations="y")
    audit(version, passed=True)
    officer.post(f"/api/v1/model-versions/{version.pk}/approve/", {"comment": "mine"}, format="json")
    response = promote(officer, version)  # the same key approves and promotes
    assert response.json()["error"]["fields"]["to_stage"] == [
        "a high-risk model needs the approval of a compliance officer other than the person promoting it"
    ]


def test_metric_floors_and_approvals_only_by_officers(version, scientist, chain):
    Policy.objects.update_or_create(project=chain.project, defaults={"metric_floors": {"accuracy": 0.9, "auc": 0.7}})
    messages = {c["check"]: c["message"] for c in checks(scientist, version)["checks"]}
    assert messages["metric_floor:accuracy"] == "accuracy 0.8 is below the floor 0.9"
    assert messages["metric_floor:auc"] == "no auc is recorded"
    refused = scientist.post(f"/api/v1/model-versions/{version.pk}/approve/", {"comment": "x"}, format="json")
    assert refused.status_code == 403


def test_low_risk_models_need_no_second_approver_and_staging_is_not_gated(chain, scientist):
    assert "second_approver" not in {c["check"] for c in checks(scientist, chain.version)["checks"]}
    response = scientist.post(
        f"/api/v1/model-versions/{chain.version.pk}/transition/",
        {"to_stage": "staging", "reason": "try"},
        format="json",
    )
    assert response.status_code == 200


def test_the_gate_command_exits_1_then_0(version, officer, chain):
    out = StringIO()
    args = ["gate", "--project", chain.project.slug, "--model", chain.model.name, "--version", "1"]
    with pytest.raises(CommandError) as refused:
        call_command(*args, stdout=out)
    assert refused.value.returncode == 1
    assert "FAIL  fairness_audit: no fairness audit of this version by sex" in out.getvalue()
    assert out.getvalue().strip().endswith("-> production: refused")
    ModelVersion.objects.filter(pk=version.pk).update(intended_use="x", limitations="y")
    audit(version, passed=True)
    officer.post(f"/api/v1/model-versions/{version.pk}/approve/", {"comment": "ok"}, format="json")
    out = StringIO()
    call_command(*args, stdout=out)
    assert out.getvalue().strip().endswith("-> production: allowed")
    with pytest.raises(CommandError, match="no version 9"):
        call_command("gate", "--project", chain.project.slug, "--model", chain.model.name, "--version", "9")


def test_another_projects_version_is_invisible(version, make_client, other_project):
    f.ModelVersionFactory(model__project=other_project)
    foreign = make_client("compliance_officer", other_project)
    assert foreign.get(f"/api/v1/model-versions/{version.pk}/gate/").status_code == 404
    assert (
        foreign.post(f"/api/v1/model-versions/{version.pk}/approve/", {"comment": "x"}, format="json").status_code
        == 404
    )
