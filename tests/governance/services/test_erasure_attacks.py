"""Attacks on the erasure promise: nothing personal survives an erasure, whatever runs beside it.

The races use real concurrent transactions (a thread with its own connection) and make the interleaving
deterministic: one side holds its transaction open at a known point, and the test waits until the other
side is seen waiting on the suppression lock in pg_locks before letting the first one commit.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from governance.integrity import decisions_verify
from governance.models import Decision, ErasureRequest, RetrainingObligation
from governance.services import decisions_ingest
from governance.services.erasure import erasure_request_create, erasure_request_execute, erasure_request_trace
from registry import services
from registry.actors import Actor
from registry.errors import ServiceError
from registry.models import AuditEvent, Project, SubjectIndex
from registry.subjects import subject_key

SYSTEM = Actor.system()
ALICE = "alice-7781"
SECRET = "alice-income-98765-secret"


class Paused(threading.Thread):
    """Runs `work` inside a transaction on its own connection and holds the transaction open after it
    until `release()`; `done_work` is set once `work` returned (or raised)."""

    def __init__(self, work):
        super().__init__(daemon=True)
        self.work, self.result, self.error = work, None, None
        self.done_work, self._release = threading.Event(), threading.Event()

    def run(self) -> None:
        try:
            with transaction.atomic():
                try:
                    self.result = self.work()
                finally:
                    self.done_work.set()
                self._release.wait(120)
        except Exception as exc:  # reported by the test
            self.error = exc
        finally:
            connections.close_all()

    def release(self) -> None:
        self._release.set()


class Plain(threading.Thread):
    def __init__(self, work):
        super().__init__(daemon=True)
        self.work, self.result, self.error = work, None, None

    def run(self) -> None:
        try:
            self.result = self.work()
        except Exception as exc:  # reported by the test
            self.error = exc
        finally:
            connections.close_all()


def wait_until_blocked(thread: threading.Thread) -> None:
    """Until another session waits for a lock (the suppression lock, when the promise holds), or the thread
    has finished without waiting (the unprotected behaviour, which the assertions after this then catch)."""
    for _ in range(6000):
        if not thread.is_alive():
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()")
            if cursor.fetchone()[0]:
                return
        time.sleep(0.01)
    raise AssertionError("neither blocked nor finished")


@pytest.fixture
def bank(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL")
    project = services.project_create(actor=SYSTEM, slug="bank", name="Bank")
    dataset = services.dataset_create(
        actor=SYSTEM, project=project, name="customers", contains_personal_data=True, legal_basis="contract"
    )
    dv = services.data_version_register(
        actor=SYSTEM, dataset=dataset, version="raw", content_sha256="a" * 64, row_count=2, schema={}
    )
    services.subjects_index(actor=SYSTEM, data_version=dv, subject_ids=[ALICE, "bob"])
    model = services.model_create(actor=SYSTEM, project=project, name="credit")
    run = services.run_register(actor=SYSTEM, project=project, name="r", inputs=[{"data_version": dv, "role": "train"}])
    version = services.model_version_register(
        actor=SYSTEM, model=model, run=run, artifact_uri="s3://m/1", artifact_sha256="b" * 64
    )
    key, _ = services.api_key_create(actor=SYSTEM, project=project, role="ingest", name="scorer")
    request = erasure_request_create(actor=SYSTEM, project=project, subject_id=ALICE, reference="DSR-1")
    request = erasure_request_trace(actor=SYSTEM, request=request)
    return {"project": project, "dv": dv, "version": version, "ingest": Actor.for_key(key), "request": request}


def batch(version, size: int, *, prefix: str = "r") -> list[dict]:
    """`size` decisions, the last of them about alice."""
    items = [
        {
            "model_version": version.pk,
            "request_id": f"{prefix}-{n}",
            "subject_id": f"person-{n}",
            "features": {"income": n},
            "prediction": 1,
            "occurred_at": "2026-01-01T00:00:00Z",
        }
        for n in range(size - 1)
    ]
    items.append(
        {
            "model_version": version.pk,
            "request_id": f"{prefix}-alice",
            "subject_id": ALICE,
            "features": {"income": SECRET},
            "sensitive": {"sex": "F"},
            "prediction": 1,
            "occurred_at": "2026-01-01T00:00:00Z",
        }
    )
    return items


@pytest.mark.django_db(transaction=True)
def test_an_erasure_executed_while_a_bulk_ingest_is_in_flight_waits_and_redacts_its_rows(bank):
    """The reproduction: a 10,000-decision ingest holding the subject is inside its transaction (its rows
    inserted, not committed) when the officer executes. The erasure waits for it, then redacts its row."""
    ingest = Paused(lambda: decisions_ingest(actor=bank["ingest"], items=batch(bank["version"], 10_000)))
    ingest.start()
    assert ingest.done_work.wait(120)
    assert ingest.error is None and ingest.result.accepted == 10_000

    erasure = Plain(lambda: erasure_request_execute(actor=SYSTEM, request=bank["request"]))
    erasure.start()
    wait_until_blocked(erasure)
    assert erasure.is_alive(), "the erasure ran beside an uncommitted ingest of the subject"
    ingest.release()
    ingest.join(120)
    erasure.join(120)
    assert ingest.error is None and erasure.error is None

    key = subject_key(ALICE)
    assert not Decision.objects.filter(subject_key=key).exists()
    row = Decision.objects.get(request_id="r-alice")
    assert (row.features, row.sensitive, row.subject_key, row.erased_at is not None) == ({}, {}, None, True)
    assert erasure.result.execution["decisions_redacted"] == 1
    assert ErasureRequest.objects.get().status == ErasureRequest.Status.EXECUTED  # an obligation is open
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM governance_decision WHERE features::text LIKE %s", [f"%{SECRET}%"])
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_an_ingest_started_while_an_erasure_executes_waits_and_is_refused(bank):
    erasure = Paused(lambda: erasure_request_execute(actor=SYSTEM, request=bank["request"]))
    erasure.start()
    assert erasure.done_work.wait(120) and erasure.error is None

    ingest = Plain(lambda: decisions_ingest(actor=bank["ingest"], items=batch(bank["version"], 50)))
    ingest.start()
    wait_until_blocked(ingest)
    assert ingest.is_alive(), "the ingest checked the suppression list before the erasure committed"
    erasure.release()
    erasure.join(120)
    ingest.join(120)
    assert erasure.error is None
    assert isinstance(ingest.error, ServiceError)
    assert ingest.error.fields == {
        "decisions[49].subject_id": ["this subject was erased from the project; the decision is refused"]
    }
    assert not Decision.objects.exists()  # the whole batch is refused, nothing half-written


@pytest.mark.django_db(transaction=True)
def test_an_ingest_started_while_an_erasure_executes_is_stripped_in_strip_mode(bank):
    Project.objects.filter(pk=bank["project"].pk).update(erased_subject_ingest=Project.ErasedSubjectIngest.STRIP)
    erasure = Paused(lambda: erasure_request_execute(actor=SYSTEM, request=bank["request"]))
    erasure.start()
    assert erasure.done_work.wait(120) and erasure.error is None

    ingest = Plain(lambda: decisions_ingest(actor=bank["ingest"], items=batch(bank["version"], 50)))
    ingest.start()
    wait_until_blocked(ingest)
    assert ingest.is_alive()
    erasure.release()
    erasure.join(120)
    ingest.join(120)
    assert ingest.error is None and ingest.result.subjects_stripped == 1
    row = Decision.objects.get(request_id="r-alice")
    assert (row.features, row.sensitive, row.subject_key, row.erased_at is not None) == ({}, {}, None, True)


@pytest.mark.django_db(transaction=True)
def test_indexing_started_while_an_erasure_executes_waits_and_is_refused(bank):
    erasure = Paused(lambda: erasure_request_execute(actor=SYSTEM, request=bank["request"]))
    erasure.start()
    assert erasure.done_work.wait(120) and erasure.error is None

    index = Plain(lambda: services.subjects_index(actor=SYSTEM, data_version=bank["dv"], subject_ids=["carol", ALICE]))
    index.start()
    wait_until_blocked(index)
    assert index.is_alive(), "indexing checked the suppression list before the erasure committed"
    erasure.release()
    erasure.join(120)
    index.join(120)
    assert isinstance(index.error, ServiceError) and index.error.code == "subject_erased"
    assert index.error.fields == {"subject_ids[1]": ["this subject was erased from the project"]}
    assert not SubjectIndex.objects.filter(subject_key=subject_key(ALICE)).exists()


@pytest.mark.django_db(transaction=True)
def test_indexing_in_flight_when_an_erasure_executes_is_cleaned(bank):
    other = services.data_version_register(
        actor=SYSTEM, dataset=bank["dv"].dataset, version="more", content_sha256="c" * 64, row_count=1, schema={}
    )
    index = Paused(lambda: services.subjects_index(actor=SYSTEM, data_version=other, subject_ids=[ALICE]))
    index.start()
    assert index.done_work.wait(120) and index.error is None
    erasure = Plain(lambda: erasure_request_execute(actor=SYSTEM, request=bank["request"]))
    erasure.start()
    wait_until_blocked(erasure)
    assert erasure.is_alive()
    index.release()
    index.join(120)
    erasure.join(120)
    assert erasure.error is None
    assert not SubjectIndex.objects.filter(subject_key=subject_key(ALICE)).exists()
    assert erasure.result.execution["subject_index_rows_removed"] == 2


@pytest.mark.django_db
def test_strip_mode_stores_no_personal_field_and_the_row_still_verifies(transactional_db):
    project = services.project_create(actor=SYSTEM, slug="strip", name="Strip")
    Project.objects.filter(pk=project.pk).update(erased_subject_ingest=Project.ErasedSubjectIngest.STRIP)
    model = services.model_create(actor=SYSTEM, project=project, name="m")
    run = services.run_register(actor=SYSTEM, project=project, name="r", inputs=[])
    version = services.model_version_register(
        actor=SYSTEM, model=model, run=run, artifact_uri="s3://m/1", artifact_sha256="b" * 64
    )
    key, _ = services.api_key_create(actor=SYSTEM, project=project, role="ingest", name="k")
    request = erasure_request_create(actor=SYSTEM, project=project, subject_id=ALICE, reference="DSR-9")
    erasure_request_execute(actor=SYSTEM, request=erasure_request_trace(actor=SYSTEM, request=request))

    result = decisions_ingest(actor=Actor.for_key(key), items=batch(version, 2, prefix="late"))
    assert (result.accepted, result.subjects_stripped) == (2, 1)
    row = Decision.objects.get(request_id="late-alice")
    assert (row.features, row.sensitive, row.subject_key, row.erased_at is not None) == ({}, {}, None, True)
    assert decisions_verify(model_version_id=version.pk).ok  # the commitment covers the stripped row
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM governance_decision WHERE features::text LIKE %s OR sensitive::text LIKE %s",
            [f"%{SECRET}%", "%F%"],
        )
        assert cursor.fetchone()[0] == 0
    # an insider editing the stripped row is caught by the commitment
    with connection.cursor() as cursor:
        cursor.execute("UPDATE governance_decision SET prediction = '0' WHERE id = %s", [row.pk])
    assert not decisions_verify(model_version_id=version.pk).ok


@pytest.mark.django_db
def test_an_erasure_request_whose_reference_holds_the_raw_id_is_refused(make_client, project):
    officer = make_client("compliance_officer", project)
    response = officer.post(
        "/api/v1/erasure-requests/",
        {"project": project.slug, "subject_id": "Cust-4411", "reference": "customer cust-4411 asked by mail"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"] == {"reference": ["must not contain the subject id"]}
    assert "4411" not in response.content.decode()
    assert not ErasureRequest.objects.exists()
    assert not AuditEvent.objects.filter(event_type="erasure.received").exists()
    with pytest.raises(ServiceError) as refused:  # the service refuses it whoever calls (the admin form too)
        erasure_request_create(actor=SYSTEM, project=project, subject_id="Cust-4411", reference="re Cust-4411")
    assert refused.value.fields == {"reference": ["must not contain the subject id"]}


@pytest.fixture
def split(db):
    """The demo's shape: raw holds alice; train is derived from raw and has its own index without her;
    test holds her. Model a trains on train and is tested on test; model b trains on raw."""
    project = services.project_create(actor=SYSTEM, slug="arrests", name="Arrests")
    dataset = services.dataset_create(
        actor=SYSTEM, project=project, name="arrests", contains_personal_data=True, legal_basis="public task"
    )

    def register(version, subjects, parents=()):
        dv = services.data_version_register(
            actor=SYSTEM,
            dataset=dataset,
            version=version,
            content_sha256="a" * 64,
            row_count=len(subjects),
            schema={},
            parents=parents,
            transformation="split" if parents else "",
        )
        services.subjects_index(actor=SYSTEM, data_version=dv, subject_ids=subjects)
        return dv

    raw = register("raw", [ALICE, "bob", "carol"])
    train_dv = register("train", ["bob", "carol"], parents=[raw])
    test_dv = register("test", [ALICE], parents=[raw])
    unindexed = services.data_version_register(
        actor=SYSTEM,
        dataset=dataset,
        version="features",
        content_sha256="d" * 64,
        row_count=3,
        schema={},
        parents=[raw],
        transformation="features",
    )

    def train(name, inputs):
        model = services.model_create(actor=SYSTEM, project=project, name=name)
        run = services.run_register(actor=SYSTEM, project=project, name=name, inputs=inputs)
        return services.model_version_register(
            actor=SYSTEM, model=model, run=run, artifact_uri=f"s3://m/{name}", artifact_sha256="b" * 64
        )

    fit = {"data_version": train_dv, "role": "train"}
    tested = train("a", [fit, {"data_version": test_dv, "role": "test"}])
    validated = train("v", [fit, {"data_version": test_dv, "role": "validation"}])
    on_raw = train("b", [{"data_version": raw, "role": "train"}])
    on_derived = train("c", [{"data_version": unindexed, "role": "train"}])
    request = erasure_request_create(actor=SYSTEM, project=project, subject_id=ALICE, reference="DSR-3")
    return {
        "request": request,
        "raw": raw,
        "train": train_dv,
        "test": test_dv,
        "unindexed": unindexed,
        "tested": tested,
        "validated": validated,
        "on_raw": on_raw,
        "on_derived": on_derived,
    }


def test_a_subject_only_in_a_test_or_validation_split_obliges_no_retraining(split):
    traced = erasure_request_trace(actor=SYSTEM, request=split["request"])
    data_versions = {dv["id"]: dv for dv in traced.trace["data_versions"]}
    # train has its own index without her: not affected by its derivation from raw
    assert set(data_versions) == {split["raw"].pk, split["test"].pk, split["unindexed"].pk}
    assert data_versions[split["unindexed"].pk]["holds_subject"] is False  # derived, no index of its own
    versions = {mv["id"]: mv for mv in traced.trace["model_versions"]}
    assert {pk: (mv["trained_on_subject"], mv["used_for"]) for pk, mv in versions.items()} == {
        split["tested"].pk: (False, ["test"]),
        split["validated"].pk: (False, ["validation"]),
        split["on_raw"].pk: (True, ["train"]),
        split["on_derived"].pk: (True, ["train"]),
    }

    executed = erasure_request_execute(actor=SYSTEM, request=traced)
    obliged = set(RetrainingObligation.objects.values_list("model_version_id", flat=True))
    assert obliged == {split["on_raw"].pk, split["on_derived"].pk}
    assert set(executed.execution["retraining_obligations"]) == obliged


@pytest.mark.django_db
@pytest.mark.sqlite
def test_a_decision_whose_request_id_repeats_its_subject_id_is_refused(make_client, chain):
    ingest = make_client("ingest", chain.project)
    item = {
        "model_version": chain.version.pk,
        "request_id": f"loan-{ALICE.upper()}-1",
        "subject_id": ALICE,
        "features": {},
        "prediction": 1,
        "occurred_at": "2026-01-01T00:00:00Z",
    }
    response = ingest.post("/api/v1/decisions/bulk/", {"decisions": [item]}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"decisions[0].request_id": ["must not contain the subject id"]}
    assert ALICE.casefold() not in response.content.decode().casefold()
    assert not Decision.objects.exists()
