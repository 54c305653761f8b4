"""Helpers of the presenter tests."""

from __future__ import annotations


def no_html(value) -> None:
    """Nothing a presenter returns is markup: every string is plain (no tag, no SafeString)."""
    if isinstance(value, dict):
        for item in value.values():
            no_html(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            no_html(item)
    elif isinstance(value, str):
        assert type(value) is str, value  # a SafeString is a subclass
        assert "<" not in value, value
