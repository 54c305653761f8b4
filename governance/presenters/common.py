"""Typed pieces several presenters share: a badge, a link, a hash, a UTC timestamp as text, a figure."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TypedDict

from registry.admin.kit import EMPTY
from registry.tones import Tone, tone_of


class Badge(TypedDict):
    """A small coloured label: its text and its tone (a registry.tones.Tone value; the colours are the
    stylesheet's)."""

    text: str
    tone: str


class Link(TypedDict):
    label: str
    url: str


class Hash(TypedDict):
    """A hash shortened for a page, with the whole of it kept for the hover title."""

    full: str
    short: str


def badge(text: str, tone: Tone | str) -> Badge:
    return {"text": str(text), "tone": Tone(tone).value}


def choice_badge(choices: type, value: str) -> Badge:
    """A value of a choices class in the tone declared beside the choices (registry.tones)."""
    return badge(value, tone_of(choices, value))


def result_badge(passed: bool) -> Badge:
    return badge("passed", Tone.SUCCESS) if passed else badge("failed", Tone.DANGER)


def utc(value: datetime | None, *, suffix: bool = True) -> str:
    """A timestamp as compliance reports write it: 2026-02-01 09:00 UTC (the kit's `when`, as text)."""
    if value is None:
        return EMPTY
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") + (" UTC" if suffix else "")


def short_hash(value: str, length: int = 12) -> Hash:
    return {"full": value, "short": value[:length]}


def figure(value: float | None) -> str:
    return EMPTY if value is None else f"{value:.3f}"


def positive_label_text(value) -> str:
    """The positive label as it was given: a string as is, a number or boolean as JSON."""
    return value if isinstance(value, str) else json.dumps(value)
