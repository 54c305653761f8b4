"""Bulk validation primitives shared by the apps' bulk endpoints (decision ingest, outcomes, LLM calls): a whole
request is validated before anything is written, and every bad item is named (`decisions[3].score`) in one
400, so a client fixes a batch in one round trip."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from registry.errors import ServiceError, field_error
from registry.inputs import to_sane_utc

MAX_REPORTED_ERRORS = 1_000


@dataclass
class BulkErrors:
    """Per-item errors of a bulk request, as `{"decisions[3].field": [message]}`; counts them all, lists the
    first MAX_REPORTED_ERRORS items' fields."""

    collection: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    count: int = 0

    def add(self, index: int, name: str | None, message: str) -> None:
        self.count += 1
        if len(self.fields) < MAX_REPORTED_ERRORS:
            key = f"{self.collection}[{index}]" + (f".{name}" if name else "")
            self.fields.setdefault(key, []).append(message)

    def raise_if_any(self) -> None:
        if self.count:
            shown = "" if self.count <= MAX_REPORTED_ERRORS else f" (the first {MAX_REPORTED_ERRORS} are listed)"
            raise ServiceError(
                f"{self.count} errors in {self.collection}; nothing was written{shown}", fields=self.fields
            )


def check_items(items: object, collection: str, limit: int) -> list:
    """The request's list of items: a non-empty list of at most `limit` items, else a field error."""
    if not isinstance(items, list):
        raise field_error(collection, "must be a list")
    if not items:
        raise field_error(collection, "must not be empty")
    if len(items) > limit:
        raise field_error(collection, f"at most {limit} items per request, got {len(items)}")
    return items


def is_int(value: object) -> bool:
    """A JSON integer (a bool is not one, though Python says it is an int)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_finite_number(value: object) -> bool:
    """A JSON number that is finite as a float (no bool, no NaN or infinity, no integer too large for a float)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def parse_timestamp(value: object) -> datetime:
    """An ISO 8601 timestamp with a timezone; raises ValueError saying what is wrong."""
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 timestamp string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("is not an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        raise ValueError("must include a timezone (e.g. 2026-01-31T12:00:00Z)")
    return to_sane_utc(parsed)
