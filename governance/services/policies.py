"""A project's policy: the thresholds its fairness audits, drift and performance reports and promotion gate
apply. Every project has one (the defaults until a compliance officer changes them); changes go through
`policy_update`, which records the before and after in the audit trail."""

from __future__ import annotations

from django.db import transaction

from governance.models import Policy
from registry.actors import Actor
from registry.audit import AuditEventType as Event
from registry.audit import audit_append
from registry.errors import field_error


def policy_for(project_id: int) -> Policy:
    return Policy.objects.get_or_create(project_id=project_id)[0]


def policy_update(*, actor: Actor, policy: Policy, changes: dict) -> Policy:
    ratio = changes.get("min_demographic_parity_ratio")
    if ratio is not None and not 0 <= ratio <= 1:
        raise field_error("min_demographic_parity_ratio", "must be between 0 and 1")
    for name in ("max_equalized_odds_difference", "max_psi", "max_performance_drop"):
        if changes.get(name) is not None and changes[name] < 0:
            raise field_error(name, "must not be negative")
    required = changes.get("required_sensitive_features")
    if required is not None and (
        not isinstance(required, list)
        or not all(isinstance(name, str) and name.strip() for name in required)
        or len(set(required)) != len(required)
    ):
        raise field_error("required_sensitive_features", 'must be a list of distinct attribute names, e.g. ["sex"]')
    floors = changes.get("metric_floors")
    if floors is not None and (
        not isinstance(floors, dict)
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in floors.values())
    ):
        raise field_error("metric_floors", 'must be an object of metric -> number, e.g. {"accuracy": 0.6}')
    with transaction.atomic():
        locked = Policy.objects.select_for_update().get(pk=policy.pk)
        before = locked.snapshot()
        for name, value in changes.items():
            setattr(locked, name, value)
        locked.save()
        audit_append(
            actor=actor,
            event_type=Event.POLICY_CHANGED,
            target=locked,
            project_id=locked.project_id,
            before=before,
            after=locked.snapshot(),
        )
    policy.refresh_from_db()
    return locked
