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
from django.utils.safestring import mark_safe

from governance import charts
from governance.admin.records import ModelVersionRecordAdmin, figure, positive_label_text, result_badge
from governance.models import (
    FairnessAudit,
)
from governance.permissions import AUDITORS
from governance.services import fairness
from registry.admin.kit import (
    EMPTY,
    BooleanFieldFilter,
    InProjectFilter,
    ProjectFilter,
    admin_actor,
    admin_url,
    apply_service_error,
    audit_trail_url,
    count,
    role_scope,
    when,
)
from registry.errors import ServiceError
from registry.models import ModelVersion

RATES = [
    ("selection_rate", "Selection rate"),
    ("accuracy", "Accuracy"),
    ("tpr", "True positive rate"),
    ("fpr", "False positive rate"),
    ("fnr", "False negative rate"),
    ("precision", "Precision"),
]
# The policy's fairness checks: (check, name, what it measures, policy field, how the value must compare)
FAIRNESS_CHECKS = [
    (
        "demographic_parity_ratio",
        "Demographic parity ratio",
        "the lowest group's selection rate divided by the highest group's (the four-fifths rule)",
        "min_demographic_parity_ratio",
        "≥",
    ),
    (
        "equalized_odds_difference",
        "Equalized odds difference",
        "the largest gap between two groups in true positive rate or in false positive rate",
        "max_equalized_odds_difference",
        "≤",
    ),
]


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


def fairness_audit_view(audit: FairnessAudit) -> dict:
    """What the audit's page shows beneath its fields: the checks against the policy, the groups with their
    intervals, the small groups apart, and the chart."""
    attributes = list(audit.sensitive_features)
    policy = audit.policy or {}
    disparities = audit.disparities or {}
    failed = {check["check"]: check for check in audit.failed_checks or []}
    min_ratio = policy.get("min_demographic_parity_ratio", 0.8)
    compared = [g for g in audit.by_group if g.get("selection_rate") is not None]
    highest = max((g["selection_rate"] for g in compared), default=None)
    line = highest * min_ratio if highest is not None else None

    def rows(groups: list[dict], *, mark_below: bool) -> list[dict]:
        return [
            {
                "values": [group["group"].get(a) for a in attributes],
                "count": f"{group['count']:,}",
                "rates": [
                    {
                        "value": figure(group.get(metric)),
                        "interval": charts.interval((group.get("intervals") or {}).get(metric)),
                        "below": mark_below
                        and metric == "selection_rate"
                        and line is not None
                        and group.get(metric) is not None
                        and group[metric] < line - 1e-12,
                    }
                    for metric, _ in RATES
                ],
            }
            for group in groups
        ]

    checks = []
    for name, label, meaning, policy_field, comparison in FAIRNESS_CHECKS:
        threshold = policy.get(policy_field)
        checks.append(
            {
                "name": label,
                "meaning": meaning,
                "threshold": f"{comparison} {threshold:g}" if threshold is not None else EMPTY,
                "value": figure(disparities.get(name)),
                "passed": name not in failed,
                "badge": result_badge(name not in failed),
                "message": failed[name]["message"] if name in failed else "",
            }
        )
    bootstrap = audit.bootstrap or {}
    overall = audit.overall or {}
    groups = rows(audit.by_group, mark_below=True)
    return {
        "attributes": attributes,
        "badge": result_badge(audit.passed),
        "failed_count": len(failed),
        "check_count": len(FAIRNESS_CHECKS),
        "checks": checks,
        "parity_difference": figure(disparities.get("demographic_parity_difference")),
        "groups_compared": disparities.get("groups_compared", len(audit.by_group)),
        "min_group_size": policy.get("min_group_size"),
        "rate_names": [label for _, label in RATES],
        "groups": groups,
        "any_below": any(cell["below"] for group in groups for cell in group["rates"]),
        "small_groups": rows(audit.small_groups or [], mark_below=False),
        "overall": [figure(overall.get(metric)) for metric, _ in RATES],
        "row_count": f"{audit.row_count:,}",
        "excluded_rows": f"{bootstrap.get('excluded_rows', 0):,}",
        "has_excluded": bool(bootstrap.get("excluded_rows")),
        "positive": positive_label_text(audit.positive_label),
        "line": figure(line),
        "min_ratio": f"{min_ratio:g}",
        "confidence": f"{bootstrap.get('confidence', 0.95):.0%}",
        "resamples": f"{bootstrap.get('resamples', 0):,}",
        "seed": bootstrap.get("seed"),
        "method": bootstrap.get("method", ""),
        "chart": mark_safe(  # noqa: S308 - built by governance.charts, which escapes every text it places
            charts.fairness_chart_svg(
                audit.by_group,
                attributes=attributes,
                min_ratio=min_ratio,
                max_odds_difference=policy.get("max_equalized_odds_difference"),
                positive_label=audit.positive_label,
            )
        )
        if audit.by_group
        else None,
        "audit_trail_url": audit_trail_url(audit),
    }


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
    "Run an audit" page here, which calls governance.services.fairness.fairness_audit_run."""

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
        return result_badge(obj.passed)

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
                audit = fairness.fairness_audit_run(
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
