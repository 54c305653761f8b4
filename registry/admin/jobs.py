"""Admin of background jobs: the list with each job's state and progress bar, a job's page with its result
(linked to the record's admin page and its API path) or its error, and a Retry action for failed jobs and those
whose worker stopped. A person sees the jobs of the kinds their role may start, in their projects."""

from __future__ import annotations

from django.contrib import admin, messages
from django.urls import NoReverseMatch
from django.utils.html import format_html

from registry.admin.kit import (
    EMPTY,
    ProjectFilter,
    ReadOnlyAdmin,
    admin_actor,
    choice_badge,
    link,
    pretty_json,
    progress_bar,
    service_error_text,
    when,
)
from registry.errors import ServiceError
from registry.jobs import job_kind, job_kinds
from registry.models import BackgroundJob
from registry.selectors import job_result_record, jobs_visible
from registry.services import jobs


class KindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [(kind.name, kind.title) for kind in job_kinds()]

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


def job_progress(job: BackgroundJob):
    """The job's progress bar (kit.progress_bar), full once it succeeded."""
    return progress_bar(job.progress_done, job.progress_total, finished=job.state == BackgroundJob.State.SUCCEEDED)


def job_title(job: BackgroundJob) -> str:
    spec = job_kind(job.kind)
    return spec.title if spec is not None else job.kind


@admin.register(BackgroundJob)
class BackgroundJobAdmin(ReadOnlyAdmin):
    """Jobs are made by the operations that queue them (registry.services.jobs.job_queue), never here."""

    list_display = ["id", "title", "project", "state_badge", "progress", "attempts", "requested_by", "created"]
    list_display_links = ["id", "title"]
    list_select_related = ["project"]
    list_filter = ["state", KindFilter, ("project", ProjectFilter)]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    actions = ["retry_jobs"]
    fields = [
        "title",
        "kind",
        "project",
        "state_badge",
        "progress",
        "progress_message",
        "result_link",
        "error_text",
        "attempts",
        "worker",
        "requested_by",
        "idempotency_key",
        "request_id",
        "created_at_utc",
        "started",
        "heartbeat",
        "finished",
        "input_json",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return jobs_visible(actor=admin_actor(request), queryset=super().get_queryset(request))

    @admin.display(description="job")
    def title(self, obj):
        return job_title(obj)

    @admin.display(description="state", ordering="state")
    def state_badge(self, obj):
        shown = choice_badge(BackgroundJob.State, obj.state)
        if jobs.job_stale(obj):
            return format_html("{} {}", shown, "(its worker stopped: retry it)")
        return shown

    @admin.display(description="progress")
    def progress(self, obj):
        return job_progress(obj)

    @admin.display(description="result")
    def result_link(self, obj):
        if not obj.result_type:
            return EMPTY
        record = job_result_record(obj)
        if record is None:
            shown = f"{obj.result_type} {obj.result_id}"
        else:
            try:
                shown = link(record)
            except NoReverseMatch:  # a record without an admin page
                shown = str(record)
        if obj.result_url:
            return format_html("{} (API: <code>{}</code>)", shown, obj.result_url)
        return shown

    @admin.display(description="error")
    def error_text(self, obj):
        return f"{obj.error} [{obj.error_code}]" if obj.error else EMPTY

    @admin.display(description="started")
    def started(self, obj):
        return when(obj.started_at)

    @admin.display(description="last heartbeat")
    def heartbeat(self, obj):
        return when(obj.heartbeat_at)

    @admin.display(description="finished")
    def finished(self, obj):
        return when(obj.finished_at)

    @admin.display(description="input")
    def input_json(self, obj):
        return pretty_json(obj.input)

    @admin.action(description="Retry the selected failed jobs (or those whose worker stopped)")
    def retry_jobs(self, request, queryset):
        actor = admin_actor(request)
        for job in queryset.order_by("pk"):
            try:
                done = jobs.job_retry(actor=actor, job=job)
            except ServiceError as exc:
                messages.error(request, f"{job}: {service_error_text(exc)}")
                continue
            messages.success(request, f"job {done.pk} ({job_title(done)}) queued again: now {done.state}.")


def job_summary(job: BackgroundJob | None):
    """A job where another admin page started it: its link, state and progress bar (and error, when failed)."""
    if job is None:
        return EMPTY
    shown = format_html(
        "{} {} {}", link(job, f"job {job.pk}"), choice_badge(BackgroundJob.State, job.state), job_progress(job)
    )
    if job.error:
        return format_html("{}<br>{}", shown, job.error)
    return shown
