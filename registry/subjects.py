"""Pseudonymisation of data subject ids: HMAC-SHA256(SUBJECT_HMAC_KEY, normalised id).

Raw ids live only in the memory of the request that carries them: never in the database,
a log line or an error message.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from functools import lru_cache

from django.conf import settings

MAX_SUBJECT_ID_LENGTH = 512


class InvalidSubjectId(ValueError):
    """The subject id is empty, too long or not a string or integer. Says why, never what."""


@lru_cache(maxsize=4)
def _base_mac(key: str) -> hmac.HMAC:
    return hmac.new(key.encode(), digestmod=hashlib.sha256)


def normalise_subject_id(raw: object) -> str:
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise InvalidSubjectId("must be a string or an integer")
    value = str(raw).strip()
    if not value:
        raise InvalidSubjectId("must not be empty")
    if len(value) > MAX_SUBJECT_ID_LENGTH:
        raise InvalidSubjectId(f"must be at most {MAX_SUBJECT_ID_LENGTH} characters")
    return value


def subject_key(raw: object) -> str:
    """The pseudonymous key of one subject id (64 hex characters)."""
    mac = _base_mac(settings.SUBJECT_HMAC_KEY).copy()
    mac.update(normalise_subject_id(raw).encode())
    return mac.hexdigest()


def mentions_subject_id(text: object, raw: object) -> bool:
    """Whether a free-text value contains the (normalised) subject id it accompanies, ignoring case.

    Free text that travels with a subject id (a reference, a tag, a client's id) must not repeat it: the id
    would outlive the erasure that removes the key."""
    if not isinstance(text, str) or not text:
        return False
    try:
        value = normalise_subject_id(raw)
    except InvalidSubjectId:
        return False
    return value.casefold() in text.casefold()


REDACTED = "[redacted]"


def redact_subject_id(value: object, raw: object) -> object:
    """`value` (text, or a JSON value of texts: messages) with every mention of the (normalised) subject id
    replaced by [redacted], ignoring case as `mentions_subject_id` does: the texts are kept, the id is not. An id
    shorter than 3 characters is not searched for (it would match anywhere)."""
    try:
        needle = normalise_subject_id(raw)
    except InvalidSubjectId:
        return value
    if len(needle) < 3:
        return value
    pattern = re.compile(re.escape(needle), re.IGNORECASE)

    def walk(item: object) -> object:
        if isinstance(item, str):
            return pattern.sub(REDACTED, item)
        if isinstance(item, list):
            return [walk(x) for x in item]
        if isinstance(item, dict):
            return {key: walk(x) for key, x in item.items()}
        return item

    return walk(value)


def current_key_id() -> str:
    return settings.SUBJECT_HMAC_KEY_ID


# The advisory-lock namespace of the suppression lock (the first key of pg_advisory_xact_lock(int, int)).
SUPPRESSION_LOCK_NAMESPACE = 0x53555050  # "SUPP"


def suppression_lock(project_ids: Iterable[int], *, exclusive: bool = False) -> None:
    """Take the projects' suppression lock for the rest of the current transaction.

    Every path that stores a subject key takes it shared, then checks the suppression list and inserts,
    all in the same transaction; erasure execution takes it exclusive while it redacts and suppresses.
    So an ingest either commits before the erasure reads (and its rows are redacted) or checks after the
    erasure committed (and finds the subject suppressed): one statement, ingests never block each other.
    On SQLite the database's single write lock serialises the writers: an empty UPDATE takes it at once.
    """
    from django.db import connection

    if not connection.in_atomic_block:
        raise RuntimeError("suppression_lock must be taken inside transaction.atomic()")
    ids = sorted({int(pk) for pk in project_ids})
    if not ids:
        return
    if connection.vendor == "sqlite":  # an empty write takes the database's write lock now, before the check
        with connection.cursor() as cursor:
            cursor.execute(_SQLITE_WRITE_LOCK)
        return
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:  # in ascending project order, so two lockers never deadlock
        cursor.execute(_EXCLUSIVE if exclusive else _SHARED, [SUPPRESSION_LOCK_NAMESPACE, ids])


_LOCK = "SELECT {}(%s, p) FROM unnest(%s::integer[]) WITH ORDINALITY AS t(p, n) ORDER BY n"
_EXCLUSIVE = _LOCK.format("pg_advisory_xact_lock")
_SHARED = _LOCK.format("pg_advisory_xact_lock_shared")
_SQLITE_WRITE_LOCK = "UPDATE registry_suppressedsubject SET reason = reason WHERE 0 = 1"
