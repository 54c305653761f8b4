"""The one way services lock rows they are about to change: `for_update(queryset)`.

It is PostgreSQL's `SELECT ... FOR NO KEY UPDATE` (`select_for_update(no_key=True)`), not `FOR UPDATE`. Django's
foreign keys are checked when a transaction commits (DEFERRABLE INITIALLY DEFERRED), and a check takes a
`FOR KEY SHARE` lock on the referenced row, which `FOR UPDATE` blocks and `FOR NO KEY UPDATE` does not. Every
service also takes the audit chain head (registry.audit) before it commits. So with `FOR UPDATE`, a transaction
that locked a run (logging to it) and waits for the head deadlocks with one that holds the head and, at its
commit, checks the foreign key of a row it inserted that names the same run (an artifact, a logged model, a
decision naming a version being transitioned). Seen with MLflow's autolog, whose background logging and file
uploads reach the same run at once. Our locks serialise changes to a row's fields, never to its key, so
`NO KEY UPDATE` is the lock they mean; `tests/test_layering.py` keeps every service on this function.
On SQLite (no row locks) the database's write lock serialises writers and this adds nothing."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


def for_update(queryset: QuerySet[M], **options) -> QuerySet[M]:
    return queryset.select_for_update(no_key=True, **options)
