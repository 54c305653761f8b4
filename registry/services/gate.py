"""The promotion gate: the one check on every way into production (stage transitions and deployments), in
its own module because both families call it and the checks come from the apps above (`hooks.gate_checks`)."""

from __future__ import annotations

from registry import hooks
from registry.actors import Actor
from registry.errors import ServiceError
from registry.models import ModelVersion


def gate_enforce(*, actor: Actor, model_version: ModelVersion, to_stage: str, field: str, doing: str) -> list[dict]:
    """The one gate on every way into production: stage transitions, deployments and (later) alias moves.

    Runs the checks upper apps contribute through `hooks.gate_checks` (policy, fairness audit, model card, four
    eyes) and refuses with the failed ones under `field`; answers the checks when all passed."""
    checks = hooks.gate_checks(actor, model_version, to_stage)
    failed = [check["message"] for check in checks if not check["passed"]]
    if failed:
        raise ServiceError(
            f"the promotion gate refuses {model_version} {doing}: {len(failed)} checks failed",
            fields={field: failed},
            code="gate_refused",
        )
    return checks
