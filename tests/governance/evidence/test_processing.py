"""The record of processing activities (GDPR Art. 30, issue 16 item 5), generated from the demo's records: the
controller, each data set with its purpose, legal basis, categories and number of data subjects, each model's
processing (risk tier, use, deployment, the sensitive attributes its decisions carry), recipients, retention and
the measures applied; as JSON and as CSV, for the project's readers only."""

from __future__ import annotations

import csv
import io

import pytest

from governance.demo import DEMO_PROJECT, demo_load
from governance.models import Webhook
from registry.models import Project
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.ARTIFACT_ROOT = tmp_path / "artifacts"
    demo_load()
    return Project.objects.get(slug=DEMO_PROJECT)


def test_the_record_of_the_demo(demo, make_client, other_project):
    Webhook.objects.create(project=demo, url="https://alerts.example.org/hook", events=["*"], secret="s" * 32)
    reader = make_client("risk_analyst", demo)
    record = reader.get(f"/api/v1/processing-records/{DEMO_PROJECT}/").json()
    assert record["controller"] == demo.name
    (arrests,) = record["data"]
    assert arrests["dataset"] == "arrests" and arrests["personal_data"] is True and arrests["legal_basis"]
    assert arrests["data_subjects"] == 5226
    assert {"age", "colour", "sex", "employed"} <= set(arrests["categories"].split(", "))
    model = next(p for p in record["processing"] if p["activity"] == "automated decisions by arrests-release")
    assert model["risk_tier"] == "high" and "production" in model["deployed_to"]
    assert model["sensitive_attributes"] == "colour, sex"
    assert record["alert_recipients"] == ["alerts.example.org"]
    assert any("pseudonymised" in measure for measure in record["security_measures"])

    response = reader.get(f"/api/v1/processing-records/{DEMO_PROJECT}/csv/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "section"
    assert ["data", "arrests"] == rows[1][:2] and rows[1][5] == "5226"
    assert any(row[0] == "processing" and row[1] == "automated decisions by arrests-release" for row in rows)
    assert sum(row[0] == "security" for row in rows) == len(record["security_measures"])

    assert (
        make_client("risk_analyst", other_project).get(f"/api/v1/processing-records/{DEMO_PROJECT}/").status_code == 404
    )
    assert make_client("ingest", demo).get(f"/api/v1/processing-records/{DEMO_PROJECT}/").status_code == 403


def test_the_record_in_admin(demo):
    from django.urls import reverse

    from governance.models import Policy
    from tests.helpers import staff_client

    policy, _ = Policy.objects.get_or_create(project=demo)
    analyst = staff_client("rita", "risk_analyst", demo)
    change = analyst.get(reverse("admin:governance_policy_change", args=[policy.pk])).content.decode()
    url = reverse("admin:governance_policy_processing", args=[policy.pk])
    assert url in change
    body = analyst.get(url).content.decode()
    assert "Record of processing activities" in body and "automated decisions by arrests-release" in body
    assert "5226" in body and "colour, sex" in body
    stranger = staff_client("eve", "risk_analyst", f.ProjectFactory(slug="globex"))
    assert stranger.get(url).status_code in (302, 404)
