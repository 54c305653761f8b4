"""A project's policy is created only by the policies service, with a `policy.created` audit event in the same
transaction: the first read (API or admin, or a report needing the thresholds) records exactly one, later
reads none."""

from __future__ import annotations

import pytest
from django.urls import reverse

from governance.models import Policy
from governance.services.policies import policies_ensure, policy_for_project
from registry.actors import Actor
from registry.audit import audit_chain_verify
from registry.models import AuditEvent
from tests.helpers import staff_client

pytestmark = pytest.mark.django_db


def created_events(project) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type="policy.created", project_id=project.pk).order_by("seq"))


def test_the_first_api_read_of_a_policy_records_one_event_and_the_second_none(project, make_client):
    officer = make_client("compliance_officer", project)
    assert not Policy.objects.exists()

    first = officer.get(f"/api/v1/policies/{project.slug}/")
    assert first.status_code == 200
    policy = Policy.objects.get(project=project)
    [event] = created_events(project)
    assert event.target_type == "governance.policy" and event.target_id == str(policy.pk)
    assert event.actor_key_id is not None and event.actor_name.startswith("key:")
    assert event.before is None
    assert event.after == policy.snapshot() == {key: first.json()[key] for key in policy.snapshot()}
    assert event.target_repr == f"policy of {project.slug}"

    assert officer.get(f"/api/v1/policies/{project.slug}/").status_code == 200
    assert officer.get("/api/v1/policies/").status_code == 200
    assert len(created_events(project)) == 1
    assert not AuditEvent.objects.filter(event_type="policy.changed").exists()
    assert audit_chain_verify().ok


def test_the_first_admin_list_records_one_event_per_project_and_the_second_none(project, other_project):
    officer = staff_client("olga", "compliance_officer", project)
    changelist = reverse("admin:governance_policy_changelist")
    assert officer.get(changelist).status_code == 200
    [event] = created_events(project)
    assert event.actor_name == "user:olga" and event.before is None
    assert not created_events(other_project)  # not the officer's project: not created, not recorded

    assert officer.get(changelist).status_code == 200
    assert len(created_events(project)) == 1


def test_a_report_needing_the_policy_creates_it_once(project):
    actor = Actor.system()
    policy = policy_for_project(actor=actor, project_id=project.pk)
    assert policy_for_project(actor=actor, project_id=project.pk) == policy
    [event] = created_events(project)
    assert (event.actor_name, event.after["min_group_size"]) == ("system", 30)


def test_ensure_creates_only_the_missing_ones(project, other_project):
    actor = Actor.system()
    policy_for_project(actor=actor, project_id=project.pk)
    created = policies_ensure(actor=actor, projects=[project, other_project])
    assert [p.project_id for p in created] == [other_project.pk]
    assert len(created_events(project)) == 1 and len(created_events(other_project)) == 1
    assert policies_ensure(actor=actor, projects=[project, other_project]) == []
    assert AuditEvent.objects.filter(event_type="policy.created").count() == 2
