"""Admin for governance: the decision log (read-only, for everyone) and the model version page's lineage.

The registry's ModelVersion admin is registered again here with a Lineage section, because the lineage
graph reaches decisions and the registry imports nothing from governance.
"""

from __future__ import annotations

import json
from collections import defaultdict

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from governance.lineage import lineage_graph
from governance.models import Decision
from registry.admin import (
    EMPTY,
    ModelVersionAdmin,
    ProjectFilter,
    ReadOnlyAdmin,
    link,
    member_scope,
    pretty_json,
    scoped_related_filter,
    short_hash,
    stage_badge,
    when,
)
from registry.models import Deployment, ModelVersion, RunInput

REQUEST_ID_CHARS = 24
ROLE_ORDER = {role: index for index, role in enumerate(RunInput.Role.values)}


def json_scalar(value) -> str:
    """A prediction or outcome as a person reads it: a label as is, anything else as JSON."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def decisions_url(version: ModelVersion) -> str:
    query = f"?model_version__model__id__exact={version.model_id}&model_version__id__exact={version.pk}"
    return reverse("admin:governance_decision_changelist") + query


# Decisions -----------------------------------------------------------------------------------------


class ModelVersionFilter(admin.SimpleListFilter):
    """Versions of the model chosen in the "model" filter (or the version already chosen, and its siblings)."""

    title = "model version"
    parameter_name = "model_version__id__exact"
    MAX_UNFILTERED = 20

    def lookups(self, request, model_admin):
        versions = member_scope(ModelVersion.objects.select_related("model"), request.user, "project")
        model_id = request.GET.get("model_version__model__id__exact", "")
        selected = self.value() or ""
        if model_id.isdigit():
            versions = versions.filter(model_id=model_id)
        elif selected.isdigit():
            versions = versions.filter(model__versions__pk=selected)
        versions = list(versions.order_by("model__name", "-version")[: self.MAX_UNFILTERED + 1])
        if len(versions) > self.MAX_UNFILTERED and not (model_id.isdigit() or selected.isdigit()):
            return []  # too many to list: choose a model first
        return [(str(version.pk), str(version)) for version in versions]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(model_version_id=value)
        return queryset


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


class PresenceFilter(admin.SimpleListFilter):
    field = ""
    labels = ("Yes", "No")

    def lookups(self, request, model_admin):
        return [("yes", self.labels[0]), ("no", self.labels[1])]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(**{f"{self.field}__isnull": False})
        if self.value() == "no":
            return queryset.filter(**{f"{self.field}__isnull": True})
        return queryset


class HasOutcomeFilter(PresenceFilter):
    title = "outcome"
    parameter_name = "has_outcome"
    field = "outcome"
    labels = ("Recorded", "Not yet")


class ErasedFilter(PresenceFilter):
    title = "erasure"
    parameter_name = "erased"
    field = "erased_at"
    labels = ("Erased", "Not erased")


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
        return format_html('<span style="white-space:nowrap" title="{}">{}</span>', obj.request_id, shown)

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
            return format_html('<span style="color:#b45309;font-weight:600">{}</span>', "erased")
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


# The model version page, with its lineage -----------------------------------------------------------


def model_version_lineage(version: ModelVersion) -> dict:
    """What the Lineage section shows: the upstream graph (data versions, run) from governance.lineage,
    the version's deployments and its decision count."""
    graph = lineage_graph(kind="model_version", pk=version.pk, direction="upstream")
    nodes = {node["id"]: node for node in graph["nodes"]}
    parents: dict[str, list[tuple[dict, str]]] = defaultdict(list)
    roles: dict[str, list[str]] = defaultdict(list)
    for edge in graph["edges"]:
        if edge["relation"] == "derived_from":
            parents[edge["target"]].append((nodes[edge["source"]], edge["attrs"].get("transformation", "")))
        elif edge["relation"] == "input":
            roles[edge["source"]].append(edge["attrs"].get("role", ""))

    # Distance from the run: its inputs are 0, what they were derived from 1, and so on.
    depth: dict[str, int] = {node_id: 0 for node_id in roles}
    frontier = list(roles)
    while frontier:
        child = frontier.pop(0)
        for parent, _ in parents.get(child, []):
            if parent["id"] not in depth:
                depth[parent["id"]] = depth[child] + 1
                frontier.append(parent["id"])

    data_versions = []
    for node in graph["nodes"]:
        if node["kind"] != "data_version":
            continue
        attrs = node["attrs"]
        node_roles = sorted(roles.get(node["id"], []), key=lambda role: ROLE_ORDER.get(role, 99))
        data_versions.append(
            {
                "order": (
                    depth.get(node["id"], 99),
                    ROLE_ORDER.get(node_roles[0], 99) if node_roles else 0,
                    node["label"],
                ),
                "url": reverse("admin:registry_dataversion_change", args=[node["pk"]]),
                "dataset_url": reverse("admin:registry_dataset_change", args=[attrs["dataset"]]),
                "dataset": attrs["dataset_name"],
                "version": attrs["version"],
                "roles": node_roles,
                "hash": short_hash(attrs["content_sha256"]),
                "rows": f"{attrs['row_count']:,}",
                "status": attrs["status"],
                "personal_data": attrs["contains_personal_data"],
                "parents": [
                    {
                        "label": parent["label"],
                        "url": reverse("admin:registry_dataversion_change", args=[parent["pk"]]),
                        "transformation": transformation,
                    }
                    for parent, transformation in sorted(parents.get(node["id"], []), key=lambda p: p[0]["label"])
                ],
            }
        )
    # The run's inputs first (train, validation, test), then what they were derived from, nearest first.
    data_versions.sort(key=lambda dv: dv["order"])

    run = version.run
    now = timezone.now()
    deployments = [
        {
            "url": reverse("admin:registry_deployment_change", args=[dep.pk]),
            "environment": dep.environment,
            "strategy": dep.get_strategy_display(),
            "traffic": f"{dep.traffic_percent.normalize():f}%",
            "started_at": when(dep.started_at),
            "ended_at": when(dep.ended_at) if dep.ended_at else None,
            "live": dep.started_at <= now and (dep.ended_at is None or dep.ended_at > now),
        }
        for dep in version.deployments.order_by("-started_at")
    ]
    root = nodes[graph["root"]]
    return {
        "data_versions": data_versions,
        "run": run,
        "run_url": reverse("admin:registry_run_change", args=[run.pk]),
        "run_created": when(run.created_at),
        "run_commit": short_hash(run.git_commit, 10) if run.git_commit else None,
        "run_params": sorted(run.params.items()) if isinstance(run.params, dict) else [],
        "run_metrics": sorted(run.metrics.items()) if isinstance(run.metrics, dict) else [],
        "deployments": deployments,
        "live_count": sum(1 for dep in deployments if dep["live"]),
        "decision_count": root["attrs"]["decision_count"],
        "decision_count_display": f"{root['attrs']['decision_count']:,}",
        "decisions_url": decisions_url(version),
        "stage": stage_badge(version.stage),
    }


admin.site.unregister(ModelVersion)


@admin.register(ModelVersion)
class ModelVersionLineageAdmin(ModelVersionAdmin):
    change_form_template = "admin/governance/modelversion_change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        version = self.get_object(request, unquote(object_id))
        if version is not None and self.has_view_or_change_permission(request, version):
            extra["lineage"] = model_version_lineage(version)
        return super().change_view(request, object_id, form_url, extra)
