"""Background jobs on a real Celery worker (a subprocess) with real Redis and this test's PostgreSQL database:
an erasure's execution shows its progress while running; a worker killed with SIGKILL in the middle of it leaves
nothing half-written and the job is finished by the next worker; a job that failed is tried again, and after its
last attempt a person retries it. The processes and Redis: tests/celery_processes.py."""

from __future__ import annotations

import os
import signal

import pytest

from governance.models import Decision, ErasureRequest, RetrainingObligation
from governance.services.erasure import erasure_request_create, erasure_request_trace
from registry.actors import Actor
from registry.audit import audit_chain_verify
from registry.models import AuditEvent, RunInput, SubjectIndex, SuppressedSubject
from registry.subjects import subject_key
from tests import factories as f
from tests.celery_processes import STALE, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def erasure(chain):
    """A traced erasure request for alice: three decisions, a subject index row, a model version trained on it."""
    RunInput.objects.filter(run=chain.run).update(role="train")
    chain.train.dataset.contains_personal_data = True
    chain.train.dataset.save(update_fields=["contains_personal_data"])
    key = subject_key("alice")
    SubjectIndex.objects.create(data_version=chain.train, subject_key=key)
    for i in range(3):
        f.DecisionFactory(
            model_version=chain.version, request_id=f"alice-{i}", subject_key=key, features={"income": 1000 + i}
        )
    f.DecisionFactory(model_version=chain.version, request_id="bob-1", subject_key=subject_key("bob"))
    received = erasure_request_create(actor=Actor.system(), project=chain.project, subject_id="alice", reference="T-9")
    chain.request = erasure_request_trace(actor=Actor.system(), request=received)
    chain.key = key
    return chain


def nothing_erased(chain) -> None:
    """Not one of the execution's writes is there: the decisions, the index, the request, the trail."""
    alice = Decision.objects.filter(request_id__startswith="alice-")
    assert alice.count() == 3 and all(d.subject_key == chain.key and d.features for d in alice)
    assert alice.filter(erased_at__isnull=False).count() == 0
    assert SubjectIndex.objects.filter(subject_key=chain.key).count() == 1
    assert ErasureRequest.objects.get(pk=chain.request.pk).status == "traced"
    assert not RetrainingObligation.objects.exists()
    assert not SuppressedSubject.objects.filter(subject_key=chain.key).exists()
    assert not AuditEvent.objects.filter(event_type="erasure.executed").exists()


def erased_once(chain) -> None:
    alice = Decision.objects.filter(request_id__startswith="alice-")
    assert all(d.subject_key is None and d.features == {} and d.erased_at for d in alice)
    assert Decision.objects.get(request_id="bob-1").subject_key == subject_key("bob")
    assert not SubjectIndex.objects.filter(subject_key=chain.key).exists()
    assert ErasureRequest.objects.get(pk=chain.request.pk).status == "executed"
    assert RetrainingObligation.objects.count() == 1
    assert AuditEvent.objects.filter(event_type="erasure.executed").count() == 1
    assert audit_chain_verify().ok


def test_progress_shows_while_running_and_a_killed_worker_leaves_nothing_half_written(
    erasure, workers, control, make_client
):
    officer = make_client("compliance_officer", erasure.project)
    (control / "block").touch()
    first = workers()

    queued = officer.post(f"/api/v1/erasure-requests/{erasure.request.pk}/execute/", {}, format="json")
    assert queued.status_code == 202, queued.content
    job_url = queued["Location"]
    assert queued.json()["state"] == "queued" and queued.json()["result"] is None

    def job():
        return officer.get(job_url).json()

    # the worker stopped inside the execution's transaction, at step 2: the decisions redacted, uncommitted
    wait_for(lambda: (control / "blocked").exists(), what="the worker to reach step 2", control=control)
    running = wait_for(lambda: (j := job())["progress"]["done"] == 2 and j, what="progress 2/5", control=control)
    assert running["state"] == "running" and running["attempts"] == 1 and not running["stale"]
    assert running["progress"]["total"] == 5 and running["progress"]["percent"] == 40
    assert running["progress"]["message"] == "3 decisions redacted; removing the subject from subject indexes"
    nothing_erased(erasure)  # what the open transaction wrote is not visible

    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    nothing_erased(erasure)  # and rolled back with the dead connection
    stopped = wait_for(lambda: (j := job())["stale"] and j, timeout=STALE + 10, what="the job seen stale")
    assert (stopped["state"], stopped["attempts"]) == ("running", 1)

    (control / "block").unlink()
    workers()  # the message comes back from Redis (never acknowledged) and this worker takes the job over
    done = wait_for(lambda: (j := job())["state"] == "succeeded" and j, what="the job to succeed", control=control)
    assert done["attempts"] == 2 and done["error"] is None
    assert done["result"]["url"] == f"/api/v1/erasure-requests/{erasure.request.pk}/"
    assert officer.get(done["result"]["url"]).json()["status"] == "executed"
    erased_once(erasure)
    assert AuditEvent.objects.filter(event_type="background_job.succeeded", target_id=str(done["id"])).count() == 1


def test_a_failed_job_is_tried_again_then_retried_by_a_person(erasure, workers, control, make_client):
    officer = make_client("compliance_officer", erasure.project)
    (control / "fail").write_text("2")  # both attempts the worker allows (JOBS_MAX_ATTEMPTS=2) fail
    workers()

    queued = officer.post(f"/api/v1/erasure-requests/{erasure.request.pk}/execute/", {}, format="json")
    job_url = queued["Location"]
    failed = wait_for(
        lambda: (j := officer.get(job_url).json())["state"] == "failed" and j,
        what="two failed attempts",
        control=control,
    )
    assert failed["attempts"] == 2
    assert failed["error"] == {
        "code": "unexpected_error",
        "message": "stopped on an unexpected RuntimeError (attempt 2); the worker's log has the details",
        "fields": {},
    }
    nothing_erased(erasure)  # each failed attempt rolled back whole
    assert not (control / "fail").exists()

    retried = officer.post(f"{job_url}retry/", {}, format="json")
    assert retried.status_code == 202, retried.content
    assert retried.json()["state"] in ("queued", "running")
    done = wait_for(
        lambda: (j := officer.get(job_url).json())["state"] == "succeeded" and j, what="the retry", control=control
    )
    assert done["attempts"] == 3 and done["error"] is None
    erased_once(erasure)
    events = list(
        AuditEvent.objects.filter(target_type="registry.backgroundjob", target_id=str(done["id"]))
        .order_by("seq")
        .values_list("event_type", flat=True)
    )
    assert events == [
        "background_job.queued",
        "background_job.failed",
        "background_job.retried",
        "background_job.succeeded",
    ]
    assert officer.post(f"{job_url}retry/", {}, format="json").status_code == 409  # a finished job stays finished
