"""Role-based access: each view names the roles that may read and the roles that may write.

The registry's roles per operation live here; each app above declares its own in `<app>/permissions.py`.
API views, services and admin read those sets, so one rule is written once."""

from __future__ import annotations

from rest_framework import permissions

from registry.actors import Actor
from registry.auth import ApiKeyUser
from registry.models import Role

ALL_HUMAN_ROLES = frozenset({Role.DATA_SCIENTIST, Role.COMPLIANCE_OFFICER, Role.RISK_ANALYST})
REGISTRY_WRITERS = frozenset({Role.DATA_SCIENTIST})  # data, runs, models, versions, deployments
TRANSITIONERS = REGISTRY_WRITERS | {Role.COMPLIANCE_OFFICER}  # a model version's stage transitions
# a version's model card (intended use, limitations, the model's risk tier) until it reaches production
CARD_EDITORS = REGISTRY_WRITERS | {Role.COMPLIANCE_OFFICER}
CHAIN_VERIFIERS = frozenset({Role.COMPLIANCE_OFFICER, Role.RISK_ANALYST})  # the audit trail's verify


def actor_of(request) -> Actor:
    """The Actor behind a DRF request, computed once per request."""
    cached = getattr(request, "_governance_actor", None)
    if cached is not None:
        return cached
    if isinstance(request.user, ApiKeyUser):
        actor = Actor.for_key(request.user.api_key)
    elif request.user is not None and request.user.is_authenticated:
        actor = Actor.for_user(request.user)
    else:
        actor = Actor()
    request._governance_actor = actor
    return actor


def allowed_roles(view, request) -> frozenset[str]:
    per_action = getattr(view, "action_roles", {})
    action = getattr(view, "action", None)
    if action in per_action:
        return frozenset(per_action[action])
    if request.method in permissions.SAFE_METHODS:
        return frozenset(getattr(view, "read_roles", ALL_HUMAN_ROLES))
    return frozenset(getattr(view, "write_roles", REGISTRY_WRITERS))


class RolePermission(permissions.BasePermission):
    message = "your role may not do this"

    def has_permission(self, request, view) -> bool:
        if request.user is None or not request.user.is_authenticated:
            return False
        return actor_of(request).has_any_role(allowed_roles(view, request))
