"""The performance report's reads: per time bucket, how many decisions with outcomes a version made in a window
and how many of them were correct, and the scored decisions' (score, outcome) pairs for the AUC."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Case, Count, F, IntegerField, QuerySet, Sum, Value, When
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek

from governance.models import Basis, Decision
from governance.queries.reviews import with_final_decision
from registry.models import ModelVersion

BUCKETS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}


def outcome_rows(model_version: ModelVersion, window_start: datetime, window_end: datetime) -> QuerySet[Decision]:
    """The version's decisions with an outcome that occurred in [window_start, window_end)."""
    return Decision.objects.filter(
        model_version=model_version, outcome__isnull=False, occurred_at__gte=window_start, occurred_at__lt=window_end
    )


def accuracy_by_bucket(rows: QuerySet[Decision], bucket: str, basis: str = Basis.PREDICTION) -> list[dict]:
    """Per bucket (`period`, ascending): `count` decisions and how many were `correct` (decision == outcome; the
    decision is the prediction, or on basis final_decision the reviewer's where a review overrode it)."""
    return list(
        with_final_decision(rows, basis, name="decided")
        .annotate(period=BUCKETS[bucket]("occurred_at"))
        .values("period")
        .annotate(
            count=Count("id"),
            correct=Sum(Case(When(decided=F("outcome"), then=Value(1)), default=Value(0), output_field=IntegerField())),
        )
        .order_by("period")
    )


def scores_by_bucket(rows: QuerySet[Decision], bucket: str) -> dict[datetime, list]:
    """Per bucket, the (score, outcome) pairs of the decisions that carry a score."""
    scored: dict[datetime, list] = {}
    for period, score, outcome in (
        rows.filter(score__isnull=False)
        .annotate(period=BUCKETS[bucket]("occurred_at"))
        .values_list("period", "score", "outcome")
        .iterator(chunk_size=10_000)
    ):
        scored.setdefault(period, []).append((score, outcome))
    return scored
