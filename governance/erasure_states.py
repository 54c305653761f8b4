"""The erasure request's state machine as data: for each status, the operations allowed in it and the status
each leads to. The erasure services check an operation against it (under the request's row lock) and set the
status it names; the admin shows an operation's button only where it is allowed; the closed statuses (no
operation left) are those neither overdue nor open. Registry's `ALLOWED_TRANSITIONS` is the model."""

from __future__ import annotations

from enum import StrEnum

from django.db.models import Q

from governance.models import ErasureRequest

Status = ErasureRequest.Status


class ErasureOperation(StrEnum):
    TRACE = "trace"  # compute and store what the service holds about the subject (again, while traced)
    EXECUTE = "execute"  # erase it, opening the retraining obligations
    REJECT = "reject"  # refuse the request, with a reason, before execution
    COMPLETE = "complete"  # the last obligation closed (or none was opened): the service's own step
    EXTEND = "extend"  # move the deadline by up to two further months, with the reason (GDPR Art. 12(3))


ERASURE_OPERATIONS: dict[str, dict[ErasureOperation, str]] = {
    Status.RECEIVED: {
        ErasureOperation.TRACE: Status.TRACED,
        ErasureOperation.REJECT: Status.REJECTED,
        ErasureOperation.EXTEND: Status.RECEIVED,
    },
    Status.TRACED: {
        ErasureOperation.TRACE: Status.TRACED,
        ErasureOperation.EXTEND: Status.TRACED,
        ErasureOperation.EXECUTE: Status.EXECUTED,
        ErasureOperation.REJECT: Status.REJECTED,
    },
    Status.EXECUTED: {ErasureOperation.COMPLETE: Status.COMPLETED},
    Status.COMPLETED: {},
    Status.REJECTED: {},
}

CLOSED_STATUSES: tuple[str, ...] = tuple(status for status, allowed in ERASURE_OPERATIONS.items() if not allowed)
# The statuses in which the legal clock runs: the request awaits its answer (GDPR Art. 12(3): action taken on it).
# Once executed the subject is erased and the deadline is met or missed for good; what remains (the retraining
# obligations) is the service's own duty, on no legal clock.
CLOCK_STATUSES: tuple[str, ...] = (Status.RECEIVED, Status.TRACED)


def overdue_filter(now) -> Q:
    """The requests past their due date with the clock still running (one rule for admin, the API and reports)."""
    return Q(status__in=CLOCK_STATUSES, due_at__lt=now)


def erasure_overdue(request: ErasureRequest, now) -> bool:
    return request.status in CLOCK_STATUSES and now > request.due_at


def erasure_allows(status: str, operation: ErasureOperation) -> bool:
    return operation in ERASURE_OPERATIONS.get(status, {})


def erasure_next_status(status: str, operation: ErasureOperation) -> str:
    """The status `operation` leads to from `status`; KeyError when the table does not allow it there."""
    return ERASURE_OPERATIONS[status][operation]


def statuses_allowing(operation: ErasureOperation) -> tuple[str, ...]:
    """The statuses in which `operation` is allowed, in the order of the status choices."""
    return tuple(status for status, allowed in ERASURE_OPERATIONS.items() if operation in allowed)
