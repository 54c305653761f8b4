"""Governance reads that more than one caller needs (services, API, admin, benches): what the service holds about
an erasure's subject (`subject_trace`, summarised by `trace_summary`) and an erasure's completion report."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from governance.erasure_states import erasure_overdue
from governance.models import Decision, ErasureRequest, RetrainingObligation
from governance.subject_data import subject_data_contributors
from registry.models import AuditEvent, DataVersion, DataVersionParent, Deployment, ModelVersion, RunInput, SubjectIndex

TRAINING_ROLES = (RunInput.Role.TRAIN,)


MAX_TRACED_DECISION_IDS = 1000


def subject_trace(*, project_id: int, subject_key: str, at: datetime | None = None) -> dict:
    """Everything the service holds about one subject in one project, and what was made from it."""
    at = at or timezone.now()
    holding = set(
        SubjectIndex.objects.filter(subject_key=subject_key, data_version__project_id=project_id).values_list(
            "data_version_id", flat=True
        )
    )
    # a version derived from one holding the subject is affected by derivation, unless it has a subject
    # index of its own: then that index says whether it holds the subject (and `holding` already has it)
    affected, frontier, derived_from = set(holding), set(holding), {}
    while frontier:
        edges = list(DataVersionParent.objects.filter(parent_id__in=frontier).values_list("child_id", "parent_id"))
        children = {child for child, _ in edges} - holding
        indexed = set(
            DataVersion.objects.filter(pk__in=children)
            .filter(Exists(SubjectIndex.objects.filter(data_version=OuterRef("pk"))))
            .values_list("pk", flat=True)
        )
        edges = [(child, parent) for child, parent in edges if child not in indexed]
        for child, parent in edges:
            derived_from.setdefault(child, []).append(parent)
        frontier = {child for child, _ in edges} - affected
        affected |= frontier

    data_versions = [
        {
            "id": dv.pk,
            "dataset": dv.dataset.name,
            "version": dv.version,
            "holds_subject": dv.pk in holding,
            "derived_from": sorted(derived_from.get(dv.pk, [])),
            "status": dv.status,
        }
        # not the profile (quantile bins and a sample of every column) nor the schema: decoding them was most of a
        # trace once the training data versions carry profiles (bench/scale.py)
        for dv in DataVersion.objects.filter(pk__in=affected)
        .select_related("dataset")
        .defer("profile", "schema")
        .order_by("pk")
    ]
    inputs: dict[int, list[dict]] = {}
    for run_id, dv_id, role in RunInput.objects.filter(data_version_id__in=affected).values_list(
        "run_id", "data_version_id", "role"
    ):
        inputs.setdefault(run_id, []).append({"data_version": dv_id, "role": role})
    # retraining follows the training inputs; validation and test inputs are listed, obliging nothing
    trained_runs = {run for run, used in inputs.items() if any(i["role"] in TRAINING_ROLES for i in used)}
    used_for = {run: sorted({i["role"] for i in used}) for run, used in inputs.items()}

    versions = list(ModelVersion.objects.filter(run_id__in=inputs).select_related("model", "run").order_by("pk"))
    live = list(
        Deployment.objects.filter(model_version__in=versions, started_at__lte=at)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=at))
        .order_by("pk")
    )
    live_by_version: dict[int, list[int]] = {}
    for deployment in live:
        live_by_version.setdefault(deployment.model_version_id, []).append(deployment.pk)

    decisions = Decision.objects.filter(project_id=project_id, subject_key=subject_key)
    decision_ids = list(decisions.order_by("id").values_list("id", flat=True)[: MAX_TRACED_DECISION_IDS + 1])

    return {
        "computed_at": at.isoformat(),
        "data_versions": data_versions,
        "runs": [
            {
                "id": run,
                "inputs": sorted(used, key=lambda i: (i["data_version"], i["role"])),
                "used_for": used_for[run],
                "trained_on_subject": run in trained_runs,
            }
            for run, used in sorted(inputs.items())
        ],
        "model_versions": [
            {
                "id": mv.pk,
                "model": mv.model.name,
                "version": mv.version,
                "stage": mv.stage,
                "run": mv.run_id,
                "used_for": used_for[mv.run_id],
                "trained_on_subject": mv.run_id in trained_runs,
                "live": mv.pk in live_by_version,
                "live_deployments": live_by_version.get(mv.pk, []),
            }
            for mv in versions
        ],
        "live_deployments": [
            {
                "id": d.pk,
                "model_version": d.model_version_id,
                "environment": d.environment,
                "strategy": d.strategy,
                "traffic_percent": float(d.traffic_percent),
            }
            for d in live
        ],
        "decisions": {
            "count": decisions.count() if len(decision_ids) > MAX_TRACED_DECISION_IDS else len(decision_ids),
            "ids": decision_ids[:MAX_TRACED_DECISION_IDS],
            "ids_truncated": len(decision_ids) > MAX_TRACED_DECISION_IDS,
        },
        "other": {c.name: c.trace(project_id=project_id, subject_key=subject_key) for c in subject_data_contributors()},
    }


def trace_summary(trace: dict) -> dict:
    return {
        "data_versions": [dv["id"] for dv in trace["data_versions"]],
        "runs": [run["id"] for run in trace["runs"]],
        "model_versions": [mv["id"] for mv in trace["model_versions"]],
        "live_model_versions": [mv["id"] for mv in trace["model_versions"] if mv["live"]],
        "decisions": trace["decisions"]["count"],
        "other": {name: section.get("count") for name, section in trace.get("other", {}).items()},
    }


def erasure_report(*, request: ErasureRequest) -> dict:
    """The completion report: the request, its trace, what was done, by whom and when, with the
    audit-chain hash of every step."""
    obligations = list(request.obligations.select_related("model_version__model", "closed_by_version").order_by("pk"))
    events = AuditEvent.objects.filter(
        Q(target_type=ErasureRequest._meta.label_lower, target_id=str(request.pk))
        | Q(target_type=RetrainingObligation._meta.label_lower, target_id__in=[str(o.pk) for o in obligations])
    ).order_by("seq")
    return {
        "request": {
            "id": request.pk,
            "project": request.project.slug,
            "reference": request.reference,
            "status": request.status,
            "received_at": request.received_at,
            "due_at": request.due_at,
            "traced_at": request.traced_at,
            "executed_at": request.executed_at,
            "completed_at": request.completed_at,
            "rejection_reason": request.rejection_reason,
            "overdue": erasure_overdue(request, timezone.now()),
        },
        "trace": request.trace,
        "execution": request.execution,
        "obligations": [
            {
                "id": o.pk,
                "model_version": o.model_version_id,
                "model": o.model_version.model.name,
                "version": o.model_version.version,
                "status": o.status,
                "opened_at": o.opened_at,
                "closed_at": o.closed_at,
                "closed_by_version": o.closed_by_version_id,
            }
            for o in obligations
        ],
        "steps": [
            {
                "seq": e.seq,
                "event_type": e.event_type,
                "at": e.occurred_at,
                "actor": e.actor_name,
                "target": e.target_repr,
                "after": e.after,
                "hash": e.hash,
                "prev_hash": e.prev_hash,
                "request_id": e.request_id,
            }
            for e in events
        ],
    }
