"""Admin of what OpenLineage's events write: jobs with their runs, and the events themselves (by hash).
Written by the lineage endpoint only, read-only here; a job's run is a `Run` (its page shows inputs and
outputs)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Max

from registry.admin.kit import EMPTY, ProjectFilter, ReadOnlyAdmin, ReadOnlyInline, link, pretty_json, short_hash, when
from registry.admin.runs import facet_without_schema
from registry.models import Job, LineageEvent, PipelineRun


class JobRunInline(ReadOnlyInline):
    model = PipelineRun
    fields = ["run_link", "status", "started", "ended", "inputs", "outputs", "error_message"]
    readonly_fields = fields
    ordering = ["-run__started_at"]
    verbose_name = "run"
    verbose_name_plural = "runs (newest first)"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("run")
            .annotate(input_count=Count("run__input_links", distinct=True))
            .annotate(output_count=Count("run__output_links", distinct=True))
        )

    @admin.display(description="run")
    def run_link(self, obj):
        return link(obj.run, obj.run.run_uuid)

    @admin.display(description="status")
    def status(self, obj):
        return obj.run.status

    @admin.display(description="started")
    def started(self, obj):
        return when(obj.run.started_at) if obj.run.started_at else EMPTY

    @admin.display(description="ended")
    def ended(self, obj):
        return when(obj.run.ended_at) if obj.run.ended_at else EMPTY

    @admin.display(description="inputs")
    def inputs(self, obj):
        return obj.input_count

    @admin.display(description="outputs")
    def outputs(self, obj):
        return obj.output_count


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ["name", "namespace", "project", "run_count", "last_event", "created"]
    list_select_related = ["project"]
    list_filter = [("project", ProjectFilter)]
    search_fields = ["name", "namespace"]
    fields = ["namespace", "name", "project", "facets_display", "created_at_utc", "created_by"]
    readonly_fields = ["facets_display", "created_by"]
    inlines = [JobRunInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(runs_count=Count("runs"), last_at=Max("runs__last_event_at"))

    @admin.display(description="runs", ordering="runs_count")
    def run_count(self, obj):
        return obj.runs_count

    @admin.display(description="last event", ordering="last_at")
    def last_event(self, obj):
        return when(obj.last_at) if obj.last_at else EMPTY

    @admin.display(description="facets (each the latest reported)")
    def facets_display(self, obj):
        return pretty_json({name: facet_without_schema(facet["value"]) for name, facet in obj.facets.items()})


@admin.register(LineageEvent)
class LineageEventAdmin(ReadOnlyAdmin):
    list_display = ["event_time", "kind", "event_type", "job", "run_link", "hash", "received_at"]
    list_select_related = ["project", "job", "run"]
    list_filter = ["kind", "event_type", ("project", ProjectFilter)]
    search_fields = ["=sha256", "job__name", "=run__run_uuid"]
    date_hierarchy = "event_time"

    @admin.display(description="run")
    def run_link(self, obj):
        return link(obj.run, obj.run.run_uuid) if obj.run_id else EMPTY

    @admin.display(description="sha256")
    def hash(self, obj):
        return short_hash(obj.sha256)
