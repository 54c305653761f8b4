"""History cannot be rewritten: the append-only tables refuse TRUNCATE, the chain head cannot be rewound, and
a content-hashed record changed behind the services is named by the verify."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from registry.audit import audit_chain_verify
from registry.models import AuditEvent
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
