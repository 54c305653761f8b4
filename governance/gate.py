"""The promotion gate: what a version must show before it goes to production.

Checks (from the project's policy): its metrics meet the policy's floors; the latest fairness
audit of that version passed; its model card (intended use, limitations) is filled in; and, for a
high-risk model when the policy says so, a compliance officer other than the person asking has
approved it. The registry runs these through its gate hook on every transition to production;
`gate_evaluate` shows them without transitioning (API and `manage.py gate`).
"""

from __future__ import annotations

from django.db import transaction

from governance.fairness import policy_for
from governance.models import FairnessAudit, ModelVersionApproval
from registry.actors import Actor
from registry.audit import AuditEventType as Event
from registry.audit import audit_append
from registry.errors import field_error
from registry.models import Model, ModelVersion, Role, Stage

GATED_STAGES = {Stage.PRODUCTION}


def _check(name: str, passed: bool, message: str, **detail) -> dict:
    return {"check": name, "passed": passed, "message": message, **detail}


def _same_person(actor: Actor, approval: ModelVersionApproval) -> bool:
    if actor.user is not None and actor.user.pk and approval.created_by_user_id == actor.user.pk:
        return True
    return actor.api_key is not None and approval.created_by_key_id == actor.api_key.pk


def promotion_checks(actor: Actor, model_version: ModelVersion, to_stage: str) -> list[dict]:
    if to_stage not in GATED_STAGES:
        return []
    policy = policy_for(model_version.project_id)
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
    audit = FairnessAudit.objects.filter(model_version=model_version).order_by("-created_at", "-id").first()
    if audit is None:
        checks.append(_check("fairness_audit", False, "no fairness audit of this version"))
    else:
        reasons = "; ".join(c["message"] for c in audit.failed_checks)
        checks.append(
            _check(
                "fairness_audit",
                audit.passed,
                f"the latest fairness audit ({audit.pk}, by {', '.join(audit.sensitive_features)}) "
                + ("passed" if audit.passed else f"failed: {reasons}"),
                audit=audit.pk,
            )
        )
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
        approvals = [
            a
            for a in ModelVersionApproval.objects.filter(model_version=model_version, to_stage=to_stage)
            if not _same_person(actor, a)
        ]
        checks.append(
            _check(
                "second_approver",
                bool(approvals),
                f"approved by {approvals[0].created_by}"
                if approvals
                else "a high-risk model needs the approval of a compliance officer other than the person promoting it",
            )
        )
    return checks


def gate_evaluate(*, actor: Actor, model_version: ModelVersion, to_stage: str) -> dict:
    if to_stage not in Stage.values:
        raise field_error("to_stage", f"must be one of {', '.join(Stage.values)}")
    checks = promotion_checks(actor, model_version, to_stage)
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
    if not actor.can({Role.COMPLIANCE_OFFICER}, model_version.project_id):
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
