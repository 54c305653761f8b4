"""Drift and performance reports: read-only, with their tables and charts (made by the API and run_monitoring)."""

from __future__ import annotations

from datetime import UTC

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.utils.html import format_html

from governance.admin.records import ModelVersionRecordAdmin
from governance.models import (
    DriftReport,
    PerformanceReport,
)
from governance.presenters.common import figure, positive_label_text
from governance.presenters.reports import (
    drift_badge,
    drift_report_view,
    performance_badge,
    performance_floor,
    performance_report_view,
)
from governance.templatetags import governance_admin as draw
from registry.admin.kit import (
    EMPTY,
    BooleanFieldFilter,
    ProjectFilter,
    count,
    link,
    pretty_json,
    when,
)


def window_text(start, end):
    return format_html("from {} until {}", when(start), when(end))


class DriftedFilter(BooleanFieldFilter):
    title, parameter_name, field = "drift", "drifted", "drifted"
    yes, no = ("yes", "Drifted"), ("no", "Stable")


class DegradedFilter(BooleanFieldFilter):
    title, parameter_name, field = "performance", "degraded", "degraded"
    yes, no = ("yes", "Degraded"), ("no", "OK")


class ReportAdmin(ModelVersionRecordAdmin):
    """Shared columns of the drift and performance reports (made by the API and run_monitoring only)."""

    list_display_links = ["model_version_name"]
    list_select_related = ["model_version__model"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]

    @admin.display(description="window (UTC)", ordering="window_start")
    def window_column(self, obj):
        start = obj.window_start.astimezone(UTC).strftime("%Y-%m-%d")
        end = obj.window_end.astimezone(UTC).strftime("%Y-%m-%d")
        return format_html('<span class="nowrap">{} – {}</span>', start, end)

    @admin.display(description="window")
    def window(self, obj):
        return window_text(obj.window_start, obj.window_end)

    @admin.display(description="policy", ordering=None)
    def policy_display(self, obj):
        return pretty_json(obj.policy)


@admin.register(DriftReport)
class DriftReportAdmin(ReportAdmin):
    """Data drift reports, read-only for everyone: made by governance.services.drift.drift_report_run (the API,
    run_monitoring)."""

    change_form_template = "admin/governance/driftreport/change_form.html"
    list_defer = ("features", "policy")
    list_display = ["model_version_name", "window_column", "rows", "result", "created"]
    list_filter = [DriftedFilter, ("project", ProjectFilter)]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "model_version_link",
                    "project",
                    "result",
                    "reference",
                    "window",
                    "rows_display",
                    "psi_limit",
                    "created_at_utc",
                    "created_by",
                ]
            },
        ),
    ]
    readonly_fields = ["model_version_link", "result", "reference", "window", "rows_display", "psi_limit", "created_by"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reference_data_version__dataset")

    @admin.display(description="decisions", ordering="row_count")
    def rows(self, obj):
        return count(obj.row_count)

    @admin.display(description="decisions in the window")
    def rows_display(self, obj):
        return count(obj.row_count)

    @admin.display(description="result", ordering="drifted")
    def result(self, obj):
        return draw.badge(drift_badge(obj))

    @admin.display(description="reference (training data)")
    def reference(self, obj):
        return link(obj.reference_data_version)

    @admin.display(description="policy PSI limit")
    def psi_limit(self, obj):
        max_psi = (obj.policy or {}).get("max_psi")
        if max_psi is None:
            return EMPTY
        return f"{max_psi:g} (a feature whose PSI exceeds it has drifted)"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        report = self.get_object(request, unquote(object_id))
        if report is not None and self.has_view_or_change_permission(request, report):
            extra["drift"] = drift_report_view(report)
        return super().change_view(request, object_id, form_url, extra)


@admin.register(PerformanceReport)
class PerformanceReportAdmin(ReportAdmin):
    """Live performance reports, read-only for everyone: made by governance.services.performance.performance_report_run
    (the API, run_monitoring)."""

    change_form_template = "admin/governance/performancereport/change_form.html"
    list_defer = ("windows",)
    list_display = [
        "model_version_name",
        "window_column",
        "bucket",
        "rows",
        "accuracy",
        "baseline",
        "result",
        "created",
    ]
    list_filter = [DegradedFilter, ("project", ProjectFilter)]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "model_version_link",
                    "project",
                    "result",
                    "window",
                    "bucket",
                    "positive",
                    "baseline",
                    "floor",
                    "accuracy",
                    "auc",
                    "created_at_utc",
                    "created_by",
                ]
            },
        ),
    ]
    readonly_fields = [
        "model_version_link",
        "result",
        "window",
        "positive",
        "baseline",
        "floor",
        "accuracy",
        "auc",
        "created_by",
    ]

    @admin.display(description="decisions")
    def rows(self, obj):
        return count((obj.overall or {}).get("count", 0))

    @admin.display(description="result", ordering="degraded")
    def result(self, obj):
        return draw.badge(performance_badge(obj))

    @admin.display(description="baseline")
    def baseline(self, obj):
        return f"{obj.baseline_value:.3f} (validation {obj.baseline_metric})"

    @admin.display(description="floor")
    def floor(self, obj):
        floor = performance_floor(obj)
        if floor is None:
            return EMPTY
        drop = obj.policy["max_performance_drop"]
        return f"{floor:.3f} (the baseline minus the policy's allowed drop of {drop:g})"

    @admin.display(description="accuracy")
    def accuracy(self, obj):
        overall = obj.overall or {}
        value = overall.get("accuracy")
        floor = performance_floor(obj)
        if value is not None and floor is not None and value < floor:
            return format_html('<span class="text-danger">{}</span>', figure(value))
        return figure(value)

    @admin.display(description="AUC")
    def auc(self, obj):
        value = (obj.overall or {}).get("auc")
        return figure(value) if value is not None else "n/a (no positive label, or one class only)"

    @admin.display(description="positive label")
    def positive(self, obj):
        if obj.positive_label is None:
            return EMPTY
        return format_html("<code>{}</code>", positive_label_text(obj.positive_label))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        report = self.get_object(request, unquote(object_id))
        if report is not None and self.has_view_or_change_permission(request, report):
            extra["performance"] = performance_report_view(report)
        return super().change_view(request, object_id, form_url, extra)
