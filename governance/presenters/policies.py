"""What a policy's "recent changes" field shows: its last changes from the audit trail, each field as before → after."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypedDict

from governance.events import GovernanceEvent
from governance.models import Policy
from governance.presenters.common import utc
from registry.admin.kit import audit_trail_url
from registry.models import AuditEvent

RECENT = 10


class PolicyChange(TypedDict):
    when: str
    actor: str
    changes: str  # "label: before → after; ...", or "no change"


class PolicyHistory(TypedDict):
    changes: list[PolicyChange]  # newest first; empty while the policy holds the defaults
    audit_trail_url: str


def policy_history(policy: Policy, *, labels: Mapping[str, str], order: Sequence[str]) -> PolicyHistory:
    """The last policy.changed events of `policy`; fields named by `labels` in the form's `order` (then any other
    field the event holds)."""
    events = AuditEvent.objects.filter(
        target_type=policy._meta.label_lower, target_id=str(policy.pk), event_type=GovernanceEvent.POLICY_CHANGED
    ).order_by("-seq")[:RECENT]
    changes: list[PolicyChange] = []
    for event in events:
        before, after = event.before or {}, event.after or {}
        changed = [
            f"{labels.get(name, name)}: {before.get(name)} → {after.get(name)}"
            for name in [*order, *(name for name in after if name not in order)]
            if before.get(name) != after.get(name)
        ]
        changes.append(
            {"when": utc(event.occurred_at), "actor": event.actor_name, "changes": "; ".join(changed) or "no change"}
        )
    return {"changes": changes, "audit_trail_url": audit_trail_url(policy)}
