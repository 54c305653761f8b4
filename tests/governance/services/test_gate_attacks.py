"""Attacks on the promise "nothing reaches production without passing the gate" (issue 11).

Each test does what a data scientist's key, a second key of the same officer, an analyst's typo or an insider
with SQL would do, and asserts that it fails or changes nothing the gate answers.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from governance.models import FairnessAudit, Policy
from governance.services import decisions_ingest, outcomes_record
from registry import services
from registry.actors import Actor
from registry.models import AuditEvent, Deployment, Model, ModelVersion
from tests import factories as f
from tests.helpers import followed, make_promotable

SYSTEM = Actor.system()


def post(client, path, body):
    return client.post(f"/api/v1/{path}", body, format="json")


def live(client, model, at=None):
    params = {"at": at.isoformat()} if at is not None else {}
    response = client.get(f"/api/v1/models/{model.pk}/live/", params)
    assert response.status_code == 200, response.json()
    return sorted((row["version"], row["deployment"]) for row in response.json()["live"])


@pytest.fixture
def scientist(make_client, chain, django_user_model):
    return make_client("data_scientist", chain.project, owner=django_user_model.objects.create_user("dana"))


@pytest.fixture
def released(chain):
    """v1 was never promoted (the gate refuses it); v2 passed the gate and is live in production."""
    chain.deployment.delete()
    v2 = f.ModelVersionFactory(model=chain.model, run=chain.run, version=2)
    make_promotable(v2)
    services.model_version_transition(actor=SYSTEM, model_version=v2, to_stage="production", reason="passed")
    deployment = services.deployment_create(actor=SYSTEM, model_version=v2, environment="production")
    return chain.version, v2, deployment


# The gate can be skipped: a deployment


@pytest.mark.parametrize("strategy", ["direct", "blue_green", "canary"])
@pytest.mark.parametrize("environment", ["production", "prod-eu"])
def test_a_deployment_of_a_version_the_gate_refused_is_refused(released, scientist, chain, strategy, environment):
    v1, v2, v2_live = released
    body = {"model_version": v1.pk, "environment": environment, "strategy": strategy}
    if strategy == "canary":
        body["traffic_percent"] = 10
    response = post(scientist, "deployments/", body)
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == "gate_refused"
    assert response.json()["error"]["fields"] == {"model_version": ["is in stage none, not production"]}
    v2_live.refresh_from_db()
    assert v2_live.ended_at is None
    assert live(scientist, chain.model) == [(2, v2_live.pk)]
    assert not Deployment.objects.filter(model_version=v1).exists()


def test_a_shadow_or_a_staging_deployment_needs_no_gate_and_replaces_nothing_live(released, scientist, chain):
    v1, _, v2_live = released
    shadow = post(
        scientist, "deployments/", {"model_version": v1.pk, "environment": "production", "strategy": "shadow"}
    )
    assert shadow.status_code == 201, shadow.json()
    staging = post(scientist, "deployments/", {"model_version": v1.pk, "environment": "staging"})
    assert staging.status_code == 201, staging.json()
    v2_live.refresh_from_db()
    assert v2_live.ended_at is None


def test_a_version_in_production_whose_audit_failed_since_cannot_be_deployed(released, scientist, chain):
    _, v2, v2_live = released
    FairnessAudit.objects.create(
        project_id=v2.project_id,
        model_version=v2,
        sensitive_features=["sex"],
        positive_label=1,
        row_count=1000,
        overall={},
        by_group=[],
        disparities={},
        policy={},
        passed=False,
        failed_checks=[{"check": "demographic_parity_ratio", "message": "ratio 0.5 is below 0.8"}],
    )
    response = post(scientist, "deployments/", {"model_version": v2.pk, "environment": "production"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "gate_refused"
    assert any("ratio 0.5 is below 0.8" in message for message in error["fields"]["model_version"])
    v2_live.refresh_from_db()
    assert v2_live.ended_at is None


# The gate can be skipped: history


def test_a_backdated_deployment_is_refused_and_moves_no_end(released, scientist, chain):
    _, v2, v2_live = released
    before = live(scientist, chain.model, at=v2_live.started_at + timedelta(seconds=1))
    for started_at in ("2026-01-01T00:00:00Z", (timezone.now() - timedelta(minutes=10)).isoformat()):
        response = post(
            scientist,
            "deployments/",
            {"model_version": v2.pk, "environment": "production", "strategy": "direct", "started_at": started_at},
        )
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {"started_at": ["may not lie more than 300 seconds in the past"]}
    ended = post(scientist, f"deployments/{v2_live.pk}/end/", {"ended_at": "2026-01-02T00:00:00Z"})
    assert ended.json()["error"]["fields"] == {"ended_at": ["may not lie more than 300 seconds in the past"]}
    v2_live.refresh_from_db()
    assert v2_live.ended_at is None
    assert live(scientist, chain.model, at=v2_live.started_at + timedelta(seconds=1)) == before


def test_the_database_refuses_a_deployment_pointed_at_another_model(released, chain):
    """An insider who relabels a live deployment's model (or inserts one under a made-up model) would escape
    "one live direct deployment per model and environment": the (model_version, model) foreign key refuses it."""
    if connection.vendor != "postgresql":
        pytest.skip("the composite foreign key is PostgreSQL's (registry 0009)")
    _, v2, v2_live = released
    other = f.ModelFactory(project=v2.project)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE registry_deployment SET model_id = %s WHERE id = %s", [other.pk, v2_live.pk])
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO registry_deployment (project_id, model_id, model_version_id, environment, strategy, "
            "traffic_percent, started_at, ended_at, created_at) "
            "VALUES (%s, %s, %s, 'production', 'direct', 100, %s, NULL, %s)",
            [v2.project_id, other.pk, v2.pk, now, now],
        )
    assert Deployment.objects.get(pk=v2_live.pk).model_id == v2.model_id


def test_an_end_once_set_never_moves(released, scientist, chain):
    _, v2, v2_live = released
    ended = post(scientist, f"deployments/{v2_live.pk}/end/", {})
    assert ended.status_code == 200, ended.json()
    first_end = Deployment.objects.get(pk=v2_live.pk).ended_at
    again = post(scientist, "deployments/", {"model_version": v2.pk, "environment": "production"})
    assert again.status_code == 201, again.json()
    assert Deployment.objects.get(pk=v2_live.pk).ended_at == first_end
    assert post(scientist, f"deployments/{v2_live.pk}/end/", {}).status_code == 409
    assert Deployment.objects.get(pk=v2_live.pk).ended_at == first_end


def test_the_database_refuses_a_second_live_direct_deployment(released, chain):
    _, v2, v2_live = released
    insert = (
        "INSERT INTO registry_deployment (project_id, model_id, model_version_id, environment, strategy, "
        "traffic_percent, started_at, ended_at, created_at) VALUES (%s, %s, %s, 'production', %s, 100, %s, NULL, %s)"
    )
    now = timezone.now()
    for strategy in ("direct", "blue_green"):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(insert, [v2.project_id, v2.model_id, v2.pk, strategy, now, now])
    # A canary or a shadow beside the live one is allowed, as is a direct one in another environment.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(insert, [v2.project_id, v2.model_id, v2.pk, "canary", now, now])
    # Reopening an ended deployment beside the live one is refused too.
    old = f.DeploymentFactory(model_version=v2, ended_at=v2_live.started_at)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE registry_deployment SET ended_at = NULL WHERE id = %s", [old.pk])
    assert (
        Deployment.objects.filter(model=v2.model_id, environment="production", ended_at__isnull=True)
        .filter(strategy__in=["direct", "blue_green"])
        .count()
        == 1
    )


# The fairness check: which audit gates


@pytest.fixture
def decided(chain, make_client):
    """200 synthetic decisions of one day with outcomes: equal selection rates by sex (the policy's attribute),
    0.8 against 0.2 by region. Predictions equal outcomes, so equalized odds differ by 0 everywhere."""
    Policy.objects.update_or_create(project=chain.project, defaults={"required_sensitive_features": ["sex"]})
    key, _ = services.api_key_create(actor=SYSTEM, project=chain.project, role="ingest", name="serving")
    ingest = Actor.for_key(key)
    occurred = (timezone.now() - timedelta(hours=2)).isoformat()
    items, outcomes = [], []
    for i in range(200):
        region = "north" if i < 100 else "south"
        label = "Yes" if (i % 100) < (80 if region == "north" else 20) else "No"
        items.append(
            {
                "model_version": chain.version.pk,
                "request_id": f"r{i}",
                "features": {"x": i},
                "sensitive": {"sex": "F" if i % 2 else "M", "region": region},
                "prediction": label,
                "occurred_at": occurred,
            }
        )
        outcomes.append({"model_version": chain.version.pk, "request_id": f"r{i}", "outcome": label})
    decisions_ingest(actor=ingest, items=items)
    outcomes_record(actor=ingest, items=outcomes)
    ModelVersion.objects.filter(pk=chain.version.pk).update(intended_use="x", limitations="y")
    return chain.version


@pytest.fixture
def auditor(make_client, chain, django_user_model):
    return make_client("compliance_officer", chain.project, owner=django_user_model.objects.create_user("olga"))


def fairness_check(client, version):
    response = client.get(f"/api/v1/model-versions/{version.pk}/gate/", {"to_stage": "production"})
    return next(c for c in response.json()["checks"] if c["check"] == "fairness_audit")


def audit(client, version, features, positive_label="Yes"):
    """The audit made (its job followed), or the refusal."""
    return followed(
        client,
        post(
            client,
            "fairness-audits/",
            {"model_version": version.pk, "sensitive_features": features, "positive_label": positive_label},
        ),
    )


def alerts():
    return AuditEvent.objects.filter(event_type="alert.raised", after__alert="fairness.audit_failed").count()


def test_an_audit_by_another_attribute_or_over_too_few_decisions_does_not_pass_the_gate(decided, auditor):
    by_sex = audit(auditor, decided, ["sex"])
    assert by_sex.status_code == 200, by_sex.json()
    assert by_sex.json()["passed"] is True and by_sex.json()["exploratory"] is False
    check = fairness_check(auditor, decided)
    assert check["passed"] is False  # 200 decisions, the policy asks for 500
    assert check["message"].startswith("no fairness audit of this version by sex over at least 500 decisions")

    Policy.objects.filter(project_id=decided.project_id).update(required_sensitive_features=["age_band"])
    assert fairness_check(auditor, decided)["passed"] is False  # an audit by sex does not stand for age_band

    Policy.objects.filter(project_id=decided.project_id).update(
        required_sensitive_features=["sex"], min_audit_decisions=200
    )
    assert fairness_check(auditor, decided)["passed"] is True
    FairnessAudit.objects.filter(pk=by_sex.json()["id"]).update(created_at=timezone.now() - timedelta(days=91))
    check = fairness_check(auditor, decided)
    assert check["passed"] is False and "ending within 90 days" in check["message"]


def test_with_no_required_attributes_no_audit_lets_a_version_through(decided, auditor):
    Policy.objects.filter(project_id=decided.project_id).update(required_sensitive_features=[], min_audit_decisions=1)
    body = audit(auditor, decided, ["sex"]).json()
    assert body["passed"] is True and body["exploratory"] is True
    check = fairness_check(auditor, decided)
    assert check["passed"] is False and "the policy names no sensitive attributes" in check["message"]


def test_a_label_typo_or_an_unseen_attribute_is_a_400_listing_what_was_seen(decided, auditor):
    response = audit(auditor, decided, ["sex"], positive_label="yes")
    assert response.status_code == 400
    message = response.json()["error"]["fields"]["positive_label"][0]
    assert '"yes"' in message and '"Yes"' in message and '"No"' in message
    response = audit(auditor, decided, ["sex", "colour"])
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["sensitive_features"] == [
        "no decision in the window carries colour; the attributes seen are: region, sex"
    ]
    assert not FairnessAudit.objects.exists()
    assert alerts() == 0


def test_an_exploratory_audit_that_fails_neither_alerts_nor_blocks_production(decided, auditor, chain):
    Policy.objects.filter(project_id=decided.project_id).update(min_audit_decisions=200)
    assert audit(auditor, decided, ["sex"]).json()["passed"] is True
    for features in (["region"], ["region", "sex"]):
        body = audit(auditor, decided, features).json()
        assert body["passed"] is False and body["exploratory"] is True, body
    assert alerts() == 0
    assert fairness_check(auditor, decided)["passed"] is True
    # The same failure by the policy's attribute gates and alerts.
    Policy.objects.filter(project_id=decided.project_id).update(required_sensitive_features=["region"])
    body = audit(auditor, decided, ["region"]).json()
    assert body["passed"] is False and body["exploratory"] is False
    assert alerts() == 1
    assert fairness_check(auditor, decided)["passed"] is False


# Four eyes: people, not keys


@pytest.fixture
def high_risk(chain):
    Model.objects.filter(pk=chain.model.pk).update(risk_tier="high")
    make_promotable(chain.version)
    chain.version.approvals.all().delete()  # make_promotable's approval: each test brings its own
    return chain.version


def second_approver(client, version):
    response = client.get(f"/api/v1/model-versions/{version.pk}/gate/", {"to_stage": "production"})
    return next(c for c in response.json()["checks"] if c["check"] == "second_approver")


def approve(client, version):
    response = post(client, f"model-versions/{version.pk}/approve/", {"comment": "reviewed"})
    assert response.status_code == 201, response.json()


def test_a_second_key_of_the_same_officer_is_not_a_second_person(high_risk, make_client, chain, django_user_model):
    olga = django_user_model.objects.create_user("olga")
    first, second = (make_client("compliance_officer", chain.project, owner=olga) for _ in range(2))
    approve(first, high_risk)
    assert second_approver(second, high_risk)["passed"] is False
    response = post(second, f"model-versions/{high_risk.pk}/transition/", {"to_stage": "production", "reason": "go"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "gate_refused"
    high_risk.refresh_from_db()
    assert high_risk.stage == "none"
    # Olga logged in is Olga too.
    session = make_client("data_scientist", chain.project)
    session.credentials()
    session.force_login(olga)
    services.membership_set(actor=SYSTEM, user=olga, project=chain.project, role="compliance_officer")
    assert second_approver(session, high_risk)["passed"] is False
    # Another person's approval counts.
    other = make_client("compliance_officer", chain.project, owner=django_user_model.objects.create_user("omar"))
    approve(other, high_risk)
    assert second_approver(second, high_risk)["passed"] is True


def test_an_ownerless_keys_approval_counts_as_nobody(high_risk, make_client, chain, django_user_model):
    service_key = make_client("compliance_officer", chain.project)
    approve(service_key, high_risk)
    promoter = make_client("data_scientist", chain.project, owner=django_user_model.objects.create_user("dana"))
    check = second_approver(promoter, high_risk)
    assert check["passed"] is False
    assert "a key without an owner is nobody's" in check["message"]


def test_the_policy_names_its_attributes_as_a_list(chain, auditor):
    path = f"/api/v1/policies/{chain.project.slug}/"
    for bad in ("sex", ["sex", "sex"], [""], [1]):
        response = auditor.patch(path, {"required_sensitive_features": bad}, format="json")
        assert response.status_code == 400, (bad, response.json())
        assert "required_sensitive_features" in response.json()["error"]["fields"]
    response = auditor.patch(path, {"required_sensitive_features": ["sex"], "min_audit_decisions": 1000}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["required_sensitive_features"], response.json()["min_audit_decisions"]) == (["sex"], 1000)
