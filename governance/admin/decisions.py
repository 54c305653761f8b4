"""The decision log: read-only for everyone, superusers included, with filters that stay fast on a large log."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html
from django.utils.text import Truncator

from governance.models import (
    Decision,
)
from registry.admin.kit import (
    EMPTY,
    ErasedFilter,
    PresenceFilter,
    ProjectFilter,
    ReadOnlyAdmin,
    VersionOfParentFilter,
    json_scalar,
    link,
    member_scope,
    pretty_json,
    scoped_related_filter,
    when,
)
from registry.models import Deployment, ModelVersion

REQUEST_ID_CHARS = 24


# Decisions -----------------------------------------------------------------------------------------


class ModelVersionFilter(VersionOfParentFilter):
    """Versions of the model chosen in the "model" filter (or the version already chosen, and its siblings)."""

    title = "model version"
    parameter_name = "model_version__id__exact"
    version_model = ModelVersion
    parent = "model"
    parent_parameter = "model_version__model__id__exact"
    field = "model_version_id"


class EnvironmentFilter(admin.SimpleListFilter):
    """Deployment environments, read from the deployments (not from a scan of the decision log)."""

    title = "deployment environment"
    parameter_name = "environment"
    NONE = "-"

    def lookups(self, request, model_admin):
        deployments = member_scope(Deployment.objects.all(), request.user, "project")
        environments = deployments.order_by("environment").values_list("environment", flat=True).distinct()
        return [*((env, env) for env in environments), (self.NONE, "(no deployment)")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.NONE:
            return queryset.filter(deployment__isnull=True)
        if value:
            return queryset.filter(deployment__environment=value)
        return queryset


class HasOutcomeFilter(PresenceFilter):
    title = "outcome"
    parameter_name = "has_outcome"
    field = "outcome"
    labels = ("Recorded", "Not yet")


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    """The decision log. Append-only: nobody adds, changes or deletes a decision here, superusers included.

    The subject key is never shown; whether a decision has a subject is.
    """

    list_display = [
        "request",
        "model_version",
        "environment",
        "prediction_display",
        "score",
        "outcome_display",
        "occurred_utc",
        "subject",
    ]
    list_display_links = ["request"]
    show_facets = admin.ShowFacets.NEVER  # a count per filter choice would scan the whole log
    list_select_related = ["model_version__model", "deployment"]
    list_filter = [
        ("model_version__model", scoped_related_filter("project")),
        ModelVersionFilter,
        EnvironmentFilter,
        HasOutcomeFilter,
        ErasedFilter,
        ("project", ProjectFilter),
    ]
    date_hierarchy = "occurred_at"
    search_fields = ["request_id"]
    search_help_text = "exact request id"
    ordering = ["-id"]
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["id", "request_id", "model_version_link", "deployment_link", "project", "occurred"]}),
        ("Decision", {"fields": ["prediction_display", "score", "features_display"]}),
        ("Outcome", {"fields": ["outcome_display", "outcome_when"]}),
        ("Data subject", {"fields": ["has_subject", "subject_key_id", "sensitive_display", "erased_when"]}),
        ("Record", {"fields": ["created_at_utc", "created_by_key", "created_by_user_id"], "classes": ["collapse"]}),
    ]
    readonly_fields = [
        "id",
        "occurred",
        "outcome_when",
        "erased_when",
        "model_version_link",
        "deployment_link",
        "prediction_display",
        "outcome_display",
        "features_display",
        "sensitive_display",
        "has_subject",
    ]

    def get_search_results(self, request, queryset, search_term):
        """Exact match on request_id, so the index answers even on a large log."""
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(request_id=term), False

    @admin.display(description="request id", ordering="request_id")
    def request(self, obj):
        shown = Truncator(obj.request_id).chars(REQUEST_ID_CHARS)
        return format_html('<span class="nowrap" title="{}">{}</span>', obj.request_id, shown)

    @admin.display(description="occurred (UTC)", ordering="occurred_at")
    def occurred_utc(self, obj):
        return when(obj.occurred_at, suffix=False)

    @admin.display(description="occurred")
    def occurred(self, obj):
        return when(obj.occurred_at)

    @admin.display(description="subject", ordering="erased_at")
    def subject(self, obj):
        """Whether the decision is linked to a data subject (never the key itself), or was erased."""
        if obj.erased_at is not None:
            return format_html('<span class="text-warning">{}</span>', "erased")
        return "linked" if obj.subject_key else EMPTY

    @admin.display(description="outcome at")
    def outcome_when(self, obj):
        return when(obj.outcome_at)

    @admin.display(description="erased at")
    def erased_when(self, obj):
        return when(obj.erased_at)

    @admin.display(description="environment", ordering="deployment__environment")
    def environment(self, obj):
        return obj.deployment.environment if obj.deployment_id else EMPTY

    @admin.display(description="prediction")
    def prediction_display(self, obj):
        return json_scalar(obj.prediction)

    @admin.display(description="outcome")
    def outcome_display(self, obj):
        return json_scalar(obj.outcome) or EMPTY

    @admin.display(description="has subject", boolean=True)
    def has_subject(self, obj):
        return bool(obj.subject_key)

    @admin.display(description="model version")
    def model_version_link(self, obj):
        return link(obj.model_version)

    @admin.display(description="deployment")
    def deployment_link(self, obj):
        return link(obj.deployment)

    @admin.display(description="features")
    def features_display(self, obj):
        return pretty_json(obj.features)

    @admin.display(description="sensitive attributes")
    def sensitive_display(self, obj):
        return pretty_json(obj.sensitive)
