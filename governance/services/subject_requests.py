"""What contests and subject access requests share: GDPR Art. 12(3)'s extension of a subject request's answer by
one or two further months, with the reason the person is told, decided within the first month
(governance.deadlines.extension_refusal, the one rule)."""

from __future__ import annotations

from datetime import datetime

from governance.deadlines import (
    SUBJECT_REQUEST_MAX_EXTENSION_MONTHS,
    extension_deadline,
    extension_refusal,
    subject_request_due,
)
from registry.errors import field_error


def check_extension_input(months: int, reason: str) -> None:
    if months not in range(1, SUBJECT_REQUEST_MAX_EXTENSION_MONTHS + 1):
        raise field_error("months", f"must be 1 or {SUBJECT_REQUEST_MAX_EXTENSION_MONTHS}")
    if not reason.strip():
        raise field_error("reason", "say why: the person is told the reason for the extension")


def subject_request_extend(locked, *, months: int, reason: str, now: datetime) -> dict:
    """Extend a locked request (a Contest or an AccessRequest) and save it; answers its state before, for the
    audit event. Refused by the one extension rule with its reason under `months`."""
    refusal = extension_refusal(
        locked.received_at, locked.extension_months, now, months, decided_by=extension_deadline(locked.received_at)
    )
    if refusal:
        raise field_error("months", refusal)
    before = {"due_at": locked.due_at, "extension_months": locked.extension_months}
    locked.extension_months, locked.extension_reason, locked.extended_at = months, reason.strip(), now
    locked.due_at = subject_request_due(locked.received_at, extension_months=months)
    locked.save(update_fields=["extension_months", "extension_reason", "extended_at", "due_at"])
    return before
