"""Background jobs: queue one (`job_queue`), run one (`job_run`, what a worker or the request itself does),
retry a failed or abandoned one (`job_retry`), and take over those whose worker died (`jobs_recover`).

How a job stays whole when its worker is killed (`kill -9`, a lost machine):

- The work and the job's success are one transaction: the handler's writes and the UPDATE that marks the job
  succeeded commit together. A worker killed inside leaves neither (PostgreSQL rolls the transaction back when
  the connection drops); the job is still `running`, with its heartbeat stopped.
- Claiming is conditional: a delivery takes a job only while it is `queued`, or `running` with a heartbeat
  older than JOBS_STALE_SECONDS (its worker is gone). Each claim counts an attempt; the final UPDATE requires
  the same attempt, so an attempt that was taken over (a worker frozen, not dead) rolls back instead of
  committing over its successor.
- The message is acknowledged only after the task returns (acks_late) and given back when the worker process
  dies (reject_on_worker_lost); Redis hands an unacknowledged message to another worker after the visibility
  timeout. A delivery that finds the job still running under a live heartbeat checks again later (the task
  retries itself), so the message outlives a worker that dies afterwards. `jobs_recover` (beat, every minute)
  queues again any job left running with a stale heartbeat, and `job_retry` (API, admin) does it on request.
- A refusal of the job's service (a ServiceError: the erasure request was rejected meanwhile) fails the job with
  that message at once; an unexpected error is tried again, up to JOBS_MAX_ATTEMPTS, after a backoff; its message
  names only the exception's class, never its text (which might hold data).

Without a broker (JOBS_EAGER: `make run`, tests) `job_queue` runs the job right away in the caller's process and
connection, so the job is finished when the request answers.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from registry.actors import Actor
from registry.audit import AuditEventType, audit_append, canonical_json, current_request_id, json_safe
from registry.errors import Conflict, ServiceError
from registry.jobs import JobContext, JobKind, job_kind, progress_listeners
from registry.locks import for_update
from registry.models import BackgroundJob, Project

logger = logging.getLogger(__name__)
State = BackgroundJob.State
RUN_TASK = "registry.run_job"


class JobSuperseded(Exception):
    """This attempt was taken over by another (its heartbeat looked stale): its transaction must roll back."""


class RequesterGone(ServiceError):
    code = "requester_gone"


@dataclass(frozen=True)
class RunOutcome:
    """What one delivery of a job did: `ran` (to success or failure), `finished` (nothing to do), `busy` (running
    under a live heartbeat elsewhere: look again later), `requeued` (failed on an unexpected error, retried later),
    `superseded`, `missing`."""

    status: str
    countdown: float = 0


def input_sha256(value: dict) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def job_input(values: Mapping[str, object]) -> dict:
    """A service's keyword arguments as a job's input: records by primary key, times in ISO 8601 (UTC)."""
    return json_safe({name: value.pk if isinstance(value, Model) else value for name, value in values.items()})


def job_queue(
    *,
    actor: Actor,
    kind: str,
    project: Project | None,
    input: dict,
    idempotency_key: str = "",
    check: Callable[[], object] | None = None,
) -> tuple[BackgroundJob, bool]:
    """Record a job and send it to a worker (or run it now when JOBS_EAGER). Answers (job, created): the same
    `idempotency_key` for the same kind answers the job it made first, unless its input differs (409). `check`
    (the service's input check) runs before a new job is made: what it refuses is the request's 4xx, no job."""
    spec = _spec(kind)
    if project is not None and not actor.can(spec.roles, project.pk):
        raise ServiceError(f"your role in {project.slug} may not start a {spec.title}", code="forbidden")
    payload = job_input(input)
    digest = input_sha256(payload)
    with transaction.atomic():
        if idempotency_key:
            existing = _same_key(kind, idempotency_key, digest)
            if existing is not None:
                return existing, False
        if check is not None:
            check()
        try:
            with transaction.atomic():
                job = BackgroundJob.objects.create(
                    kind=kind,
                    project=project,
                    input=payload,
                    input_sha256=digest,
                    idempotency_key=idempotency_key[:200],
                    requested_by=actor.label[:200],
                    request_id=current_request_id.get()[:100],
                    created_by_user=actor.user if actor.user is not None and actor.user.pk else None,
                    created_by_key=actor.api_key,
                )
        except IntegrityError:  # the same key, queued at the same moment by another request
            return _same_key(kind, idempotency_key, digest), False
        audit_append(
            actor=actor,
            event_type=AuditEventType.JOB_QUEUED,
            target=job,
            after={"kind": kind, "input": payload, "idempotency_key": job.idempotency_key},
        )
    _dispatch(job)
    if settings.JOBS_EAGER:
        job.refresh_from_db()
    return job, True


def _same_key(kind: str, key: str, digest: str) -> BackgroundJob | None:
    existing = BackgroundJob.objects.filter(kind=kind, idempotency_key=key).first()
    if existing is not None and existing.input_sha256 != digest:
        raise Conflict(
            "idempotency key already used for a different request of this kind",
            fields={"idempotency_key": ["already used for a different request"]},
            code="idempotency_conflict",
        )
    return existing


def _dispatch(job: BackgroundJob, *, countdown: float = 0) -> None:
    if settings.JOBS_EAGER:
        job_run(job_id=job.pk, heartbeat=False)
        return
    job_id = job.pk
    transaction.on_commit(lambda: _send(job_id, countdown))


def _send(job_id: int, countdown: float = 0) -> None:
    from celery import current_app

    current_app.send_task(RUN_TASK, args=[job_id], countdown=countdown or None)


def job_retry(*, actor: Actor, job: BackgroundJob) -> BackgroundJob:
    """Queue a failed job again, or one left running by a dead worker (its heartbeat stale). Audited."""
    spec = _spec(job.kind)
    if not actor.can(spec.roles, job.project_id):
        raise ServiceError(f"your role may not retry a {spec.title}", code="forbidden")
    with transaction.atomic():
        locked = for_update(BackgroundJob.objects).get(pk=job.pk)
        if not job_retryable(locked):
            raise Conflict(
                f"job {locked.pk} is {locked.state}"
                + ("; its worker is alive" if locked.state == State.RUNNING else "")
                + ": only a failed job, or one whose worker stopped, can be retried",
                code="invalid_state",
            )
        before = {"state": locked.state, "attempts": locked.attempts, "error": locked.error}
        locked.state, locked.finished_at, locked.heartbeat_at = State.QUEUED, None, None
        locked.save(update_fields=["state", "finished_at", "heartbeat_at"])
        audit_append(
            actor=actor,
            event_type=AuditEventType.JOB_RETRIED,
            target=locked,
            before=before,
            after={"state": locked.state},
        )
    _dispatch(locked)
    if settings.JOBS_EAGER:
        locked.refresh_from_db()
    return locked


def job_error(job: BackgroundJob) -> ServiceError | None:
    """A failed job's error as the ServiceError it was (code, message, fields), for a form or a caller to show."""
    if not job.error or job.state != State.FAILED:
        return None
    return ServiceError(job.error, fields=job.error_fields or {}, code=job.error_code or None)


def job_stale(job: BackgroundJob, *, now=None) -> bool:
    """Running, but its worker has not written a heartbeat for JOBS_STALE_SECONDS: the worker is gone."""
    if job.state != State.RUNNING:
        return False
    now = now or timezone.now()
    beat = job.heartbeat_at or job.started_at
    return beat is None or beat < now - timedelta(seconds=settings.JOBS_STALE_SECONDS)


def job_retryable(job: BackgroundJob, *, now=None) -> bool:
    return job.state == State.FAILED or job_stale(job, now=now)


def jobs_recover(*, now=None) -> list[int]:
    """Send again every job left running with a stale heartbeat (periodic, beat): the claim takes them over."""
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.JOBS_STALE_SECONDS)
    ids = list(
        BackgroundJob.objects.filter(state=State.RUNNING, heartbeat_at__lt=stale_before).values_list("pk", flat=True)
    )
    for job_id in ids:
        logger.warning("job %s: its worker stopped writing its heartbeat; sent again", job_id)
        if settings.JOBS_EAGER:
            job_run(job_id=job_id, heartbeat=False)
        else:
            _send(job_id)
    return ids


# Running -----------------------------------------------------------------------------------------------------


def job_run(*, job_id: int, heartbeat: bool = True) -> RunOutcome:
    """One delivery of a job: claim it, run its handler in one transaction with its success, or record why not."""
    claimed, outcome = _claim(job_id)
    if claimed is None:
        return outcome
    job, attempt = claimed, claimed.attempts
    spec = job_kind(job.kind)
    beat = _Heartbeat(job.pk, attempt) if heartbeat else None
    if beat is not None:
        beat.start()
    token = current_request_id.set(job.request_id)
    try:
        if spec is None:
            raise ServiceError(f"no handler for jobs of kind {job.kind!r} in this worker", code="unknown_kind")
        actor = _requester(job, spec)
        report = beat.report if beat is not None else _direct_reporter(job.pk, attempt)

        def progress(done: int, total: int, message: str) -> None:
            report(done, total, message)
            for listener in progress_listeners():
                listener(job, done, total, message)

        with transaction.atomic():
            record = spec.handler(JobContext(job=job, actor=actor, report=progress))
            _succeed(job, attempt, spec, record, actor)
        return RunOutcome("ran")
    except JobSuperseded:
        logger.warning("job %s attempt %s was taken over by a later attempt; rolled back", job.pk, attempt)
        return RunOutcome("superseded")
    except ServiceError as exc:
        _fail(job, attempt, code=exc.code, message=exc.message, fields=exc.fields)
        return RunOutcome("ran")
    except Exception as exc:
        logger.exception("job %s (%s) attempt %s failed", job.pk, job.kind, attempt)
        message = f"stopped on an unexpected {type(exc).__name__} (attempt {attempt}); the worker's log has the details"
        if attempt < settings.JOBS_MAX_ATTEMPTS and not settings.JOBS_EAGER:
            countdown = min(300, 2**attempt)
            _requeue(job, attempt, message=f"{message}; tried again in {countdown} s")
            return RunOutcome("requeued", countdown)
        _fail(job, attempt, code="unexpected_error", message=message)
        return RunOutcome("ran")
    finally:
        current_request_id.reset(token)
        if beat is not None:
            beat.stop()


def _claim(job_id: int) -> tuple[BackgroundJob | None, RunOutcome]:
    now = timezone.now()
    with transaction.atomic():
        job = for_update(BackgroundJob.objects).filter(pk=job_id).first()
        if job is None:
            return None, RunOutcome("missing")
        if job.state in (State.SUCCEEDED, State.FAILED):
            return None, RunOutcome("finished")
        if job.state == State.RUNNING and not job_stale(job, now=now):
            return None, RunOutcome("busy", settings.JOBS_STALE_SECONDS)
        if job.state == State.RUNNING:
            logger.warning("job %s: taking over from %s, whose heartbeat stopped", job.pk, job.worker or "a worker")
        job.state, job.attempts = State.RUNNING, job.attempts + 1
        job.started_at = job.heartbeat_at = now
        job.worker = f"{socket.gethostname()}:{os.getpid()}"[:200]
        job.save(update_fields=["state", "attempts", "started_at", "heartbeat_at", "worker"])
    return job, RunOutcome("claimed")


def _requester(job: BackgroundJob, spec: JobKind) -> Actor:
    """The actor the job runs as: who asked, as they are now (a revoked key or a lost role stops the job)."""
    if job.created_by_key_id is not None:
        key = job.created_by_key
        if key.revoked_at is not None:
            raise RequesterGone("the API key that asked for this job was revoked before it ran")
        actor = Actor.for_key(key)
    elif job.created_by_user_id is not None:
        actor = Actor.for_user(job.created_by_user)
    elif job.requested_by == Actor.system().label:
        return Actor.system()
    else:
        raise RequesterGone(f"{job.requested_by}, who asked for this job, no longer exists")
    if job.project_id is None and not actor.is_superuser:
        raise RequesterGone(f"{job.requested_by} may not run a {spec.title} outside a project")
    if job.project_id is not None and not actor.can(spec.roles, job.project_id):
        raise RequesterGone(f"{job.requested_by} no longer holds a role that may run a {spec.title} in this project")
    return actor


def _succeed(job: BackgroundJob, attempt: int, spec: JobKind, record, actor: Actor) -> None:
    now = timezone.now()
    result_type = record._meta.label_lower if record is not None else ""
    result_id = str(record.pk) if record is not None else ""
    result_url = _result_url(spec, record)
    updated = BackgroundJob.objects.filter(pk=job.pk, state=State.RUNNING, attempts=attempt).update(
        state=State.SUCCEEDED,
        finished_at=now,
        heartbeat_at=now,
        result_type=result_type,
        result_id=result_id,
        result_url=result_url,
        error="",
        error_code="",
        error_fields={},
        progress_done=_final_done(job.pk),
        progress_message="done",
    )
    if not updated:
        raise JobSuperseded
    audit_append(
        actor=actor,
        event_type=AuditEventType.JOB_SUCCEEDED,
        target=job,
        before={"state": State.RUNNING},
        after={"state": State.SUCCEEDED, "attempts": attempt, "result": {"type": result_type, "id": result_id}},
    )


def _final_done(job_id: int) -> int:
    done, total = BackgroundJob.objects.filter(pk=job_id).values_list("progress_done", "progress_total").get()
    return max(done, total)


def _result_url(spec: JobKind, record) -> str:
    if record is None or not spec.result_route:
        return ""
    try:
        return reverse(spec.result_route, args=[record.pk])
    except NoReverseMatch:
        return ""


def _fail(job: BackgroundJob, attempt: int, *, code: str, message: str, fields: dict | None = None) -> None:
    """Mark the attempt failed (outside the rolled-back work), with the audit event, unless it was taken over.
    A service's refusal keeps the fields it names (the same `fields` as the API's 4xx errors)."""
    with transaction.atomic():
        updated = BackgroundJob.objects.filter(pk=job.pk, state=State.RUNNING, attempts=attempt).update(
            state=State.FAILED,
            finished_at=timezone.now(),
            error=message[:1000],
            error_code=code[:64],
            error_fields=json_safe(fields or {}),
        )
        if updated:
            audit_append(
                actor=Actor.system(),
                event_type=AuditEventType.JOB_FAILED,
                target=job,
                before={"state": State.RUNNING},
                after={"state": State.FAILED, "attempts": attempt, "error_code": code, "error": message[:1000]},
            )


def _requeue(job: BackgroundJob, attempt: int, *, message: str) -> None:
    updated = BackgroundJob.objects.filter(pk=job.pk, state=State.RUNNING, attempts=attempt).update(
        state=State.QUEUED, heartbeat_at=None, error=message[:1000], error_code="retrying"
    )
    if updated:
        _send(job.pk, countdown=min(300, 2**attempt))


def _direct_reporter(job_id: int, attempt: int):
    """In process (no worker): progress is written on the caller's connection, inside the work's transaction."""

    def report(done: int, total: int, message: str) -> None:
        BackgroundJob.objects.filter(pk=job_id, attempts=attempt).update(
            progress_done=done, progress_total=total, progress_message=message
        )

    return report


class _Heartbeat(threading.Thread):
    """Writes the job's heartbeat and latest progress every JOBS_HEARTBEAT_SECONDS (and at once after a progress
    report) on this thread's own database connection: visible while the work's transaction is open, and
    stopping with the worker, which is how a dead worker is told from a slow one."""

    def __init__(self, job_id: int, attempt: int):
        super().__init__(name=f"job-{job_id}-heartbeat", daemon=True)
        self.job_id, self.attempt = job_id, attempt
        self._latest: tuple[int, int, str] | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()

    def report(self, done: int, total: int, message: str) -> None:
        with self._lock:
            self._latest = (done, total, message)
        self._wake.set()

    def run(self) -> None:
        try:
            while not self._stopping.is_set():
                self._wake.wait(settings.JOBS_HEARTBEAT_SECONDS)
                self._wake.clear()
                if self._stopping.is_set():
                    break
                self._beat()
        finally:
            connection.close()  # this thread's connection

    def _beat(self) -> None:
        with self._lock:
            latest, self._latest = self._latest, None
        fields: dict = {"heartbeat_at": timezone.now()}
        if latest is not None:
            fields.update(progress_done=latest[0], progress_total=latest[1], progress_message=latest[2])
        try:
            BackgroundJob.objects.filter(pk=self.job_id, state=State.RUNNING, attempts=self.attempt).update(**fields)
        except Exception:  # a lost connection: the next beat tries again; a stale heartbeat is the worst outcome
            logger.exception("job %s: heartbeat not written", self.job_id)
            connection.close()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self.join(timeout=30)


def _spec(kind: str) -> JobKind:
    spec = job_kind(kind)
    if spec is None:
        raise ServiceError(f"unknown job kind {kind!r}", fields={"kind": ["unknown"]})
    return spec
