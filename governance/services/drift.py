"""Drift reports: a window of logged decisions' features against the training data version's profile
(summarised by `governance.queries.drift`, compared by `governance.statistics.drift`), stored with its audit
event, and an alert when a feature drifted (its PSI above the project policy's `max_psi`)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from governance.events import GovernanceEvent as Event
from governance.models import Decision, DriftReport
from governance.queries.drift import window_summary
from governance.services import drift_counts
from governance.services.alerts import alert_raise
from governance.services.policies import policy_for_project
from governance.statistics.drift import compare_feature
from registry.actors import Actor
from registry.audit import audit_append
from registry.errors import field_error
from registry.models import BackgroundJob, DataVersion, ModelVersion
from registry.profiles import PROFILE_FORMAT
from registry.services.jobs import job_queue


def reference_data_version(model_version: ModelVersion) -> DataVersion:
    """The version's training data version that carries a profile."""
    reference = drift_counts.reference_data_version(model_version)
    if reference is None:
        raise field_error(
            "model_version",
            f"the training data of model version {model_version.pk} has no profile ({PROFILE_FORMAT}) to compare with",
        )
    return reference


DRIFT_REPORT = "governance.drift_report"  # the job kind (governance/jobs.py)


def drift_report_check(*, model_version: ModelVersion, window_start: datetime, window_end: datetime) -> DataVersion:
    """What can be wrong with a report's input, checked before any work (or job) starts; answers the reference."""
    if window_end <= window_start:
        raise field_error("window_end", "must be after window_start")
    reference = reference_data_version(model_version)
    if not Decision.objects.filter(
        model_version=model_version, occurred_at__gte=window_start, occurred_at__lt=window_end, erased_at__isnull=True
    ).exists():
        raise field_error("window_start", NO_DECISIONS)
    return reference


NO_DECISIONS = "no decisions of this model version in this window"


def drift_report_queue(*, actor: Actor, idempotency_key: str = "", **inputs) -> tuple[BackgroundJob, bool]:
    """Check a report's input (a 400 names the field, no job is made), then make it in a background job;
    `inputs` are drift_report_run's. Answers (job, created)."""
    return job_queue(
        actor=actor,
        kind=DRIFT_REPORT,
        project=inputs["model_version"].project,
        input=inputs,
        idempotency_key=idempotency_key,
        check=lambda: drift_report_check(**inputs),
    )


def drift_report_run(
    *, actor: Actor, model_version: ModelVersion, window_start: datetime, window_end: datetime
) -> DriftReport:
    reference = drift_report_check(model_version=model_version, window_start=window_start, window_end=window_end)
    policy = policy_for_project(actor=actor, project_id=model_version.project_id)
    columns = reference.profile["columns"]
    rows, window = window_summary(model_version.pk, window_start, window_end, columns)
    if rows == 0:
        raise field_error("window_start", NO_DECISIONS)
    features = {name: compare_feature(columns[name], window[name], max_psi=policy.max_psi) for name in columns}
    drifted = sorted(name for name, result in features.items() if result["drifted"])
    with transaction.atomic():
        report = DriftReport.objects.create(
            project_id=model_version.project_id,
            model_version=model_version,
            reference_data_version=reference,
            window_start=window_start,
            window_end=window_end,
            row_count=rows,
            features=features,
            drifted=bool(drifted),
            drifted_features=drifted,
            policy=policy.snapshot(),
            created_by_user=actor.user if actor.user is not None and actor.user.pk else None,
            created_by_key=actor.api_key,
        )
        audit_append(
            actor=actor,
            event_type=Event.DRIFT_REPORTED,
            target=report,
            after={
                "model_version": model_version.pk,
                "reference": reference.pk,
                "rows": rows,
                "drifted": drifted,
                "psi": {name: result.get("psi") for name, result in features.items()},
            },
        )
        if drifted:
            alert_raise(
                actor=actor,
                project_id=model_version.project_id,
                alert_type="drift.detected",
                target=report,
                payload={
                    "model_version": model_version.pk,
                    "drift_report": report.pk,
                    "features": drifted,
                    "psi": {name: features[name]["psi"] for name in drifted},
                },
            )
    return report
