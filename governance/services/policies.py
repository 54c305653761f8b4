"""A project's policy: the thresholds its fairness audits, drift and performance reports and promotion gate
apply. Every project has one: the defaults, created the first time anyone (a reader, a report, the gate)
needs it, by `policy_for_project` or `policies_ensure` only, each creation recorded as a `policy.created`
audit event in its transaction, so that the trail shows which thresholds applied from the start. Changes go
through `policy_update`, which records the before and after (`policy.changed`)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from governance.events import GovernanceEvent as Event
from governance.models import Policy
from governance.services.retention import retention_check
from registry.actors import Actor
from registry.audit import audit_append
from registry.errors import field_error
from registry.locks import for_update
from registry.models import Model, Project
from registry.validation import is_finite_number


def policy_for_project(*, actor: Actor, project_id: int) -> Policy:
    """The project's policy, created with the defaults (and its audit event) if the project has none yet."""
    policy = Policy.objects.filter(project_id=project_id).first()
    if policy is not None:
        return policy
    with transaction.atomic():
        policy, created = Policy.objects.get_or_create(project_id=project_id)
        if created:  # a concurrent first read that lost the race gets the winner's row, and records nothing
            _audit_created(actor, policy)
    return policy


def protected_aliases(actor: Actor, project_id: int) -> frozenset[str]:
    """The model aliases whose move is a promotion (registry.hooks.protected_aliases reads this)."""
    return frozenset(policy_for_project(actor=actor, project_id=project_id).protected_aliases)


def policies_ensure(*, actor: Actor, projects: Iterable[Project]) -> list[Policy]:
    """Give each of these projects that has no policy its default one (a list page shows every project's
    policy); answers the policies created, each with its audit event, in one transaction."""
    created: list[Policy] = []
    with transaction.atomic():
        for project in projects:
            policy, new = Policy.objects.get_or_create(project_id=project.pk)
            if new:
                _audit_created(actor, policy, target_repr=f"policy of {project.slug}")
                created.append(policy)
    return created


def _audit_created(actor: Actor, policy: Policy, *, target_repr: str | None = None) -> None:
    audit_append(
        actor=actor,
        event_type=Event.POLICY_CREATED,
        target=policy,
        target_repr=target_repr,
        project_id=policy.project_id,
        before=None,
        after=policy.snapshot(),
    )


def policy_update(*, actor: Actor, policy: Policy, changes: dict) -> Policy:
    """Change a policy's thresholds (validated as the API's serializer does), recording before and after."""
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
    aliases = changes.get("protected_aliases")
    if aliases is not None and (
        not isinstance(aliases, list)
        or not all(isinstance(name, str) and name.strip() for name in aliases)
        or len(set(aliases)) != len(aliases)
    ):
        raise field_error("protected_aliases", 'must be a list of distinct alias names, e.g. ["champion"]')
    floors = changes.get("metric_floors")
    if floors is not None and (
        not isinstance(floors, dict)
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in floors.values())
    ):
        raise field_error("metric_floors", 'must be an object of metric -> number, e.g. {"accuracy": 0.6}')
    codes = changes.get("reason_codes")
    if codes is not None and (
        not isinstance(codes, dict)
        or not all(isinstance(code, str) and 0 < len(code) <= 32 and code.strip() == code for code in codes)
        or not all(isinstance(text, str) and text.strip() and len(text) <= 500 for text in codes.values())
    ):
        raise field_error(
            "reason_codes",
            'must be an object of code (at most 32 characters) -> reason, e.g. {"R01": "Income too low"}',
        )
    _check_review_changes(changes, policy)
    retention_check(
        minimum=changes.get("retention_min_months", policy.retention_min_months),
        maximum=changes.get("retention_max_months", policy.retention_max_months),
    )
    with transaction.atomic():
        locked = for_update(Policy.objects).get(pk=policy.pk)
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


def _check_review_changes(changes: dict, policy: Policy) -> None:
    """The review settings: tiers that exist, labels a prediction can be, a band whose ends are in order, shares
    and rates between 0 and 1."""
    tiers = changes.get("review_risk_tiers")
    if tiers is not None and (
        not isinstance(tiers, list) or not set(tiers) <= set(Model.RiskTier.values) or len(set(tiers)) != len(tiers)
    ):
        tiers_known = ", ".join(Model.RiskTier.values)
        raise field_error("review_risk_tiers", f"must be a list of distinct tiers of {tiers_known}")
    labels = changes.get("review_labels")
    if labels is not None and (
        not isinstance(labels, list) or not all(isinstance(v, (str, bool)) or is_finite_number(v) for v in labels)
    ):
        raise field_error("review_labels", "must be a list of labels (strings, numbers, booleans), e.g. [true]")
    for name in ("review_sample_rate", "review_min_override_rate", "review_max_override_rate"):
        value = changes.get(name)
        if value is not None and not 0 <= value <= 1:
            raise field_error(name, "must be between 0 and 1")
    low = changes.get("review_score_min", policy.review_score_min)
    high = changes.get("review_score_max", policy.review_score_max)
    if low is not None and high is not None and low > high:
        raise field_error("review_score_max", "must not be below review_score_min")
    low_rate = changes.get("review_min_override_rate", policy.review_min_override_rate)
    high_rate = changes.get("review_max_override_rate", policy.review_max_override_rate)
    if low_rate > high_rate:
        raise field_error("review_max_override_rate", "must not be below review_min_override_rate")
    if changes.get("review_rate_window_days") == 0:
        raise field_error("review_rate_window_days", "must be at least 1")
