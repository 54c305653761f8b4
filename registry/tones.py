"""Tones: the colour family a value is shown in (a badge, a warning figure), declared beside its choices.

A choices class carries its tones as data (as NetBox's ChoiceSet carries each value's colour), so the admin
never keeps a colour table of its own: ``declare_tones(Stage, {...})`` right after ``class Stage`` and
``tone_of(Stage, value)`` where a badge is drawn. The colours themselves live in one stylesheet
(registry/static/registry/admin.css, a ``badge-<tone>`` class per tone); this module names no colour.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class Tone(StrEnum):
    """The tones the admin draws in; each value is the suffix of its CSS class (``badge-success``)."""

    NEUTRAL = "neutral"  # grey: nothing to act on (a version in no stage, a rejected request)
    SECONDARY = "secondary"  # darker grey: a name without a meaning of its own (a free prompt label)
    MUTED = "muted"  # slate: done with and kept for the record (an archived version)
    INFO = "info"  # blue: waiting for someone (a received request)
    ACCENT = "accent"  # violet: in progress (a traced request)
    SUCCESS = "success"  # green: good (production, passed, delivered)
    WARNING = "warning"  # amber: needs attention soon (staging, pending, erased)
    DANGER = "danger"  # red: wrong (failed, drifted, exceeded)


def declare_tones(choices: type, tones: Mapping[str, Tone]) -> None:
    """Attach ``tones`` (value -> Tone) to a TextChoices class as ``choices.tones``. Every value of the class
    needs a tone and no other value may have one, so a new choice without a tone fails at import."""
    values = {str(value) for value in choices.values}
    declared = {str(value) for value in tones}
    if declared != values:
        missing, unknown = sorted(values - declared), sorted(declared - values)
        raise ValueError(f"tones of {choices.__qualname__}: missing {missing}, unknown {unknown}")
    choices.tones = MappingProxyType({str(value): Tone(tone) for value, tone in tones.items()})


def tone_of(choices: type, value: object, default: Tone = Tone.NEUTRAL) -> Tone:
    """The tone declared for ``value`` on ``choices`` (``default`` for a value the class does not know)."""
    return getattr(choices, "tones", {}).get(str(value), default)
