"""governance.deadlines: every legal clock, counted as Regulation 1182/71 counts (the event's day not counted; a
month ends on the same date, or on the month's last day; the end is the expiry of the last hour), at month ends,
over leap days, across years and time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance import deadlines

END = (23, 59, 59, 999999)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def ends(day: date, tz="UTC") -> datetime:
    return datetime(day.year, day.month, day.day, *END, tzinfo=ZoneInfo(tz))


@pytest.mark.parametrize(
    ("received", "months", "due"),
    [
        (date(2026, 3, 5), 1, date(2026, 4, 5)),  # the same date a month on
        (date(2026, 1, 31), 1, date(2026, 2, 28)),  # no 31 February: the month's last day
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # a leap year's
        (date(2028, 2, 29), 1, date(2028, 3, 29)),  # from a leap day
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),  # across the year
        (date(2026, 11, 30), 3, date(2027, 2, 28)),  # one month and the two of an extension
        (date(2027, 11, 30), 3, date(2028, 2, 29)),
        (date(2026, 8, 31), 3, date(2026, 11, 30)),
    ],
)
def test_a_months_period_ends_on_the_same_date_or_the_months_last_day(received, months, due):
    event = datetime(received.year, received.month, received.day, 15, 30, tzinfo=UTC)
    assert deadlines.months_period_end(event, months) == ends(due)


def test_a_subject_request_is_due_in_a_month_extendable_by_two():
    received = utc(2026, 1, 31, 9)
    assert deadlines.subject_request_due(received) == ends(date(2026, 2, 28))
    assert deadlines.subject_request_due(received, extension_months=2) == ends(date(2026, 4, 30))
    assert deadlines.extension_deadline(received) == ends(date(2026, 2, 28))
    for bad in (-1, 3):
        with pytest.raises(ValueError, match="extension is 0 to 2 months"):
            deadlines.subject_request_due(received, extension_months=bad)


@pytest.mark.parametrize(
    ("category", "due"),
    [("widespread_or_critical", date(2026, 6, 3)), ("death", date(2026, 6, 11)), ("other", date(2026, 6, 16))],
)
def test_an_incidents_clock_runs_from_awareness_without_its_day(category, due):
    aware = utc(2026, 6, 1, 14, 0)
    assert deadlines.incident_report_due(aware, category) == ends(due)


def test_an_incident_period_over_a_month_end_and_a_leap_day():
    assert deadlines.incident_report_due(utc(2028, 2, 28, 23), "widespread_or_critical") == ends(date(2028, 3, 1))
    assert deadlines.incident_report_due(utc(2026, 12, 30, 8), "death") == ends(date(2027, 1, 9))
    with pytest.raises(ValueError, match="minor"):
        deadlines.incident_report_due(utc(2026, 1, 1), "minor")


def test_days_are_those_of_the_deadline_zone(settings):
    settings.DEADLINE_TIME_ZONE = "Europe/Berlin"
    late = utc(2026, 1, 31, 23, 30)  # already 1 February in Berlin
    assert deadlines.months_period_end(late, 1) == ends(date(2026, 3, 1), "Europe/Berlin")
    assert deadlines.days_period_end(late, 2) == ends(date(2026, 2, 3), "Europe/Berlin")
    # across the change to summer time the end is still the last microsecond of the local day
    assert deadlines.incident_report_due(utc(2026, 3, 27, 12), "other").utcoffset() == timedelta(hours=2)
    due = deadlines.days_period_end(utc(2026, 3, 20, 12), 2)
    assert deadlines.days_left(due, utc(2026, 3, 22, 22, 59)) == 0  # 23:59 in Berlin: the due day
    assert deadlines.days_left(due, utc(2026, 3, 22, 23, 0)) == -1  # midnight in Berlin: one day past


def test_days_left_counts_calendar_days_and_erasure_keeps_its_30_days():
    received = utc(2026, 5, 10, 18)
    due = deadlines.erasure_due(received)
    assert due == utc(2026, 6, 9, 18)
    assert deadlines.days_left(due, utc(2026, 6, 8, 23, 59)) == 1  # a day left, though fewer than 24 hours
    assert deadlines.days_left(due, utc(2026, 6, 9, 19)) == 0
    assert deadlines.is_overdue(due, utc(2026, 6, 9, 19))
    assert not deadlines.is_overdue(due, due)
    with pytest.raises(ValueError, match="aware datetime"):
        deadlines.days_left(datetime(2026, 1, 1), received)  # a naive time has no legal day


@given(st.dates(date(1971, 1, 1), date(9000, 12, 31)), st.integers(1, 36))
def test_a_months_period_is_never_shorter_than_its_months_of_28_days(day, months):
    event = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = deadlines.months_period_end(event, months)
    assert end.date() <= deadlines.add_months(day, months)
    assert end.date().day == min(day.day, end.date().day)
    assert end - event >= timedelta(days=28 * months)
    assert (end.year * 12 + end.month) - (day.year * 12 + day.month) == months
