"""Pseudonymisation of data subject ids: HMAC-SHA256(SUBJECT_HMAC_KEY, normalised id).

Raw ids live only in the memory of the request that carries them: never in the database,
a log line or an error message.
"""

from __future__ import annotations

import hashlib
import hmac
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


def subject_keys(raws: Iterable[object]) -> list[str]:
    return [subject_key(raw) for raw in raws]


def current_key_id() -> str:
    return settings.SUBJECT_HMAC_KEY_ID
