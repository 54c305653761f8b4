"""The compliance officer's home, one selector per card: what is due, what failed, what waits for a person. Each
takes the projects the person may see (None: every project) and `now`, runs a fixed number of queries whatever the
data size (each is bounded by LIMIT and served by an index), and answers plain rows the presenter links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, OuterRef, Subquery
from django.db.models.fields.json import KeyTextTransform

from governance.erasure_states import CLOSED_STATUSES
from governance.models import Contest, ErasureRequest, FairnessAudit, Incident, RetrainingObligation
from governance.queries.reviews import QueueSummary, review_queue_summary
from registry.models import AuditEvent, ChainVerificationRun, ModelVersion, Stage

DUE_WITHIN = timedelta(days=7)
ALERT_DAYS = 30
LIMIT = 10
ALERT_TYPES = (
    "drift.detected",
    "performance.degraded",
    "llm.budget_crossed",
    "fairness.audit_failed",
    "review.override_rate",
    "incident.deadline_near",
)


def _scoped(queryset, project_ids, field: str = "project_id"):
    return queryset if project_ids is None else queryset.filter(**{f"{field}__in": project_ids})


@dataclass(frozen=True)
class DueRequest:
    kind: str  # "erasure" or "contest"
    pk: int
    reference: str
    project_id: int
    due_at: datetime


def requests_due(project_ids: set[int] | None, now: datetime) -> tuple[list[DueRequest], int]:
    """Open erasure requests and contests due within 7 days or overdue, soonest first (at most LIMIT), and how many
    there are in all. Four queries."""
    horizon = now + DUE_WITHIN
    erasures = _scoped(ErasureRequest.objects.exclude(status__in=CLOSED_STATUSES), project_ids).filter(
        due_at__lte=horizon, executed_at__isnull=True
    )
    contests = _scoped(Contest.objects.filter(status=Contest.Status.OPEN), project_ids).filter(due_at__lte=horizon)
    rows = [
        DueRequest("erasure", pk, reference, project_id, due)
        for pk, reference, project_id, due in erasures.order_by("due_at").values_list(
            "pk", "reference", "project_id", "due_at"
        )[:LIMIT]
    ] + [
        DueRequest("contest", pk, reference, project_id, due)
        for pk, reference, project_id, due in contests.order_by("due_at").values_list(
            "pk", "reference", "project_id", "due_at"
        )[:LIMIT]
    ]
    rows.sort(key=lambda row: row.due_at)
    return rows[:LIMIT], erasures.count() + contests.count()


def open_obligations(project_ids: set[int] | None) -> tuple[list[tuple[int, str, datetime]], int]:
    """Open retraining obligations (model version id, its label, opened at), oldest first. Two queries."""
    obligations = _scoped(RetrainingObligation.objects.filter(status=RetrainingObligation.Status.OPEN), project_ids)
    rows = [
        (mv_id, f"{name} v{version}", opened)
        for mv_id, name, version, opened in obligations.order_by("opened_at").values_list(
            "model_version_id", "model_version__model__name", "model_version__version", "opened_at"
        )[:LIMIT]
    ]
    return rows, obligations.count()


@dataclass(frozen=True)
class ProductionAudit:
    model_version_id: int
    label: str
    project_id: int
    audit_id: int | None
    passed: bool | None
    audited_at: datetime | None


def production_audits(project_ids: set[int] | None) -> list[ProductionAudit]:
    """Each production version with its latest gating fairness audit (not an exploration). One query."""
    latest = FairnessAudit.objects.filter(model_version=OuterRef("pk"), exploratory=False).order_by(
        "-created_at", "-id"
    )
    versions = (
        _scoped(ModelVersion.objects.filter(stage=Stage.PRODUCTION), project_ids)
        .annotate(
            audit_id=Subquery(latest.values("id")[:1]),
            audit_passed=Subquery(latest.values("passed")[:1]),
            audited_at=Subquery(latest.values("created_at")[:1]),
        )
        .order_by("model__name", "version")
        .values_list("pk", "model__name", "version", "project_id", "audit_id", "audit_passed", "audited_at")[:50]
    )
    return [
        ProductionAudit(pk, f"{name} v{version}", project_id, audit_id, passed, at)
        for pk, name, version, project_id, audit_id, passed, at in versions
    ]


@dataclass(frozen=True)
class AlertRow:
    seq: int
    alert: str
    target: str
    project_id: int | None
    occurred_at: datetime


def recent_alerts(project_ids: set[int] | None, now: datetime) -> tuple[list[AlertRow], dict[str, int]]:
    """Alerts of the last 30 days: the newest (at most LIMIT) and the count per alert type. Two queries, on the
    audit trail's (event_type, occurred_at) index."""
    events = _scoped(
        AuditEvent.objects.filter(event_type="alert.raised", occurred_at__gte=now - timedelta(days=ALERT_DAYS)),
        project_ids,
    )
    newest = [
        AlertRow(seq, (after or {}).get("alert", "?"), target, project_id, at)
        for seq, after, target, project_id, at in events.order_by("-seq").values_list(
            "seq", "after", "target_repr", "project_id", "occurred_at"
        )[:LIMIT]
    ]
    counts = {
        row["alert"]: row["n"]
        for row in events.values(alert=KeyTextTransform("alert", "after")).annotate(n=Count("seq")).order_by()
        if row["alert"]
    }
    return newest, counts


def open_incidents(project_ids: set[int] | None) -> list[Incident]:
    """Open incidents, soonest deadline first (at most LIMIT). One query."""
    return list(
        _scoped(Incident.objects.filter(status__in=Incident.OPEN_STATUSES), project_ids).order_by("due_at")[:LIMIT]
    )


def review_queue(project_ids: set[int] | None, now: datetime) -> QueueSummary:
    return review_queue_summary(project_ids=project_ids, now=now)


def last_verification() -> ChainVerificationRun | None:
    """The trail's last verification (the one chain of every project). One query."""
    return ChainVerificationRun.objects.order_by("-verified_at", "-id").first()
