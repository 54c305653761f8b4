"""The hash-chained audit trail: written by every service, append-only, and any tampering is named."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction

from governance.events import GovernanceEvent
from governance.models import ErasureRequest
from governance.services import decisions_ingest, outcomes_record
from governance.services.erasure import erasure_request_create, erasure_request_execute, erasure_request_trace
from registry import services
from registry.actors import Actor
from registry.audit import (
    GENESIS,
    AuditEventType,
    audit_append,
    audit_chain_verify,
    event_type_choices,
    register_event_types,
)
from registry.models import AuditEvent, Project
from tests import factories as f
from tests.helpers import make_promotable

SYSTEM = Actor.system()


def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")


@pytest.fixture
def history(db):
    """A small history written through the services (so through the audit trail)."""
    project = services.project_create(actor=SYSTEM, slug="acme", name="Acme")
    key, raw = services.api_key_create(actor=SYSTEM, project=project, role="ingest", name="scorer")
    dataset = services.dataset_create(
        actor=SYSTEM, project=project, name="loans", contains_personal_data=True, legal_basis="contract"
    )
    dv = services.data_version_register(
        actor=SYSTEM, dataset=dataset, version="v1", content_sha256="a" * 64, row_count=2, schema={"x": "int64"}
    )
    services.subjects_index(actor=SYSTEM, data_version=dv, subject_ids=["alice", "bob"])
    run = services.run_register(actor=SYSTEM, project=project, name="r", inputs=[{"data_version": dv, "role": "train"}])
    model = services.model_create(actor=SYSTEM, project=project, name="credit")
    version = services.model_version_register(
        actor=SYSTEM, model=model, run=run, artifact_uri="s3://m", artifact_sha256="b" * 64
    )
    make_promotable(version)
    services.model_version_transition(actor=SYSTEM, model_version=version, to_stage="production", reason="ok")
    deployment = services.deployment_create(actor=SYSTEM, model_version=version, environment="prod")
    ingest = Actor.for_key(key)
    decisions_ingest(
        actor=ingest,
        items=[
            {
                "model_version": version.pk,
                "request_id": f"r{i}",
                "subject_id": "alice",
                "features": {"x": i},
                "prediction": 1,
                "occurred_at": "2026-01-01T00:00:00Z",
            }
            for i in range(3)
        ],
    )
    outcomes_record(actor=ingest, items=[{"model_version": version.pk, "request_id": "r0", "outcome": 0}])
    services.deployment_end(actor=SYSTEM, deployment=deployment)
    services.api_key_revoke(actor=SYSTEM, key=key)
    return {"project": project, "raw_key": raw, "version": version}


def test_every_service_writes_its_event(history):
    types = list(AuditEvent.objects.order_by("seq").values_list("event_type", flat=True))
    assert types == [
        AuditEventType.PROJECT_CREATED,
        AuditEventType.API_KEY_CREATED,
        AuditEventType.DATASET_CREATED,
        AuditEventType.DATA_VERSION_REGISTERED,
        AuditEventType.SUBJECTS_INDEXED,
        AuditEventType.RUN_REGISTERED,
        AuditEventType.MODEL_CREATED,
        AuditEventType.MODEL_VERSION_REGISTERED,
        AuditEventType.MODEL_VERSION_TRANSITIONED,
        AuditEventType.DEPLOYMENT_CREATED,
        GovernanceEvent.DECISIONS_INGESTED,
        GovernanceEvent.OUTCOMES_RECORDED,
        AuditEventType.DEPLOYMENT_ENDED,
        AuditEventType.API_KEY_REVOKED,
    ]
    assert audit_chain_verify().as_dict() == {
        "ok": True,
        "length": 14,
        "head": AuditEvent.objects.get(seq=14).hash,
    }
    first = AuditEvent.objects.get(seq=1)
    assert first.prev_hash == GENESIS
    assert first.actor_name == "system"
    transition = AuditEvent.objects.get(event_type=AuditEventType.MODEL_VERSION_TRANSITIONED)
    assert (transition.before, transition.after["stage"]) == ({"stage": "none"}, "production")
    assert transition.target_type == "registry.modelversion"
    assert transition.target_id == str(history["version"].pk)
    batch = AuditEvent.objects.get(event_type=GovernanceEvent.DECISIONS_INGESTED)
    assert batch.actor_name.startswith("key:")
    assert batch.after["model_versions"][str(history["version"].pk)]["accepted"] == 3


def test_no_event_holds_a_raw_subject_id_or_a_raw_key(history):
    text = "".join(
        str(event_fields) for event_fields in AuditEvent.objects.values_list("before", "after", "target_repr")
    )
    assert "alice" not in text and "bob" not in text
    assert history["raw_key"] not in text
    assert history["raw_key"].split("_", 2)[2] not in text


def test_a_service_that_fails_leaves_no_event(history):
    before = AuditEvent.objects.count()
    with pytest.raises(Exception, match="already exists"):
        services.project_create(actor=SYSTEM, slug="acme", name="again")
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_append_outside_a_transaction_is_refused():
    assert not connection.in_atomic_block
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_append(actor=SYSTEM, event_type=AuditEventType.PROJECT_CREATED, target_type="x", target_id=1)
    assert not AuditEvent.objects.exists()


def test_the_trigger_refuses_update_and_delete(history):
    postgresql_only()
    for statement in (
        "UPDATE registry_auditevent SET actor_name = 'mallory' WHERE seq = 2",
        "DELETE FROM registry_auditevent WHERE seq = 2",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement)
    assert audit_chain_verify().ok


def tamper(*statements: str) -> None:
    """Statements run as the database owner with the append-only trigger switched off."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE registry_auditevent DISABLE TRIGGER registry_auditevent_append_only")
        for statement in statements:
            cursor.execute(statement)
        cursor.execute("ALTER TABLE registry_auditevent ENABLE TRIGGER registry_auditevent_append_only")


@pytest.mark.parametrize(
    ("statements", "broken_seq", "reason"),
    [
        (['UPDATE registry_auditevent SET after = \'{"stage": "staging"}\' WHERE seq = 9'], 9, "hash does not match"),
        (["UPDATE registry_auditevent SET actor_name = 'user:mallory' WHERE seq = 4"], 4, "hash does not match"),
        (["DELETE FROM registry_auditevent WHERE seq = 6"], 6, "missing"),
        (["DELETE FROM registry_auditevent WHERE seq = 14"], 14, "missing"),
        (
            [  # swap the contents of two rows, each keeping its place in the chain
                "UPDATE registry_auditevent SET seq = -5 WHERE seq = 5",
                "UPDATE registry_auditevent SET seq = 5 WHERE seq = 7",
                "UPDATE registry_auditevent SET seq = 7 WHERE seq = -5",
            ],
            5,
            "",
        ),
        (
            [  # insert a forged event after the head
                "INSERT INTO registry_auditevent (seq, occurred_at, actor_name, event_type, target_type, target_id,"
                " target_repr, request_id, prev_hash, hash) SELECT 15, now(), 'user:mallory', 'project.created', 'x',"
                " '1', 'x', '', hash, repeat('f', 64) FROM registry_auditevent WHERE seq = 14"
            ],
            15,
            "",
        ),
    ],
    ids=["update after", "update actor", "delete middle", "delete last", "swap rows", "insert row"],
)
def test_tampering_is_named_at_its_first_seq(history, statements, broken_seq, reason):
    postgresql_only()
    assert audit_chain_verify().ok
    tamper(*statements)
    result = audit_chain_verify()
    assert not result.ok
    assert result.broken_seq == broken_seq, result
    assert reason in result.reason
    assert result.length == broken_seq - 1


def test_a_rewritten_tail_is_caught_by_an_anchor(history):
    postgresql_only()
    anchor = AuditEvent.objects.get(seq=10)
    # a careful forger recomputes every hash from seq 10 on; only a published anchor shows it
    assert audit_chain_verify(anchors={10: anchor.hash}).ok
    assert audit_chain_verify(anchors={10: "0" * 64}).broken_seq == 10
    assert audit_chain_verify(anchors={99: anchor.hash}).broken_seq == 99


def test_verify_command_and_api(history, make_client):
    out = StringIO()
    call_command("verify_audit_chain", stdout=out)
    assert '"ok": true' in out.getvalue()
    client = make_client("compliance_officer", history["project"])  # its key is event 15
    body = client.get("/api/v1/audit-events/verify/").json()
    # a project's auditor learns ok and their projects' event count, not the whole chain's length and head
    mine = AuditEvent.objects.filter(project_id=history["project"].pk).count()
    assert body == {"ok": True, "project_events": mine}
    head = AuditEvent.objects.get(seq=15).hash
    assert client.get("/api/v1/audit-events/verify/", {"anchor": f"15:{head}"}).json()["ok"]
    bad = client.get("/api/v1/audit-events/verify/", {"anchor": "14:nope"})
    assert bad.status_code == 400 and "anchor" in bad.json()["error"]["fields"]
    if connection.vendor == "postgresql":
        tamper("UPDATE registry_auditevent SET target_repr = 'x' WHERE seq = 3")
        with pytest.raises(CommandError, match="broken at seq 3"):
            call_command("verify_audit_chain", stdout=StringIO())
        assert client.get("/api/v1/audit-events/verify/").json()["ok"] is False


def test_audit_events_list_and_filters(history, make_client):
    client = make_client("risk_analyst", history["project"])
    events = client.get("/api/v1/audit-events/").json()["results"]
    assert [e["seq"] for e in events] == list(range(15, 0, -1))  # 15: the analyst's key
    version = history["version"]
    by_target = client.get(
        "/api/v1/audit-events/", {"target_type": "registry.modelversion", "target_id": version.pk}
    ).json()["results"]
    assert [e["event_type"] for e in by_target] == ["model_version.transitioned", "model_version.registered"]
    by_type = client.get("/api/v1/audit-events/", {"event_type": "decisions.ingested"}).json()["results"]
    assert len(by_type) == 1
    by_actor = client.get("/api/v1/audit-events/", {"actor": "system", "occurred_after": "2000-01-01T00:00:00Z"})
    assert len(by_actor.json()["results"]) == 13
    assert client.get("/api/v1/audit-events/", {"event_type": "nope"}).status_code == 400


def test_request_id_is_stamped_on_events(db, superuser_client):
    response = superuser_client.post(
        "/api/v1/projects/", {"slug": "x", "name": "X"}, format="json", HTTP_X_REQUEST_ID="trace-123"
    )
    assert response["X-Request-ID"] == "trace-123"
    assert AuditEvent.objects.get().request_id == "trace-123"
    response = superuser_client.post("/api/v1/projects/", {"slug": "y", "name": "Y"}, format="json")
    assert AuditEvent.objects.get(seq=2).request_id == response["X-Request-ID"]


@pytest.mark.django_db(transaction=True)
def test_eight_appenders_and_two_executions_keep_one_linear_chain():
    postgresql_only()
    project = Project.objects.create(slug="acme", name="Acme")
    dv = f.DataVersionFactory(dataset__project=project)
    services.subjects_index(actor=SYSTEM, data_version=dv, subject_ids=["alice"])
    request = erasure_request_trace(
        actor=SYSTEM,
        request=erasure_request_create(actor=SYSTEM, project=project, subject_id="alice", reference="T-1"),
    )
    barrier = threading.Barrier(10)
    outcomes: list[object] = []

    def append(i: int) -> None:
        try:
            barrier.wait()
            for n in range(25):
                with transaction.atomic():
                    audit_append(
                        actor=SYSTEM,
                        event_type=AuditEventType.PROJECT_CREATED,
                        target_type="test",
                        target_id=f"{i}-{n}",
                        target_repr="concurrent",
                    )
        finally:
            connections.close_all()

    def execute() -> None:
        try:
            barrier.wait()
            outcomes.append(erasure_request_execute(actor=SYSTEM, request=request).status)
        except Exception as exc:
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append, args=(i,)) for i in range(8)]
    threads += [threading.Thread(target=execute) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(1 for o in outcomes if o in ("executed", "completed")) == 1, outcomes
    assert sum(1 for o in outcomes if "only a traced request can be executed" in str(o)) == 1, outcomes
    assert ErasureRequest.objects.get().status in ("executed", "completed")
    result = audit_chain_verify()
    assert result.ok, result
    assert result.length == AuditEvent.objects.count() == 3 + 200 + 1 + 1  # before, appends, executed, completed
    assert AuditEvent.objects.filter(event_type=GovernanceEvent.ERASURE_EXECUTED).count() == 1


def test_each_app_registers_its_own_event_types():
    """The floor names only its own events; governance and llmops register theirs when ready, and the trail,
    its API filter and its admin filter know exactly the registered ones."""
    from django.contrib import admin as django_admin

    from llmops.events import LLMEvent
    from registry.api.audit_views import AuditEventFilter

    registered = [value for value, _ in event_type_choices()]
    assert registered == [*AuditEventType.values, *GovernanceEvent.values, *LLMEvent.values]
    assert not set(AuditEventType.values) & set(GovernanceEvent.values)
    assert [v for v, _ in AuditEventFilter.base_filters["event_type"].extra["choices"]] == registered
    event_admin = django_admin.site._registry[AuditEvent]
    type_filter = next(f for f in event_admin.list_filter if getattr(f, "parameter_name", "") == "event_type")
    assert [value for value, _ in type_filter.lookups(type_filter, None, event_admin)] == registered


def test_an_unregistered_or_doubly_registered_event_type_is_refused(db):
    from django.db import models, transaction

    class Stray(models.TextChoices):
        TYPO = "project.creatd"

    with transaction.atomic(), pytest.raises(ValueError, match="unregistered audit event type 'project.creatd'"):
        audit_append(actor=SYSTEM, event_type=Stray.TYPO, target_type="x", target_id=1)
    assert not AuditEvent.objects.filter(event_type="project.creatd").exists()

    class Clash(models.TextChoices):
        MINE = "project.created", "Someone else's"

    with pytest.raises(ValueError, match="registered twice"):
        register_event_types(Clash)
    register_event_types(AuditEventType)  # the same class again changes nothing
    assert event_type_choices().count(("project.created", "Project Created")) == 1


def test_llm_events_can_be_filtered_through_the_api(history, make_client):
    from llmops.events import LLMEvent

    with transaction.atomic():
        audit_append(
            actor=SYSTEM,
            event_type=LLMEvent.PRICES_IMPORTED,
            target_type="llmops.price",
            target_id=1,
            project_id=history["project"].pk,
        )
    client = make_client("risk_analyst", history["project"])
    found = client.get("/api/v1/audit-events/", {"event_type": "llm.prices_imported"})
    assert found.status_code == 200, found.content
    assert [e["event_type"] for e in found.json()["results"]] == ["llm.prices_imported"]
