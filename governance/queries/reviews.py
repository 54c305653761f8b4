"""The final decision of each logged decision: the reviewer's where a review overrode the model, else the model's
prediction. Reads the review queue by the decision's (project, model version, request id), the key the queue
item names it by, so it holds whatever partition the decision sits in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, F, JSONField, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from governance.models import Basis, Decision, Policy, ReviewItem

DEFAULT_WINDOW_DAYS = 30


def with_final_decision(rows: QuerySet[Decision], basis: str = Basis.FINAL, name: str = "final") -> QuerySet:
    """`rows` annotated with `name`: the final decision (basis final_decision) or the prediction (prediction)."""
    if basis == Basis.PREDICTION:
        return rows.annotate(**{name: F("prediction")})
    overridden = ReviewItem.objects.filter(
        project_id=OuterRef("project_id"),
        model_version_id=OuterRef("model_version_id"),
        request_id=OuterRef("request_id"),
        final_decision__isnull=False,
    ).values("final_decision")[:1]
    return rows.annotate(
        **{name: Coalesce(Subquery(overridden, output_field=JSONField()), F("prediction"), output_field=JSONField())}
    )


@dataclass(frozen=True)
class OverrideRate:
    model_version_id: int
    project_id: int
    reviewed: int
    overridden: int
    since: datetime

    @property
    def rate(self) -> float | None:
        return self.overridden / self.reviewed if self.reviewed else None


def override_rates(*, model_version_ids: Sequence[int] | None, since: datetime, project_ids=None) -> list[OverrideRate]:
    """Per model version: decisions whose review closed since `since`, and how many were overridden (one query)."""
    closed = ReviewItem.objects.filter(closed_at__gte=since)
    if model_version_ids is not None:
        closed = closed.filter(model_version_id__in=model_version_ids)
    if project_ids is not None:
        closed = closed.filter(project_id__in=project_ids)
    counts = (
        closed.values("model_version_id", "project_id")
        .annotate(reviewed=Count("id"), overridden=Count("id", filter=Q(status=ReviewItem.Status.OVERRIDDEN)))
        .order_by("model_version_id")
    )
    return [OverrideRate(c["model_version_id"], c["project_id"], c["reviewed"], c["overridden"], since) for c in counts]


def override_rate_judgement(policy: Policy, rate: OverrideRate) -> str | None:
    """ "low" (reviewers may be rubber-stamping), "high" (the model is overridden too often) or None."""
    if rate.reviewed < policy.review_rate_min_reviews or rate.rate is None:
        return None
    if rate.rate < policy.review_min_override_rate:
        return "low"
    if rate.rate > policy.review_max_override_rate:
        return "high"
    return None


@dataclass(frozen=True)
class QueueSummary:
    open: int
    pending: int
    waiting_second: int
    escalated: int
    oldest_entered_at: datetime | None
    window_days: int
    override_rates: list[dict]


def review_queue_summary(*, project_ids: set[int] | None, now: datetime) -> QueueSummary:
    """The queue of these projects (None: every project): open items by status, the oldest, and each model
    version's override rate over the policy's window, judged by its project's policy. Three queries."""
    items = ReviewItem.objects.filter(status__in=ReviewItem.OPEN)
    policies = Policy.objects.all()
    if project_ids is not None:
        items = items.filter(project_id__in=project_ids)
        policies = policies.filter(project_id__in=project_ids)
    counts = items.aggregate(
        open=Count("id"),
        pending=Count("id", filter=Q(status=ReviewItem.Status.PENDING)),
        waiting_second=Count("id", filter=Q(status=ReviewItem.Status.SECOND)),
        escalated=Count("id", filter=Q(status=ReviewItem.Status.ESCALATED)),
        oldest=Min("entered_at"),
    )
    by_project = {policy.project_id: policy for policy in policies}
    window = max((p.review_rate_window_days for p in by_project.values()), default=DEFAULT_WINDOW_DAYS)
    rates = []
    for rate in override_rates(model_version_ids=None, project_ids=project_ids, since=now - timedelta(days=window)):
        policy = by_project.get(rate.project_id) or Policy(project_id=rate.project_id)
        rates.append(
            {
                "model_version": rate.model_version_id,
                "reviewed": rate.reviewed,
                "overridden": rate.overridden,
                "override_rate": rate.rate,
                "judgement": override_rate_judgement(policy, rate),
            }
        )
    return QueueSummary(
        open=counts["open"],
        pending=counts["pending"],
        waiting_second=counts["waiting_second"],
        escalated=counts["escalated"],
        oldest_entered_at=counts["oldest"],
        window_days=window,
        override_rates=rates,
    )
