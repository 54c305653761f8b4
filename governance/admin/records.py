"""What the read-only records about one model version (fairness audits, drift and performance reports) share."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html

from governance.presenters.common import result_badge
from governance.templatetags import governance_admin as draw
from registry.admin.kit import (
    ReadOnlyAdmin,
    link,
)


def result_html(passed: bool):
    """The passed/failed badge of an audit's column (presenters.common.result_badge drawn)."""
    return draw.badge(result_badge(passed))


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
