"""Helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

from contextlib import contextmanager
from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client


def staff_client(username: str, role: str, project) -> Client:
    """A person made the way operators make them (`manage.py create_user`), logged in."""
    call_command("create_user", username=username, role=role, project=project.slug, stdout=StringIO())
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def member_api_client(role: str, project, name: str):
    """An API client logged in as a new person holding `role` in `project` (`client.user` is that person)."""
    from rest_framework.test import APIClient

    from registry.actors import Actor
    from registry.services import membership_set

    user = get_user_model().objects.create_user(name, password="pw")
    membership_set(actor=Actor.system(), user=user, project=project, role=role)
    client = APIClient()
    client.force_login(user)
    client.user = user
    return client


def make_promotable(version) -> None:
    """Give a version what the promotion gate asks for: a policy naming the attribute audits must cover, a
    passing fairness audit by it over enough decisions, a complete model card and the approval of a compliance
    officer who is a person (rows made directly: test setup only)."""
    from governance.models import FairnessAudit, ModelVersionApproval, Policy

    policy, _ = Policy.objects.get_or_create(project_id=version.project_id)
    if policy.required_sensitive_features != ["sex"]:
        Policy.objects.filter(pk=policy.pk).update(required_sensitive_features=["sex"])
    approver, _ = get_user_model().objects.get_or_create(username="approving-officer")

    type(version).objects.filter(pk=version.pk).update(intended_use="tests", limitations="tests only")
    version.intended_use, version.limitations = "tests", "tests only"
    FairnessAudit.objects.create(
        project_id=version.project_id,
        model_version=version,
        sensitive_features=["sex"],
        positive_label=1,
        row_count=1000,
        overall={},
        by_group=[],
        disparities={},
        policy={},
        passed=True,
    )
    ModelVersionApproval.objects.create(
        project_id=version.project_id,
        model_version=version,
        to_stage="production",
        comment="reviewed",
        created_by_user=approver,
    )


@contextmanager
def as_deployment_role(cursor, *, temporary: bool = False):
    """Run the rest of the test's transaction as a role with the grants of README.md ("The database role of a
    deployment"): rows only, no TRUNCATE, no DDL (PostgreSQL; the role lives and dies with the transaction)."""
    import uuid

    from django.db import connection

    role = f"governance_app_{uuid.uuid4().hex[:12]}"
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for statement in (
        f"CREATE ROLE {role} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        *([f"GRANT TEMPORARY ON DATABASE {connection.settings_dict['NAME']} TO {role}"] if temporary else []),
        f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {role}",
        f"SET LOCAL ROLE {role}",
    ):
        cursor.execute(statement)
    try:
        yield role
    finally:
        cursor.execute("RESET ROLE")


def followed(client, response):
    """What a 202 of a background job made: the job has run in process (the suite has no broker), and this is the
    GET of its result link. Any other answer (a 400 before any job; the 202 of a job that failed) is given back as
    it came."""
    if response.status_code != 202:
        return response
    job = response.json()
    assert response["Location"] == job["url"]
    assert job["state"] in ("succeeded", "failed"), job
    return client.get(job["result"]["url"]) if job["state"] == "succeeded" else response
