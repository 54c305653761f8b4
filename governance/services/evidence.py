"""Technical documentation packs (AI Act Art. 11, Annex IV): generated from the records (governance.evidence.pack),
stored as they were generated with the sha256 of their canonical JSON in the audit trail, each listing what changed
since the version's previous pack."""

from __future__ import annotations

import hashlib
import json

from django.db import transaction
from django.utils import timezone

from governance.events import GovernanceEvent as Event
from governance.evidence.pack import pack_build, pack_changes
from governance.models import EvidencePack
from governance.permissions import EVIDENCE_AUTHORS
from registry.actors import Actor
from registry.audit import audit_append
from registry.errors import Forbidden
from registry.locks import for_update
from registry.models import ModelVersion


def pack_sha256(content: dict) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def evidence_pack_generate(*, actor: Actor, model_version: ModelVersion) -> EvidencePack:
    if not actor.can(EVIDENCE_AUTHORS, model_version.project_id):
        raise Forbidden("only a compliance officer or risk analyst of the project generates documentation packs")
    with transaction.atomic():
        for_update(ModelVersion.objects).get(pk=model_version.pk)  # one pack at a time per version: a clean chain
        previous = EvidencePack.objects.filter(model_version=model_version).order_by("-generated_at", "-id").first()
        now = timezone.now()
        content = pack_build(model_version=model_version, now=now)
        changes = pack_changes(previous.content if previous is not None else None, content)
        pack = EvidencePack.objects.create(
            project_id=model_version.project_id,
            model_version=model_version,
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
                "model_version": model_version.pk,
                "sha256": pack.sha256,
                "previous": previous.pk if previous is not None else None,
                "added": len(changes["added"]),
                "removed": len(changes["removed"]),
                "changed": len(changes["changed"]),
            },
        )
    return pack
