"""Which audit-chain events recorded a record: the evidence a statement about the record cites (seq and hash)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TypedDict

from django.db.models import Model, Q

from registry.models import AuditEvent


class Citation(TypedDict):
    seq: int
    hash: str
    event_type: str
    at: str  # ISO 8601, UTC


def target_key(record: Model) -> tuple[str, str]:
    """How the audit trail names a record: ("app.model", "pk")."""
    return f"{record._meta.app_label}.{record._meta.model_name}", str(record.pk)


def audit_citations(records: Iterable[Model]) -> dict[tuple[str, str], list[Citation]]:
    """The audit events of each record (oldest first), in one query; a record no event names maps to []."""
    keys = {target_key(record) for record in records}
    found: dict[tuple[str, str], list[Citation]] = defaultdict(list)
    if not keys:
        return found
    by_type: dict[str, list[str]] = defaultdict(list)
    for target_type, target_id in keys:
        by_type[target_type].append(target_id)
    where = Q()
    for target_type, ids in by_type.items():
        where |= Q(target_type=target_type, target_id__in=ids)
    rows = (
        AuditEvent.objects.filter(where)
        .order_by("seq")
        .values_list("target_type", "target_id", "seq", "hash", "event_type", "occurred_at")
    )
    for target_type, target_id, seq, digest, event_type, at in rows:
        found[(target_type, target_id)].append(
            {"seq": seq, "hash": digest, "event_type": event_type, "at": at.isoformat()}
        )
    return found
