"""registry.admin.projects (and the model add form): created through their services; API keys (the raw key
shown once) revoked, never deleted; memberships through membership_set."""

from __future__ import annotations

import hashlib
import re

from django.contrib.auth import get_user_model

from registry import services
from registry.actors import Actor
from registry.models import (
    ApiKey,
    Membership,
    Model,
    Project,
)
from tests.registry.admin.pages import url


def test_project_and_model_are_created_by_their_services(admin_client):
    response = admin_client.post(url(Project, "add"), {"slug": "initech", "name": "Initech"})
    assert response.status_code == 302
    project = Project.objects.get(slug="initech")
    assert project.created_by_user == admin_client.user
    response = admin_client.post(
        url(Model, "add"), {"project": project.pk, "name": "churn", "risk_tier": "high", "description": ""}
    )
    assert response.status_code == 302
    assert Model.objects.get(name="churn").created_by_user == admin_client.user


def test_membership_is_set_by_the_service(admin_client, project):
    person = get_user_model().objects.create_user("erin")
    response = admin_client.post(
        url(Membership, "add"), {"user": person.pk, "project": project.pk, "role": "risk_analyst"}
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=person)
    response = admin_client.post(url(Membership, "change", membership.pk), {"role": "compliance_officer"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert (membership.user, membership.project, membership.role) == (person, project, "compliance_officer")


def test_api_key_creation_shows_the_raw_key_once_and_stores_only_its_hash(admin_client, project):
    response = admin_client.post(
        url(ApiKey, "add"), {"project": project.pk, "role": "ingest", "name": "scoring"}, follow=True
    )
    assert response.status_code == 200
    body = response.content.decode()
    raw = re.search(r"gk_[0-9a-f]+_[A-Za-z0-9_-]+", body).group(0)
    key = ApiKey.objects.get(name="scoring")
    assert key.key_sha256 == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(list(ApiKey.objects.values_list()))
    assert key.created_by_user == admin_client.user

    # Shown once: neither the key's page nor the list shows it again.
    assert raw not in admin_client.get(url(ApiKey, "change", key.pk)).content.decode()
    assert raw not in admin_client.get(url(ApiKey, "changelist")).content.decode()
    assert key.key_sha256 not in admin_client.get(url(ApiKey, "change", key.pk)).content.decode()


def test_api_key_form_asks_project_role_name_and_owner_defaulting_to_the_user(admin_client, project):
    form = admin_client.get(url(ApiKey, "add")).context["adminform"].form
    assert list(form.fields) == ["project", "role", "name", "owner"]
    assert form.initial["owner"] == admin_client.user.pk
    response = admin_client.post(
        url(ApiKey, "add"), {"project": project.pk, "role": "compliance_officer", "name": "mine", "owner": ""}
    )
    assert response.status_code == 302
    assert ApiKey.objects.get(name="mine").owner is None  # cleared on purpose: a service key
    admin_client.post(
        url(ApiKey, "add"),
        {"project": project.pk, "role": "compliance_officer", "name": "held", "owner": admin_client.user.pk},
    )
    assert ApiKey.objects.get(name="held").owner == admin_client.user


def test_api_keys_are_revoked_by_an_action_not_deleted(admin_client, project):
    key, _ = services.api_key_create(actor=Actor.system(), project=project, role="ingest", name="old")
    response = admin_client.post(
        url(ApiKey, "changelist"), {"action": "revoke_keys", "_selected_action": [key.pk], "index": 0}
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_membership_pages_show_only_their_fields(admin_client, records):
    form = admin_client.get(url(Membership, "add")).context["adminform"]
    assert [f for fs in form.fieldsets for f in fs[1]["fields"]] == ["user", "project", "role"]
    form = admin_client.get(url(Membership, "change", records.membership.pk)).context["adminform"]
    assert [f for fs in form.fieldsets for f in fs[1]["fields"]] == ["user", "project", "role"]
