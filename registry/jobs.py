"""Background jobs: the kinds of long work the apps register, how a job reports progress, and the periodic tasks
Celery beat runs. The runner and the services that queue and retry jobs are in registry/services/jobs.py; the
Celery tasks that carry a job's id to a worker are in registry/tasks.py.

The registry names none of the work: an app registers each kind in its AppConfig.ready():

    register_job_kind(
        "governance.fairness_audit",
        title="fairness audit",
        handler=run_fairness_audit,        # (context: JobContext) -> the record made (a model instance)
        roles=AUDITORS,                    # who may start, see and retry such a job, in its project
        result_route="fairness-audit-detail",  # the DRF route of the record made: the job's result link
    )

A handler runs inside the transaction that also marks the job succeeded, so its writes and the job's success
commit together or not at all; it reads its input from `context.input` (what the request validated) and acts
as `context.actor` (the key or user who asked). It may call `context.progress(done, total, message)` as often as
it likes: on a worker a heartbeat thread writes the latest progress on a connection of its own, so it is visible
while the work's transaction is still open.

Periodic tasks (Celery beat): any app adds one in its AppConfig.ready() with

    register_periodic_task("retention sweep", task="governance.retention_sweep", schedule=crontab(minute=5, hour=3))
    register_periodic_job("monitoring", kind="governance.monitoring_run", schedule=timedelta(days=1))

`task` is the name of a Celery task (an `@shared_task(name=...)` in the app's `tasks.py`, found by autodiscovery);
a periodic job queues a job of that kind (seen in admin and the API like any other) through the task
`registry.queue_job`. Beat reads them through registry.schedule.RegisteredScheduler (CELERY_BEAT_SCHEDULER).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db import models

    from registry.actors import Actor
    from registry.models import BackgroundJob


@dataclass
class JobContext:
    """What a handler is given: the job, the actor it runs as, its input, and the progress reporter."""

    job: BackgroundJob
    actor: Actor
    report: Callable[[int, int, str], None]

    @property
    def input(self) -> dict:
        return self.job.input

    def progress(self, done: int, total: int, message: str = "") -> None:
        """`done` of `total` steps, with what is being done now (shown in admin and the API; no subject id)."""
        self.report(max(0, int(done)), max(0, int(total)), str(message)[:300])


JobHandler = Callable[[JobContext], "models.Model | None"]


@dataclass(frozen=True)
class JobKind:
    name: str
    title: str
    handler: JobHandler
    roles: frozenset[str]
    result_route: str = ""  # DRF route name of the record made ("fairness-audit-detail"), reversed with its pk


_kinds: dict[str, JobKind] = {}


def register_job_kind(
    name: str, *, title: str, handler: JobHandler, roles: Iterable[str], result_route: str = ""
) -> JobKind:
    """Make a kind of job known (idempotent for the same handler; another handler under one name is an error)."""
    kind = JobKind(name=name, title=title, handler=handler, roles=frozenset(roles), result_route=result_route)
    known = _kinds.get(name)
    if known is not None and known.handler is not handler:
        raise ValueError(f"job kind {name!r} is registered twice")
    _kinds[name] = kind
    return kind


def job_kind(name: str) -> JobKind | None:
    return _kinds.get(name)


def job_kinds() -> list[JobKind]:
    return list(_kinds.values())


# Progress listeners: called in the worker after each progress report, with (job, done, total, message). For
# observation (metrics, the real-worker tests' pause and fault points: tests/registry/jobs_worker_hooks.py).
ProgressListener = Callable[["BackgroundJob", int, int, str], None]
_progress_listeners: list[ProgressListener] = []


def add_progress_listener(listener: ProgressListener) -> ProgressListener:
    if listener not in _progress_listeners:
        _progress_listeners.append(listener)
    return listener


def progress_listeners() -> list[ProgressListener]:
    return list(_progress_listeners)


# Periodic tasks ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    task: str  # a Celery task name
    schedule: Any  # a timedelta, seconds, or a celery.schedules.crontab
    kwargs: Mapping[str, Any] = field(default_factory=dict)


_periodic: dict[str, PeriodicTask] = {}


def register_periodic_task(
    name: str, *, task: str, schedule: timedelta | float | Any, kwargs: Mapping[str, Any] | None = None
) -> PeriodicTask:
    """Run the Celery task `task` on `schedule` (beat). Registering the same name again replaces it, so a
    deployment's settings may override an app's default."""
    entry = PeriodicTask(name=name, task=task, schedule=schedule, kwargs=dict(kwargs or {}))
    _periodic[name] = entry
    return entry


def register_periodic_job(
    name: str, *, kind: str, schedule: timedelta | float | Any, input: Mapping[str, Any] | None = None
) -> PeriodicTask:
    """Queue a job of `kind` (as the system, project-less, with `input`) on `schedule`. Each run's job carries
    the idempotency key `<name>@<scheduled time>`, so beat sending one tick twice queues one job."""
    return register_periodic_task(
        name,
        task="registry.queue_job",
        schedule=schedule,
        kwargs={"kind": kind, "input": dict(input or {}), "name": name},
    )


def periodic_tasks() -> list[PeriodicTask]:
    return list(_periodic.values())


def beat_schedule() -> dict[str, dict]:
    """The registered periodic tasks in Celery's `beat_schedule` format."""
    return {
        entry.name: {"task": entry.task, "schedule": entry.schedule, "kwargs": dict(entry.kwargs)}
        for entry in _periodic.values()
    }
