from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.http import HttpRequest
from rest_framework.test import APIClient

from registry.actors import Actor
from registry.auth import hash_key
from registry.models import ApiKey, Membership, Project


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_create_project_then_a_key_that_works():
    out, _ = run("create_project", "--slug", "credit", "--name", "Credit risk")
    assert "created project credit" in out
    key, note = run("create_api_key", "--project", "credit", "--role", "risk_analyst", "--name", "dashboards")
    raw = key.strip()
    assert raw.startswith("gk_") and "shown once" in note
    stored = ApiKey.objects.get()
    assert (stored.role, stored.project.slug, stored.key_sha256) == ("risk_analyst", "credit", hash_key(raw))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/projects/").json()["results"][0]["slug"] == "credit"


@pytest.mark.django_db
def test_commands_refuse_bad_input():
    with pytest.raises(CommandError, match="no project with slug 'nope'"):
        run("create_api_key", "--project", "nope", "--role", "ingest", "--name", "x")
    Project.objects.create(slug="credit", name="Credit")
    with pytest.raises(CommandError, match="already exists"):
        run("create_project", "--slug", "credit", "--name", "Again")
    with pytest.raises(CommandError):
        run("create_api_key", "--project", "credit", "--role", "admin", "--name", "x")
    with pytest.raises(CommandError, match="no user 'ghost'"):
        run("create_api_key", "--project", "credit", "--role", "ingest", "--name", "x", "--owner", "ghost")


@pytest.mark.django_db
def test_create_api_key_takes_an_owner(django_user_model):
    Project.objects.create(slug="credit", name="Credit")
    olga = django_user_model.objects.create_user("olga")
    _, note = run(
        "create_api_key", "--project", "credit", "--role", "compliance_officer", "--name", "o", "--owner", "olga"
    )
    assert "held by olga" in note
    assert ApiKey.objects.get(name="o").owner == olga
    _, note = run("create_api_key", "--project", "credit", "--role", "ingest", "--name", "svc")
    assert "a service key" in note and ApiKey.objects.get(name="svc").owner is None


@pytest.mark.django_db
def test_create_user_joins_the_role_group_and_project(monkeypatch, client):
    Project.objects.create(slug="credit", name="Credit")
    monkeypatch.setenv("OFFICER_PASSWORD", "a-long-password-1")
    out, _ = run(
        "create_user",
        "--username",
        "olga",
        "--role",
        "compliance_officer",
        "--project",
        "credit",
        "--password-env",
        "OFFICER_PASSWORD",
    )
    assert "created user olga: compliance_officer in credit" in out and "password" not in out
    membership = Membership.objects.get()
    assert (membership.user.username, membership.role, membership.project.slug) == (
        "olga",
        "compliance_officer",
        "credit",
    )
    user = membership.user
    assert user.is_staff and not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == ["compliance_officer"]
    assert user.has_perm("governance.view_decision")
    assert not user.has_perm("governance.change_decision")
    assert not user.has_perm("governance.delete_decision")
    assert client.login(request=HttpRequest(), username="olga", password="a-long-password-1")  # django-axes asks for it

    out, _ = run("create_user", "--username", "olga", "--role", "risk_analyst", "--project", "credit")
    assert "updated user olga" in out and "password (shown once):" in out
    assert list(user.groups.values_list("name", flat=True)) == ["risk_analyst"]


@pytest.mark.django_db
def test_role_groups_exist_with_their_permissions():
    groups = {g.name: {p.codename for p in g.permissions.all()} for g in Group.objects.all()}
    assert set(groups) == {"data_scientist", "compliance_officer", "risk_analyst", "reviewer", "ingest"}
    assert "add_modelversion" in groups["data_scientist"]
    assert "view_decision" in groups["compliance_officer"]
    assert not any(
        code.endswith("_decision") and not code.startswith("view") for codes in groups.values() for code in codes
    )
    assert groups["risk_analyst"] == {code for code in groups["risk_analyst"] if code.startswith("view_")}
    # erasure requests are the compliance officers' alone; obligations are the data scientists' to meet
    assert {"view_erasurerequest", "add_erasurerequest", "change_policy", "view_webhook"} <= groups[
        "compliance_officer"
    ]
    assert "view_erasurerequest" not in groups["risk_analyst"] | groups["data_scientist"]
    assert "view_retrainingobligation" in groups["data_scientist"]
    assert "change_auditevent" not in set().union(*groups.values())
    # reviewers see decisions and the queue they work through, nothing of erasure, API keys or webhooks
    assert {"view_decision", "view_reviewitem", "view_review"} <= groups["reviewer"]
    assert all(code.startswith("view_") for code in groups["reviewer"])
    assert not {"view_erasurerequest", "view_apikey", "view_webhook", "view_auditevent"} & groups["reviewer"]


@pytest.mark.django_db
def test_a_person_with_roles_in_two_projects_is_in_both_groups(django_user_model):
    from registry import services

    credit = Project.objects.create(slug="credit", name="Credit")
    fraud = Project.objects.create(slug="fraud", name="Fraud")
    user = django_user_model.objects.create_user("dana", is_staff=True)
    services.membership_set(actor=Actor.system(), user=user, project=credit, role="data_scientist")
    services.membership_set(actor=Actor.system(), user=user, project=fraud, role="risk_analyst")
    assert set(user.groups.values_list("name", flat=True)) == {"data_scientist", "risk_analyst"}
    services.membership_set(actor=Actor.system(), user=user, project=credit, role="risk_analyst")
    assert set(user.groups.values_list("name", flat=True)) == {"risk_analyst"}
