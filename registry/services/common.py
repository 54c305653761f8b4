"""What every service that creates a record needs, in the registry and in the apps above it (llmops imports these):
who created the record, and a unique constraint's violation turned into the 409 that names the field."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypedDict

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from registry.actors import Actor
from registry.errors import Conflict
from registry.models import ApiKey


class CreatedBy(TypedDict):
    created_by_user: AbstractBaseUser | None
    created_by_key: ApiKey | None


def created_by(actor: Actor) -> CreatedBy:
    """The `created_by_user` / `created_by_key` fields of a new record, from the actor who creates it.

    A user without a primary key (Django's AnonymousUser) is never referenced: then the key alone names who
    acted, or nobody does (the system actor)."""
    user = actor.user if actor.user is not None and actor.user.pk else None
    return {"created_by_user": user, "created_by_key": actor.api_key}


@contextmanager
def unique_or_conflict(message: str, field: str, note: str = "already exists") -> Iterator[None]:
    """A transaction whose unique-constraint violation becomes a 409 (`Conflict`) naming the field.

    The database decides what is a duplicate (a check before the insert would race); the savepoint keeps an
    outer transaction usable after the violation."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        raise Conflict(message, fields={field: [note]}) from None
