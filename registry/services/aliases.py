"""Model aliases (champion, challenger, ...): movable names for one version of a model, each move recorded.

An alias the project protects (the governance policy's `protected_aliases`, read through
`hooks.protected_aliases`) is production: moving it onto a version runs the promotion gate for that version
and, when the version is not in production yet, promotes it (a stage transition, which archives the version it
replaces). A refused gate moves nothing."""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone

from registry import hooks
from registry.actors import Actor
from registry.audit import AuditEventType as Event
from registry.audit import audit_append
from registry.errors import field_error
from registry.locks import for_update
from registry.models import Model, ModelAlias, ModelAliasMove, ModelVersion, Stage
from registry.services.common import created_by
from registry.services.gate import gate_enforce
from registry.services.models import model_version_transition

ALIAS_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,254}$")
VERSION_LIKE = re.compile(r"^[vV]\d+$|^latest$")


def model_alias_set(*, actor: Actor, model: Model, name: str, model_version: ModelVersion) -> ModelAliasMove | None:
    """Point `name` at `model_version`; None when it points there already (nothing to record)."""
    if not ALIAS_NAME.match(name) or VERSION_LIKE.match(name):
        raise field_error(
            "alias", "must start with a letter or _, hold letters, digits, _ and -, and not look like a version"
        )
    if model_version.model_id != model.pk:
        raise field_error("version", f"is not a version of {model.name}")
    protected = name in hooks.protected_aliases(actor, model.project_id)
    with transaction.atomic():
        current = for_update(ModelAlias.objects).filter(model=model, name=name).first()
        if current is not None and current.model_version_id == model_version.pk:
            return None
        transition = None
        if protected:
            version = for_update(ModelVersion.objects).get(pk=model_version.pk)
            if version.stage == Stage.PRODUCTION:
                gate_enforce(
                    actor=actor,
                    model_version=version,
                    to_stage=Stage.PRODUCTION,
                    field="alias",
                    doing=f"as {name} (a protected alias)",
                )
            else:
                transition = model_version_transition(
                    actor=actor,
                    model_version=version,
                    to_stage=Stage.PRODUCTION,
                    reason=f"the protected alias {name!r} moved onto v{version.version}",
                )
        now = timezone.now()
        if current is None:
            ModelAlias.objects.create(model=model, name=name, model_version=model_version, updated_at=now)
        else:
            ModelAlias.objects.filter(pk=current.pk).update(model_version=model_version, updated_at=now)
        move = ModelAliasMove.objects.create(
            model=model,
            name=name,
            from_version_id=current.model_version_id if current is not None else None,
            to_version=model_version,
            protected=protected,
            transition=transition,
            **created_by(actor),
        )
        audit_append(
            actor=actor,
            event_type=Event.MODEL_ALIAS_MOVED,
            target=model,
            before={"alias": name, "version": current.model_version.version if current is not None else None},
            after={
                "alias": name,
                "version": model_version.version,
                "model_version": model_version.pk,
                "protected": protected,
                "transition": transition.pk if transition is not None else None,
            },
        )
    return move
