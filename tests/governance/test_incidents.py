"""Serious incidents (AI Act Art. 73) through REST: the category fixes the report's deadline from awareness, the
affected decisions are a filter and its count, a webhook fires when one opens and when its clock nears the end,
reports and closing are recorded, and a rollback is recorded from the incident. Attacked: while an incident is open
its version cannot be promoted, moved, or deployed to production (REST, and the gate lists why); bad input is a
400 naming the field with nothing written; another project's officer reaches nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from governance.models import Incident, IncidentReport, Webhook, WebhookDelivery
from governance.services.incidents import incident_clocks_check
from registry.actors import Actor
from registry.models import ModelVersion, Stage
from tests import factories as f
from tests.helpers import make_promotable
from tests.helpers import member_api_client as person

pytestmark = [pytest.mark.sqlite, pytest.mark.django_db]
SHA = "ab" * 32


@pytest.fixture
def officer(chain):
    return person("compliance_officer", chain.project, "olga")


@pytest.fixture
def hook(chain):
    return Webhook.objects.create(project=chain.project, url="https://93.184.215.14/x", events=["*"], secret="s")


def open_incident(client, chain, **extra):
    body = {
        "title": "Denials for one postcode",
        "description": "Applicants of one postcode were all denied for a week.",
        "category": "other",
        "aware_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "model_versions": [chain.version.pk],
        "deployments": [chain.deployment.pk],
        "affected_after": "2026-01-31T00:00:00Z",
        "affected_before": "2026-02-02T00:00:00Z",
        **extra,
    }
    return client.post("/api/v1/incidents/", body, format="json")


def test_an_incident_runs_its_clock_counts_its_decisions_and_fires_a_webhook(chain, officer, hook):
    for _ in range(4):
        f.DecisionFactory(model_version=chain.version, occurred_at=datetime(2026, 2, 1, tzinfo=UTC))
    f.DecisionFactory(model_version=chain.version, occurred_at=datetime(2026, 3, 1, tzinfo=UTC))  # outside
    response = open_incident(officer, chain)
    assert response.status_code == 201, response.json()
    incident = response.json()
    assert incident["affected_count"] == 4
    assert incident["status"] == "open" and incident["days_left"] in (14, 15)
    aware = datetime.fromisoformat(incident["aware_at"])
    assert timedelta(days=14) < datetime.fromisoformat(incident["due_at"]) - aware <= timedelta(days=16)
    assert WebhookDelivery.objects.filter(event_type="incident.opened").count() == 1
    fast = open_incident(officer, chain, category="widespread_or_critical").json()
    assert datetime.fromisoformat(fast["due_at"]) - aware <= timedelta(days=3)


def test_an_open_incident_freezes_its_version(chain, officer, make_client):
    make_promotable(chain.version)
    ModelVersion.objects.filter(pk=chain.version.pk).update(stage=Stage.STAGING)
    incident = open_incident(officer, chain).json()
    scientist = make_client("data_scientist", chain.project)
    url = f"/api/v1/model-versions/{chain.version.pk}/transition/"
    for stage in ("production", "archived"):
        refused = scientist.post(url, {"to_stage": stage, "reason": "go"}, format="json")
        assert refused.status_code == 400, refused.json()
        assert any("frozen while incident" in m for m in refused.json()["error"]["fields"]["to_stage"])
    gate = officer.get(f"/api/v1/model-versions/{chain.version.pk}/gate/?to_stage=production").json()
    assert any(c["check"] == "no_open_incident" and not c["passed"] for c in gate["checks"])
    assert ModelVersion.objects.get(pk=chain.version.pk).stage == Stage.STAGING

    # reported, then closed: the version moves again
    base = f"/api/v1/incidents/{incident['id']}"
    sent = timezone.now().isoformat()
    early = officer.post(f"{base}/close/", {"root_cause": "x", "corrective_action": "y"}, format="json")
    assert early.status_code == 400  # no complete report yet
    initial = officer.post(
        f"{base}/report/",
        {"kind": "initial", "text": "Initial notice", "sent_at": sent, "recipient": "Authority, by portal"},
        format="json",
    )
    assert initial.json()["status"] == "reported" and initial.json()["days_left"] is None
    complete = officer.post(
        f"{base}/report/",
        {
            "kind": "complete",
            "text": "Full report",
            "sent_at": sent,
            "recipient": "Authority, by portal",
            "attachments": [{"name": "analysis.pdf", "sha256": SHA}],
        },
        format="json",
    )
    assert complete.json()["status"] == "complete", complete.json()
    closed = officer.post(
        f"{base}/close/",
        {"root_cause": "a postcode feature leaked", "corrective_action": "feature removed, retrained"},
        format="json",
    )
    assert closed.json()["status"] == "closed"
    moved = scientist.post(url, {"to_stage": "production", "reason": "go"}, format="json")
    assert moved.status_code == 200, moved.json()


def test_a_frozen_version_is_not_deployed_to_production(chain, officer, make_client):
    make_promotable(chain.version)
    ModelVersion.objects.filter(pk=chain.version.pk).update(stage=Stage.PRODUCTION)
    open_incident(officer, chain)
    deployer = make_client("data_scientist", chain.project)
    refused = deployer.post(
        "/api/v1/deployments/", {"model_version": chain.version.pk, "environment": "production"}, format="json"
    )
    assert refused.status_code == 400
    assert "frozen while incident" in str(refused.json())


def test_a_rollback_is_recorded_from_the_incident(chain, officer):
    older = f.ModelVersionFactory(model=chain.model, run=chain.run, version=0, stage=Stage.ARCHIVED)
    make_promotable(older)
    ModelVersion.objects.filter(pk=chain.version.pk).update(stage=Stage.PRODUCTION)
    incident = open_incident(officer, chain).json()
    base = f"/api/v1/incidents/{incident['id']}/rollback/"
    same = officer.post(base, {"model_version": chain.version.pk, "reason": "x"}, format="json")
    assert same.status_code == 400 and "model_version" in same.json()["error"]["fields"]
    response = officer.post(base, {"model_version": older.pk, "reason": "back to v0"}, format="json")
    assert response.status_code == 200, response.json()
    older.refresh_from_db()
    assert older.stage == Stage.PRODUCTION
    assert len(response.json()["deployments"]) == 2


def test_the_near_deadline_alert_goes_out_once(chain, officer, hook):
    incident = open_incident(officer, chain, category="widespread_or_critical").json()
    stored = Incident.objects.get(pk=incident["id"])
    assert incident_clocks_check(actor=Actor.system(), now=stored.aware_at + timedelta(hours=1)) == []
    near = stored.due_at - timedelta(hours=6)
    assert incident_clocks_check(actor=Actor.system(), now=near) == [stored]
    assert incident_clocks_check(actor=Actor.system(), now=near + timedelta(hours=1)) == []
    assert WebhookDelivery.objects.filter(event_type="incident.deadline_near").count() == 1


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"category": "bad"}, "category"),
        ({"model_versions": []}, "model_versions"),
        ({"title": ""}, "title"),
        ({"aware_at": "2999-01-01T00:00:00Z"}, "aware_at"),
        ({"affected_after": "2026-03-01T00:00:00Z", "affected_before": "2026-02-01T00:00:00Z"}, "affected_before"),
    ],
)
def test_bad_incidents_are_a_400_naming_the_field_and_write_nothing(chain, officer, extra, field):
    response = open_incident(officer, chain, **extra)
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"]
    assert not Incident.objects.exists()


def test_bad_reports_and_strangers(chain, officer, other_project):
    incident = open_incident(officer, chain).json()
    base = f"/api/v1/incidents/{incident['id']}/report/"
    body = {"kind": "initial", "text": "t", "sent_at": timezone.now().isoformat(), "recipient": "Authority"}
    bad = officer.post(base, {**body, "attachments": [{"name": "a.pdf", "sha256": "nothex"}]}, format="json")
    assert bad.status_code == 400 and "attachments" in bad.json()["error"]["fields"]
    assert officer.post(base, body, format="json").status_code == 200
    assert officer.post(base, body, format="json").status_code == 409  # one initial report
    assert IncidentReport.objects.count() == 1
    stranger = person("compliance_officer", other_project, "eve")
    assert stranger.get(f"/api/v1/incidents/{incident['id']}/").status_code == 404
    assert stranger.post(base, body, format="json").status_code == 404
    scientist = person("data_scientist", chain.project, "dan")
    assert scientist.get(f"/api/v1/incidents/{incident['id']}/").status_code == 200
    assert scientist.post(base, {**body, "kind": "complete"}, format="json").status_code == 403
