"""Projects, their API keys and their members' roles: who may act in a project, and as what.

A membership also puts the user in the Django group of each role they hold (admin permissions come from
those groups), in the same transaction as its audit event."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from registry.actors import Actor
from registry.audit import AuditEventType as Event
from registry.audit import audit_append
from registry.auth import generate_key, hash_key
from registry.errors import field_error
from registry.models import ApiKey, Membership, Project, Role
from registry.services.common import created_by, unique_or_conflict


def project_create(*, actor: Actor, slug: str, name: str) -> Project:
    with unique_or_conflict(f"project {slug!r} already exists", "slug"):
        project = Project.objects.create(slug=slug, name=name, **created_by(actor))
        audit_append(
            actor=actor,
            event_type=Event.PROJECT_CREATED,
            target=project,
            project_id=project.pk,
            after={"slug": slug, "name": name, "erased_subject_ingest": project.erased_subject_ingest},
        )
    return project


def api_key_create(
    *, actor: Actor, project: Project, role: str, name: str, owner: AbstractBaseUser | None = None
) -> tuple[ApiKey, str]:
    """A new key; the raw key is returned once and never stored (nor audited: only its prefix).

    `owner` is the person who holds it (four eyes compares people, not keys); None for a service key."""
    if role not in Role.values:
        raise field_error("role", f"must be one of {', '.join(Role.values)}")
    if owner is not None and not owner.is_active:
        raise field_error("owner", "is not an active user")
    prefix, raw = generate_key()
    with transaction.atomic():
        key = ApiKey.objects.create(
            project=project,
            role=role,
            name=name,
            prefix=prefix,
            key_sha256=hash_key(raw),
            created_by_user=created_by(actor)["created_by_user"],
            owner=owner,
        )
        audit_append(
            actor=actor,
            event_type=Event.API_KEY_CREATED,
            target=key,
            after={"prefix": prefix, "role": role, "name": name, "owner": owner.pk if owner is not None else None},
        )
    return key, raw


def api_key_revoke(*, actor: Actor, key: ApiKey) -> ApiKey:
    with transaction.atomic():
        now = timezone.now()
        if ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now):
            audit_append(
                actor=actor,
                event_type=Event.API_KEY_REVOKED,
                target=key,
                before={"revoked_at": None},
                after={"revoked_at": now},
            )
    key.refresh_from_db()
    return key


def membership_set(*, actor: Actor, user, project: Project, role: str) -> Membership:
    if role not in Role.values:
        raise field_error("role", f"must be one of {', '.join(Role.values)}")
    with transaction.atomic():
        previous = Membership.objects.filter(user=user, project=project).values_list("role", flat=True).first()
        membership, _ = Membership.objects.update_or_create(user=user, project=project, defaults={"role": role})
        _sync_role_groups(user)
        if previous != role:
            audit_append(
                actor=actor,
                event_type=Event.MEMBERSHIP_SET,
                target=membership,
                project_id=project.pk,
                target_repr=f"{user.get_username()} in {project.slug}",
                before={"role": previous},
                after={"role": role},
            )
    return membership


def _sync_role_groups(user) -> None:
    """Admin permissions come from the role groups: a user is in the group of each role they hold."""
    from django.contrib.auth.models import Group

    held = set(Membership.objects.filter(user=user).values_list("role", flat=True))
    user.groups.remove(*Group.objects.filter(name__in=set(Role.values) - held))
    user.groups.add(*Group.objects.filter(name__in=held))
