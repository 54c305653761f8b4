"""Who is asking: an API key (one project, one role), a member user, or a superuser."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser

from registry.models import ApiKey, Membership, Project


@dataclass(frozen=True)
class Actor:
    user: AbstractBaseUser | None = None
    api_key: ApiKey | None = None
    # project id -> role; ignored for superusers
    roles: dict[int, str] = field(default_factory=dict)
    is_superuser: bool = False

    @classmethod
    def system(cls) -> Actor:
        return cls(is_superuser=True)

    @classmethod
    def for_key(cls, key: ApiKey) -> Actor:
        return cls(api_key=key, roles={key.project_id: key.role})

    @classmethod
    def for_user(cls, user: AbstractBaseUser) -> Actor:
        if getattr(user, "is_superuser", False):
            return cls(user=user, is_superuser=True)
        roles = dict(Membership.objects.filter(user=user).values_list("project_id", "role"))
        return cls(user=user, roles=roles)

    def has_any_role(self, allowed: Iterable[str]) -> bool:
        return self.is_superuser or any(role in set(allowed) for role in self.roles.values())

    def project_ids(self, allowed: Iterable[str]) -> set[int] | None:
        """Projects where the actor holds one of the allowed roles; None means every project."""
        if self.is_superuser:
            return None
        allowed = set(allowed)
        return {pid for pid, role in self.roles.items() if role in allowed}

    def can(self, allowed: Iterable[str], project_id: int) -> bool:
        return self.is_superuser or self.roles.get(project_id) in set(allowed)

    def default_project(self, allowed: Iterable[str]) -> Project | None:
        """The one project the actor may act in, when there is exactly one."""
        ids = self.project_ids(allowed)
        if ids is not None and len(ids) == 1:
            return Project.objects.get(pk=next(iter(ids)))
        return None

    @property
    def person_id(self) -> int | None:
        """The person behind the actor: the user, or the key's owner; None for an ownerless service key (and the
        system)."""
        if self.user is not None and self.user.pk:
            return self.user.pk
        return self.api_key.owner_id if self.api_key is not None else None

    @property
    def label(self) -> str:
        if self.api_key is not None:
            return f"key:{self.api_key.prefix}"
        if self.user is not None:
            return f"user:{self.user.get_username()}"
        return "system"
