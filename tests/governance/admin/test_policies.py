"""The project policy in admin: one per project (made with the defaults on first look), changed by its
compliance officers through the service, read by the others."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from governance.models import Policy
from governance.services.policies import policy_for_project
from registry.actors import Actor
from registry.models import AuditEvent
from tests.helpers import staff_client

POLICIES = reverse("admin:governance_policy_changelist")


def policy_page(policy: Policy) -> str:
    return reverse("admin:governance_policy_change", args=[policy.pk])


@pytest.fixture
def officer(project):
    return staff_client("olga", "compliance_officer", project)


# Policies ------------------------------------------------------------------------------------------


def policy_form(policy: Policy, **changes) -> dict:
    """The form as a browser posts it: JSON fields (lists, objects) as their JSON text, and the hidden initial
    value Django renders beside a field whose default is callable (the list and object fields)."""
    current = policy.snapshot()
    values = {**current, **changes}
    values = {name: value for name, value in values.items() if value is not False}  # an unticked box sends nothing
    form = {
        name: json.dumps(value)
        if isinstance(value, (list, dict))
        else "on"
        if value is True
        else ""
        if value is None
        else value
        for name, value in values.items()
    }
    form.update(
        {f"initial-{name}": json.dumps(value) for name, value in current.items() if isinstance(value, (list, dict))}
    )
    return form


def test_the_policy_list_makes_each_projects_policy_and_shows_its_thresholds(admin_client, project, other_project):
    assert not Policy.objects.exists()
    response = admin_client.get(POLICIES)
    assert response.status_code == 200
    assert [str(p.project) for p in response.context["cl"].result_list] == ["acme", "globex"]
    body = response.content.decode()
    assert "Parity ratio ≥" in body
    for column, value in (
        ("parity_ratio", "0.8"),
        ("odds_difference", "0.1"),
        ("min_group_size", "30"),
        ("psi", "0.2"),
        ("performance_drop", "0.05"),
    ):
        assert body.count(f'<td class="field-{column}">{value}</td>') == 2, column
    assert reverse("admin:governance_policy_add") not in body
    assert admin_client.get(reverse("admin:governance_policy_add")).status_code == 403


def test_an_officer_changes_the_policy_through_the_service(officer, project, other_project):
    response = officer.get(POLICIES)
    assert [str(p.project) for p in response.context["cl"].result_list] == ["acme"]
    assert list(Policy.objects.values_list("project__slug", flat=True)) == ["acme"]  # only the officer's projects
    policy = Policy.objects.get()
    response = officer.post(policy_page(policy), policy_form(policy, min_group_size=50, max_psi=0.25))
    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.min_group_size, policy.max_psi) == (50, 0.25)
    event = AuditEvent.objects.get(event_type="policy.changed")
    assert event.actor_name == "user:olga"
    assert (event.before["min_group_size"], event.after["min_group_size"]) == (30, 50)
    assert (event.before["max_psi"], event.after["max_psi"]) == (0.2, 0.25)
    body = officer.get(policy_page(policy)).content.decode()
    assert "Minimum group size: 30 → 50; Maximum PSI: 0.2 → 0.25" in body
    assert 'name="_save"' in body

    officer.post(policy_page(policy), policy_form(policy))  # nothing changed: nothing recorded
    assert AuditEvent.objects.filter(event_type="policy.changed").count() == 1
    response = officer.post(policy_page(policy), policy_form(policy, min_demographic_parity_ratio=1.5))
    assert response.status_code == 200
    assert "min_demographic_parity_ratio" in response.context["adminform"].form.errors
    response = officer.post(policy_page(policy), policy_form(policy, max_equalized_odds_difference=-0.1))
    assert "max_equalized_odds_difference" in response.context["adminform"].form.errors
    assert AuditEvent.objects.filter(event_type="policy.changed").count() == 1

    theirs = policy_for_project(actor=Actor.system(), project_id=other_project.pk)
    assert officer.get(policy_page(theirs)).status_code == 302  # another project's: "does not exist"
    assert officer.post(policy_page(theirs), policy_form(theirs, max_psi=0.9)).status_code == 302
    theirs.refresh_from_db()
    assert theirs.max_psi == 0.2


def test_a_risk_analyst_reads_the_policy_but_cannot_change_it(project):
    analyst = staff_client("rita", "risk_analyst", project)
    assert analyst.get(POLICIES).status_code == 200
    policy = Policy.objects.get(project=project)
    response = analyst.get(policy_page(policy))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="_save"' not in body
    assert "Only the project's compliance officers may change them." in body
    assert analyst.post(policy_page(policy), policy_form(policy, min_group_size=5)).status_code == 403
    policy.refresh_from_db()
    assert policy.min_group_size == 30
    assert not AuditEvent.objects.filter(event_type="policy.changed").exists()
    assert analyst.post(reverse("admin:governance_policy_delete", args=[policy.pk]), {"post": "yes"}).status_code == 403
