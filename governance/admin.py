"""Admin for governance: the decision log (read-only, for everyone), the model version page's lineage, and
erasure requests (received here, traced, executed or rejected by actions, with a printable report),
fairness audits (read-only, with their charts, run from a page of their own) and each project's policy.

The registry's ModelVersion admin is registered again here with a Lineage section, because the lineage
graph reaches decisions and the registry imports nothing from governance.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers, widgets
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import BooleanField, Case, Count, F, Q, Value, When
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.views.decorators.debug import sensitive_post_parameters

from governance import charts, selectors
from governance.erasure_states import CLOSED_STATUSES, ErasureOperation, statuses_allowing
from governance.events import GovernanceEvent
from governance.lineage import lineage_graph
from governance.models import (
    Decision,
    DriftReport,
    ErasureRequest,
    FairnessAudit,
    PerformanceReport,
    Policy,
    RetrainingObligation,
    Webhook,
    WebhookDelivery,
)
from governance.permissions import AUDITORS, ERASURE_OFFICERS, POLICY_EDITORS
from governance.services import erasure, fairness, policies
from registry.admin.audit import may_verify_chain
from registry.admin.kit import (
    EMPTY,
    BooleanFieldFilter,
    ErasedFilter,
    InProjectFilter,
    PresenceFilter,
    ProjectFilter,
    ProjectScopedAdmin,
    ReadOnlyAdmin,
    ServiceCreateAdmin,
    admin_actor,
    admin_url,
    apply_service_error,
    audit_trail_url,
    badge,
    choice_badge,
    count,
    json_scalar,
    link,
    member_scope,
    plural,
    pretty_json,
    role_scope,
    scoped_related_filter,
    short_hash,
    when,
)
from registry.admin.models import ModelVersionAdmin
from registry.errors import ServiceError
from registry.models import AuditEvent, Deployment, ModelVersion, Project, Run, RunInput, Stage
from registry.tones import Tone

REQUEST_ID_CHARS = 24
ROLE_ORDER = {role: index for index, role in enumerate(RunInput.Role.values)}


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
        "stage": choice_badge(Stage, version.stage),
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


# Erasure requests ----------------------------------------------------------------------------------

CLOSED = CLOSED_STATUSES
DASH = "—"
SOON_DAYS = 7
NOT_YET = format_html('<span class="text-muted">{}</span>', "not yet")


def status_badge(status: str):
    """An erasure request's status in the tone declared on ErasureRequest.Status."""
    return choice_badge(ErasureRequest.Status, status)


def days_to_due(request: ErasureRequest, now: datetime) -> int | None:
    """Calendar days (UTC) from today to the due date, negative once overdue; None for a closed request."""
    if request.status in CLOSED:
        return None
    return (request.due_at.astimezone(UTC).date() - now.astimezone(UTC).date()).days


def days_left_html(request: ErasureRequest, now: datetime, *, left: str = ""):
    """Days left as a person reads them: N days (amber within a week), due today, or red "overdue by N days";
    a dash once the request is closed."""
    days = days_to_due(request, now)
    if days is None:
        return DASH
    due = request.due_at.astimezone(UTC).strftime("due %Y-%m-%d %H:%M UTC")
    classes = "nowrap"
    if now > request.due_at:
        text = "overdue (due today)" if days == 0 else f"overdue by {plural(-days, 'day')}"
        classes += " text-danger"
    elif days == 0:
        text, classes = "due today", classes + " text-warning"
    else:
        text = plural(days, "day") + left
        if days <= SOON_DAYS:
            classes += " text-warning"
    return format_html('<span class="{}" title="{}">{}</span>', classes, due, text)


def day(value: datetime):
    """The UTC date; the full timestamp on hover."""
    utc = value.astimezone(UTC)
    return format_html(
        '<span class="nowrap" title="{}">{}</span>',
        utc.strftime("%Y-%m-%d %H:%M UTC"),
        utc.strftime("%Y-%m-%d"),
    )


def open_requests() -> Q:
    return ~Q(status__in=CLOSED)


def overdue_requests(now: datetime) -> Q:
    return open_requests() & Q(due_at__lt=now)


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


def trace_view(trace: dict | None) -> dict | None:
    """The stored trace as a person reads it: labels and admin links instead of ids."""
    if not trace:
        return None
    data_versions = {dv["id"]: dv for dv in trace.get("data_versions", [])}

    def dv_label(pk: int) -> str:
        dv = data_versions.get(pk)
        return f"{dv['dataset']} {dv['version']}" if dv else f"data version {pk}"

    def dv_url(pk: int) -> str:
        return reverse("admin:registry_dataversion_change", args=[pk])

    versions = {mv["id"]: mv for mv in trace.get("model_versions", [])}

    def mv_label(pk: int) -> str:
        mv = versions.get(pk)
        return f"{mv['model']} v{mv['version']}" if mv else f"model version {pk}"

    runs = trace.get("runs", [])
    run_names = dict(Run.objects.filter(pk__in=[run["id"] for run in runs]).values_list("pk", "name"))
    decisions = trace.get("decisions", {})
    return {
        "computed_at": when(datetime.fromisoformat(trace["computed_at"])) if trace.get("computed_at") else EMPTY,
        "data_versions": [
            {
                "label": dv_label(dv["id"]),
                "url": dv_url(dv["id"]),
                "holds_subject": dv["holds_subject"],
                "derived_from": [{"label": dv_label(pk), "url": dv_url(pk)} for pk in dv.get("derived_from", [])],
                "status": dv.get("status", ""),
            }
            for dv in data_versions.values()
        ],
        "holding_count": sum(1 for dv in data_versions.values() if dv["holds_subject"]),
        "runs": [
            {
                "label": run_names.get(run["id"], f"run {run['id']}"),
                "url": reverse("admin:registry_run_change", args=[run["id"]]),
                "inputs": [{"label": dv_label(i["data_version"]), "role": i["role"]} for i in run.get("inputs", [])],
                "trained_on_subject": run.get("trained_on_subject", False),
                "used_for": run.get("used_for", []),
            }
            for run in runs
        ],
        "model_versions": [
            {
                "label": mv_label(mv["id"]),
                "url": reverse("admin:registry_modelversion_change", args=[mv["id"]]),
                "stage": choice_badge(Stage, mv.get("stage", "")),
                "live": mv.get("live", False),
                "trained_on_subject": mv.get("trained_on_subject", False),
                "used_for": mv.get("used_for", []),
            }
            for mv in versions.values()
        ],
        "live_count": sum(1 for mv in versions.values() if mv.get("live")),
        "live_deployments": [
            {
                "url": reverse("admin:registry_deployment_change", args=[dep["id"]]),
                "model_version": mv_label(dep["model_version"]),
                "environment": dep["environment"],
                "strategy": dep["strategy"],
                "traffic": f"{dep['traffic_percent']:g}%",
            }
            for dep in trace.get("live_deployments", [])
        ],
        "decision_count": decisions.get("count", 0),
        "decision_count_display": f"{decisions.get('count', 0):,}",
        "other": [
            (name, section.get("count") if isinstance(section, dict) else None, section)
            for name, section in sorted(trace.get("other", {}).items())
        ],
    }


def execution_plan(request: ErasureRequest) -> dict | None:
    """What executing would do, read from the stored trace (the execution traces again as it runs)."""
    trace = trace_view(request.trace)
    if trace is None:
        return None
    obligations = [mv for mv in trace["model_versions"] if mv["trained_on_subject"]]
    return {
        "traced_at": when(request.traced_at),
        "decision_count": trace["decision_count"],
        "decision_count_display": trace["decision_count_display"],
        "data_versions": [dv for dv in trace["data_versions"] if dv["status"] != "erasure_pending"],
        "already_pending": [dv for dv in trace["data_versions"] if dv["status"] == "erasure_pending"],
        "obligations": obligations,
        "live_deployments": trace["live_deployments"],
        "other": trace["other"],
    }


def execution_view(execution: dict | None) -> list[tuple[str, str]]:
    """What the execution did, as (what, how many) lines."""
    if not execution:
        return []
    rows = [
        ("decisions redacted", f"{execution.get('decisions_redacted', 0):,}"),
        ("subject index rows removed", f"{execution.get('subject_index_rows_removed', 0):,}"),
        ("data versions marked erasure_pending", f"{execution.get('data_versions_marked_erasure_pending', 0):,}"),
        ("retraining obligations opened", f"{len(execution.get('retraining_obligations', [])):,}"),
    ]
    for name, done in sorted((execution.get("other") or {}).items()):
        counts = done.items() if isinstance(done, dict) else [("", done)]
        rows.extend((f"{name}: {what}".rstrip(": ").replace("_", " "), str(value)) for what, value in counts)
    return rows


def obligations_view(obligations) -> list[dict]:
    return [
        {
            "model_version": link(o.model_version),
            "status": o.status,
            "opened_at": when(o.opened_at),
            "closed_at": when(o.closed_at) if o.closed_at else None,
            "closed_by": link(o.closed_by_version) if o.closed_by_version_id else None,
        }
        for o in obligations
    ]


class WriteOnlyInput(forms.TextInput):
    """A text box that never sends its value back to the browser (not even after a form error)."""

    def get_context(self, name, value, attrs):
        return super().get_context(name, None, attrs)


class ErasureRequestForm(forms.ModelForm):
    subject_id = forms.CharField(
        label="Subject id",
        max_length=512,
        strip=True,
        widget=WriteOnlyInput(attrs={"autocomplete": "off", "spellcheck": "false", "size": 40}),
        help_text="The data subject's id as your systems know it (customer number, e-mail…). Only its "
        "pseudonymous key is kept: the id itself is never stored and never shown again.",
    )
    received_at = forms.SplitDateTimeField(
        label="Received at",
        required=False,
        widget=widgets.AdminSplitDateTime,
        help_text="UTC. Leave empty for now. The request is due 30 days after it was received.",
    )

    class Meta:
        model = ErasureRequest
        fields = ["project", "reference", "received_at"]
        help_texts = {"reference": "Your ticket or case reference. Never the person's name or identifiers."}


class ExecuteForm(forms.Form):
    confirm = forms.BooleanField(
        label="I confirm the erasure",
        error_messages={"required": "Tick the box to confirm: an erasure cannot be undone."},
        help_text="Recorded in the audit trail under your name.",
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 70}),
        help_text="Recorded with the rejection, under your name (for example the legal obligation to keep "
        "the data). Do not write the person's identifiers.",
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give a reason.")
        return reason


@dataclass(frozen=True)
class Operation:
    """One of the officer's operations on a request: an admin action and a page of its own, both with a
    confirmation page, calling the erasure service."""

    name: str
    action: str
    title: str
    button: str
    form_class: type[forms.Form]
    from_statuses: tuple[str, ...]


OPERATIONS = {
    op.name: op
    for op in [
        Operation(
            "trace",
            "trace_requests",
            "Trace erasure requests",
            "Trace",
            forms.Form,
            statuses_allowing(ErasureOperation.TRACE),
        ),
        Operation(
            "execute",
            "execute_requests",
            "Execute erasure",
            "Execute erasure",
            ExecuteForm,
            statuses_allowing(ErasureOperation.EXECUTE),
        ),
        Operation(
            "reject",
            "reject_requests",
            "Reject erasure requests",
            "Reject",
            RejectForm,
            statuses_allowing(ErasureOperation.REJECT),
        ),
    ]
}


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
        "created_by",
    ]
    actions = ["trace_requests", "execute_requests", "reject_requests"]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["project", "subject_id", "reference", "received_at"]})]
        progress = ["traced_when", "executed_when", "completed_when"]
        if obj.status == ErasureRequest.Status.REJECTED:
            progress.append("rejection_reason")
        return [
            (None, {"fields": ["reference", "project", "status_display", "received_when", "due_when", "days_left"]}),
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
        return status_badge(obj.status)

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
        return days_left_html(obj, timezone.now())

    @admin.display(description="open obligations", ordering="open_obligation_count")
    def open_obligations(self, obj):
        count = getattr(obj, "open_obligation_count", 0)
        return format_html("<strong>{}</strong>", count) if count else "0"

    @admin.display(description="received at")
    def received_when(self, obj):
        return when(obj.received_at)

    @admin.display(description="due at")
    def due_when(self, obj):
        return when(obj.due_at)

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
            extra["trace"] = trace_view(obj.trace)
            extra["execution"] = execution_view(obj.execution)
            extra["obligations"] = obligations_view(
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
        actor, now = admin_actor(request), timezone.now()
        rows = []
        for obj in requests:
            problem = ""
            if not actor.can(ERASURE_OFFICERS, obj.project_id):
                problem = f"your role in {obj.project.slug} may not {op.name} erasure requests"
            elif obj.status not in op.from_statuses:
                problem = (
                    "not traced yet: trace it first"
                    if op.name == "execute" and obj.status == ErasureRequest.Status.RECEIVED
                    else f"already {obj.status}"
                )
            rows.append(
                {
                    "request": obj,
                    "url": admin_url(obj),
                    "status": status_badge(obj.status),
                    "due": when(obj.due_at),
                    "days_left": days_left_html(obj, now),
                    "traced_at": when(obj.traced_at),
                    "problem": problem,
                    "plan": execution_plan(obj) if op.name == "execute" and not problem else None,
                }
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
                    done = erasure.erasure_request_execute(actor=actor, request=obj)
                    outcome = self._executed_message(done)
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
        report = selectors.erasure_report(request=obj)
        return self.render_page(
            request,
            "admin/governance/erasurerequest/report.html",
            title=f"Erasure report: {obj.reference}",
            **self._report_context(request, obj, report),
        )

    def _report_context(self, request, obj: ErasureRequest, report: dict) -> dict:
        summary = report["request"]
        closed_by = [o["closed_by_version"] for o in report["obligations"] if o["closed_by_version"]]
        successors = {mv.pk: str(mv) for mv in ModelVersion.objects.filter(pk__in=closed_by).select_related("model")}
        return {
            "original": obj,
            "summary": summary,
            "status": status_badge(summary["status"]),
            "days_left": days_left_html(obj, timezone.now(), left=" left") if obj.status not in CLOSED else None,
            "dates": [
                (label, when(summary[key]) if summary[key] else NOT_YET)
                for label, key in [
                    ("Received", "received_at"),
                    ("Due", "due_at"),
                    ("Traced", "traced_at"),
                    ("Executed", "executed_at"),
                    ("Completed", "completed_at"),
                ]
            ],
            "trace": trace_view(report["trace"]),
            "execution": execution_view(report["execution"]),
            "obligations": [
                {
                    **o,
                    "label": f"{o['model']} v{o['version']}",
                    "closed_by": successors.get(o["closed_by_version"], ""),
                    "opened": when(o["opened_at"], suffix=False),
                    "closed": when(o["closed_at"], suffix=False) if o["closed_at"] else None,
                }
                for o in report["obligations"]
            ],
            "steps": [{**step, "when": when(step["at"], suffix=False)} for step in report["steps"]],
            "generated_at": when(timezone.now()),
            "generated_by": admin_actor(request).label,
            # The same report over the API, where erasure requests are for compliance officers only.
            "json_url": reverse("erasure-request-report", args=[obj.pk])
            if admin_actor(request).can(ERASURE_OFFICERS, obj.project_id)
            else None,
            "verify_url": reverse("admin:registry_auditevent_verify") if may_verify_chain(request) else None,
        }


# Fairness audits and policies ----------------------------------------------------------------------

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


def result_badge(passed: bool):
    return badge("passed", Tone.SUCCESS) if passed else badge("failed", Tone.DANGER)


def figure(value: float | None) -> str:
    return EMPTY if value is None else f"{value:.3f}"


def positive_label_text(value) -> str:
    """The positive label as it was given: a string as is, a number or boolean as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


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


class ModelVersionRecordAdmin(ReadOnlyAdmin):
    """A read-only record about one model version (an audit, a report): its version as a column and a link."""

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("model_version__model", "project")

    @admin.display(description="model version", ordering="model_version__model__name")
    def model_version_name(self, obj):
        return format_html('<span class="nowrap">{}</span>', obj.model_version)

    @admin.display(description="model version")
    def model_version_link(self, obj):
        return link(obj.model_version)


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
        }

    # The API's bounds (governance.api.serializers.PolicySerializer.validate)
    BOUNDS = {
        "min_demographic_parity_ratio": (0.0, 1.0),
        "max_equalized_odds_difference": (0.0, None),
        "max_psi": (0.0, None),
        "max_performance_drop": (0.0, None),
    }

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
                ]
            },
        ),
        ("Changes", {"fields": ["updated_when", "history"]}),
    ]
    readonly_fields = ["project", "updated_when", "history"]

    def has_add_permission(self, request):
        return False

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
        events = list(
            AuditEvent.objects.filter(
                target_type=obj._meta.label_lower, target_id=str(obj.pk), event_type=GovernanceEvent.POLICY_CHANGED
            ).order_by("-seq")[:10]
        )
        if not events:
            return "none: the defaults"
        lines = []
        for event in events:
            before, after = event.before or {}, event.after or {}
            labels, order = PolicyForm.Meta.labels, PolicyForm.Meta.fields
            changed = [
                f"{labels.get(name, name)}: {before.get(name)} → {after.get(name)}"
                for name in [*order, *(name for name in after if name not in order)]
                if before.get(name) != after.get(name)
            ]
            lines.append((when(event.occurred_at), event.actor_name, "; ".join(changed) or "no change"))
        rows = format_html_join("", "<li>{} · {} · {}</li>", lines)
        return format_html(
            '<ul class="policy-history">{}</ul><a href="{}">All changes in the audit trail</a>',
            rows,
            audit_trail_url(obj),
        )


# Drift and performance reports, webhooks ---------------------------------------------------------------


def drift_badge(report: DriftReport):
    if report.drifted:
        return badge("drifted: " + ", ".join(str(name) for name in report.drifted_features), Tone.DANGER)
    return badge("stable", Tone.SUCCESS)


def window_text(start, end):
    return format_html("from {} until {}", when(start), when(end))


def p_value(value: float | None) -> str:
    if value is None:
        return EMPTY
    return f"{value:.3f}" if value >= 0.001 else f"{value:.1e}"


def drift_report_view(report: DriftReport) -> dict:
    """What the report's page shows beneath its fields: a row per feature (highest PSI first), the PSI chart
    and a small chart of each feature's distributions."""
    max_psi = (report.policy or {}).get("max_psi")
    features = report.features or {}
    names = sorted(features, key=lambda n: (-(features[n].get("psi") or -1.0), str(n)))
    rows = []
    for index, name in enumerate(names):
        result = features[name]
        numeric = result.get("kind") == "numeric"
        notes = []
        if result.get("status"):
            notes.append(result["status"])
        if result.get("new_categories"):
            notes.append("new: " + ", ".join(str(c) for c in result["new_categories"][:5]))
        if numeric and result.get("window_mean") is not None and result.get("reference_mean") is not None:
            notes.append(f"mean {result['reference_mean']:.5g} → {result['window_mean']:.5g}")
        if result.get("ks_window_sample"):
            notes.append(f"KS on a sample of {result['ks_window_sample']:,}")
        rows.append(
            {
                "name": name,
                "kind": result.get("kind", ""),
                "psi": figure(result.get("psi")),
                "js": figure(result.get("js_distance")),
                "ks": figure(result.get("ks_statistic")) if numeric else EMPTY,
                "pvalue": p_value(result.get("ks_pvalue")) if numeric else EMPTY,
                "window_count": count(result.get("window_count", 0)),
                "reference_count": count(result["reference_count"]) if "reference_count" in result else EMPTY,
                "drifted": bool(result.get("drifted")),
                "notes": "; ".join(notes),
                "chart": mark_safe(  # noqa: S308 - governance.charts escapes every text it places
                    charts.drift_feature_svg(name, result, max_psi=max_psi, id_prefix=f"feature-{index}")
                ),
            }
        )
    return {
        "badge": drift_badge(report),
        "drifted_count": len(report.drifted_features or []),
        "feature_count": len(features),
        "max_psi": f"{max_psi:g}" if max_psi is not None else EMPTY,
        "rows": rows,
        "row_count": count(report.row_count),
        "chart": mark_safe(  # noqa: S308 - governance.charts escapes every text it places
            charts.drift_psi_chart_svg(features, max_psi=max_psi)
        )
        if features
        else None,
        "audit_trail_url": audit_trail_url(report),
    }


def performance_floor(report: PerformanceReport) -> float | None:
    drop = (report.policy or {}).get("max_performance_drop")
    return None if drop is None else report.baseline_value - drop


def performance_report_view(report: PerformanceReport) -> dict:
    floor = performance_floor(report)
    windows = []
    for window in report.windows or []:
        accuracy = window.get("accuracy")
        windows.append(
            {
                "start": window.get("start", "")[:10],
                "count": count(window.get("count", 0)),
                "accuracy": figure(accuracy),
                "auc": figure(window.get("auc")),
                "below": floor is not None and accuracy is not None and accuracy < floor,
            }
        )
    return {
        "badge": performance_badge(report),
        "windows": windows,
        "below_count": sum(w["below"] for w in windows),
        "chart": mark_safe(  # noqa: S308 - governance.charts escapes every text it places
            charts.performance_chart_svg(
                report.windows,
                baseline=report.baseline_value,
                floor=floor,
                bucket=report.bucket,
                metric=report.baseline_metric,
            )
        )
        if report.windows
        else None,
        "audit_trail_url": audit_trail_url(report),
    }


def performance_badge(report: PerformanceReport):
    return badge("degraded", Tone.DANGER) if report.degraded else badge("ok", Tone.SUCCESS)


class DriftedFilter(BooleanFieldFilter):
    title, parameter_name, field = "drift", "drifted", "drifted"
    yes, no = ("yes", "Drifted"), ("no", "Stable")


class DegradedFilter(BooleanFieldFilter):
    title, parameter_name, field = "performance", "degraded", "degraded"
    yes, no = ("yes", "Degraded"), ("no", "OK")


class ReportAdmin(ModelVersionRecordAdmin):
    """Shared columns of the drift and performance reports (made by the API and run_monitoring only)."""

    list_display_links = ["model_version_name"]
    list_select_related = ["model_version__model"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]

    @admin.display(description="window (UTC)", ordering="window_start")
    def window_column(self, obj):
        start = obj.window_start.astimezone(UTC).strftime("%Y-%m-%d")
        end = obj.window_end.astimezone(UTC).strftime("%Y-%m-%d")
        return format_html('<span class="nowrap">{} – {}</span>', start, end)

    @admin.display(description="window")
    def window(self, obj):
        return window_text(obj.window_start, obj.window_end)

    @admin.display(description="policy", ordering=None)
    def policy_display(self, obj):
        return pretty_json(obj.policy)


@admin.register(DriftReport)
class DriftReportAdmin(ReportAdmin):
    """Data drift reports, read-only for everyone: made by governance.services.drift.drift_report_run (the API,
    run_monitoring)."""

    change_form_template = "admin/governance/driftreport/change_form.html"
    list_defer = ("features", "policy")
    list_display = ["model_version_name", "window_column", "rows", "result", "created"]
    list_filter = [DriftedFilter, ("project", ProjectFilter)]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "model_version_link",
                    "project",
                    "result",
                    "reference",
                    "window",
                    "rows_display",
                    "psi_limit",
                    "created_at_utc",
                    "created_by",
                ]
            },
        ),
    ]
    readonly_fields = ["model_version_link", "result", "reference", "window", "rows_display", "psi_limit", "created_by"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reference_data_version__dataset")

    @admin.display(description="decisions", ordering="row_count")
    def rows(self, obj):
        return count(obj.row_count)

    @admin.display(description="decisions in the window")
    def rows_display(self, obj):
        return count(obj.row_count)

    @admin.display(description="result", ordering="drifted")
    def result(self, obj):
        return drift_badge(obj)

    @admin.display(description="reference (training data)")
    def reference(self, obj):
        return link(obj.reference_data_version)

    @admin.display(description="policy PSI limit")
    def psi_limit(self, obj):
        max_psi = (obj.policy or {}).get("max_psi")
        if max_psi is None:
            return EMPTY
        return f"{max_psi:g} (a feature whose PSI exceeds it has drifted)"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        report = self.get_object(request, unquote(object_id))
        if report is not None and self.has_view_or_change_permission(request, report):
            extra["drift"] = drift_report_view(report)
        return super().change_view(request, object_id, form_url, extra)


@admin.register(PerformanceReport)
class PerformanceReportAdmin(ReportAdmin):
    """Live performance reports, read-only for everyone: made by governance.services.performance.performance_report_run
    (the API, run_monitoring)."""

    change_form_template = "admin/governance/performancereport/change_form.html"
    list_defer = ("windows",)
    list_display = [
        "model_version_name",
        "window_column",
        "bucket",
        "rows",
        "accuracy",
        "baseline",
        "result",
        "created",
    ]
    list_filter = [DegradedFilter, ("project", ProjectFilter)]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "model_version_link",
                    "project",
                    "result",
                    "window",
                    "bucket",
                    "positive",
                    "baseline",
                    "floor",
                    "accuracy",
                    "auc",
                    "created_at_utc",
                    "created_by",
                ]
            },
        ),
    ]
    readonly_fields = [
        "model_version_link",
        "result",
        "window",
        "positive",
        "baseline",
        "floor",
        "accuracy",
        "auc",
        "created_by",
    ]

    @admin.display(description="decisions")
    def rows(self, obj):
        return count((obj.overall or {}).get("count", 0))

    @admin.display(description="result", ordering="degraded")
    def result(self, obj):
        return performance_badge(obj)

    @admin.display(description="baseline")
    def baseline(self, obj):
        return f"{obj.baseline_value:.3f} (validation {obj.baseline_metric})"

    @admin.display(description="floor")
    def floor(self, obj):
        floor = performance_floor(obj)
        if floor is None:
            return EMPTY
        drop = obj.policy["max_performance_drop"]
        return f"{floor:.3f} (the baseline minus the policy's allowed drop of {drop:g})"

    @admin.display(description="accuracy")
    def accuracy(self, obj):
        overall = obj.overall or {}
        value = overall.get("accuracy")
        floor = performance_floor(obj)
        if value is not None and floor is not None and value < floor:
            return format_html('<span class="text-danger">{}</span>', figure(value))
        return figure(value)

    @admin.display(description="AUC")
    def auc(self, obj):
        value = (obj.overall or {}).get("auc")
        return figure(value) if value is not None else "n/a (no positive label, or one class only)"

    @admin.display(description="positive label")
    def positive(self, obj):
        if obj.positive_label is None:
            return EMPTY
        return format_html("<code>{}</code>", positive_label_text(obj.positive_label))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        report = self.get_object(request, unquote(object_id))
        if report is not None and self.has_view_or_change_permission(request, report):
            extra["performance"] = performance_report_view(report)
        return super().change_view(request, object_id, form_url, extra)


@admin.register(Webhook)
class WebhookAdmin(ReadOnlyAdmin):
    """Webhooks, read-only here (made through the API). The secret is never shown: only the fields below."""

    list_display = ["url", "project", "event_list", "active", "created"]
    list_filter = ["active", ("project", ProjectFilter)]
    list_select_related = ["project"]
    fields = ["project", "url", "event_list", "active", "created_at_utc"]
    readonly_fields = ["event_list"]
    exclude = ["secret"]

    @admin.display(description="events")
    def event_list(self, obj):
        events = obj.events or []
        return "all" if "*" in events else ", ".join(str(e) for e in events) or EMPTY


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """Alerts sent to webhooks, with the last attempt's outcome; read-only (governance.services.alerts sends them)."""

    project_path = "webhook__project"
    list_display = [
        "delivery",
        "webhook_url",
        "event_type",
        "status_badge",
        "attempts",
        "last_status_code",
        "last_error_short",
        "next_attempt",
        "delivered",
    ]
    list_filter = ["status", "event_type"]
    list_select_related = ["webhook"]
    ordering = ["-created_at", "-id"]
    fields = [
        "webhook_link",
        "event_type",
        "status_badge",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt",
        "delivered",
        "created",
        "payload_display",
    ]
    readonly_fields = fields

    @admin.display(description="delivery", ordering="id")
    def delivery(self, obj):
        return f"#{obj.pk}"

    @admin.display(description="webhook", ordering="webhook__url")
    def webhook_url(self, obj):
        return Truncator(obj.webhook.url).chars(60)

    @admin.display(description="webhook")
    def webhook_link(self, obj):
        return link(obj.webhook)

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return choice_badge(WebhookDelivery.Status, obj.status)

    @admin.display(description="last error")
    def last_error_short(self, obj):
        return Truncator(obj.last_error).chars(80) if obj.last_error else EMPTY

    @admin.display(description="next attempt (UTC)", ordering="next_attempt_at")
    def next_attempt(self, obj):
        return when(obj.next_attempt_at, suffix=False) if obj.status == WebhookDelivery.Status.PENDING else EMPTY

    @admin.display(description="delivered (UTC)", ordering="delivered_at")
    def delivered(self, obj):
        return when(obj.delivered_at, suffix=False)

    @admin.display(description="created (UTC)", ordering="created_at")
    def created(self, obj):
        return when(obj.created_at, suffix=False)

    @admin.display(description="payload")
    def payload_display(self, obj):
        return pretty_json(obj.payload)
