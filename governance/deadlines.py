"""Every legal clock of the service, computed here and nowhere else, so that admin, the API, webhooks and reports
agree to the minute.

The periods count as EU law counts them, by Regulation (EEC, Euratom) No 1182/71 (periods, dates and time
limits), which the GDPR and the AI Act rely on:
- Art. 3(1): where a period is to run from an event (a request received, an incident known), the day of the event
  is not counted;
- Art. 3(2)(b): a period in days starts at the beginning of the first hour of the day after and ends with the
  expiry of the last hour of its last day;
- Art. 3(2)(c): a period in months ends with the expiry of the last hour of the day in the last month that falls
  on the same date as the day from which it runs, or of that month's last day when it has no such date (a
  request received on 31 January is due by the end of 28 or 29 February);
- Art. 3(4) moves a period ending on a public holiday, a Saturday or a Sunday to the next working day. This module
  does not: holidays differ by Member State and are not known here, and the earlier end is the safe one for the
  one who owes the answer.

Days and their ends are those of DEADLINE_TIME_ZONE (settings; the service's TIME_ZONE unless set), the zone in
which "by the end of the day" is read.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.conf import settings

# Erasure requests (GDPR Art. 17, answered under Art. 12(3)): 30 days from receipt, exactly (720 hours), as the
# service has always counted them; kept so that no request changes its due date.
ERASURE_PERIOD = timedelta(days=30)
# GDPR Art. 12(3): information on action taken on a request under Art. 15 to 22 "without undue delay and in any
# event within one month of receipt", extendable "by two further months where necessary", the person being told
# of the extension and its reasons within the first month.
SUBJECT_REQUEST_MONTHS = 1
SUBJECT_REQUEST_MAX_EXTENSION_MONTHS = 2


class IncidentCategory(StrEnum):
    """AI Act Art. 73: how soon a serious incident is reported to the market surveillance authority, from the
    moment the provider (or deployer) becomes aware of it."""

    WIDESPREAD_OR_CRITICAL = "widespread_or_critical"  # Art. 73(3): widespread infringement, or Art. 3(49)(b)
    DEATH = "death"  # Art. 73(4): the death of a person
    OTHER = "other"  # Art. 73(2): any other serious incident


INCIDENT_REPORT_DAYS = {
    IncidentCategory.WIDESPREAD_OR_CRITICAL: 2,  # Art. 73(3): "immediately, and not later than two days"
    IncidentCategory.DEATH: 10,  # Art. 73(4): "not later than 10 days"
    IncidentCategory.OTHER: 15,  # Art. 73(2): "not later than 15 days"
}


def zone() -> ZoneInfo:
    return ZoneInfo(getattr(settings, "DEADLINE_TIME_ZONE", None) or settings.TIME_ZONE)


def _end_of(day: date) -> datetime:
    """The expiry of the last hour of `day` (its last microsecond) in the deadline zone."""
    return datetime.combine(day, time.max, tzinfo=zone())


def _local_day(moment: datetime) -> date:
    if moment.tzinfo is None:
        raise ValueError("a legal clock starts from an aware datetime")
    return moment.astimezone(zone()).date()


def add_months(day: date, months: int) -> date:
    """The same date `months` later, or that month's last day when it has no such date (1182/71 Art. 3(2)(c))."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def days_period_end(event: datetime, days: int) -> datetime:
    """The end of a period of `days` days running from `event` (its day not counted)."""
    if days < 1:
        raise ValueError("a period runs at least one day")
    return _end_of(_local_day(event) + timedelta(days=days))


def months_period_end(event: datetime, months: int) -> datetime:
    """The end of a period of `months` months running from `event`."""
    if months < 1:
        raise ValueError("a period runs at least one month")
    return _end_of(add_months(_local_day(event), months))


def erasure_due(received_at: datetime) -> datetime:
    return received_at + ERASURE_PERIOD


def erasure_extended_due(received_at: datetime, extension_months: int) -> datetime:
    """An erasure request's deadline once extended by `extension_months` (1 or 2) further months: the end of the
    month period of 1 + extension months from receipt (never before the 30 days)."""
    return max(erasure_due(received_at), subject_request_due(received_at, extension_months=extension_months))


def extension_decided_by(received_at: datetime) -> datetime:
    """An erasure request may be extended until its first deadline or the end of its first month, whichever
    comes first: the person must be told of the extension within that time (Art. 12(3))."""
    return min(erasure_due(received_at), extension_deadline(received_at))


def extension_refusal(
    received_at: datetime,
    extended_months: int,
    now: datetime,
    months: int | None = None,
    *,
    decided_by: datetime | None = None,
) -> str:
    """Why a subject request extended by `extended_months` so far cannot be extended (to `months` in all) at
    `now`; "" when it can. The one rule the services enforce and the confirmation pages explain. `decided_by` is
    when the extension must be decided: by default an erasure request's (`extension_decided_by`); a request on the
    one-month clock (a contest) passes `extension_deadline(received_at)`."""
    if extended_months >= SUBJECT_REQUEST_MAX_EXTENSION_MONTHS:
        unit = "month" if extended_months == 1 else "months"
        return f"already extended by {extended_months} {unit}, the most Art. 12(3) allows"
    if months is not None and months <= extended_months:
        return f"the deadline is already extended by {extended_months}; an extension only lengthens it"
    decided_by = decided_by or extension_decided_by(received_at)
    if now > decided_by:
        return (
            "too late to extend: an extension is decided within the first month and before the first deadline "
            f"(by {decided_by.astimezone(UTC):%Y-%m-%d %H:%M} UTC)"
        )
    return ""


def subject_request_due(received_at: datetime, *, extension_months: int = 0) -> datetime:
    """A subject request's answer (access, rectification, objection, contest...): one month from receipt, plus an
    extension of at most two months (GDPR Art. 12(3))."""
    if not 0 <= extension_months <= SUBJECT_REQUEST_MAX_EXTENSION_MONTHS:
        raise ValueError(f"an extension is 0 to {SUBJECT_REQUEST_MAX_EXTENSION_MONTHS} months")
    return months_period_end(received_at, SUBJECT_REQUEST_MONTHS + extension_months)


def extension_deadline(received_at: datetime) -> datetime:
    """By when the person must be told of an extension and its reasons: within the first month (Art. 12(3))."""
    return months_period_end(received_at, SUBJECT_REQUEST_MONTHS)


def incident_report_due(aware_at: datetime, category: str) -> datetime:
    """By when a serious incident is reported (AI Act Art. 73(2)-(4)), from the moment of awareness."""
    return days_period_end(aware_at, INCIDENT_REPORT_DAYS[IncidentCategory(category)])


def days_left(due: datetime, now: datetime) -> int:
    """Calendar days from today to the due day in the deadline zone: 0 on the due day, negative once past it. The
    one count of days every surface shows."""
    return (_local_day(due) - _local_day(now)).days


def is_overdue(due: datetime, now: datetime) -> bool:
    return now > due
