"""Background jobs in process (no broker, as `make run` and the suite run them): idempotency, who sees a job, the
requester checked again when the job runs, retry, recovery of a job whose worker died, the admin's pages. The
real worker (Redis, SIGKILL) is tests/registry/test_jobs_worker.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from governance.services.erasure import (
    ERASURE_EXECUTION,
    erasure_request_create,
    erasure_request_reject,
    erasure_request_trace,
)
from registry.actors import Actor
from registry.errors import Conflict
from registry.models import ApiKey, AuditEvent, BackgroundJob
from registry.services import jobs

pytestmark = pytest.mark.sqlite


@pytest.fixture
def traced(chain):
    received = erasure_request_create(actor=Actor.system(), project=chain.project, subject_id="alice", reference="T-1")
    return erasure_request_trace(actor=Actor.system(), request=received)


def execute(client, request, **headers):
    return client.post(f"/api/v1/erasure-requests/{request.pk}/execute/", {}, format="json", **headers)


def test_in_process_the_202_carries_the_finished_job_and_asking_again_the_same(traced, make_client):
    officer = make_client("compliance_officer", traced.project)
    first = execute(officer, traced)
    assert first.status_code == 202
    body = first.json()
    assert body["state"] == "succeeded" and body["result"]["url"] == f"/api/v1/erasure-requests/{traced.pk}/"
    assert body["idempotency_key"] == f"erasure-request:{traced.pk}"
    assert execute(officer, traced).json()["id"] == body["id"]
    assert BackgroundJob.objects.count() == 1
    assert AuditEvent.objects.filter(event_type="erasure.executed").count() == 1


def test_an_operation_that_cannot_start_is_refused_before_any_job_exists(chain, make_client):
    received = erasure_request_create(actor=Actor.system(), project=chain.project, subject_id="bob", reference="T-2")
    response = execute(make_client("compliance_officer", chain.project), received)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_state"
    assert not BackgroundJob.objects.exists()


def test_the_idempotency_key_answers_the_same_job_and_refuses_another_body(traced):
    officer = Actor.system()
    first, created = jobs.job_queue(
        actor=officer,
        kind=ERASURE_EXECUTION,
        project=traced.project,
        input={"erasure_request": traced.pk},
        idempotency_key="k",
    )
    again, created_again = jobs.job_queue(
        actor=officer,
        kind=ERASURE_EXECUTION,
        project=traced.project,
        input={"erasure_request": traced.pk},
        idempotency_key="k",
    )
    assert (created, created_again, again.pk) == (True, False, first.pk)
    with pytest.raises(Conflict) as refused:
        jobs.job_queue(
            actor=officer,
            kind=ERASURE_EXECUTION,
            project=traced.project,
            input={"erasure_request": 0},
            idempotency_key="k",
        )
    assert refused.value.fields == {"idempotency_key": ["already used for a different request"]}


def test_a_job_is_seen_by_the_roles_of_its_kind_in_its_project_only(traced, other_project, make_client):
    execute(make_client("compliance_officer", traced.project), traced)
    job = BackgroundJob.objects.get()
    assert make_client("compliance_officer", traced.project).get("/api/v1/jobs/").json()["count"] == 1
    scientist = make_client("data_scientist", traced.project)
    assert scientist.get("/api/v1/jobs/").json()["count"] == 0  # an erasure's job: officers only
    assert scientist.get(f"/api/v1/jobs/{job.pk}/").status_code == 403
    outsider = make_client("compliance_officer", other_project)
    assert outsider.get("/api/v1/jobs/").json()["count"] == 0
    assert outsider.get(f"/api/v1/jobs/{job.pk}/").status_code == 404


def test_a_refusal_fails_the_job_with_its_message_and_a_retry_runs_it_again(traced, make_client):
    officer = make_client("compliance_officer", traced.project)
    erasure_request_reject(actor=Actor.system(), request=traced, reason="legal hold")
    job, _ = jobs.job_queue(
        actor=Actor.system(), kind=ERASURE_EXECUTION, project=traced.project, input={"erasure_request": traced.pk}
    )
    assert (job.state, job.error_code) == ("failed", "invalid_state")
    assert job.error == f"erasure request {traced.pk} is rejected; only a traced request can be executed"
    assert job.attempts == 1
    retried = officer.post(f"/api/v1/jobs/{job.pk}/retry/", {}, format="json")
    assert retried.status_code == 202
    assert (retried.json()["state"], retried.json()["attempts"]) == ("failed", 2)
    trail = AuditEvent.objects.filter(target_type="registry.backgroundjob", target_id=str(job.pk)).order_by("seq")
    assert [e.event_type for e in trail] == [
        "background_job.queued",
        "background_job.failed",
        "background_job.retried",
        "background_job.failed",
    ]


def test_a_revoked_key_stops_its_queued_job(traced, make_client, settings):
    officer = make_client("compliance_officer", traced.project)
    job = BackgroundJob.objects.create(
        kind=ERASURE_EXECUTION,
        project=traced.project,
        input={"erasure_request": traced.pk},
        input_sha256="0" * 64,
        requested_by="key:x",
        created_by_key=ApiKey.objects.get(),
    )
    ApiKey.objects.update(revoked_at=timezone.now())
    jobs.job_run(job_id=job.pk, heartbeat=False)
    job.refresh_from_db()
    assert (job.state, job.error_code) == ("failed", "requester_gone")
    assert job.error == "the API key that asked for this job was revoked before it ran"
    assert officer.get("/api/v1/jobs/").status_code == 401


def test_a_job_whose_worker_died_is_stale_retryable_and_recovered(traced, make_client, settings):
    job = BackgroundJob.objects.create(
        kind=ERASURE_EXECUTION,
        project=traced.project,
        input={"erasure_request": traced.pk},
        input_sha256="0" * 64,
        requested_by="system",
        state="running",
        attempts=1,
        heartbeat_at=timezone.now(),
    )
    officer = make_client("compliance_officer", traced.project)
    assert officer.get(f"/api/v1/jobs/{job.pk}/").json()["stale"] is False
    assert officer.post(f"/api/v1/jobs/{job.pk}/retry/", {}, format="json").status_code == 409  # its worker lives
    assert jobs.job_run(job_id=job.pk, heartbeat=False).status == "busy"  # a second delivery leaves it be
    BackgroundJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.JOBS_STALE_SECONDS + 1)
    )
    assert officer.get(f"/api/v1/jobs/{job.pk}/").json()["stale"] is True
    assert jobs.jobs_recover() == [job.pk]  # beat's recovery takes it over and runs it
    job.refresh_from_db()
    assert (job.state, job.attempts) == ("succeeded", 2)
    assert jobs.job_run(job_id=job.pk, heartbeat=False).status == "finished"


def test_admin_lists_jobs_with_their_progress_and_retries_a_failed_one(traced, admin_client):
    erasure_request_reject(actor=Actor.system(), request=traced, reason="legal hold")
    job, _ = jobs.job_queue(
        actor=Actor.system(), kind=ERASURE_EXECUTION, project=traced.project, input={"erasure_request": traced.pk}
    )
    listing = admin_client.get("/admin/registry/backgroundjob/").content.decode()
    assert "erasure execution" in listing and "badge-danger" in listing and "<progress" in listing
    page = admin_client.get(f"/admin/registry/backgroundjob/{job.pk}/change/").content.decode()
    assert "only a traced request can be executed [invalid_state]" in page
    response = admin_client.post(
        "/admin/registry/backgroundjob/", {"action": "retry_jobs", "_selected_action": [job.pk]}, follow=True
    )
    assert [str(m) for m in response.context["messages"]] == [
        f"job {job.pk} (erasure execution) queued again: now failed."
    ]
    job.refresh_from_db()
    assert job.attempts == 2
