"""Races on PostgreSQL: version numbers stay consecutive, a batch sent twice at once lands once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from governance.models import Decision
from governance.services import decisions_ingest
from registry import services
from registry.actors import Actor
from registry.models import ModelVersion
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


def in_threads(target, count: int) -> list:
    results: list = [None] * count
    barrier = threading.Barrier(count)

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as exc:  # reported below
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_registrations_get_consecutive_versions():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    model = f.ModelFactory()
    run = f.RunFactory(project=model.project)

    def register(i):
        return services.model_version_register(
            actor=Actor.system(), model=model, run=run, artifact_uri=f"s3://m/{i}", artifact_sha256="a" * 64
        ).version

    versions = in_threads(register, 4)
    assert sorted(versions) == [1, 2, 3, 4], versions
    assert ModelVersion.objects.filter(model=model).count() == 4


def test_the_same_batch_sent_twice_at_once_lands_once():
    if connection.vendor != "postgresql":
        pytest.skip("COPY path")
    version = f.ModelVersionFactory()
    key, _ = services.api_key_create(actor=Actor.system(), project=version.project, role="ingest", name="k")
    items = [
        {
            "model_version": version.pk,
            "request_id": f"r{i}",
            "features": {},
            "prediction": 0,
            "occurred_at": "2026-01-01T00:00:00Z",
        }
        for i in range(2000)
    ]
    results = in_threads(lambda i: decisions_ingest(actor=Actor.for_key(key), items=items), 2)
    assert sum(r.accepted for r in results) == 2000, results
    assert sum(r.duplicates for r in results) == 2000
    assert Decision.objects.count() == 2000


def test_a_row_locked_for_logging_does_not_deadlock_a_commit_that_names_it():
    """The deadlock MLflow's autolog met: one transaction locks a run to log to it and then waits for the audit
    chain head; another already holds the head and, at its commit, checks the foreign key of a row naming that
    run (an artifact file of the run). With FOR UPDATE the two wait for each other and PostgreSQL kills one;
    registry.locks.for_update (FOR NO KEY UPDATE) lets the commit's key check through."""
    from django.db import transaction
    from django.utils import timezone

    from registry.audit import AuditEventType, audit_append
    from registry.locks import for_update
    from registry.models import Artifact, Run

    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    project = f.ProjectFactory()
    experiment = services.experiment_default(actor=Actor.system(), project=project)
    run = services.run_start(
        actor=Actor.system(),
        project=project,
        experiment=experiment,
        name="r",
        run_uuid="a" * 32,
        started_at=timezone.now(),
    )
    run_locked, head_taken = threading.Event(), threading.Event()

    def logger(_):  # as run_log: lock the run, then (after the uploader holds the head) append its event
        with transaction.atomic():
            locked = for_update(Run.objects).get(pk=run.pk)
            run_locked.set()
            head_taken.wait(10)
            audit_append(actor=Actor.system(), event_type=AuditEventType.RUN_LOGGED, target=locked)
        return "logged"

    def uploader(_):  # as artifact_store: insert a row naming the run, append its event, commit
        run_locked.wait(10)
        with transaction.atomic():
            Artifact.objects.create(project=project, path="0/x/artifacts/f", run_id=run.pk, size=1, sha256="0" * 64)
            audit_append(actor=Actor.system(), event_type=AuditEventType.ARTIFACT_STORED, target=run)
            head_taken.set()
        return "stored"

    results = in_threads(lambda i: (logger, uploader)[i](i), 2)
    assert results == ["logged", "stored"], results
    assert Artifact.objects.filter(run=run).count() == 1


def test_a_runs_openlineage_events_sent_at_once_merge_into_one_run():
    """START and COMPLETE of a run never seen, its job and datasets new too, arriving together (an emitter with
    a thread pool): one job, one run, each dataset once, and the run finished whichever committed first."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    import json
    from pathlib import Path

    from interop.openlineage.events import decode_event
    from registry.models import Dataset, Job, LineageEvent, Run

    project = f.ProjectFactory()
    samples = Path(__file__).parent / "interop" / "openlineage" / "samples"
    events = [json.loads((samples / name).read_text()) for name in ("ol__start.json", "ol__complete.json")]

    def report(i):
        return services.lineage_event_record(actor=Actor.system(), project=project, report=decode_event(events[i]))

    results = in_threads(report, 2)
    assert all(r.recorded for r in results), results
    assert LineageEvent.objects.filter(project=project).count() == 2
    run = Run.objects.get(project=project, run_uuid="6cf218d7d8ee4b309ba551a4f67fcff1")
    assert run.status == "finished"
    assert Job.objects.filter(project=project).count() == 2  # the job and its parent's
    assert Dataset.objects.filter(project=project).count() == 2
