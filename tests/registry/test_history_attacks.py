"""History cannot be rewritten: the append-only tables refuse TRUNCATE, the chain head cannot be rewound, and
a content-hashed record changed behind the services is named by the verify."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from registry.actors import Actor
from registry.audit import audit_chain_verify
from registry.models import AuditEvent
from tests.helpers import as_deployment_role
from tests.registry.test_audit import history, postgresql_only  # noqa: F401 (a fixture)


def refused(statement: str, match: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's transaction holds deferred FK checks
        with pytest.raises(DatabaseError, match=match), transaction.atomic():
            cursor.execute(statement)


@pytest.mark.parametrize(
    "table", ["registry_auditevent", "registry_auditchainhead", "registry_stagetransition"], ids=lambda t: t
)
def test_truncate_of_an_append_only_table_is_refused(history, table):  # noqa: F811
    postgresql_only()
    refused(f"TRUNCATE {table} CASCADE", "TRUNCATE refused")
    assert audit_chain_verify().ok
    assert AuditEvent.objects.count() == 14


def test_the_trail_cannot_be_emptied_and_its_head_reset_to_genesis(history):  # noqa: F811
    postgresql_only()
    refused("TRUNCATE registry_auditevent", "TRUNCATE refused")
    refused("UPDATE registry_auditchainhead SET seq = 0, hash = repeat('0', 64)", "only moves forward")
    refused("UPDATE registry_auditchainhead SET hash = repeat('f', 64)", "only moves forward")  # same seq
    refused("DELETE FROM registry_auditchainhead", "DELETE refused")
    result = audit_chain_verify()
    assert result.ok and result.length == 14


def test_the_head_still_moves_forward_through_the_service(history):  # noqa: F811
    from registry import services
    from registry.actors import Actor

    services.project_create(actor=Actor.system(), slug="next", name="Next")
    assert audit_chain_verify().length == 15


def trail(client) -> dict:
    response = client.get("/api/v1/audit-events/verify/")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def auditor(history, superuser_client):  # noqa: F811
    """Who sees the whole verify (length, head, the bad records): a project's officer sees ok and its events."""
    return superuser_client


def owner_sql(table: str, *statements: str) -> None:
    """As the table owner, with the table's own triggers switched off (what the deployment role cannot do)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's transaction holds deferred FK checks
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for statement in statements:
            cursor.execute(statement)
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


@pytest.mark.sqlite
def test_a_fresh_history_verifies_with_its_records(history, auditor):  # noqa: F811
    body = trail(auditor)
    assert body["ok"] and body["bad_records"] == []
    assert body["records_checked"]["registry.dataversion"] == 1
    assert body["records_checked"]["registry.modelversion"] == 1
    assert "llmops.promptversion" in body["records_checked"]


@pytest.mark.sqlite
@pytest.mark.parametrize(
    ("table", "column", "record"),
    [
        ("registry_dataversion", "content_sha256", "registry.dataversion"),
        ("registry_modelversion", "artifact_sha256", "registry.modelversion"),
    ],
    ids=["data version", "model version"],
)
def test_a_content_hash_updated_by_sql_is_named(history, auditor, table, column, record):  # noqa: F811
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s RETURNING id", ["c" * 64])
        (pk,) = cursor.fetchone()
    body = trail(auditor)
    assert not body["ok"]
    assert body["bad_records"] == [
        {"record": record, "id": pk, "reason": f"{column} differs from the one its creation event recorded"}
    ]
    assert "broken_seq" not in body  # the chain itself holds: it is the record that moved
    with pytest.raises(CommandError, match=f"{record} {pk}: {column} differs"):
        call_command("verify_audit_chain", stdout=StringIO())


def test_a_prompt_version_deleted_and_inserted_again_with_new_messages_is_named(history, auditor):  # noqa: F811
    postgresql_only()
    from llmops.models import PromptVersion
    from llmops.services.prompts import prompt_create, prompt_version_create

    actor = Actor.system()
    template = prompt_create(actor=actor, project=history["project"], name="assistant")
    version = prompt_version_create(
        actor=actor, template=template, kind="chat", messages=[{"role": "system", "content": "Be careful."}]
    )
    assert trail(auditor)["ok"]
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        PromptVersion.objects.filter(pk=version.pk).delete()
    owner_sql(
        "llmops_promptversion",
        f"CREATE TEMP TABLE saved AS SELECT * FROM llmops_promptversion WHERE id = {version.pk}",
        f"DELETE FROM llmops_promptversion WHERE id = {version.pk}",
        'UPDATE saved SET messages = \'[{"role": "system", "content": "Approve everything."}]\'',
        "INSERT INTO llmops_promptversion SELECT * FROM saved",
    )
    reinserted = PromptVersion.objects.get(pk=version.pk)
    assert reinserted.content_sha256 == version.content_sha256 and reinserted.messages != version.messages
    body = trail(auditor)
    assert body["bad_records"] == [
        {"record": "llmops.promptversion", "id": version.pk, "reason": "content does not match its content_sha256"}
    ]


@pytest.mark.sqlite
def test_a_record_inserted_or_deleted_behind_the_services_is_named(history, auditor):  # noqa: F811
    from tests import factories as f

    extra = f.DataVersionFactory(dataset__project=history["project"], version="forged")  # no creation event
    body = trail(auditor)
    assert body["bad_records"] == [
        {"record": "registry.dataversion", "id": extra.pk, "reason": "no creation event records it"}
    ]


def test_the_deployment_role_of_the_readme_can_write_through_the_services_but_not_truncate_nor_ddl(history):  # noqa: F811
    """The grants of README.md ("The database role of a deployment"), on a role of this test's transaction."""
    postgresql_only()
    from registry import services

    with connection.cursor() as cursor, as_deployment_role(cursor):
        services.project_create(actor=Actor.system(), slug="as-app", name="As the app role")
        for statement, match in (
            ("TRUNCATE registry_auditevent", "permission denied"),
            ("ALTER TABLE registry_auditevent DISABLE TRIGGER USER", "must be owner"),
            ("DROP TRIGGER registry_auditevent_append_only ON registry_auditevent", "must be owner"),
            ("CREATE TABLE registry_forged (id int)", "permission denied"),
            ("UPDATE registry_auditevent SET actor_name = 'mallory'", "append-only"),
        ):
            with pytest.raises(DatabaseError, match=match), transaction.atomic():
                cursor.execute(statement)
    assert audit_chain_verify().ok and audit_chain_verify().length == 15
