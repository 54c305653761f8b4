"""The hash-chained audit trail: append (under a lock, in the caller's transaction) and verify.

Each event's hash is `sha256(prev_hash || canonical JSON of the event)`, where the canonical JSON
is `json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)` of
`event_payload(...)`, and the first event's `prev_hash` is 64 zeros. Changing, removing, swapping
or inserting an event breaks the chain at that point, and `audit_chain_verify` names it. What the
chain cannot show by itself is a rewrite of every hash from some point to the end: publish the
head (`{"seq", "hash"}` of a verify) somewhere else now and then, and pass it as an anchor.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypedDict

from django.db import connection, models, transaction
from django.db.models import F
from django.utils import timezone

from registry.actors import Actor
from registry.locks import for_update
from registry.models import AuditChainHead, AuditEvent

GENESIS = "0" * 64

# The request id of the HTTP request being served (set by RequestIdMiddleware), copied to each event.
current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("current_request_id", default="")


class AuditEventType(models.TextChoices):
    """The registry's own events. Each app above declares its events in `<app>/events.py` and registers them
    with `register_event_types` when it is ready (the floor names no floor above it)."""

    PROJECT_CREATED = "project.created"
    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"
    MEMBERSHIP_SET = "membership.set"
    DATASET_CREATED = "dataset.created"
    DATA_VERSION_REGISTERED = "data_version.registered"
    SUBJECTS_INDEXED = "data_version.subjects_indexed"
    RUN_REGISTERED = "run.registered"
    MODEL_CREATED = "model.created"
    MODEL_VERSION_REGISTERED = "model_version.registered"
    MODEL_VERSION_TRANSITIONED = "model_version.transitioned"
    MODEL_VERSION_CARD_UPDATED = "model_version.card_updated"
    DEPLOYMENT_CREATED = "deployment.created"
    DEPLOYMENT_ENDED = "deployment.ended"
    EXPERIMENT_CREATED = "experiment.created"
    EXPERIMENT_TAGGED = "experiment.tagged"
    RUN_UPDATED = "run.updated"
    RUN_LOGGED = "run.logged"
    RUN_INPUTS_LOGGED = "run.inputs_logged"
    ARTIFACT_STORED = "artifact.stored"
    LOGGED_MODEL_CREATED = "logged_model.created"
    LOGGED_MODEL_UPDATED = "logged_model.updated"
    MODEL_ALIAS_MOVED = "model_alias.moved"
    JOB_CREATED = "job.created"
    LINEAGE_EVENT_RECORDED = "lineage.event_recorded"
    JOB_QUEUED = "background_job.queued"
    JOB_SUCCEEDED = "background_job.succeeded"
    JOB_FAILED = "background_job.failed"
    JOB_RETRIED = "background_job.retried"


_event_types: dict[str, str] = {}  # value -> label, in registration order


def register_event_types(choices: type[models.TextChoices]) -> None:
    """Make an app's event types known to the trail: audit_append refuses any other, and the audit filters
    (API and admin) offer exactly these. Registering the same class again is a no-op; a value another class
    registered already is an error (two apps would share one name in the trail)."""
    for value, label in choices.choices:
        if _event_types.get(value, label) != label:
            raise ValueError(f"audit event type {value!r} is registered twice")
        _event_types[value] = label


def event_type_choices() -> list[tuple[str, str]]:
    """Every registered event type as (value, label), the registry's first, then each app's in app order."""
    return list(_event_types.items())


register_event_types(AuditEventType)


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def json_safe(value: object) -> object:
    """Plain JSON values (Decimal, datetime, UUID -> str), as they come back from the database."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=_default))


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value)


class EventPayload(TypedDict):
    seq: int
    occurred_at: str
    actor_name: str
    actor_user_id: int | None
    actor_key_id: int | None
    event_type: str
    project_id: int | None
    target_type: str
    target_id: str
    target_repr: str
    before: object
    after: object
    request_id: str


def event_payload(event: AuditEvent) -> EventPayload:
    return {
        "seq": event.seq,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
        "actor_name": event.actor_name,
        "actor_user_id": event.actor_user_id,
        "actor_key_id": event.actor_key_id,
        "event_type": event.event_type,
        "project_id": event.project_id,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_repr": event.target_repr,
        "before": event.before,
        "after": event.after,
        "request_id": event.request_id,
    }


def event_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + canonical_json(event_payload(event))).encode()).hexdigest()


def _head_for_update() -> AuditChainHead:
    """Lock the chain head for the rest of the transaction (the row lock on PostgreSQL; on SQLite
    the UPDATE takes the database's write lock) and return it."""
    if connection.vendor == "postgresql":  # one statement: read and lock
        head = for_update(AuditChainHead.objects).filter(pk=1).first()
        if head is not None:
            return head
    updated = AuditChainHead.objects.filter(pk=1).update(seq=F("seq"))
    if not updated:
        AuditChainHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS})
        AuditChainHead.objects.filter(pk=1).update(seq=F("seq"))
    return AuditChainHead.objects.get(pk=1)


def audit_append(
    *,
    actor: Actor,
    event_type: str,
    target: models.Model | None = None,
    target_type: str | None = None,
    target_id: object = None,
    target_repr: str | None = None,
    project_id: int | None = None,
    before: object = None,
    after: object = None,
) -> AuditEvent:
    """Append one event to the chain. Must run inside the transaction of the change it records; `event_type`
    is a member of a registered event type class (register_event_types)."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit_append must run inside the transaction of the change it records")
    if str(event_type) not in _event_types:
        raise ValueError(f"unregistered audit event type {str(event_type)!r}")
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target.pk if target_id is None else target_id
        target_repr = target_repr or str(target)
        if project_id is None:
            project_id = getattr(target, "project_id", None)
    user = actor.user if actor.user is not None and actor.user.pk else None
    head = _head_for_update()
    event = AuditEvent(
        seq=head.seq + 1,
        # microseconds kept, timezone UTC: exactly what the database gives back
        occurred_at=timezone.now().astimezone(UTC),
        actor_name=actor.label[:200],
        actor_user_id=user.pk if user else None,
        actor_key_id=actor.api_key.pk if actor.api_key is not None else None,
        event_type=str(event_type),
        project_id=project_id,
        target_type=target_type or "",
        target_id=str(target_id if target_id is not None else ""),
        target_repr=(target_repr or "")[:300],
        before=json_safe(before),
        after=json_safe(after),
        request_id=current_request_id.get()[:100],
        prev_hash=head.hash,
    )
    event.hash = event_hash(head.hash, event)
    event.save(force_insert=True)
    AuditChainHead.objects.filter(pk=1).update(seq=event.seq, hash=event.hash)
    return event


@dataclass(frozen=True)
class ChainVerification:
    ok: bool
    length: int
    head: str
    broken_seq: int | None = None
    reason: str = ""

    def as_dict(self) -> dict:
        if self.ok:
            return {"ok": True, "length": self.length, "head": self.head}
        return {
            "ok": False,
            "length": self.length,
            "head": self.head,
            "broken_seq": self.broken_seq,
            "reason": self.reason,
        }


def audit_chain_verify(*, anchors: dict[int, str] | None = None, chunk: int = 5000) -> ChainVerification:
    """Walk the chain from the first event and name the first seq where it does not hold.

    `anchors` maps seq -> hash published earlier; a mismatch there is a break too.
    """
    anchors = anchors or {}
    expected_seq, prev = 1, GENESIS
    with transaction.atomic():
        head = AuditChainHead.objects.filter(pk=1).first()
        for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=chunk):
            if event.seq != expected_seq:
                reason = "missing" if event.seq > expected_seq else "out of order"
                return ChainVerification(False, expected_seq - 1, prev, expected_seq, f"event {expected_seq} {reason}")
            if event.prev_hash != prev:
                return ChainVerification(False, expected_seq - 1, prev, event.seq, "prev_hash does not match")
            if event_hash(prev, event) != event.hash:
                return ChainVerification(False, expected_seq - 1, prev, event.seq, "hash does not match its content")
            if event.seq in anchors and anchors[event.seq] != event.hash:
                return ChainVerification(False, expected_seq - 1, prev, event.seq, "hash differs from the anchor")
            prev, expected_seq = event.hash, expected_seq + 1
        length = expected_seq - 1
        if head is not None and (head.seq, head.hash) != (length, prev):
            if head.seq > length:
                return ChainVerification(False, length, prev, length + 1, f"events after {length} are missing")
            return ChainVerification(False, length, prev, head.seq + 1, "events past the recorded head")
        missing = [seq for seq in anchors if seq > length]
        if missing:
            return ChainVerification(False, length, prev, min(missing), "an anchored event is missing")
    return ChainVerification(True, length, prev)
