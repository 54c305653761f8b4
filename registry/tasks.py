"""The registry's Celery tasks (found by the app's autodiscovery): they carry a job's id to
registry.services.jobs and do nothing else. Their settings (acks_late, reject_on_worker_lost) are the project's
defaults in config/settings.py."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from registry.actors import Actor
from registry.services import jobs


@shared_task(name=jobs.RUN_TASK, bind=True, max_retries=None)
def run_job(self, job_id: int) -> str:
    """Run one job. A job still running under a live heartbeat elsewhere (this message came back while its
    worker works) is looked at again later, so a message remains for as long as the job is not finished."""
    outcome = jobs.job_run(job_id=int(job_id))
    if outcome.status == "busy":
        raise self.retry(countdown=outcome.countdown)
    return outcome.status


@shared_task(name="registry.queue_job")
def queue_job(*, kind: str, input: dict | None = None, name: str = "") -> int:
    """A periodic job (registry.jobs.register_periodic_job): queued as the system, once per scheduled minute."""
    key = f"{name or kind}@{timezone.now():%Y-%m-%dT%H:%M}"
    job, _ = jobs.job_queue(actor=Actor.system(), kind=kind, project=None, input=input or {}, idempotency_key=key)
    return job.pk


@shared_task(name="registry.recover_jobs")
def recover_jobs() -> list[int]:
    """Send again the jobs whose worker died while running them (their heartbeat stale)."""
    return jobs.jobs_recover()
