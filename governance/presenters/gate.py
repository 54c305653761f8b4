"""What the model version page's Promotion gate section shows: every check the gate runs for production (pass or
fail, and why), its verdict, the approvals given, and whether the person looking may approve."""

from __future__ import annotations

from typing import TypedDict

from governance.models import ModelVersionApproval
from governance.permissions import APPROVERS
from governance.presenters.common import Badge, badge, result_badge, utc
from governance.services.gate import gate_evaluate
from registry.actors import Actor
from registry.models import ModelVersion, Stage
from registry.tones import Tone


class GateCheckRow(TypedDict):
    check: str
    passed: bool
    result: Badge
    message: str  # why it passed or failed, in the gate's words


class ApprovalRow(TypedDict):
    by: str
    at: str
    comment: str


class PromotionGate(TypedDict):
    to_stage: str
    in_production: bool
    allowed: bool
    verdict: Badge
    failed: int
    checks: list[GateCheckRow]
    approvals: list[ApprovalRow]
    may_approve: bool  # a compliance officer of the project, while the version is not in production


def model_version_gate(*, actor: Actor, model_version: ModelVersion) -> PromotionGate:
    """The gate as `actor` would meet it promoting the version (gate_evaluate: every app's checks)."""
    evaluated = gate_evaluate(actor=actor, model_version=model_version, to_stage=Stage.PRODUCTION)
    checks: list[GateCheckRow] = [
        {"check": c["check"], "passed": c["passed"], "result": result_badge(c["passed"]), "message": c["message"]}
        for c in evaluated["checks"]
    ]
    failed = sum(1 for c in checks if not c["passed"])
    approvals = ModelVersionApproval.objects.filter(
        model_version=model_version, to_stage=Stage.PRODUCTION
    ).select_related("created_by_user", "created_by_key__project")
    in_production = model_version.stage == Stage.PRODUCTION
    return {
        "to_stage": Stage.PRODUCTION,
        "in_production": in_production,
        "allowed": evaluated["allowed"],
        "verdict": badge("may be promoted", Tone.SUCCESS)
        if evaluated["allowed"]
        else badge(f"refused: {failed} check{'s' if failed != 1 else ''} failed", Tone.DANGER),
        "failed": failed,
        "checks": checks,
        "approvals": [{"by": a.created_by, "at": utc(a.created_at), "comment": a.comment} for a in approvals],
        "may_approve": not in_production and actor.can(APPROVERS, model_version.project_id),
    }
