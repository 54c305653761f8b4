"""Fairness audits: refuse a typo, count the window's decisions by group (`governance.queries.fairness`),
compute the figures (`governance.statistics.fairness`), store the audit with its audit event, and alert when a
gating audit fails."""

from __future__ import annotations

import json
from datetime import datetime

from django.db import transaction
from django.db.models import Q

from governance.events import GovernanceEvent as Event
from governance.models import Basis, FairnessAudit, Policy
from governance.queries.fairness import decision_group_counts, sensitive_keys, window_rows
from governance.services.alerts import alert_raise
from governance.services.policies import policy_for_project
from governance.statistics.fairness import compute_fairness
from registry.actors import Actor
from registry.audit import audit_append
from registry.errors import field_error
from registry.models import BackgroundJob, ModelVersion
from registry.services.jobs import job_queue


def audit_gates(sensitive_features: list[str], policy: Policy) -> bool:
    """Whether an audit by these attributes is the one the policy asks for: by exactly its required attributes
    (their intersection when several). Any other audit, and every audit while the policy names none, is
    exploratory: stored and shown, never alerting or gating."""
    required = set(policy.required_sensitive_features or [])
    return bool(required) and set(sensitive_features) == required


SEEN_VALUES_SHOWN = 20


def _refuse_unseen(
    *,
    model_version_id: int,
    attributes: list[str],
    positive_label: object,
    window_start: datetime | None,
    window_end: datetime | None,
) -> None:
    """A typo must not become a failed audit: an attribute no decision of the window carries, or a positive label
    no outcome nor prediction equals, is refused, listing what the window holds."""
    rows = window_rows(model_version_id, window_start, window_end)
    if not rows.exists():
        raise field_error("window_start", "no decisions with outcomes (and the sensitive attributes) in this window")
    missing = [a for a in attributes if not rows.filter(sensitive__has_key=a).exists()]
    if missing:
        seen = sorted(sensitive_keys(rows))
        raise field_error(
            "sensitive_features",
            f"no decision in the window carries {', '.join(missing)}; the attributes seen are: "
            + (", ".join(seen) if seen else "none"),
        )
    if not rows.filter(Q(outcome=positive_label) | Q(prediction=positive_label)).exists():
        values: list = []
        for name in ("outcome", "prediction"):
            for value in rows.values_list(name, flat=True).order_by().distinct()[:SEEN_VALUES_SHOWN]:
                if value not in values:
                    values.append(value)
        raise field_error(
            "positive_label",
            f"no outcome or prediction in the window equals {json.dumps(positive_label)}; the values seen are: "
            + ", ".join(json.dumps(v) for v in values[:SEEN_VALUES_SHOWN]),
        )


FAIRNESS_AUDIT = "governance.fairness_audit"  # the job kind (governance/jobs.py)


def fairness_audit_check(
    *,
    actor: Actor,
    model_version: ModelVersion,
    sensitive_features: list[str],
    positive_label: object,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    basis: str = Basis.PREDICTION,
) -> Policy:
    """Everything about an audit's input that can be wrong, checked before any work (or job) starts: the
    request's 400 names the field. Answers the project's policy."""
    if basis not in Basis.values:
        raise field_error("basis", f"must be one of {', '.join(Basis.values)}")
    if not sensitive_features:
        raise field_error("sensitive_features", "name at least one sensitive attribute")
    if len(set(sensitive_features)) != len(sensitive_features):
        raise field_error("sensitive_features", "names an attribute twice")
    if window_start and window_end and window_end <= window_start:
        raise field_error("window_end", "must be after window_start")
    policy = policy_for_project(actor=actor, project_id=model_version.project_id)
    _refuse_unseen(
        model_version_id=model_version.pk,
        attributes=list(sensitive_features),
        positive_label=positive_label,
        window_start=window_start,
        window_end=window_end,
    )
    return policy


def fairness_audit_queue(*, actor: Actor, idempotency_key: str = "", **inputs) -> tuple[BackgroundJob, bool]:
    """Check an audit's input (a 400 names the field, no job is made), then run the audit as a background job;
    `inputs` are fairness_audit_run's. Answers (job, created)."""
    return job_queue(
        actor=actor,
        kind=FAIRNESS_AUDIT,
        project=inputs["model_version"].project,
        input=inputs,
        idempotency_key=idempotency_key,
        check=lambda: fairness_audit_check(actor=actor, **inputs),
    )


def fairness_audit_run(
    *,
    actor: Actor,
    model_version: ModelVersion,
    sensitive_features: list[str],
    positive_label: object,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    basis: str = Basis.PREDICTION,
) -> FairnessAudit:
    """Audit one version's decisions with outcomes, store the result and record it in the audit trail. On basis
    final_decision the decisions audited are the final ones (a reviewer's where a review overrode the model):
    such an audit judges the process, not the model, so it is exploratory (it never gates a promotion)."""
    policy = fairness_audit_check(
        actor=actor,
        model_version=model_version,
        sensitive_features=sensitive_features,
        positive_label=positive_label,
        window_start=window_start,
        window_end=window_end,
        basis=basis,
    )
    exploratory = basis != Basis.PREDICTION or not audit_gates(sensitive_features, policy)
    counts = decision_group_counts(
        model_version_id=model_version.pk,
        attributes=list(sensitive_features),
        positive_label=positive_label,
        window_start=window_start,
        window_end=window_end,
        basis=basis,
    )
    result = compute_fairness(counts, policy=policy, seed=model_version.pk)
    with transaction.atomic():
        audit = FairnessAudit.objects.create(
            project_id=model_version.project_id,
            model_version=model_version,
            sensitive_features=list(sensitive_features),
            positive_label=positive_label,
            basis=basis,
            window_start=window_start,
            window_end=window_end,
            row_count=result["row_count"],
            overall=result["overall"],
            by_group=result["by_group"],
            small_groups=result["small_groups"],
            disparities=result["disparities"],
            policy=policy.snapshot(),
            bootstrap={**result["bootstrap"], "excluded_rows": result["excluded_rows"]},
            passed=result["passed"],
            failed_checks=result["failed_checks"],
            exploratory=exploratory,
            created_by_user=actor.user if actor.user is not None and actor.user.pk else None,
            created_by_key=actor.api_key,
        )
        audit_append(
            actor=actor,
            event_type=Event.FAIRNESS_AUDITED,
            target=audit,
            after={
                "model_version": model_version.pk,
                "sensitive_features": list(sensitive_features),
                "basis": basis,
                "rows": result["row_count"],
                "passed": result["passed"],
                "exploratory": exploratory,
                "disparities": result["disparities"],
                "failed_checks": [c["check"] for c in result["failed_checks"]],
            },
        )
        if not audit.passed and not exploratory:  # an exploration never alerts (nor gates: see governance/gate.py)
            alert_raise(
                actor=actor,
                project_id=model_version.project_id,
                alert_type="fairness.audit_failed",
                target=audit,
                payload={
                    "model_version": model_version.pk,
                    "fairness_audit": audit.pk,
                    "failed_checks": [c["message"] for c in result["failed_checks"]],
                },
            )
    return audit
