"""Incidents in admin: an officer opens one from the add form, sees its clock, records the reports and closes it;
others read it (or not, outside the project) and cannot write."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from governance.models import Incident
from tests.helpers import staff_client

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
