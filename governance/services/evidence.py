"""Technical documentation packs (AI Act Art. 11, Annex IV): generated from the records (governance.evidence.pack),
of a model version or of a model across its versions, stored as they were generated with the sha256 of their
canonical JSON in the audit trail, each listing what changed since the previous pack of the same subject."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from governance.events import GovernanceEvent as Event
from governance.evidence.pack import model_pack_build, pack_build, pack_changes
from governance.models import EvidencePack
from governance.permissions import EVIDENCE_AUTHORS
from registry.actors import Actor
from registry.audit import audit_append
from registry.errors import Forbidden
from registry.locks import for_update
from registry.models import Model, ModelVersion


def pack_sha256(content: dict) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _check(actor: Actor, project_id: int) -> None:
    if not actor.can(EVIDENCE_AUTHORS, project_id):
        raise Forbidden("only a compliance officer or risk analyst of the project generates documentation packs")


def _generate(*, actor: Actor, project_id: int, subject: dict, build: Callable[[datetime], dict]) -> EvidencePack:
    """Build, compare with the subject's previous pack, store and audit: inside the caller's lock on the subject,
    so that the packs of one subject form a clean chain."""
    previous = EvidencePack.objects.filter(**subject).order_by("-generated_at", "-id").first()
    now = timezone.now()
    content = build(now)
    changes = pack_changes(previous.content if previous is not None else None, content)
    pack = EvidencePack.objects.create(
        project_id=project_id,
        **subject,
        generated_at=now,
        content=content,
        sha256=pack_sha256(content),
        previous=previous,
        changes=changes,
        created_by_user=actor.user if actor.user is not None and actor.user.pk else None,
        created_by_key=actor.api_key,
    )
    audit_append(
        actor=actor,
        event_type=Event.EVIDENCE_PACK_GENERATED,
        target=pack,
        after={
            **{name: record.pk for name, record in subject.items()},
            "sha256": pack.sha256,
            "previous": previous.pk if previous is not None else None,
            "added": len(changes["added"]),
            "removed": len(changes["removed"]),
            "changed": len(changes["changed"]),
        },
    )
    return pack


def evidence_pack_generate(*, actor: Actor, model_version: ModelVersion) -> EvidencePack:
    """The pack of one model version."""
    _check(actor, model_version.project_id)
    with transaction.atomic():
        for_update(ModelVersion.objects).get(pk=model_version.pk)  # one pack at a time per version: a clean chain
        return _generate(
            actor=actor,
            project_id=model_version.project_id,
            subject={"model_version": model_version},
            build=lambda now: pack_build(model_version=model_version, now=now),
        )


def model_evidence_pack_generate(*, actor: Actor, model: Model) -> EvidencePack:
    """The pack of a model across its versions."""
    _check(actor, model.project_id)
    with transaction.atomic():
        for_update(Model.objects).get(pk=model.pk)  # one pack at a time per model: a clean chain
        return _generate(
            actor=actor,
            project_id=model.project_id,
            subject={"model": model},
            build=lambda now: model_pack_build(model=model, now=now),
        )
