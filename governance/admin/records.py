"""What the read-only records about one model version (fairness audits, drift and performance reports) share."""

from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html

from registry.admin.kit import (
    EMPTY,
    ReadOnlyAdmin,
    badge,
    link,
)
from registry.tones import Tone


def result_badge(passed: bool):
    return badge("passed", Tone.SUCCESS) if passed else badge("failed", Tone.DANGER)


def figure(value: float | None) -> str:
    return EMPTY if value is None else f"{value:.3f}"


def positive_label_text(value) -> str:
    """The positive label as it was given: a string as is, a number or boolean as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


class ModelVersionRecordAdmin(ReadOnlyAdmin):
    """A read-only record about one model version (an audit, a report): its version as a column and a link."""

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("model_version__model", "project")

    @admin.display(description="model version", ordering="model_version__model__name")
    def model_version_name(self, obj):
        return format_html('<span class="nowrap">{}</span>', obj.model_version)

    @admin.display(description="model version")
    def model_version_link(self, obj):
        return link(obj.model_version)
