"""Governance's background jobs (registry/jobs.py): each reads the input its request validated (records by id,
times in ISO 8601) and calls the service, which writes in the job's one transaction. Registered in
GovernanceConfig.ready()."""

from __future__ import annotations

from datetime import datetime, timedelta

from celery.schedules import crontab
from django.conf import settings

from governance.models import DriftReport, ErasureRequest, FairnessAudit, PerformanceReport
from governance.permissions import AUDITORS, ERASURE_OFFICERS
from governance.services import drift, erasure, fairness, monitoring, performance
from registry.jobs import JobContext, register_job_kind, register_periodic_job, register_periodic_task
from registry.models import ModelVersion
from registry.permissions import ALL_HUMAN_ROLES


def run_erasure_execution(context: JobContext) -> ErasureRequest:
    request = ErasureRequest.objects.get(pk=context.input["erasure_request"])
    return erasure.erasure_request_execute(actor=context.actor, request=request, progress=context.progress)


def report_arguments(context: JobContext) -> dict:
    """A report's service arguments from the job's input: the model version, the window as datetimes."""
    arguments = dict(context.input)
    arguments["model_version"] = ModelVersion.objects.select_related("project").get(pk=arguments["model_version"])
    for name in ("window_start", "window_end"):
        if arguments.get(name):
            arguments[name] = datetime.fromisoformat(arguments[name])
    return arguments


def run_fairness_audit(context: JobContext) -> FairnessAudit:
    context.progress(0, 1, "counting the window's decisions by group and computing the figures")
    return fairness.fairness_audit_run(actor=context.actor, **report_arguments(context))


def run_drift_report(context: JobContext) -> DriftReport:
    context.progress(0, 1, "summarising the window's features against the training profile")
    return drift.drift_report_run(actor=context.actor, **report_arguments(context))


def run_performance_report(context: JobContext) -> PerformanceReport:
    context.progress(0, 1, "computing accuracy per bucket")
    return performance.performance_report_run(actor=context.actor, **report_arguments(context))


def run_monitoring(context: JobContext) -> None:
    """Beat's monitoring run: queues each production version's reports as jobs of their own (their idempotency
    keys name this job, and its windows end when the job was queued, so a run taken over after its worker died
    asks for the very same reports and queues nothing twice)."""
    monitoring.monitoring_run(
        actor=context.actor,
        run_key=str(context.job.pk),
        now=context.job.created_at,
        project=context.input.get("project"),
        drift_days=int(context.input.get("drift_days", 7)),
        performance_days=int(context.input.get("performance_days", 30)),
        progress=context.progress,
    )
    return None


def register_jobs() -> None:
    """The job kinds, and what beat runs (the schedule from settings: MONITORING_CRONTAB,
    WEBHOOK_DELIVERY_SECONDS); registry/jobs.py says how to add one."""
    register_job_kind(
        erasure.ERASURE_EXECUTION,
        title="erasure execution",
        handler=run_erasure_execution,
        roles=ERASURE_OFFICERS,
        result_route="erasure-request-detail",
    )
    register_job_kind(
        fairness.FAIRNESS_AUDIT,
        title="fairness audit",
        handler=run_fairness_audit,
        roles=AUDITORS,
        result_route="fairness-audit-detail",
    )
    register_job_kind(
        drift.DRIFT_REPORT,
        title="drift report",
        handler=run_drift_report,
        roles=ALL_HUMAN_ROLES,
        result_route="drift-report-detail",
    )
    register_job_kind(
        monitoring.MONITORING_RUN,
        title="monitoring run",
        handler=run_monitoring,
        roles=frozenset(),  # the system's, across projects: superusers see it; each report's job is its project's
    )
    register_job_kind(
        performance.PERFORMANCE_REPORT,
        title="performance report",
        handler=run_performance_report,
        roles=ALL_HUMAN_ROLES,
        result_route="performance-report-detail",
    )

    minute, hour, day_of_month, month_of_year, day_of_week = settings.MONITORING_CRONTAB.split()
    register_periodic_job(
        "monitoring",
        kind=monitoring.MONITORING_RUN,
        schedule=crontab(
            minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year, day_of_week=day_of_week
        ),
        input={"drift_days": settings.MONITORING_DRIFT_DAYS, "performance_days": settings.MONITORING_PERFORMANCE_DAYS},
    )
    register_periodic_task(
        "webhook deliveries",
        task="governance.deliver_webhooks",
        schedule=timedelta(seconds=settings.WEBHOOK_DELIVERY_SECONDS),
    )
    # the logs' partitions ahead, and retention's seals and drops (governance/tasks.py), once a day each
    register_periodic_task("log partitions", task="governance.log_partitions", schedule=crontab(minute=40, hour=1))
    register_periodic_task("retention", task="governance.retention", schedule=crontab(minute=10, hour=3))
