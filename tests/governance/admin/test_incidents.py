"""Incidents in admin: an officer opens one from the add form, sees its clock, records the reports and closes it;
others read it (or not, outside the project) and cannot write."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from governance.models import Incident
from governance.services import incidents
from registry.actors import Actor
from registry.models import AuditEvent, ModelVersion, Stage
from tests import factories as f
from tests.helpers import make_promotable, staff_client

pytestmark = pytest.mark.django_db
SHA = "cd" * 32


def split(moment):
    return {"0": moment.strftime("%Y-%m-%d"), "1": moment.strftime("%H:%M:%S")}


def test_an_officer_opens_reports_and_closes_an_incident(chain, other_project):
    officer = staff_client("olga", "compliance_officer", chain.project)
    add = reverse("admin:governance_incident_add")
    now = timezone.now()
    aware = split(now)
    response = officer.post(
        add,
        {
            "project": chain.project.pk,
            "title": "Denials for one postcode",
            "description": "All applicants of one postcode denied for a week.",
            "category": "other",
            "aware_at_0": aware["0"],
            "aware_at_1": aware["1"],
            "model_versions": [chain.version.pk],
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    incident = Incident.objects.get()
    page = reverse("admin:governance_incident_change", args=[incident.pk])
    body = officer.get(page).content.decode()
    assert "Denials for one postcode" in body and "frozen" in body and "days" in body
    sent = split(now)
    for kind in ("initial", "complete"):
        response = officer.post(
            page,
            {
                "record_report": "1",
                "report-kind": kind,
                "report-text": f"{kind} report",
                "report-sent_at_0": sent["0"],
                "report-sent_at_1": sent["1"],
                "report-recipient": "Authority, by portal",
                "report-attachments": f"analysis.pdf {SHA}",
            },
        )
        assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "complete"
    assert incident.reports.get(kind="complete").attachments == [{"name": "analysis.pdf", "sha256": SHA}]
    assert "reported in time" in officer.get(page).content.decode()
    officer.post(page, {"close_incident": "1", "close-root_cause": "leak", "close-corrective_action": "retrained"})
    incident.refresh_from_db()
    assert incident.status == "closed"

    analyst = staff_client("ana", "risk_analyst", chain.project)
    assert "Record the report" not in analyst.get(page).content.decode()
    stranger = staff_client("eve", "compliance_officer", other_project)
    assert stranger.get(page).status_code in (302, 404)


def test_an_open_incident_freezes_its_version_in_admin_and_a_rollback_is_recorded_there(chain):
    """The freeze holds through admin's stage page as through REST; the incident page records a rollback to another
    version of the model, which goes back to production through the gate and is deployed."""
    older = f.ModelVersionFactory(model=chain.model, run=chain.run, version=0, stage=Stage.ARCHIVED)
    make_promotable(older)
    make_promotable(chain.version)
    ModelVersion.objects.filter(pk=chain.version.pk).update(stage=Stage.STAGING)
    officer = staff_client("olga", "compliance_officer", chain.project)
    incident = incidents.incident_open(
        actor=Actor.system(),
        project=chain.project,
        title="Denials for one postcode",
        description="All applicants of one postcode denied.",
        category="other",
        aware_at=timezone.now(),
        model_versions=[chain.version],
    )
    transition = reverse("admin:registry_modelversion_transition", args=[chain.version.pk])
    response = officer.post(transition, {"to_stage": "production", "reason": "go"}, follow=True)
    shown = [str(m) for m in response.context["messages"]]
    assert any("promotion gate refuses" in m for m in shown), shown
    assert ModelVersion.objects.get(pk=chain.version.pk).stage == Stage.STAGING

    page = reverse("admin:governance_incident_change", args=[incident.pk])
    body = officer.get(page).content.decode()
    assert "Roll back" in body
    choices = officer.get(page).context["rollback_form"].fields["model_version"].queryset
    assert list(choices) == [older]  # the frozen version is not offered
    blank = officer.post(page, {"record_rollback": "1", "rollback-model_version": older.pk, "rollback-reason": ""})
    assert blank.status_code == 200 and blank.context["rollback_form"].errors == {
        "environment": ["This field is required."],
        "reason": ["This field is required."],
    }
    done = officer.post(
        page,
        {
            "record_rollback": "1",
            "rollback-model_version": older.pk,
            "rollback-environment": "production",
            "rollback-reason": "back to v0 while v1 is examined",
        },
        follow=True,
    )
    assert any("Rolled back" in str(m) for m in done.context["messages"])
    older.refresh_from_db()
    assert older.stage == Stage.PRODUCTION
    assert incident.deployments.filter(model_version=older, environment="production").exists()
    assert AuditEvent.objects.filter(event_type="incident.rolled_back", target_id=str(incident.pk)).count() == 1

    analyst = staff_client("ana", "risk_analyst", chain.project)
    assert analyst.post(page, {"record_rollback": "1", "rollback-model_version": older.pk}).status_code == 403
