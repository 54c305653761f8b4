"""Each project's policy: one per project, changed only by its compliance officers through policy_update."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.validators import MaxValueValidator, MinValueValidator
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone

from governance.models import (
    Policy,
)
from governance.permissions import POLICY_EDITORS
from governance.presenters.policies import policy_history
from governance.queries.processing import processing_record
from governance.services import policies
from governance.services.retention import retention_check
from registry.admin.kit import (
    ProjectScopedAdmin,
    admin_actor,
    member_scope,
    when,
)
from registry.errors import ServiceError
from registry.models import Project


class PolicyForm(forms.ModelForm):
    class Meta:
        model = Policy
        fields = [
            "min_demographic_parity_ratio",
            "max_equalized_odds_difference",
            "min_group_size",
            "max_psi",
            "max_performance_drop",
            "high_risk_needs_second_approver",
            "required_sensitive_features",
            "min_audit_decisions",
            "max_audit_age_days",
            "protected_aliases",
            "reason_codes",
            "review_risk_tiers",
            "review_labels",
            "review_score_min",
            "review_score_max",
            "review_sample_rate",
            "review_four_eyes",
            "review_min_override_rate",
            "review_max_override_rate",
            "review_rate_min_reviews",
            "review_rate_window_days",
            "retention_min_months",
            "retention_max_months",
        ]
        labels = {
            "min_demographic_parity_ratio": "Minimum demographic parity ratio",
            "max_equalized_odds_difference": "Maximum equalized odds difference",
            "min_group_size": "Minimum group size",
            "max_psi": "Maximum PSI",
            "max_performance_drop": "Maximum performance drop",
            "high_risk_needs_second_approver": "High-risk models need a second approver",
            "required_sensitive_features": "Sensitive attributes a gating audit covers",
            "min_audit_decisions": "Minimum decisions of a gating audit",
            "max_audit_age_days": "Maximum age of a gating audit (days)",
            "protected_aliases": "Protected model aliases",
            "reason_codes": "Reason codes",
            "review_risk_tiers": "Risk tiers whose decisions may need review",
            "review_labels": "Predicted labels that need review",
            "review_score_min": "Score band needing review: from",
            "review_score_max": "Score band needing review: to",
            "review_sample_rate": "Share of other decisions sampled for review",
            "review_four_eyes": "An override needs a second reviewer",
            "review_min_override_rate": "Lowest override rate before an alert",
            "review_max_override_rate": "Highest override rate before an alert",
            "review_rate_min_reviews": "Reviews before the override rate is judged",
            "review_rate_window_days": "Override rate window (days)",
        }
        help_texts = {
            "min_demographic_parity_ratio": "The lowest group's selection rate divided by the highest group's; a "
            "fairness audit fails below it. 0.8 is the four-fifths rule.",
            "max_equalized_odds_difference": "The largest gap between two groups in true or false positive rate; a "
            "fairness audit fails above it.",
            "min_group_size": "Groups with fewer decisions are listed apart in an audit and not compared.",
            "max_psi": "Population stability index above which a feature counts as drifted (0.2 is the usual "
            "threshold of a significant shift).",
            "max_performance_drop": "The largest drop of live accuracy below the validation metric.",
            "required_sensitive_features": 'A JSON list, e.g. ["sex"]. Only an audit by exactly these attributes '
            "(their intersection when several) gates production and alerts; others are exploratory. While empty, "
            "no audit gates and nothing reaches production.",
            "min_audit_decisions": "A gating audit counts at least this many decisions with outcomes.",
            "max_audit_age_days": "A gating audit's window ends within this many days of the promotion.",
            "protected_aliases": 'A JSON list, e.g. ["champion", "production"]. Moving one of these aliases onto a '
            "version promotes that version to production through the gate.",
            "reason_codes": 'A JSON object, e.g. {"R01": "Income too low"}: the reasons a decision\'s explanation '
            "may cite, each as the person it concerns reads it (Regulation B's principal reasons).",
            "review_risk_tiers": 'A JSON list, e.g. ["high"]. Empty: models of every tier.',
            "review_labels": 'A JSON list, e.g. ["deny"]. A decision with one of these predictions waits for a '
            "person (AI Act Art. 14).",
            "review_sample_rate": "Between 0 and 1: the share of the remaining decisions drawn for review, by a "
            "keyed hash the logging application cannot predict.",
            "review_min_override_rate": "Reviewers who almost never override may be rubber-stamping (automation bias).",
            "review_max_override_rate": "A model overridden this often is not doing its job.",
        }

    # The API's bounds (governance.api.serializers.PolicySerializer.validate)
    BOUNDS = {
        "min_demographic_parity_ratio": (0.0, 1.0),
        "max_equalized_odds_difference": (0.0, None),
        "max_psi": (0.0, None),
        "max_performance_drop": (0.0, None),
        "review_sample_rate": (0.0, 1.0),
        "review_min_override_rate": (0.0, 1.0),
        "review_max_override_rate": (0.0, 1.0),
    }

    def clean(self):
        cleaned = super().clean()
        try:  # the service's rule, next to the field (governance.services.retention.retention_check)
            retention_check(minimum=cleaned.get("retention_min_months"), maximum=cleaned.get("retention_max_months"))
        except ServiceError as exc:
            for name, messages in (exc.fields or {}).items():
                self.add_error(name, messages)
        return cleaned

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, (low, high) in self.BOUNDS.items():
            field = self.fields.get(name)
            if field is None:
                continue
            field.validators.append(MinValueValidator(low))
            field.widget.attrs.update({"min": low, "step": "any"})
            if high is not None:
                field.validators.append(MaxValueValidator(high))
                field.widget.attrs["max"] = high


@admin.register(Policy)
class PolicyAdmin(ProjectScopedAdmin):
    """One policy per project, created with the defaults the first time anyone looks (as the API does).

    Only compliance officers of the policy's project (and superusers) change it, through
    governance.services.policies.policy_update, which records the change in the audit trail. The role decides, as in
    the API: no role group holds governance.change_policy. Never added or deleted here.
    """

    form = PolicyForm
    list_display = [
        "project",
        "parity_ratio",
        "odds_difference",
        "min_group_size",
        "psi",
        "performance_drop",
        "high_risk_needs_second_approver",
        "updated",
    ]
    list_display_links = ["project"]
    list_select_related = ["project"]
    ordering = ["project__slug"]
    fieldsets = [
        (None, {"fields": ["project"]}),
        (
            "Fairness audits",
            {"fields": ["min_demographic_parity_ratio", "max_equalized_odds_difference", "min_group_size"]},
        ),
        ("Drift and performance", {"fields": ["max_psi", "max_performance_drop"]}),
        (
            "Promotion",
            {
                "fields": [
                    "high_risk_needs_second_approver",
                    "required_sensitive_features",
                    "min_audit_decisions",
                    "max_audit_age_days",
                    "protected_aliases",
                ]
            },
        ),
        ("Explanations", {"fields": ["reason_codes"]}),
        (
            "Human review of decisions",
            {
                "fields": [
                    "review_risk_tiers",
                    "review_labels",
                    ("review_score_min", "review_score_max"),
                    "review_sample_rate",
                    "review_four_eyes",
                    ("review_min_override_rate", "review_max_override_rate"),
                    ("review_rate_min_reviews", "review_rate_window_days"),
                ]
            },
        ),
        (
            "Retention of the decision log",
            {
                "fields": [("retention_min_months", "retention_max_months")],
                "description": "Whole months after the end of the month a decision is in. At least six (AI Act "
                "Art. 19(1) and 26(6)); a month past the maximum is sealed into the audit trail and dropped "
                "unless a legal hold keeps it.",
            },
        ),
        ("Changes", {"fields": ["updated_when", "history"]}),
    ]
    readonly_fields = ["project", "updated_when", "history"]

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/processing/",
                self.admin_site.admin_view(self.processing_view),
                name="{}_{}_processing".format(*info),
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {
            "processing_url": reverse("admin:governance_policy_processing", args=[object_id]),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)

    def processing_view(self, request, object_id):
        """The project's record of processing activities (GDPR Art. 30), printable; CSV over the API."""
        policy = self.get_object(request, unquote(object_id))
        if policy is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, policy):
            raise PermissionDenied
        return self.render_page(
            request,
            "admin/governance/policy/processing.html",
            title=f"Record of processing activities: {policy.project.name}",
            original=policy,
            record=processing_record(project=policy.project, now=timezone.now()),
            csv_url=reverse("processing-record-csv", args=[policy.project.slug]),
        )

    def has_change_permission(self, request, obj=None):
        if not request.user.has_perm("governance.view_policy"):
            return False
        actor = admin_actor(request)
        return actor.can(POLICY_EDITORS, obj.project_id) if obj is not None else actor.has_any_role(POLICY_EDITORS)

    def changelist_view(self, request, extra_context=None):
        if self.has_view_or_change_permission(request):
            # every project has a policy (the defaults until someone changes them), as in the API
            missing = member_scope(Project.objects.filter(policy__isnull=True), request.user, "pk")
            policies.policies_ensure(actor=admin_actor(request), projects=missing)
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        if not change:
            raise PermissionDenied
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        if changes:
            policies.policy_update(actor=admin_actor(request), policy=obj, changes=changes)

    @admin.display(description="parity ratio ≥", ordering="min_demographic_parity_ratio")
    def parity_ratio(self, obj):
        return f"{obj.min_demographic_parity_ratio:g}"

    @admin.display(description="equalized odds difference ≤", ordering="max_equalized_odds_difference")
    def odds_difference(self, obj):
        return f"{obj.max_equalized_odds_difference:g}"

    @admin.display(description="PSI ≤", ordering="max_psi")
    def psi(self, obj):
        return f"{obj.max_psi:g}"

    @admin.display(description="performance drop ≤", ordering="max_performance_drop")
    def performance_drop(self, obj):
        return f"{obj.max_performance_drop:g}"

    @admin.display(description="updated (UTC)", ordering="updated_at")
    def updated(self, obj):
        return when(obj.updated_at, suffix=False)

    @admin.display(description="updated at")
    def updated_when(self, obj):
        return when(obj.updated_at)

    @admin.display(description="recent changes")
    def history(self, obj):
        history = policy_history(obj, labels=PolicyForm.Meta.labels, order=PolicyForm.Meta.fields)
        return render_to_string("admin/governance/policy/history.html", {"history": history})
