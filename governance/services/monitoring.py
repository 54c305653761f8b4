"""The monitoring schedule: for every production model version, a drift report over the last `drift_days`, a
performance report over the last `performance_days` and a fairness audit like its latest one, each queued as a
background job of its own; then the incident clocks.

Run by Celery beat as the job kind MONITORING_RUN (governance/jobs.py, registered as a periodic job in
governance/apps.py) and by `manage.py run_monitoring` for cron users. Each report is its own job, with the
idempotency key `monitoring:<run>:<version>:<report>`: a monitoring run killed half-way and run again queues the
reports it had not queued yet, never one twice; a report that fails does not take the others with it. Without a
broker the reports run in process, one after another, before this answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from governance.models import FairnessAudit
from governance.services.drift import drift_report_queue
from governance.services.fairness import fairness_audit_queue
from governance.services.incidents import incident_clocks_check
from governance.services.performance import performance_report_queue
from registry.actors import Actor
from registry.errors import ServiceError
from registry.models import BackgroundJob, ModelVersion, Stage

MONITORING_RUN = "governance.monitoring_run"  # the job kind (governance/jobs.py)


@dataclass
class MonitoringStep:
    version: ModelVersion
    report: str  # drift, performance, fairness
    job: BackgroundJob | None = None
    skipped: str = ""  # why no job was queued (the service's refusal, or no earlier audit)


@dataclass
class MonitoringSummary:
    versions: list[ModelVersion] = field(default_factory=list)
    steps: list[MonitoringStep] = field(default_factory=list)
    late_incidents: list = field(default_factory=list)


def monitoring_run(
    *,
    actor: Actor,
    run_key: str,
    now: datetime | None = None,
    project: str | None = None,
    drift_days: int = 7,
    performance_days: int = 30,
    progress: Callable[[int, int, str], None] | None = None,
) -> MonitoringSummary:
    """Queue the reports of every production version (of `project`, a slug, when given); `run_key` names this run
    in the reports' idempotency keys (the same key twice queues nothing new)."""
    now = now or timezone.now()
    versions = ModelVersion.objects.filter(stage=Stage.PRODUCTION).select_related("model", "project")
    if project:
        versions = versions.filter(project__slug=project)
    summary = MonitoringSummary(versions=list(versions.order_by("project__slug", "model__name", "version")))
    for number, version in enumerate(summary.versions):
        if progress is not None:
            progress(number, len(summary.versions), f"queueing the reports of {version.project.slug}/{version}")
        latest = FairnessAudit.objects.filter(model_version=version).order_by("-created_at", "-id").first()
        steps: list[tuple[str, Callable[..., tuple[BackgroundJob, bool]] | None, dict]] = [
            (
                "drift",
                drift_report_queue,
                {"window_start": now - timedelta(days=drift_days), "window_end": now},
            ),
            (
                "performance",
                performance_report_queue,
                {
                    "window_start": now - timedelta(days=performance_days),
                    "window_end": now,
                    "positive_label": latest.positive_label if latest is not None else None,
                },
            ),
            (
                "fairness",
                fairness_audit_queue if latest is not None else None,
                {"sensitive_features": latest.sensitive_features, "positive_label": latest.positive_label}
                if latest is not None
                else {},
            ),
        ]
        for report, queue, inputs in steps:
            step = MonitoringStep(version=version, report=report)
            summary.steps.append(step)
            if queue is None:
                step.skipped = "no earlier audit says which attributes to audit"
                continue
            try:
                step.job, _ = queue(
                    actor=actor,
                    idempotency_key=f"monitoring:{run_key}:{version.pk}:{report}",
                    model_version=version,
                    **inputs,
                )
            except ServiceError as exc:
                step.skipped = exc.message
    summary.late_incidents = list(incident_clocks_check(actor=actor, now=now))
    if progress is not None:
        progress(len(summary.versions), len(summary.versions), f"{len(summary.steps)} reports considered")
    return summary
