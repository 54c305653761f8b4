"""Admin of experiments, logged models and their files: written by the MLflow protocol only, read-only here."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Max

from registry.admin.kit import EMPTY, ProjectFilter, ReadOnlyAdmin, ReadOnlyInline, link, pretty_json, short_hash, when
from registry.models import Artifact, Experiment, LoggedModel, Run


class ExperimentRunInline(ReadOnlyInline):
    model = Run
    fk_name = "experiment"
    fields = ["run_link", "status", "started_at", "ended_at", "user_name"]
    readonly_fields = fields
    ordering = ["-started_at"]
    verbose_name = "run"
    verbose_name_plural = "runs"

    @admin.display(description="run")
    def run_link(self, obj):
        return link(obj)


@admin.register(Experiment)
class ExperimentAdmin(ReadOnlyAdmin):
    list_display = ["name", "number", "project", "run_count", "last_run", "created"]
    list_select_related = ["project"]
    list_filter = [("project", ProjectFilter)]
    search_fields = ["name"]
    fields = ["name", "number", "project", "tags_display", "created_at_utc", "created_by"]
    readonly_fields = ["tags_display", "created_by"]
    inlines = [ExperimentRunInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(runs_count=Count("runs"), last_start=Max("runs__started_at"))

    @admin.display(description="runs", ordering="runs_count")
    def run_count(self, obj):
        return obj.runs_count

    @admin.display(description="last run started", ordering="last_start")
    def last_run(self, obj):
        return when(obj.last_start) if obj.last_start else EMPTY

    @admin.display(description="tags")
    def tags_display(self, obj):
        return pretty_json(obj.tags)


class ArtifactInline(ReadOnlyInline):
    model = Artifact
    fk_name = "logged_model"
    fields = ["path", "size", "hash", "content_type"]
    readonly_fields = fields
    verbose_name = "file"
    verbose_name_plural = "files"

    @admin.display(description="sha256")
    def hash(self, obj):
        return short_hash(obj.sha256)


@admin.register(LoggedModel)
class LoggedModelAdmin(ReadOnlyAdmin):
    list_display = ["model_id", "name", "project", "run_link", "status", "digest", "created"]
    list_select_related = ["project", "run"]
    list_filter = ["status", ("project", ProjectFilter)]
    search_fields = ["=model_id", "name", "=run__run_uuid"]
    fields = [
        "model_id",
        "name",
        "project",
        "experiment",
        "run",
        "status",
        "artifact_sha256",
        "model_type",
        "registrations",
        "params_display",
        "tags_display",
        "finalized_at",
        "created_at_utc",
        "created_by",
    ]
    readonly_fields = ["registrations", "params_display", "tags_display", "created_by"]
    inlines = [ArtifactInline]

    @admin.display(description="run")
    def run_link(self, obj):
        return link(obj.run) if obj.run_id else EMPTY

    @admin.display(description="files digest")
    def digest(self, obj):
        return short_hash(obj.artifact_sha256) if obj.artifact_sha256 else EMPTY

    @admin.display(description="registered as")
    def registrations(self, obj):
        versions = list(obj.model_versions.select_related("model"))
        return ", ".join(str(v) for v in versions) or EMPTY

    @admin.display(description="params")
    def params_display(self, obj):
        return pretty_json(obj.params)

    @admin.display(description="tags")
    def tags_display(self, obj):
        return pretty_json(obj.tags)
