"""Erasure requests: received through the add form (only the subject key is kept), moved on by the trace, execute
and reject operations, each confirmed on a page of its own, with a printable report."""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Case, Count, F, Q, Value, When
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.debug import sensitive_post_parameters

from governance import selectors
from governance.admin.erasure_forms import OPERATIONS, ErasureRequestForm, Operation
from governance.erasure_states import CLOSED_STATUSES, overdue_filter
from governance.models import (
    ErasureRequest,
    RetrainingObligation,
)
from governance.permissions import ERASURE_OFFICERS
from governance.presenters import erasure as presenters
from governance.services import erasure
from governance.templatetags import governance_admin as draw
from registry.admin.audit import may_verify_chain
from registry.admin.jobs import job_summary
from registry.admin.kit import (
    ProjectFilter,
    ServiceCreateAdmin,
    admin_actor,
    admin_url,
    plural,
    when,
)
from registry.errors import ServiceError
from registry.models import BackgroundJob


def day(value: datetime):
    """The UTC date; the full timestamp on hover."""
    utc = value.astimezone(UTC)
    return format_html(
        '<span class="nowrap" title="{}">{}</span>',
        utc.strftime("%Y-%m-%d %H:%M UTC"),
        utc.strftime("%Y-%m-%d"),
    )


def open_requests() -> Q:
    return ~Q(status__in=CLOSED_STATUSES)


def overdue_requests(now: datetime) -> Q:
    return overdue_filter(now)


def with_flags(queryset, now: datetime):
    """Annotate `is_open`, `overdue` and the open obligation count (one query for a whole page)."""
    return queryset.annotate(
        is_open=Case(When(open_requests(), then=Value(True)), default=Value(False), output_field=BooleanField()),
        overdue=Case(When(overdue_requests(now), then=Value(True)), default=Value(False), output_field=BooleanField()),
        open_obligation_count=Count("obligations", filter=Q(obligations__status=RetrainingObligation.Status.OPEN)),
    )


class OverdueFilter(admin.SimpleListFilter):
    title = "deadline"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request, queryset):
        late = overdue_requests(timezone.now())
        if self.value() == "yes":
            return queryset.filter(late)
        if self.value() == "no":
            return queryset.exclude(late)
        return queryset


@admin.register(ErasureRequest)
class ErasureRequestAdmin(ServiceCreateAdmin):
    """GDPR erasure requests. Received through the add form (only the subject key is kept); an existing
    request is read-only and moves on by the trace / execute / reject actions, each confirmed on a page of
    its own. Only compliance officers of the request's project (and superusers) run them."""

    write_roles = ERASURE_OFFICERS
    form = ErasureRequestForm
    list_defer = ("trace", "execution")  # the stored trace and execution (large JSON) stay in the database
    change_form_template = "admin/governance/erasurerequest/change_form.html"
    list_display = [
        "reference_display",
        "project",
        "status_display",
        "received",
        "due",
        "days_left",
        "open_obligations",
    ]
    list_display_links = ["reference_display"]
    list_select_related = ["project"]
    list_filter = ["status", OverdueFilter, ("project", ProjectFilter)]
    search_fields = ["reference"]
    search_help_text = "reference (the officer's ticket reference; subject ids are never searchable)"
    readonly_fields = [
        "project",
        "reference",
        "status_display",
        "received_when",
        "due_when",
        "days_left",
        "traced_when",
        "executed_when",
        "completed_when",
        "rejection_reason",
        "extension_display",
        "execution_job",
        "created_by",
    ]
    actions = ["trace_requests", "execute_requests", "reject_requests", "extend_requests"]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["project", "subject_id", "reference", "received_at"]})]
        progress = ["traced_when", "execution_job", "executed_when", "completed_when"]
        if obj.status == ErasureRequest.Status.REJECTED:
            progress.append("rejection_reason")
        head = ["reference", "project", "status_display", "received_when", "due_when", "days_left"]
        if obj.extension_months:
            head.append("extension_display")
        return [
            (None, {"fields": head}),
            ("Progress", {"fields": progress}),
            ("Record", {"fields": ["created_at_utc", "created_by"], "classes": ["collapse"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return super().get_readonly_fields(request, obj) if obj is not None else []

    def get_queryset(self, request):
        return with_flags(super().get_queryset(request).select_related("project"), timezone.now())

    def get_ordering(self, request):
        # Open and overdue first, then open, then closed; soonest due first in each. F(): the flags are annotated
        # by get_queryset after ModelAdmin has applied this ordering, and resolve when the query is compiled.
        return [F("overdue").desc(), F("is_open").desc(), "due_at", "pk"]

    @method_decorator(sensitive_post_parameters("subject_id"))
    def add_view(self, request, form_url="", extra_context=None):
        return super().add_view(request, form_url, extra_context)

    def service_create(self, request, data):
        return erasure.erasure_request_create(
            actor=admin_actor(request),
            project=data["project"],
            subject_id=data["subject_id"],
            reference=data["reference"],
            received_at=data.get("received_at"),
        )

    # Columns and fields

    @admin.display(description="status", ordering="status")
    def status_display(self, obj):
        return draw.badge(presenters.status_badge(obj.status))

    @admin.display(description="received", ordering="received_at")
    def received(self, obj):
        return day(obj.received_at)

    @admin.display(description="due", ordering="due_at")
    def due(self, obj):
        return day(obj.due_at)

    @admin.display(description="reference", ordering="reference")
    def reference_display(self, obj):
        return format_html('<span class="nowrap">{}</span>', obj.reference)

    @admin.display(description="days left", ordering="due_at")
    def days_left(self, obj):
        return draw.days_left(presenters.days_left(obj, timezone.now()))

    @admin.display(description="open obligations", ordering="open_obligation_count")
    def open_obligations(self, obj):
        count = getattr(obj, "open_obligation_count", 0)
        return format_html("<strong>{}</strong>", count) if count else "0"

    @admin.display(description="execution")
    def execution_job(self, obj):
        """The background job executing the request (governance.services.erasure.erasure_execution_queue)."""
        return job_summary(
            BackgroundJob.objects.filter(
                kind=erasure.ERASURE_EXECUTION, idempotency_key=erasure.execution_idempotency_key(obj)
            ).first()
        )

    @admin.display(description="received at")
    def received_when(self, obj):
        return when(obj.received_at)

    @admin.display(description="due at")
    def due_when(self, obj):
        return when(obj.due_at)

    @admin.display(description="deadline extended")
    def extension_display(self, obj):
        return format_html(
            "by {} on {}: {}", plural(obj.extension_months, "month"), when(obj.extended_at), obj.extension_reason
        )

    @admin.display(description="traced at")
    def traced_when(self, obj):
        return when(obj.traced_at)

    @admin.display(description="executed at")
    def executed_when(self, obj):
        return when(obj.executed_at)

    @admin.display(description="completed at")
    def completed_when(self, obj):
        return when(obj.completed_at)

    # Who may run the operations

    def has_officer_permission(self, request, obj=None) -> bool:
        """May run trace / execute / reject at all: change permission and the compliance officer role in some
        project (each request is checked again against its own project)."""
        return self.has_change_permission(request) and admin_actor(request).has_any_role(ERASURE_OFFICERS)

    def may_operate(self, request, obj: ErasureRequest) -> bool:
        return self.has_officer_permission(request) and admin_actor(request).can(ERASURE_OFFICERS, obj.project_id)

    # Pages of their own: the operations for one request, and the printable report

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            *(
                path(
                    f"<path:object_id>/{name}/",
                    self.admin_site.admin_view(self.operation_view),
                    {"operation": name},
                    name=f"{info[0]}_{info[1]}_{name}",
                )
                for name in OPERATIONS
            ),
            path(
                "<path:object_id>/report/",
                self.admin_site.admin_view(self.report_view),
                name="{}_{}_report".format(*info),
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and self.has_view_or_change_permission(request, obj):
            may = self.may_operate(request, obj)
            extra["operations"] = [op for op in OPERATIONS.values() if may and obj.status in op.from_statuses]
            extra["trace"] = presenters.trace_view(obj.trace)
            extra["execution"] = presenters.execution_view(obj.execution)
            extra["obligations"] = presenters.obligations_view(
                obj.obligations.select_related("model_version__model", "closed_by_version__model").order_by("pk")
            )
            extra["report_url"] = reverse("admin:governance_erasurerequest_report", args=[obj.pk])
        return super().change_view(request, object_id, form_url, extra)

    @admin.action(description="Trace selected requests…", permissions=["officer"])
    def trace_requests(self, request, queryset):
        return self._operation(request, OPERATIONS["trace"], queryset)

    @admin.action(description="Execute erasure of selected requests…", permissions=["officer"])
    def execute_requests(self, request, queryset):
        return self._operation(request, OPERATIONS["execute"], queryset)

    @admin.action(description="Reject selected requests…", permissions=["officer"])
    def reject_requests(self, request, queryset):
        return self._operation(request, OPERATIONS["reject"], queryset)

    @admin.action(description="Extend the deadline of selected requests…", permissions=["officer"])
    def extend_requests(self, request, queryset):
        return self._operation(request, OPERATIONS["extend"], queryset)

    def _operation(self, request, op: Operation, queryset):
        requests = list(queryset.defer(None).order_by("due_at", "pk"))  # with the traces the list left out
        form = op.form_class(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._apply(request, op, requests, form.cleaned_data)
            return None
        return self._confirmation_page(request, op, requests, form, from_changelist=True)

    def operation_view(self, request, object_id, operation: str):
        op = OPERATIONS[operation]
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.may_operate(request, obj):
            raise PermissionDenied
        form = op.form_class(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            self._apply(request, op, [obj], form.cleaned_data)
            return HttpResponseRedirect(admin_url(obj))
        return self._confirmation_page(request, op, [obj], form, from_changelist=False)

    def _confirmation_page(self, request, op: Operation, requests, form, *, from_changelist: bool):
        actor = admin_actor(request)
        rows = presenters.operation_rows(
            requests,
            operation=op.name,
            from_statuses=op.from_statuses,
            may_operate=lambda obj: actor.can(ERASURE_OFFICERS, obj.project_id),
            now=timezone.now(),
        )
        return self.render_page(
            request,
            "admin/governance/erasurerequest/operation.html",
            title=op.title,
            form=form,
            operation=op,
            requests=requests,
            rows=rows,
            ready_count=sum(1 for row in rows if not row["problem"]),
            from_changelist=from_changelist,
            action_checkbox_name=helpers.ACTION_CHECKBOX_NAME,
        )

    def _apply(self, request, op: Operation, requests, data: dict) -> None:
        actor = admin_actor(request)
        for obj in requests:
            if not actor.can(ERASURE_OFFICERS, obj.project_id):
                messages.error(request, f"{obj}: your role in {obj.project.slug} may not {op.name} erasure requests.")
                continue
            try:
                if op.name == "trace":
                    done = erasure.erasure_request_trace(actor=actor, request=obj)
                    outcome = self._traced_message(done)
                elif op.name == "execute":
                    job, _ = erasure.erasure_execution_queue(actor=actor, request=obj)
                    if job.state == BackgroundJob.State.FAILED:
                        messages.error(
                            request,
                            format_html(
                                '{}: <a href="{}">job {}</a> failed: {}', obj, admin_url(job), job.pk, job.error
                            ),
                        )
                        continue
                    if job.state == BackgroundJob.State.SUCCEEDED:
                        outcome = self._executed_message(ErasureRequest.objects.get(pk=obj.pk))
                    else:
                        outcome = f"execution queued ({job.state}); its job's page shows the progress."
                    messages.success(
                        request, format_html('{}: {} <a href="{}">Job {}</a>.', obj, outcome, admin_url(job), job.pk)
                    )
                    continue
                elif op.name == "extend":
                    done = erasure.erasure_request_extend(
                        actor=actor, request=obj, months=data["months"], reason=data["reason"]
                    )
                    outcome = f"extended by {plural(done.extension_months, 'month')}, now due {when(done.due_at)}."
                else:
                    erasure.erasure_request_reject(actor=actor, request=obj, reason=data["reason"])
                    outcome = "rejected."
            except ServiceError as exc:
                messages.error(request, f"{obj}: {exc.message}")
                continue
            messages.success(request, f"{obj}: {outcome}")

    @staticmethod
    def _traced_message(obj: ErasureRequest) -> str:
        summary = selectors.trace_summary(obj.trace)
        holding = sum(1 for dv in obj.trace["data_versions"] if dv["holds_subject"])
        return (
            f"traced: {plural(len(summary['data_versions']), 'data version')} ({holding:,} holding the subject), "
            f"{plural(len(summary['runs']), 'run')}, {plural(len(summary['model_versions']), 'model version')} "
            f"({len(summary['live_model_versions']):,} live), {plural(summary['decisions'], 'decision')}."
        )

    @staticmethod
    def _executed_message(obj: ErasureRequest) -> str:
        done = obj.execution
        text = (
            f"{plural(done['decisions_redacted'], 'decision')} redacted, "
            f"{plural(done['data_versions_marked_erasure_pending'], 'data version')} marked erasure_pending, "
            f"{plural(len(done['retraining_obligations']), 'retraining obligation')} opened."
        )
        if obj.status == ErasureRequest.Status.COMPLETED:
            return f"executed and completed (no model version to retrain): {text}"
        return f"executed: {text}"

    def report_view(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        actor = admin_actor(request)
        report = presenters.erasure_report(
            obj,
            selectors.erasure_report(request=obj),
            now=timezone.now(),
            generated_by=actor.label,
            # The same report over the API, where erasure requests are for compliance officers only.
            json_url=reverse("erasure-request-report", args=[obj.pk])
            if actor.can(ERASURE_OFFICERS, obj.project_id)
            else None,
            verify_url=reverse("admin:registry_auditevent_verify") if may_verify_chain(request) else None,
        )
        return self.render_page(
            request,
            "admin/governance/erasurerequest/report.html",
            title=f"Erasure report: {obj.reference}",
            original=obj,
            **report,
        )
