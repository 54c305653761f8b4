"""Admin of training runs: registered through the API (or the JupyterLab sidebar) only, read-only here."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html_join

from registry.admin.kit import (
    EMPTY,
    ProjectFilter,
    ReadOnlyAdmin,
    ReadOnlyInline,
    link,
    pretty_json,
    short_hash,
)
from registry.models import Run, RunInput


class RunInputInline(ReadOnlyInline):
    model = RunInput
    fields = ["data_version_link", "role", "rows", "hash"]
    readonly_fields = fields
    verbose_name = "input data version"
    verbose_name_plural = "input data versions"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("data_version__dataset")

    @admin.display(description="data version")
    def data_version_link(self, obj):
        return link(obj.data_version)

    @admin.display(description="rows")
    def rows(self, obj):
        return f"{obj.data_version.row_count:,}"

    @admin.display(description="content hash")
    def hash(self, obj):
        return short_hash(obj.data_version.content_sha256)


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = ["name", "id", "project", "status", "source", "commit", "notebook_path", "created"]
    list_select_related = ["project"]
    list_filter = ["status", "source", ("project", ProjectFilter)]
    search_fields = ["name", "git_commit", "notebook_path", "git_branch"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["name", "project", "status", "source", "model_versions"]}),
        ("Parameters and metrics", {"fields": ["params_display", "metrics_display"]}),
        ("Code", {"fields": ["git_commit", "git_branch", "git_dirty", "notebook_path", "environment_display"]}),
        ("Record", {"fields": ["created_at_utc", "created_by"]}),
    ]
    readonly_fields = ["model_versions", "params_display", "metrics_display", "environment_display", "created_by"]
    inlines = [RunInputInline]

    @admin.display(description="git commit", ordering="git_commit")
    def commit(self, obj):
        return short_hash(obj.git_commit, 10)

    @admin.display(description="params")
    def params_display(self, obj):
        return pretty_json(obj.params)

    @admin.display(description="metrics")
    def metrics_display(self, obj):
        return pretty_json(obj.metrics)

    @admin.display(description="environment")
    def environment_display(self, obj):
        return pretty_json(obj.environment)

    @admin.display(description="model versions produced")
    def model_versions(self, obj):
        versions = obj.model_versions.select_related("model")
        return format_html_join(", ", "{}", ((link(mv),) for mv in versions)) or EMPTY
