"""The bulk validation primitives the apps' bulk endpoints share (registry/validation.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from registry.errors import ServiceError
from registry.validation import MAX_REPORTED_ERRORS, BulkErrors, check_items, is_finite_number, is_int, parse_timestamp


def test_check_items_wants_a_bounded_non_empty_list():
    assert check_items([1, 2], "decisions", 2) == [1, 2]
    for items, message in (({}, "must be a list"), ([], "must not be empty"), ([1, 2, 3], "at most 2 items")):
        with pytest.raises(ServiceError) as refused:
            check_items(items, "decisions", 2)
        assert message in refused.value.fields["decisions"][0]


def test_bulk_errors_name_each_item_and_count_beyond_those_listed():
    errors = BulkErrors("calls")
    errors.raise_if_any()  # none: nothing raised
    errors.add(3, "score", "must be a finite number")
    errors.add(4, None, "must be an object")
    with pytest.raises(ServiceError) as refused:
        errors.raise_if_any()
    assert refused.value.fields == {"calls[3].score": ["must be a finite number"], "calls[4]": ["must be an object"]}
    assert refused.value.message == "2 errors in calls; nothing was written"

    many = BulkErrors("decisions")
    for index in range(MAX_REPORTED_ERRORS + 5):
        many.add(index, "request_id", "is required")
    with pytest.raises(ServiceError) as refused:
        many.raise_if_any()
    assert len(refused.value.fields) == MAX_REPORTED_ERRORS
    assert refused.value.message.endswith(f"(the first {MAX_REPORTED_ERRORS} are listed)")


def test_numbers_as_json_has_them():
    assert is_int(3) and not is_int(True) and not is_int(3.0) and not is_int("3")
    assert is_finite_number(1.5) and is_finite_number(10**400 // 10**399) and not is_finite_number(False)
    assert not is_finite_number(float("nan")) and not is_finite_number(float("inf")) and not is_finite_number(10**400)


def test_parse_timestamp_wants_iso_8601_with_a_timezone():
    assert parse_timestamp("2026-01-31T12:00:00+01:00") == datetime(2026, 1, 31, 11, tzinfo=UTC)
    for value, message in ((5, "string"), ("yesterday", "is not an ISO 8601"), ("2026-01-31T12:00:00", "timezone")):
        with pytest.raises(ValueError, match=message):
            parse_timestamp(value)
