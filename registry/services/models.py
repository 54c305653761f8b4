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
from registry.errors import field_error
from registry.locks import for_update
from registry.models import LoggedModel, Model, ModelVersion, Project, Run, Stage, StageTransition
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
