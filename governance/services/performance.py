"""Concept drift: live accuracy per time bucket from decisions with outcomes, against the model
version's validation metric (`metrics["accuracy"]`), and ROC AUC per bucket where scores exist.

A bucket (and the report) is flagged when its accuracy falls more than the policy's
`max_performance_drop` below the validation accuracy.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, Sum, Value, When
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek
from sklearn.metrics import roc_auc_score

from governance.models import Decision, PerformanceReport
from governance.services.alerts import alert_raise
from governance.services.policies import policy_for
from registry.actors import Actor
from registry.audit import AuditEventType as Event
from registry.audit import audit_append
from registry.errors import field_error
from registry.models import ModelVersion

BUCKETS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}
BASELINE_METRIC = "accuracy"


def _auc(pairs: list[tuple[float, object]], positive_label: object) -> float | None:
    if positive_label is None or len(pairs) < 2:
        return None
    scores = np.array([s for s, _ in pairs], dtype=float)
    truth = np.array([o == positive_label for _, o in pairs], dtype=int)
    if truth.min() == truth.max():
        return None  # one class only: AUC is undefined
    return float(roc_auc_score(truth, scores))


def performance_report_run(
    *,
    actor: Actor,
    model_version: ModelVersion,
    window_start: datetime,
    window_end: datetime,
    bucket: str = "week",
    positive_label: object = None,
) -> PerformanceReport:
    if window_end <= window_start:
        raise field_error("window_end", "must be after window_start")
    if bucket not in BUCKETS:
        raise field_error("bucket", f"must be one of {', '.join(BUCKETS)}")
    baseline = model_version.metrics.get(BASELINE_METRIC)
    if isinstance(baseline, list):
        baseline = baseline[-1] if baseline else None
    if not isinstance(baseline, (int, float)) or isinstance(baseline, bool):
        raise field_error("model_version", f"the version records no validation {BASELINE_METRIC} to compare with")
    policy = policy_for(model_version.project_id)
    rows = Decision.objects.filter(
        model_version=model_version, outcome__isnull=False, occurred_at__gte=window_start, occurred_at__lt=window_end
    )
    grouped = list(
        rows.annotate(period=BUCKETS[bucket]("occurred_at"))
        .values("period")
        .annotate(
            count=Count("id"),
            correct=Sum(
                Case(When(prediction=F("outcome"), then=Value(1)), default=Value(0), output_field=IntegerField())
            ),
        )
        .order_by("period")
    )
    if not grouped:
        raise field_error("window_start", "no decisions with outcomes of this model version in this window")
    scored: dict[datetime, list] = {}
    if positive_label is not None:
        for period, score, outcome in (
            rows.filter(score__isnull=False)
            .annotate(period=BUCKETS[bucket]("occurred_at"))
            .values_list("period", "score", "outcome")
            .iterator(chunk_size=10_000)
        ):
            scored.setdefault(period, []).append((score, outcome))
    floor = float(baseline) - policy.max_performance_drop
    windows = []
    for group in grouped:
        accuracy = group["correct"] / group["count"]
        windows.append(
            {
                "start": group["period"].isoformat(),
                "count": group["count"],
                "accuracy": accuracy,
                "auc": _auc(scored.get(group["period"], []), positive_label),
                "degraded": accuracy < floor,
            }
        )
    total = sum(w["count"] for w in windows)
    correct = sum(g["correct"] for g in grouped)
    all_scored = [pair for pairs in scored.values() for pair in pairs]
    overall = {
        "count": total,
        "accuracy": correct / total,
        "auc": _auc(all_scored, positive_label),
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
                    "baseline": float(baseline),
                    "accuracy": overall["accuracy"],
                },
            )
    return report
