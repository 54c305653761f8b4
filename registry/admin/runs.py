"""Admin of training runs: registered through the API (or the JupyterLab sidebar) only, read-only here."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count
from django.template.loader import render_to_string
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
from registry.metric_charts import metric_history
from registry.models import Artifact, LoggedModel, PipelineRun, Run, RunInput, RunOutput


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
        return EMPTY if obj.data_version.row_count is None else f"{obj.data_version.row_count:,}"

    @admin.display(description="content hash")
    def hash(self, obj):
        return short_hash(obj.data_version.content_sha256) if obj.data_version.content_sha256 else EMPTY


class RunOutputInline(RunInputInline):
    """The data versions a pipeline run (OpenLineage) wrote."""

    model = RunOutput
    fields = ["data_version_link", "rows", "digest", "reported"]
    readonly_fields = fields
    verbose_name = "output data version"
    verbose_name_plural = "output data versions (each derived from every input)"

    @admin.display(description="version reported as")
    def digest(self, obj):
        return obj.data_version.digest or EMPTY

    @admin.display(description="facets")
    def reported(self, obj):
        return ", ".join(sorted(obj.facets)) or EMPTY


class LoggedModelInline(ReadOnlyInline):
    model = LoggedModel
    fields = ["model_link", "name", "status", "digest", "files"]
    readonly_fields = fields
    verbose_name = "logged model"
    verbose_name_plural = "logged models"

    @admin.display(description="model id")
    def model_link(self, obj):
        return link(obj, obj.model_id)

    @admin.display(description="files digest")
    def digest(self, obj):
        return short_hash(obj.artifact_sha256) if obj.artifact_sha256 else EMPTY

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(file_count=Count("artifacts"))

    @admin.display(description="files")
    def files(self, obj):
        return obj.file_count


class RunArtifactInline(ReadOnlyInline):
    model = Artifact
    fk_name = "run"
    fields = ["path", "size", "hash"]
    readonly_fields = fields
    verbose_name = "artifact"
    verbose_name_plural = "artifacts"

    @admin.display(description="sha256")
    def hash(self, obj):
        return short_hash(obj.sha256)


def facet_without_schema(facet: object) -> object:
    """A facet without its `_producer` and `_schemaURL` (the same on every facet of a client)."""
    if isinstance(facet, dict):
        return {k: facet_without_schema(v) for k, v in facet.items() if k not in ("_producer", "_schemaURL")}
    return facet


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = ["name", "id", "project", "experiment", "status", "source", "commit", "notebook_path", "created"]
    list_select_related = ["project", "experiment"]
    list_filter = ["status", "source", ("project", ProjectFilter)]
    search_fields = ["name", "git_commit", "notebook_path", "git_branch", "=run_uuid", "experiment__name"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["name", "project", "status", "source", "model_versions"]}),
        (
            "MLflow",
            {"fields": ["experiment", "run_uuid", "parent", "user_name", "source_name", "started_at", "ended_at"]},
        ),
        ("Parameters and metrics", {"fields": ["params_display", "metrics_display", "metric_history_display"]}),
        ("Tags", {"fields": ["tags_display"]}),
        ("Code", {"fields": ["git_commit", "git_branch", "git_dirty", "notebook_path", "environment_display"]}),
        ("Record", {"fields": ["created_at_utc", "created_by"]}),
    ]
    readonly_fields = [
        "model_versions",
        "params_display",
        "metrics_display",
        "metric_history_display",
        "tags_display",
        "environment_display",
        "created_by",
        "job_link",
        "pipeline_error",
        "pipeline_facets",
    ]
    inlines = [RunInputInline, RunOutputInline, LoggedModelInline, RunArtifactInline]

    def get_fieldsets(self, request, obj=None):
        """A pipeline step's run (OpenLineage) shows its job, times, error and facets, not a training run's
        sections; the MLflow section shows where there is an MLflow run id."""
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is None:
            return fieldsets
        if obj.source == Run.Source.OPENLINEAGE:
            pipeline_fields = ["job_link", "run_uuid", "parent", "started_at", "ended_at", "pipeline_error"]
            return [
                fieldsets[0],
                ("Pipeline (OpenLineage)", {"fields": [*pipeline_fields, "pipeline_facets"]}),
                fieldsets[-1],
            ]
        if not obj.run_uuid and obj.experiment_id is None:
            return [fieldset for fieldset in fieldsets if fieldset[0] not in ("MLflow", "Tags")]
        return fieldsets

    def _pipeline(self, obj) -> PipelineRun | None:
        """The run's OpenLineage side, read once for the three fields that show it."""
        if not hasattr(obj, "_pipeline_read"):
            obj._pipeline_read = PipelineRun.objects.select_related("job").filter(run=obj).first()
        return obj._pipeline_read

    @admin.display(description="job")
    def job_link(self, obj):
        pipeline = self._pipeline(obj)
        return link(pipeline.job) if pipeline else EMPTY

    @admin.display(description="error")
    def pipeline_error(self, obj):
        pipeline = self._pipeline(obj)
        return pipeline.error_message if pipeline and pipeline.error_message else EMPTY

    @admin.display(description="run facets (each the latest reported)")
    def pipeline_facets(self, obj):
        pipeline = self._pipeline(obj)
        if pipeline is None:
            return EMPTY
        return pretty_json({name: facet_without_schema(facet["value"]) for name, facet in pipeline.facets.items()})

    @admin.display(description="metric history")
    def metric_history_display(self, obj):
        return render_to_string("admin/registry/run/metric_history.html", {"charts": metric_history(obj)})

    @admin.display(description="tags")
    def tags_display(self, obj):
        return pretty_json(obj.tags)

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
