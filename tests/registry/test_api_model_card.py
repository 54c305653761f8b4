"""PATCH /api/v1/model-versions/{id}/: the model card over REST, and what an insider's key cannot do with it."""

from __future__ import annotations

import pytest

from registry.models import AuditEvent, Model, ModelVersion, StageTransition
from tests import factories as f

CARD_EVENT = "model_version.card_updated"


def _url(version) -> str:
    return f"/api/v1/model-versions/{version.pk}/"


def _snapshot(version):
    row = ModelVersion.objects.select_related("model").get(pk=version.pk)
    return (row.intended_use, row.limitations, row.stage, row.artifact_uri, row.model.risk_tier)


def test_patch_sets_the_card_and_answers_the_version(chain, make_client):
    client = make_client("data_scientist", chain.project)
    response = client.patch(
        _url(chain.version),
        {"intended_use": "pre-screening of loan applications", "limitations": "adults only", "risk_tier": "high"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["intended_use"] == "pre-screening of loan applications"
    assert body["limitations"] == "adults only"
    assert body["risk_tier"] == "high"
    event = AuditEvent.objects.get(event_type=CARD_EVENT)
    assert event.actor_key_id is not None
    assert set(event.after) >= {"intended_use", "limitations", "risk_tier"}


def test_a_patch_that_changes_nothing_writes_no_event(chain, make_client):
    client = make_client("compliance_officer", chain.project)
    response = client.patch(_url(chain.version), {"limitations": ""}, format="json")
    assert response.status_code == 200
    assert not AuditEvent.objects.filter(event_type=CARD_EVENT).exists()


def test_a_bad_risk_tier_is_a_400_naming_the_field(chain, make_client):
    response = make_client("data_scientist", chain.project).patch(
        _url(chain.version), {"risk_tier": "extreme", "intended_use": "x"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["risk_tier"]
    assert ModelVersion.objects.get(pk=chain.version.pk).intended_use == ""


def test_put_is_not_offered(chain, make_client):
    response = make_client("data_scientist", chain.project).put(
        _url(chain.version), {"intended_use": "x"}, format="json"
    )
    assert response.status_code == 405


# Attacks: an insider holding a data scientist's key -------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"stage": "production"},
        {"artifact_uri": "s3://evil/model.pkl", "intended_use": "x"},
        {"artifact_sha256": "0" * 64},
        {"metrics": {"accuracy": 0.99}},
        {"model": 999, "run": 1},
    ],
)
def test_an_insider_cannot_patch_anything_but_the_card(chain, make_client, body):
    before = _snapshot(chain.version)
    response = make_client("data_scientist", chain.project).patch(_url(chain.version), body, format="json")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == set(body) - {"intended_use"}
    assert _snapshot(chain.version) == before
    assert not AuditEvent.objects.filter(event_type=CARD_EVENT).exists()


def test_an_insider_cannot_rewrite_the_card_of_a_production_version(chain, make_client):
    ModelVersion.objects.filter(pk=chain.version.pk).update(stage="production", intended_use="as approved")
    before = _snapshot(chain.version)
    response = make_client("data_scientist", chain.project).patch(
        _url(chain.version), {"intended_use": "anything at all", "risk_tier": "minimal"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "card_frozen"
    assert _snapshot(chain.version) == before
    assert not AuditEvent.objects.filter(event_type=CARD_EVENT).exists()


def test_an_insider_cannot_rewrite_an_archived_card_that_served_production(chain, make_client):
    ModelVersion.objects.filter(pk=chain.version.pk).update(stage="archived")
    StageTransition.objects.create(model_version=chain.version, from_stage="none", to_stage="production", reason="r")
    response = make_client("data_scientist", chain.project).patch(
        _url(chain.version), {"limitations": "none, really"}, format="json"
    )
    assert response.status_code == 409
    assert ModelVersion.objects.get(pk=chain.version.pk).limitations == ""


def test_an_insider_cannot_patch_another_projects_version(chain, make_client, other_project):
    theirs = f.ModelVersionFactory(model__project=other_project)
    before = _snapshot(theirs)
    response = make_client("data_scientist", chain.project).patch(_url(theirs), {"intended_use": "x"}, format="json")
    assert response.status_code == 404
    assert _snapshot(theirs) == before
    assert not AuditEvent.objects.filter(event_type=CARD_EVENT).exists()


@pytest.mark.parametrize("role", ["risk_analyst", "reviewer", "ingest"])
def test_other_roles_are_refused(chain, make_client, role):
    response = make_client(role, chain.project).patch(_url(chain.version), {"intended_use": "x"}, format="json")
    assert response.status_code == 403
    assert Model.objects.get(pk=chain.model.pk).risk_tier == "limited"
