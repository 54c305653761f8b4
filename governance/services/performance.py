"""Concept drift: live accuracy per time bucket from decisions with outcomes, against the model
version's validation metric (`metrics["accuracy"]`), and ROC AUC per bucket where scores exist.

A bucket (and the report) is flagged when its accuracy falls more than the policy's
`max_performance_drop` below the validation accuracy. The counts come from `governance.queries.performance`,
the AUC from `governance.statistics.performance`; the report is stored here with its audit event.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from governance.events import GovernanceEvent as Event
from governance.models import Basis, PerformanceReport
from governance.queries.performance import BUCKETS, accuracy_by_bucket, outcome_rows, scores_by_bucket
from governance.services.alerts import alert_raise
from governance.services.policies import policy_for_project
from governance.statistics.performance import auc
from registry.actors import Actor
from registry.audit import audit_append
from registry.errors import field_error
from registry.models import BackgroundJob, ModelVersion
from registry.services.jobs import job_queue

BASELINE_METRIC = "accuracy"


PERFORMANCE_REPORT = "governance.performance_report"  # the job kind (governance/jobs.py)
NO_OUTCOMES = "no decisions with outcomes of this model version in this window"


def performance_report_check(
    *,
    model_version: ModelVersion,
    window_start: datetime,
    window_end: datetime,
    bucket: str = "week",
    basis: str = Basis.PREDICTION,
) -> float:
    """What can be wrong with a report's input, checked before any work (or job) starts; answers the version's
    validation accuracy (the baseline)."""
    if basis not in Basis.values:
        raise field_error("basis", f"must be one of {', '.join(Basis.values)}")
    if window_end <= window_start:
        raise field_error("window_end", "must be after window_start")
    if bucket not in BUCKETS:
        raise field_error("bucket", f"must be one of {', '.join(BUCKETS)}")
    baseline = model_version.metrics.get(BASELINE_METRIC)
    if isinstance(baseline, list):
        baseline = baseline[-1] if baseline else None
    if not isinstance(baseline, (int, float)) or isinstance(baseline, bool):
        raise field_error("model_version", f"the version records no validation {BASELINE_METRIC} to compare with")
    if not outcome_rows(model_version, window_start, window_end).exists():
        raise field_error("window_start", NO_OUTCOMES)
    return float(baseline)


def performance_report_queue(*, actor: Actor, idempotency_key: str = "", **inputs) -> tuple[BackgroundJob, bool]:
    """Check a report's input (a 400 names the field, no job is made), then make it in a background job;
    `inputs` are performance_report_run's. Answers (job, created)."""
    checked = {name: value for name, value in inputs.items() if name != "positive_label"}
    return job_queue(
        actor=actor,
        kind=PERFORMANCE_REPORT,
        project=inputs["model_version"].project,
        input=inputs,
        idempotency_key=idempotency_key,
        check=lambda: performance_report_check(**checked),
    )


def performance_report_run(
    *,
    actor: Actor,
    model_version: ModelVersion,
    window_start: datetime,
    window_end: datetime,
    bucket: str = "week",
    positive_label: object = None,
    basis: str = Basis.PREDICTION,
) -> PerformanceReport:
    """Accuracy (and AUC of the scores) per bucket against the version's validation accuracy; on basis
    final_decision the decisions judged are the final ones (a reviewer's where a review overrode the model)."""
    baseline = performance_report_check(
        model_version=model_version, window_start=window_start, window_end=window_end, bucket=bucket, basis=basis
    )
    policy = policy_for_project(actor=actor, project_id=model_version.project_id)
    rows = outcome_rows(model_version, window_start, window_end)
    grouped = accuracy_by_bucket(rows, bucket, basis)
    if not grouped:
        raise field_error("window_start", NO_OUTCOMES)
    scored = scores_by_bucket(rows, bucket) if positive_label is not None else {}
    floor = float(baseline) - policy.max_performance_drop
    windows = []
    for group in grouped:
        accuracy = group["correct"] / group["count"]
        windows.append(
            {
                "start": group["period"].isoformat(),
                "count": group["count"],
                "accuracy": accuracy,
                "auc": auc(scored.get(group["period"], []), positive_label),
                "degraded": accuracy < floor,
            }
        )
    total = sum(w["count"] for w in windows)
    correct = sum(g["correct"] for g in grouped)
    all_scored = [pair for pairs in scored.values() for pair in pairs]
    overall = {
        "count": total,
        "accuracy": correct / total,
        "auc": auc(all_scored, positive_label),
        "drop": float(baseline) - correct / total,
    }
    degraded = overall["accuracy"] < floor or any(w["degraded"] for w in windows)
    with transaction.atomic():
        report = PerformanceReport.objects.create(
            project_id=model_version.project_id,
            model_version=model_version,
            window_start=window_start,
            window_end=window_end,
            bucket=bucket,
            positive_label=positive_label,
            basis=basis,
            baseline_metric=BASELINE_METRIC,
            baseline_value=float(baseline),
            overall=overall,
            windows=windows,
            degraded=degraded,
            policy=policy.snapshot(),
            created_by_user=actor.user if actor.user is not None and actor.user.pk else None,
            created_by_key=actor.api_key,
        )
        audit_append(
            actor=actor,
            event_type=Event.PERFORMANCE_REPORTED,
            target=report,
            after={
                "model_version": model_version.pk,
                "basis": basis,
                "baseline": float(baseline),
                "overall": overall,
                "degraded": degraded,
                "degraded_windows": [w["start"] for w in windows if w["degraded"]],
            },
        )
        if degraded:
            alert_raise(
                actor=actor,
                project_id=model_version.project_id,
                alert_type="performance.degraded",
                target=report,
                payload={
                    "model_version": model_version.pk,
                    "performance_report": report.pk,
                    "basis": basis,
                    "baseline": float(baseline),
                    "accuracy": overall["accuracy"],
                },
            )
    return report
