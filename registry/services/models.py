"""Models, their numbered versions and the stage transitions between them.

`ALLOWED_TRANSITIONS` is the stage machine as data (admin reads it for its buttons); every move into
production goes through the promotion gate, and promoting a version archives the one it replaces."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from registry import hooks
from registry.actors import Actor
from registry.audit import AuditEventType as Event
from registry.audit import audit_append
from registry.errors import Conflict, Forbidden, field_error
from registry.locks import for_update
from registry.models import LoggedModel, Model, ModelVersion, Project, Run, Stage, StageTransition
from registry.permissions import CARD_EDITORS
from registry.services.common import created_by, unique_or_conflict
from registry.services.gate import gate_enforce


def model_create(
    *, actor: Actor, project: Project, name: str, risk_tier: str = Model.RiskTier.LIMITED, description: str = ""
) -> Model:
    with unique_or_conflict(f"model {name!r} already exists in {project.slug}", "name"):
        model = Model.objects.create(
            project=project, name=name, risk_tier=risk_tier, description=description, **created_by(actor)
        )
        audit_append(
            actor=actor, event_type=Event.MODEL_CREATED, target=model, after={"name": name, "risk_tier": risk_tier}
        )
    return model


def model_version_register(
    *,
    actor: Actor,
    model: Model,
    run: Run,
    artifact_uri: str,
    artifact_sha256: str,
    framework: str = "",
    metrics: dict | None = None,
    signature: dict | None = None,
    intended_use: str = "",
    limitations: str = "",
    logged_model: LoggedModel | None = None,
) -> ModelVersion:
    if run.project_id != model.project_id:
        raise field_error("run", "belongs to another project than the model")
    if logged_model is not None and (logged_model.project_id != model.project_id or logged_model.run_id != run.pk):
        raise field_error("model_id", "is a logged model of another project or run")
    with transaction.atomic():
        # Lock the model row so that two registrations get consecutive version numbers.
        for_update(Model.objects).get(pk=model.pk)
        latest = ModelVersion.objects.filter(model=model).aggregate(latest=Max("version"))["latest"] or 0
        model_version = ModelVersion.objects.create(
            project_id=model.project_id,
            model=model,
            version=latest + 1,
            run=run,
            artifact_uri=artifact_uri,
            artifact_sha256=artifact_sha256,
            framework=framework,
            metrics=metrics if metrics is not None else dict(run.metrics),
            signature=signature or {},
            intended_use=intended_use,
            limitations=limitations,
            logged_model=logged_model,
            **created_by(actor),
        )
        audit_append(
            actor=actor,
            event_type=Event.MODEL_VERSION_REGISTERED,
            target=model_version,
            after={
                "model": model.pk,
                "version": model_version.version,
                "run": run.pk,
                "artifact_uri": artifact_uri,
                "artifact_sha256": artifact_sha256,
                "logged_model": logged_model.model_id if logged_model is not None else None,
            },
        )
        hooks.model_version_registered(actor, model_version)
    return model_version


CARD_FIELDS = ("intended_use", "limitations", "risk_tier")


def model_version_card_frozen(model_version: ModelVersion) -> str:
    """Why the version's model card may no longer change ("" while it may): once a version has been in
    production (it is, or a transition took it there before it was archived or sent back to staging), its card
    is what was in force while it decided; a changed card is a new version's."""
    if model_version.stage == Stage.PRODUCTION or model_version.transitions.filter(to_stage=Stage.PRODUCTION).exists():
        return f"{model_version} has been in production: its model card is frozen (register a new version)"
    return ""


def model_version_card_update(
    *,
    actor: Actor,
    model_version: ModelVersion,
    intended_use: str | None = None,
    limitations: str | None = None,
    risk_tier: str | None = None,
) -> ModelVersion:
    """Edit a version's model card: intended use, limitations and the risk tier, until it has been in production.

    The risk tier is the model's (one per model, which the gate reads): setting it here changes the model, and
    is refused while another version of the model serves production. Refused too while an app above holds the
    version frozen (`hooks.change_refusals`: an open incident). Audited with the changed fields only; a call
    that changes nothing writes nothing."""
    if not actor.can(CARD_EDITORS, model_version.project_id):
        raise Forbidden("only a data scientist or a compliance officer of the project may edit a model card")
    if risk_tier is not None and risk_tier not in Model.RiskTier.values:
        raise field_error("risk_tier", f"must be one of {', '.join(Model.RiskTier.values)}")
    with transaction.atomic():
        current = for_update(ModelVersion.objects.select_related("model__project")).get(pk=model_version.pk)
        frozen = model_version_card_frozen(current)
        if frozen:
            raise Conflict(frozen, fields={"stage": [frozen]}, code="card_frozen")
        wanted = {"intended_use": intended_use, "limitations": limitations}
        changed = {
            name: value for name, value in wanted.items() if value is not None and value != getattr(current, name)
        }
        tier_changes = risk_tier is not None and risk_tier != current.model.risk_tier
        if not changed and not tier_changes:
            return current
        refusals = hooks.change_refusals(actor, current)
        if tier_changes:
            model = for_update(Model.objects).get(pk=current.model_id)
            siblings = ModelVersion.objects.filter(model_id=model.pk).exclude(pk=current.pk)
            serving = siblings.filter(stage=Stage.PRODUCTION).order_by("version").first()
            if serving is not None:
                message = f"the risk tier is the model's, and {serving} serves production under it"
                raise Conflict(message, fields={"risk_tier": [message]}, code="card_frozen")
            for sibling in siblings.order_by("version"):
                refusals += [f"{sibling}: {reason}" for reason in hooks.change_refusals(actor, sibling)]
        if refusals:
            raise Conflict(
                f"{current} may not change now: {'; '.join(refusals)}", fields={"card": refusals}, code="frozen"
            )
        before = {name: getattr(current, name) for name in changed}
        after = dict(changed)
        if changed:
            ModelVersion.objects.filter(pk=current.pk).update(**changed)
        if tier_changes:
            before["risk_tier"], after["risk_tier"] = current.model.risk_tier, risk_tier
            Model.objects.filter(pk=current.model_id).update(risk_tier=risk_tier)
            after["risk_tier_of"] = f"model {current.model}: every version of it"
        audit_append(
            actor=actor, event_type=Event.MODEL_VERSION_CARD_UPDATED, target=current, before=before, after=after
        )
    model_version.refresh_from_db(fields=["intended_use", "limitations"])
    if tier_changes:
        model_version.model.refresh_from_db(fields=["risk_tier"])
    return model_version


ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    Stage.NONE: {Stage.STAGING, Stage.PRODUCTION, Stage.ARCHIVED},
    Stage.STAGING: {Stage.PRODUCTION, Stage.ARCHIVED, Stage.NONE},
    Stage.PRODUCTION: {Stage.ARCHIVED, Stage.STAGING},
    Stage.ARCHIVED: {Stage.STAGING},
}


def model_version_transition(
    *, actor: Actor, model_version: ModelVersion, to_stage: str, reason: str
) -> StageTransition:
    """Move a version to another stage. Promoting one to production archives the version it replaces."""
    if to_stage not in Stage.values:
        raise field_error("to_stage", f"must be one of {', '.join(Stage.values)}")
    if not reason.strip():
        raise field_error("reason", "must not be empty")
    with transaction.atomic():
        current = for_update(ModelVersion.objects).get(pk=model_version.pk)
        if to_stage not in ALLOWED_TRANSITIONS[current.stage]:
            raise field_error("to_stage", f"cannot move from {current.stage} to {to_stage}", code="invalid_transition")
        checks = gate_enforce(
            actor=actor, model_version=current, to_stage=to_stage, field="to_stage", doing=f"for {to_stage}"
        )
        if to_stage == Stage.PRODUCTION:
            replaced = for_update(ModelVersion.objects).filter(model_id=current.model_id, stage=Stage.PRODUCTION)
            for previous in replaced.exclude(pk=current.pk):
                _transition(actor, previous, Stage.ARCHIVED, f"replaced in production by v{current.version}")
        transition = _transition(actor, current, to_stage, reason, checks=checks)
    model_version.refresh_from_db(fields=["stage"])
    return transition


def _transition(
    actor: Actor, version: ModelVersion, to_stage: str, reason: str, *, checks: list[dict] | None = None
) -> StageTransition:
    transition = StageTransition.objects.create(
        model_version=version,
        from_stage=version.stage,
        to_stage=to_stage,
        reason=reason,
        checks=checks or [],
        **created_by(actor),
    )
    ModelVersion.objects.filter(pk=version.pk).update(stage=to_stage)
    audit_append(
        actor=actor,
        event_type=Event.MODEL_VERSION_TRANSITIONED,
        target=version,
        before={"stage": version.stage},
        after={"stage": to_stage, "reason": reason, "transition": transition.pk},
    )
    return transition
