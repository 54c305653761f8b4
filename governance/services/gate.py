"""The promotion gate: what a version must show before it goes to production.

Checks (from the project's policy): its metrics meet the policy's floors; the latest fairness audit of that
version by exactly the policy's required sensitive attributes, over at least its minimum number of decisions
with outcomes and not older than its maximum age, passed (other audits are exploratory; while the policy names
no attributes no audit gates, so nothing is promoted); its model card (intended use, limitations) is filled in;
and, for a high-risk model when the policy says so, a compliance officer has approved it who is another person
(a user, or a key's owner) than the one asking; an ownerless key's approval is nobody's. The registry runs these
through its one gate (registry.services.gate_enforce) on every transition to production and on every deployment
that serves production; `gate_evaluate` shows them without transitioning (API and `manage.py gate`).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from governance.events import GovernanceEvent as Event
from governance.models import FairnessAudit, ModelVersionApproval
from governance.permissions import APPROVERS
from governance.services.fairness import audit_gates
from governance.services.policies import policy_for_project
from registry import hooks
from registry.actors import Actor
from registry.audit import audit_append
from registry.errors import field_error
from registry.models import ApiKey, Model, ModelVersion, Stage

GATED_STAGES = {Stage.PRODUCTION}


def _check(name: str, passed: bool, message: str, **detail) -> dict:
    return {"check": name, "passed": passed, "message": message, **detail}


def _person(user_id: int | None, key: ApiKey | None) -> int | None:
    """The person behind a user or a key: the user, or the key's owner; None for an ownerless service key."""
    if user_id:
        return user_id
    return key.owner_id if key is not None else None


def _second_person(actor: Actor, approval: ModelVersionApproval) -> bool:
    """Four eyes compares people, not keys: a second key of the promoter's is the promoter again, and an
    ownerless key is nobody in particular, so its approval never counts as a second person."""
    approver = _person(approval.created_by_user_id, approval.created_by_key)
    if approver is None:
        return False
    return approver != _person(actor.user.pk if actor.user is not None else None, actor.api_key)


def _fairness_check(policy, model_version: ModelVersion) -> dict:
    required = list(policy.required_sensitive_features or [])
    if not required:
        return _check(
            "fairness_audit",
            False,
            "the policy names no sensitive attributes a fairness audit must cover "
            "(required_sensitive_features): no audit can let a version through",
        )
    cutoff = timezone.now() - timedelta(days=policy.max_audit_age_days)
    wanted = f"by {', '.join(required)} over at least {policy.min_audit_decisions} decisions with outcomes, "
    wanted += f"its window ending within {policy.max_audit_age_days} days"
    audits = FairnessAudit.objects.filter(
        Q(window_end__gte=cutoff) | Q(window_end__isnull=True, created_at__gte=cutoff),
        model_version=model_version,
        row_count__gte=policy.min_audit_decisions,
    ).order_by("-created_at", "-id")
    audit = next((a for a in audits.iterator() if audit_gates(a.sensitive_features, policy)), None)
    if audit is None:
        return _check("fairness_audit", False, f"no fairness audit of this version {wanted}")
    reasons = "; ".join(c["message"] for c in audit.failed_checks)
    return _check(
        "fairness_audit",
        audit.passed,
        f"the latest fairness audit {wanted} ({audit.pk}, {audit.row_count} decisions) "
        + ("passed" if audit.passed else f"failed: {reasons}"),
        audit=audit.pk,
    )


def promotion_checks(actor: Actor, model_version: ModelVersion, to_stage: str) -> list[dict]:
    if to_stage not in GATED_STAGES:
        return []
    policy = policy_for_project(actor=actor, project_id=model_version.project_id)
    checks = []
    for metric, floor in sorted(policy.metric_floors.items()):
        value = model_version.metrics.get(metric)
        if isinstance(value, list):
            value = value[-1] if value else None
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= floor
        checks.append(
            _check(
                f"metric_floor:{metric}",
                ok,
                f"{metric} {value} meets the floor {floor}"
                if ok
                else (
                    f"{metric} {value} is below the floor {floor}" if value is not None else f"no {metric} is recorded"
                ),
            )
        )
    checks.append(_fairness_check(policy, model_version))
    missing = [name for name in ("intended_use", "limitations") if not getattr(model_version, name).strip()]
    checks.append(
        _check(
            "model_card",
            not missing,
            "the model card is complete" if not missing else f"the model card lacks {', '.join(missing)}",
        )
    )
    model = Model.objects.only("risk_tier").get(pk=model_version.model_id)
    if policy.high_risk_needs_second_approver and model.risk_tier == Model.RiskTier.HIGH:
        given = list(
            ModelVersionApproval.objects.filter(model_version=model_version, to_stage=to_stage).select_related(
                "created_by_key", "created_by_user"
            )
        )
        approvals = [a for a in given if _second_person(actor, a)]
        message = "a high-risk model needs the approval of a compliance officer other than the person promoting it"
        if not approvals and any(_person(a.created_by_user_id, a.created_by_key) is None for a in given):
            message += " (an approval by a key without an owner is nobody's: it does not count as a second person)"
        checks.append(
            _check(
                "second_approver", bool(approvals), f"approved by {approvals[0].created_by}" if approvals else message
            )
        )
    return checks


def gate_evaluate(*, actor: Actor, model_version: ModelVersion, to_stage: str) -> dict:
    if to_stage not in Stage.values:
        raise field_error("to_stage", f"must be one of {', '.join(Stage.values)}")
    checks = hooks.gate_checks(actor, model_version, to_stage)  # what gate_enforce runs: every app's checks
    return {
        "model_version": model_version.pk,
        "to_stage": to_stage,
        "allowed": all(c["passed"] for c in checks),
        "checks": checks,
    }


def model_version_approve(
    *, actor: Actor, model_version: ModelVersion, to_stage: str, comment: str
) -> ModelVersionApproval:
    """A compliance officer approves a version for a stage."""
    if to_stage not in GATED_STAGES:
        raise field_error("to_stage", f"approvals are for {', '.join(sorted(GATED_STAGES))}")
    if not comment.strip():
        raise field_error("comment", "say what was reviewed")
    if not actor.can(APPROVERS, model_version.project_id):
        raise field_error("to_stage", "only a compliance officer of the project may approve")
    with transaction.atomic():
        approval = ModelVersionApproval.objects.create(
            project_id=model_version.project_id,
            model_version=model_version,
            to_stage=to_stage,
            comment=comment,
            created_by_user=actor.user if actor.user is not None and actor.user.pk else None,
            created_by_key=actor.api_key,
        )
        audit_append(
            actor=actor,
            event_type=Event.MODEL_VERSION_APPROVED,
            target=model_version,
            after={"to_stage": to_stage, "comment": comment, "approval": approval.pk},
        )
    return approval
