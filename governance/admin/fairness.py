"""Fairness audits: read-only, with their checks, groups and chart, run from a page of their own."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import widgets
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from governance.admin.records import ModelVersionRecordAdmin, result_html
from governance.models import (
    FairnessAudit,
)
from governance.permissions import AUDITORS
from governance.presenters.common import figure, positive_label_text
from governance.presenters.fairness import fairness_audit_view
from governance.services import fairness
from registry.admin.kit import (
    BooleanFieldFilter,
    InProjectFilter,
    ProjectFilter,
    admin_actor,
    admin_url,
    apply_service_error,
    count,
    role_scope,
    when,
)
from registry.errors import ServiceError
from registry.models import BackgroundJob, ModelVersion
from registry.services.jobs import job_error


def parse_positive_label(text: str):
    """JSON when the text is a JSON string, number or boolean (`1`, `true`, `"1"`); otherwise the text itself."""

    def no_constants(name: str):
        raise ValueError(name)  # NaN and Infinity are not labels

    try:
        value = json.loads(text, parse_constant=no_constants)
    except ValueError:
        return text
    if value is None or isinstance(value, (dict, list)):
        raise forms.ValidationError("Must be a label (text, a number or true/false), as the predictions are.")
    return value


class ResultFilter(BooleanFieldFilter):
    title, parameter_name, field = "result", "result", "passed"
    yes, no = ("passed", "Passed"), ("failed", "Failed")


class FairnessAuditRunForm(forms.Form):
    model_version = forms.ModelChoiceField(
        queryset=ModelVersion.objects.none(),
        help_text="Versions of the projects where you are a compliance officer or a risk analyst.",
    )
    sensitive_features = forms.CharField(
        label="Sensitive attributes",
        max_length=500,
        widget=forms.TextInput(attrs={"size": 40, "placeholder": "colour, sex"}),
        help_text="Names of the decisions' sensitive attributes, separated by commas. Several make "
        "intersectional groups (colour, sex: one group per colour and sex).",
    )
    positive_label = forms.CharField(
        label="Positive label",
        max_length=200,
        widget=forms.TextInput(attrs={"size": 20, "placeholder": "Yes"}),
        help_text="The favourable prediction and outcome, as they are logged (Yes, approve, 1, true). "
        'Read as JSON when it is JSON: 1 is a number, "1" a string.',
    )
    window_start = forms.SplitDateTimeField(
        label="From",
        required=False,
        widget=widgets.AdminSplitDateTime,
        help_text="UTC. Only decisions made from then on; empty for all.",
    )
    window_end = forms.SplitDateTimeField(
        label="Until",
        required=False,
        widget=widgets.AdminSplitDateTime,
        help_text="UTC. Only decisions made before then; empty for all.",
    )

    def __init__(self, *args, versions, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["model_version"]
        field.queryset = versions
        field.label_from_instance = lambda version: f"{version.project.slug}: {version} ({version.stage})"

    def clean_sensitive_features(self) -> list[str]:
        names = [name.strip() for name in self.cleaned_data["sensitive_features"].split(",")]
        names = [name for name in names if name]
        if not names:
            raise forms.ValidationError("Name at least one attribute.")
        return names

    def clean_positive_label(self):
        return parse_positive_label(self.cleaned_data["positive_label"])


@admin.register(FairnessAudit)
class FairnessAuditAdmin(ModelVersionRecordAdmin):
    """Fairness audits, read-only for everyone (superusers included): made through the API or the
    "Run an audit" page here, which queues it as a background job (governance.services.fairness.fairness_audit_queue)
    and shows the audit when the job has run in process, the job's page (its progress) when a worker runs it."""

    change_form_template = "admin/governance/fairnessaudit/change_form.html"
    change_list_template = "admin/governance/fairnessaudit/change_list.html"
    list_defer = ("overall", "by_group", "small_groups", "policy", "bootstrap")  # the per-group results
    list_display = [
        "model_version_name",
        "features",
        "rows",
        "result",
        "exploratory",
        "parity_ratio",
        "odds_difference",
        "created",
    ]
    list_display_links = ["model_version_name"]
    list_select_related = ["model_version__model"]
    list_filter = [ResultFilter, ("model_version__model", InProjectFilter), ("project", ProjectFilter)]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "model_version_link",
                    "project",
                    "result",
                    "exploratory",
                    "features",
                    "positive",
                    "window",
                    "rows_display",
                    "created_at_utc",
                    "created_by",
                ]
            },
        ),
    ]
    readonly_fields = [
        "model_version_link",
        "result",
        "exploratory",
        "features",
        "positive",
        "window",
        "rows_display",
        "created_by",
    ]

    # Columns and fields

    @admin.display(description="attributes")
    def features(self, obj):
        return ", ".join(str(name) for name in obj.sensitive_features)

    @admin.display(description="decisions", ordering="row_count")
    def rows(self, obj):
        return count(obj.row_count)

    @admin.display(description="decisions audited")
    def rows_display(self, obj):
        excluded = (obj.bootstrap or {}).get("excluded_rows", 0)
        if not excluded:
            return count(obj.row_count)
        return f"{obj.row_count:,} ({excluded:,} more lacked one of the attributes and were left out)"

    @admin.display(description="result", ordering="passed")
    def result(self, obj):
        return result_html(obj.passed)

    def _disparity(self, obj, name: str):
        value = (obj.disparities or {}).get(name)
        failing = any(check.get("check") == name for check in obj.failed_checks or [])
        if not failing:
            return figure(value)
        message = next(check.get("message", "") for check in obj.failed_checks if check.get("check") == name)
        return format_html('<span class="text-danger" title="{}">{}</span>', message, figure(value))

    @admin.display(description="parity ratio")
    def parity_ratio(self, obj):
        return self._disparity(obj, "demographic_parity_ratio")

    @admin.display(description="odds difference")
    def odds_difference(self, obj):
        return self._disparity(obj, "equalized_odds_difference")

    @admin.display(description="positive label")
    def positive(self, obj):
        return format_html("<code>{}</code>", positive_label_text(obj.positive_label))

    @admin.display(description="window")
    def window(self, obj):
        if obj.window_start is None and obj.window_end is None:
            return "all decisions with outcomes"
        start = when(obj.window_start) if obj.window_start else "the first decision"
        end = when(obj.window_end) if obj.window_end else "now"
        return format_html("from {} until {}", start, end)

    # Pages

    def may_run(self, request) -> bool:
        """May run audits at all: sees audits and is a compliance officer or risk analyst somewhere (the form
        offers only the versions of those projects)."""
        return self.has_view_permission(request) and admin_actor(request).has_any_role(AUDITORS)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("run/", self.admin_site.admin_view(self.run_view), name="{}_{}_run".format(*info)),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        run_url = reverse("admin:governance_fairnessaudit_run") if self.may_run(request) else None
        return super().changelist_view(request, {"run_url": run_url, **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        audit = self.get_object(request, unquote(object_id))
        if audit is not None and self.has_view_or_change_permission(request, audit):
            extra["fairness"] = fairness_audit_view(audit)
        return super().change_view(request, object_id, form_url, extra)

    def run_view(self, request):
        if not self.may_run(request):
            raise PermissionDenied
        actor = admin_actor(request)
        versions = role_scope(
            ModelVersion.objects.select_related("model", "project"), actor, AUDITORS, "project"
        ).order_by("project__slug", "model__name", "-version")
        initial = {}
        if request.GET.get("model_version", "").isdigit():
            initial["model_version"] = request.GET["model_version"]
        form = FairnessAuditRunForm(
            request.POST if request.method == "POST" else None, versions=versions, initial=initial
        )
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                job, _ = fairness.fairness_audit_queue(
                    actor=actor,
                    model_version=data["model_version"],
                    sensitive_features=data["sensitive_features"],
                    positive_label=data["positive_label"],
                    window_start=data["window_start"],
                    window_end=data["window_end"],
                )
            except ServiceError as exc:
                apply_service_error(form, exc)
            else:
                refused = job_error(job)
                if refused is not None:  # run in process and refused by what the window holds: shown on the form
                    apply_service_error(form, refused)
                elif job.state != BackgroundJob.State.SUCCEEDED:  # on a worker: its page shows the progress
                    messages.info(request, f"Fairness audit queued as job {job.pk}; its page shows the progress.")
                    return HttpResponseRedirect(admin_url(job))
                else:
                    audit = FairnessAudit.objects.get(pk=job.result_id)
                    summary = (
                        f"{audit.model_version} by {', '.join(audit.sensitive_features)}, {audit.row_count:,} decisions"
                    )
                    if audit.passed:
                        messages.success(request, f"Fairness audit of {summary}: passed.")
                    else:
                        reasons = "; ".join(check["message"] for check in audit.failed_checks)
                        messages.warning(request, f"Fairness audit of {summary}: failed ({reasons}).")
                    return HttpResponseRedirect(admin_url(audit))
        return self.render_page(
            request,
            "admin/governance/fairnessaudit/run.html",
            title="Run a fairness audit",
            form=form,
            has_versions=versions.exists(),
        )
