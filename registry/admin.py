"""Admin for the registry. Compliance officers read here; every write goes through registry.services.

Three kinds of admin:
- read-only (data versions, subject index, runs, stage transitions, audit events, suppressed subjects):
  written by services only (the audit event list has a "verify chain" button);
- create-only (projects, datasets, models, model versions, deployments, API keys): the add form calls
  the service, an existing record is shown read-only, and operations that are not edits (a stage
  transition, ending a deployment, revoking a key) are admin actions calling their service;
- memberships: added and changed through `membership_set`.
Nothing is deleted from admin. Every admin is scoped to the projects the user is a member of.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from registry import services
from registry.actors import Actor
from registry.audit import audit_chain_verify, event_type_choices
from registry.errors import ServiceError
from registry.models import (
    ApiKey,
    AuditEvent,
    Dataset,
    DataVersion,
    DataVersionParent,
    Deployment,
    Membership,
    Model,
    ModelVersion,
    Project,
    Run,
    RunInput,
    Stage,
    StageTransition,
    SubjectIndex,
    SuppressedSubject,
)
from registry.permissions import CHAIN_VERIFIERS, REGISTRY_WRITERS, TRANSITIONERS
from registry.records import records_verify
from registry.roles import roles_with_permission

SUPERUSERS_ONLY: frozenset[str] = frozenset()

# How to reach the project from a record of each model, and what its __str__ needs joined.
PROJECT_PATHS: dict[type, str] = {
    Project: "pk",
    ApiKey: "project",
    Membership: "project",
    Dataset: "project",
    DataVersion: "project",
    Run: "project",
    Model: "project",
    ModelVersion: "project",
    Deployment: "project",
}
LABEL_JOINS: dict[type, tuple[str, ...]] = {
    ApiKey: ("project",),
    Dataset: ("project",),
    DataVersion: ("dataset",),
    Model: ("project",),
    ModelVersion: ("model",),
    Deployment: ("model_version__model",),
}


# Scoping -------------------------------------------------------------------------------------------


def admin_actor(request: HttpRequest) -> Actor:
    """The Actor behind an admin request, computed once per request."""
    actor = getattr(request, "_admin_actor", None)
    if actor is None:
        actor = request._admin_actor = Actor.for_user(request.user)
    return actor


def view_roles(model: type) -> frozenset[str]:
    """The project roles that may see records of ``model`` (its view permission in registry.roles)."""
    opts = model._meta.concrete_model._meta
    return roles_with_permission(f"{opts.app_label}.view_{opts.model_name}")


def member_scope(queryset: QuerySet, user, project_path: str, *, roles: Iterable[str] | None = None) -> QuerySet:
    """Rows of the projects where the user holds a role that may see them (by default, a role with the view
    permission of the queryset's model); every row for a superuser. A role held in one project never opens
    another project's records."""
    if user.is_superuser:
        return queryset
    roles = view_roles(queryset.model) if roles is None else frozenset(roles)
    member_of = Membership.objects.filter(user_id=user.pk, role__in=roles).values("project_id")
    return queryset.filter(**{f"{project_path}__in": member_of})


def role_scope(queryset: QuerySet, actor: Actor, roles: Iterable[str], project_path: str) -> QuerySet:
    """Rows of the projects where the actor holds one of `roles`; every row for a superuser."""
    ids = actor.project_ids(roles)
    if ids is None:
        return queryset
    return queryset.filter(**{f"{project_path}__in": ids})


def scoped_related_filter(project_path: str) -> type[admin.RelatedFieldListFilter]:
    """A related-object list filter that offers only the objects of the projects where the user's role may see
    the listed model."""

    class ScopedRelatedFilter(admin.RelatedFieldListFilter):
        def field_choices(self, field, request, model_admin):
            related = field.related_model
            roles = view_roles(model_admin.model) & view_roles(related)
            queryset = member_scope(related._default_manager.all(), request.user, project_path, roles=roles)
            queryset = queryset.select_related(*LABEL_JOINS.get(related, ()))
            ordering = self.field_admin_ordering(field, request, model_admin)
            if ordering:
                queryset = queryset.order_by(*ordering)
            return [(obj.pk, str(obj)) for obj in queryset]

    return ScopedRelatedFilter


ProjectFilter = scoped_related_filter("pk")
InProjectFilter = scoped_related_filter("project")


class ProjectScopedAdmin(admin.ModelAdmin):
    """Non-superusers see only the rows of projects where their role may see the model (``member_scope``).

    `project_path` leads from the model to its project; `write_roles` are the project roles whose
    projects are offered in the foreign keys of an add form.
    """

    project_path = "project"
    write_roles: frozenset[str] = REGISTRY_WRITERS
    list_per_page = 50

    def get_queryset(self, request):
        return member_scope(super().get_queryset(request), request.user, self.project_path)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if related in PROJECT_PATHS and "queryset" not in kwargs:
            queryset = related._default_manager.select_related(*LABEL_JOINS.get(related, ()))
            kwargs["queryset"] = role_scope(queryset, admin_actor(request), self.write_roles, PROJECT_PATHS[related])
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return False  # registry records are never deleted from admin (their foreign keys PROTECT anyway)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and isinstance(formfield.widget, RelatedFieldWidgetWrapper):
            # Records are not edited or deleted from admin: no pencil or cross beside a foreign key.
            formfield.widget.can_change_related = False
            formfield.widget.can_delete_related = False
        return formfield

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if any(field.name == "created_at" for field in self.opts.fields):
            readonly.append("created_at_utc")
        return readonly

    @admin.display(description="created (UTC)", ordering="created_at")
    def created(self, obj):
        return when(obj.created_at, suffix=False)

    @admin.display(description="created at")
    def created_at_utc(self, obj):
        return when(obj.created_at)


class ReadOnlyAdmin(ProjectScopedAdmin):
    """Records created through the API and services only: viewable, never added, changed or deleted."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    template = "admin/registry/readonly_tabular.html"
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="created")
    def created(self, obj):
        return when(obj.created_at)


class ServiceRejected(Exception):
    def __init__(self, error: ServiceError):
        super().__init__(error.message)
        self.error = error


class ServiceCreateAdmin(ProjectScopedAdmin):
    """The add form calls a service (`service_create`); an existing record is shown read-only.

    A ServiceError becomes form errors: the view is run once more with the errors attached to the
    form, so the person sees the message next to the field with their input kept.
    Change permission without an object still means "may run this model's actions".
    """

    def service_create(self, request: HttpRequest, data: dict):  # pragma: no cover - each admin defines it
        raise NotImplementedError

    def has_change_permission(self, request, obj=None):
        if obj is not None:
            return False
        return super().has_change_permission(request)

    def get_inlines(self, request, obj):
        return super().get_inlines(request, obj) if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            raise PermissionDenied
        try:
            created = self.service_create(request, form.cleaned_data)
        except ServiceError as exc:
            raise ServiceRejected(exc) from exc
        for field in obj._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding = False
        obj._state.db = created._state.db

    def save_related(self, request, form, formsets, change):
        pass  # the service wrote everything

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRejected as rejected:
            request._service_error = rejected.error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        error: ServiceError | None = getattr(request, "_service_error", None)
        if error is None:
            return form_class

        class RejectedForm(form_class):
            def clean(self):
                cleaned = super().clean()
                placed = False
                for name, field_messages in error.fields.items():
                    if name in self.fields:
                        self.add_error(name, field_messages)
                        placed = True
                if not placed:
                    self.add_error(None, error.message)
                return cleaned

        return RejectedForm


# Display helpers -----------------------------------------------------------------------------------


EMPTY = "-"  # what Django's admin shows for an empty value


def when(value, *, suffix: bool = True):
    """A timestamp as compliance reports write it: 2026-02-01 09:00 UTC (every timestamp is stored in UTC).
    Changelists leave the suffix out and say "(UTC)" in the column title."""
    if value is None:
        return EMPTY
    text = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") + (" UTC" if suffix else "")
    return format_html('<span style="white-space:nowrap">{}</span>', text)


def admin_url(obj, action: str = "change") -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{action}", args=[obj.pk])


def link(obj, text: str | None = None):
    if obj is None:
        return EMPTY
    return format_html('<a href="{}">{}</a>', admin_url(obj), text if text is not None else str(obj))


def pretty_json(value):
    if value in (None, {}, []):
        return EMPTY
    return format_html('<pre class="json-value">{}</pre>', json.dumps(value, indent=2, sort_keys=True, default=str))


def short_hash(value: str, length: int = 12):
    if not value:
        return EMPTY
    return format_html('<code title="{}" style="white-space:nowrap">{}…</code>', value, value[:length])


def count(value: int) -> str:
    return f"{value:,}"


STAGE_COLOURS = {
    Stage.NONE: "#6b7280",
    Stage.STAGING: "#b45309",
    Stage.PRODUCTION: "#15803d",
    Stage.ARCHIVED: "#374151",
}


def stage_badge(stage: str):
    return format_html(
        '<span style="background:{};color:#fff;border-radius:4px;padding:1px 7px;font-size:0.85em;'
        'font-weight:600;white-space:nowrap">{}</span>',
        STAGE_COLOURS.get(stage, "#6b7280"),
        stage,
    )


# Projects, keys, memberships -----------------------------------------------------------------------


class ProjectForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["slug", "name"]


@admin.register(Project)
class ProjectAdmin(ServiceCreateAdmin):
    project_path = "pk"
    write_roles = SUPERUSERS_ONLY
    form = ProjectForm
    list_display = ["slug", "name", "member_count", "created", "created_by_user"]
    list_select_related = ["created_by_user"]
    list_filter = [("created_at", admin.DateFieldListFilter)]
    search_fields = ["slug", "name"]
    readonly_fields = ["created_at_utc", "created_by_user", "created_by_key"]

    def get_fields(self, request, obj=None):
        return ["slug", "name"] if obj is None else ["slug", "name", "created_at_utc", "created_by_user"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(description="members", ordering="member_count")
    def member_count(self, obj):
        return obj.member_count

    def service_create(self, request, data):
        return services.project_create(actor=admin_actor(request), slug=data["slug"], name=data["name"])


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["project", "role", "name", "owner"]


@admin.register(ApiKey)
class ApiKeyAdmin(ServiceCreateAdmin):
    """Keys are created here (the raw key is shown once, only its hash is stored) and revoked, never deleted."""

    write_roles = SUPERUSERS_ONLY
    form = ApiKeyForm
    list_display = ["name", "prefix", "project", "role", "owner", "created", "last_used", "revoked"]
    list_select_related = ["project", "owner"]
    list_filter = [("project", ProjectFilter), "role", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "=prefix"]
    readonly_fields = ["prefix", "owner", "created_at_utc", "created_by_user", "last_used_at_utc", "revoked_at_utc"]
    actions = ["revoke_keys"]

    def get_readonly_fields(self, request, obj=None):
        # The owner is chosen when the key is made (default: whoever makes it) and never changes afterwards.
        return [f for f in self.readonly_fields if f != "owner"] if obj is None else self.readonly_fields

    def get_changeform_initial_data(self, request):
        return {"owner": request.user.pk, **super().get_changeform_initial_data(request)}

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["project", "role", "name", "owner"]
        return [
            *("project", "role", "name", "owner", "prefix"),
            *("created_at_utc", "created_by_user", "last_used_at_utc", "revoked_at_utc"),
        ]

    @admin.display(description="last used (UTC)", ordering="last_used_at")
    def last_used(self, obj):
        return when(obj.last_used_at, suffix=False)

    @admin.display(description="last used at")
    def last_used_at_utc(self, obj):
        return when(obj.last_used_at)

    @admin.display(description="revoked at")
    def revoked_at_utc(self, obj):
        return when(obj.revoked_at)

    @admin.display(boolean=True, ordering="revoked_at")
    def revoked(self, obj):
        return obj.revoked_at is not None

    def service_create(self, request, data):
        key, raw = services.api_key_create(
            actor=admin_actor(request),
            project=data["project"],
            role=data["role"],
            name=data["name"],
            owner=data.get("owner"),
        )
        messages.success(
            request,
            format_html(
                "The new key for {} is <code>{}</code>. Copy it now: it is shown only this once and is not stored.",
                key.name,
                raw,
            ),
        )
        return key

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke_keys(self, request, queryset):
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True):
            services.api_key_revoke(actor=admin_actor(request), key=key)
            revoked += 1
        messages.success(request, f"Revoked {revoked} API key(s).")


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["user", "project", "role"]


@admin.register(Membership)
class MembershipAdmin(ProjectScopedAdmin):
    """Added and changed through services.membership_set; the user and project of one are fixed."""

    write_roles = SUPERUSERS_ONLY
    form = MembershipForm
    fields = ["user", "project", "role"]
    list_display = ["user", "project", "role"]
    list_select_related = ["user", "project"]
    list_filter = [("project", ProjectFilter), "role"]
    search_fields = ["user__username", "user__email", "project__slug"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "project"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        membership = services.membership_set(
            actor=admin_actor(request), user=obj.user, project=obj.project, role=form.cleaned_data["role"]
        )
        obj.pk = membership.pk
        obj._state.adding = False


# Datasets and data versions ------------------------------------------------------------------------


class DataVersionInline(ReadOnlyInline):
    model = DataVersion
    fk_name = "dataset"
    fields = ["version_link", "rows", "status", "hash", "created"]
    readonly_fields = fields
    verbose_name_plural = "versions"
    ordering = ["-created_at"]

    @admin.display(description="version")
    def version_link(self, obj):
        return link(obj, obj.version)

    @admin.display(description="rows")
    def rows(self, obj):
        return count(obj.row_count)

    @admin.display(description="content hash")
    def hash(self, obj):
        return short_hash(obj.content_sha256)


class DatasetForm(forms.ModelForm):
    class Meta:
        model = Dataset
        fields = ["project", "name", "description", "contains_personal_data", "legal_basis"]


@admin.register(Dataset)
class DatasetAdmin(ServiceCreateAdmin):
    form = DatasetForm
    list_display = ["name", "project", "contains_personal_data", "legal_basis", "version_count", "created"]
    list_select_related = ["project"]
    list_filter = [("project", ProjectFilter), "contains_personal_data"]
    search_fields = ["name", "description", "legal_basis"]
    readonly_fields = ["created_at_utc", "created_by"]
    inlines = [DataVersionInline]

    def get_fields(self, request, obj=None):
        fields = ["project", "name", "description", "contains_personal_data", "legal_basis"]
        return fields if obj is None else [*fields, "created_at_utc", "created_by"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(version_count=Count("versions"))

    @admin.display(description="versions", ordering="version_count")
    def version_count(self, obj):
        return obj.version_count

    def service_create(self, request, data):
        return services.dataset_create(
            actor=admin_actor(request),
            project=data["project"],
            name=data["name"],
            contains_personal_data=data["contains_personal_data"],
            legal_basis=data["legal_basis"],
            description=data["description"],
        )


class DataVersionParentInline(ReadOnlyInline):
    model = DataVersionParent
    fk_name = "child"
    fields = ["parent_link", "transformation"]
    readonly_fields = fields
    verbose_name = "derived from"
    verbose_name_plural = "derived from"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("parent__dataset")

    @admin.display(description="parent version")
    def parent_link(self, obj):
        return link(obj.parent)


@admin.register(DataVersion)
class DataVersionAdmin(ReadOnlyAdmin):
    list_display = ["dataset_name", "version_name", "project", "rows", "status", "hash", "personal_data", "created"]
    list_select_related = ["dataset", "project"]
    list_filter = [
        "status",
        ("project", ProjectFilter),
        ("dataset", InProjectFilter),
        "dataset__contains_personal_data",
    ]
    search_fields = ["version", "dataset__name", "=content_sha256", "storage_uri"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["dataset_link", "version", "project", "status", "rows", "personal_data"]}),
        ("Content", {"fields": ["content_sha256", "storage_uri", "schema_display", "profile_display"]}),
        ("Use", {"fields": ["derived_versions", "used_by_runs", "subjects"]}),
        ("Record", {"fields": ["created_at_utc", "created_by"]}),
    ]
    readonly_fields = [
        "dataset_link",
        "rows",
        "personal_data",
        "schema_display",
        "profile_display",
        "derived_versions",
        "used_by_runs",
        "subjects",
        "created_by",
    ]
    inlines = [DataVersionParentInline]

    @admin.display(description="dataset")
    def dataset_link(self, obj):
        return link(obj.dataset)

    @admin.display(description="dataset", ordering="dataset__name")
    def dataset_name(self, obj):
        return obj.dataset.name

    @admin.display(description="version", ordering="version")
    def version_name(self, obj):
        return format_html('<span style="white-space:nowrap">{}</span>', obj.version)

    @admin.display(description="rows", ordering="row_count")
    def rows(self, obj):
        return count(obj.row_count)

    @admin.display(description="content hash")
    def hash(self, obj):
        return short_hash(obj.content_sha256)

    @admin.display(description="personal data", boolean=True, ordering="dataset__contains_personal_data")
    def personal_data(self, obj):
        return obj.dataset.contains_personal_data

    @admin.display(description="schema")
    def schema_display(self, obj):
        return pretty_json(obj.schema)

    @admin.display(description="profile")
    def profile_display(self, obj):
        return pretty_json(obj.profile)

    @admin.display(description="derived versions")
    def derived_versions(self, obj):
        children = obj.children.select_related("dataset")
        return format_html_join(", ", "{}", ((link(child),) for child in children)) or EMPTY

    @admin.display(description="used by runs")
    def used_by_runs(self, obj):
        inputs = obj.run_links.select_related("run").order_by("-run__created_at")
        return format_html_join(", ", "{} ({})", ((link(i.run), i.role) for i in inputs)) or EMPTY

    @admin.display(description="subjects indexed")
    def subjects(self, obj):
        count = obj.subjects.count()
        url = reverse("admin:registry_subjectindex_changelist") + f"?data_version__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, f"{count:,}")


@admin.register(SubjectIndex)
class SubjectIndexAdmin(ReadOnlyAdmin):
    """Which pseudonymous subjects are in which data version. The key is shown truncated only."""

    project_path = "data_version__project"
    list_display = ["data_version", "key_short", "key_id"]
    list_select_related = ["data_version__dataset"]
    list_filter = [("data_version", scoped_related_filter("project")), "key_id"]
    search_fields = ["=subject_key"]
    search_help_text = "exact subject key (the HMAC, as shown on an erasure request); raw ids are never searchable"
    fields = ["data_version", "key_short", "key_id"]
    readonly_fields = ["key_short"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    ordering = ["-id"]

    @admin.display(description="subject key")
    def key_short(self, obj):
        return format_html("<code>{}…</code>", obj.subject_key[:10])


# Runs ----------------------------------------------------------------------------------------------


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
        return f"{obj.data_version.row_count:,}"

    @admin.display(description="content hash")
    def hash(self, obj):
        return short_hash(obj.data_version.content_sha256)


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = ["name", "id", "project", "status", "source", "commit", "notebook_path", "created"]
    list_select_related = ["project"]
    list_filter = ["status", "source", ("project", ProjectFilter)]
    search_fields = ["name", "git_commit", "notebook_path", "git_branch"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["name", "project", "status", "source", "model_versions"]}),
        ("Parameters and metrics", {"fields": ["params_display", "metrics_display"]}),
        ("Code", {"fields": ["git_commit", "git_branch", "git_dirty", "notebook_path", "environment_display"]}),
        ("Record", {"fields": ["created_at_utc", "created_by"]}),
    ]
    readonly_fields = ["model_versions", "params_display", "metrics_display", "environment_display", "created_by"]
    inlines = [RunInputInline]

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


# Models, versions, transitions, deployments --------------------------------------------------------


class ModelVersionInline(ReadOnlyInline):
    model = ModelVersion
    fk_name = "model"
    fields = ["version_link", "stage", "framework", "run", "created"]
    readonly_fields = fields
    verbose_name_plural = "versions"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("model", "run")

    @admin.display(description="version")
    def version_link(self, obj):
        return link(obj, f"v{obj.version}")


class ModelForm(forms.ModelForm):
    class Meta:
        model = Model
        fields = ["project", "name", "risk_tier", "description"]


@admin.register(Model)
class ModelAdmin(ServiceCreateAdmin):
    form = ModelForm
    list_display = ["name", "project", "risk_tier", "version_count", "created"]
    list_select_related = ["project"]
    list_filter = [("project", ProjectFilter), "risk_tier"]
    search_fields = ["name", "description"]
    readonly_fields = ["created_at_utc", "created_by"]
    inlines = [ModelVersionInline]

    def get_fields(self, request, obj=None):
        fields = ["project", "name", "risk_tier", "description"]
        return fields if obj is None else [*fields, "created_at_utc", "created_by"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(version_count=Count("versions"))

    @admin.display(description="versions", ordering="version_count")
    def version_count(self, obj):
        return obj.version_count

    def service_create(self, request, data):
        return services.model_create(
            actor=admin_actor(request),
            project=data["project"],
            name=data["name"],
            risk_tier=data["risk_tier"],
            description=data["description"],
        )


class StageTransitionForm(forms.Form):
    to_stage = forms.ChoiceField(label="New stage", choices=Stage.choices)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 70}),
        help_text="Recorded with the stage transition, under your name.",
    )

    def __init__(self, *args, stages: Iterable[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        offered = [(value, label) for value, label in Stage.choices if stages is None or value in stages]
        self.fields["to_stage"].choices = [("", "Choose a stage…"), *offered]

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give a reason.")
        return reason


class StageTransitionInline(ReadOnlyInline):
    model = StageTransition
    fields = ["at", "from_stage", "to_stage", "reason", "requested_by", "approved_by"]
    readonly_fields = fields
    verbose_name_plural = "stage history"
    ordering = ["-created_at", "-id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by_user", "created_by_key", "approved_by_user")

    @admin.display(description="when")
    def at(self, obj):
        return when(obj.created_at)

    @admin.display(description="requested by")
    def requested_by(self, obj):
        return obj.created_by_user or (f"key {obj.created_by_key.prefix}…" if obj.created_by_key_id else "system")

    @admin.display(description="approved by")
    def approved_by(self, obj):
        return obj.approved_by_user or EMPTY


class ModelVersionForm(forms.ModelForm):
    class Meta:
        model = ModelVersion
        fields = ["model", "run", "artifact_uri", "artifact_sha256", "framework", "intended_use", "limitations"]


@admin.register(ModelVersion)
class ModelVersionAdmin(ServiceCreateAdmin):
    """A version registered from a run. Its page is read-only; its stage moves by the transition action."""

    form = ModelVersionForm
    change_form_template = "admin/registry/modelversion/change_form.html"
    list_display = ["name", "model_project", "stage_display", "risk_tier", "run", "created"]
    list_select_related = ["model__project", "run"]
    list_filter = [
        "stage",
        ("project", ProjectFilter),
        ("model", InProjectFilter),
        "model__risk_tier",
        "framework",
    ]
    search_fields = ["model__name", "=artifact_sha256", "run__name", "framework"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "model_link",
        "run_link",
        "artifact",
        "artifact_hash",
        "stage_display",
        "risk_tier",
        "metrics_display",
        "signature_display",
        "created_by",
    ]
    inlines = [StageTransitionInline]
    actions = ["transition_stage"]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ModelVersionForm._meta.fields})]
        return [
            (None, {"fields": ["model_link", "version", "stage_display", "risk_tier", "run_link", "framework"]}),
            ("Artifact", {"fields": ["artifact", "artifact_hash"]}),
            ("Model card", {"fields": ["intended_use", "limitations", "metrics_display", "signature_display"]}),
            ("Record", {"fields": ["project", "created_at_utc", "created_by"], "classes": ["collapse"]}),
        ]

    @admin.display(description="model version", ordering="model__name")
    def name(self, obj):
        return format_html('<span style="white-space:nowrap">{}</span>', obj)

    @admin.display(description="project", ordering="model__project__slug")
    def model_project(self, obj):
        return obj.model.project.slug

    @admin.display(description="stage", ordering="stage")
    def stage_display(self, obj):
        return stage_badge(obj.stage)

    @admin.display(description="risk tier", ordering="model__risk_tier")
    def risk_tier(self, obj):
        return obj.model.risk_tier

    @admin.display(description="artifact URI")
    def artifact(self, obj):
        return obj.artifact_uri

    @admin.display(description="artifact SHA-256")
    def artifact_hash(self, obj):
        return format_html("<code>{}</code>", obj.artifact_sha256)

    @admin.display(description="model")
    def model_link(self, obj):
        return link(obj.model)

    @admin.display(description="run")
    def run_link(self, obj):
        return link(obj.run)

    @admin.display(description="metrics")
    def metrics_display(self, obj):
        return pretty_json(obj.metrics)

    @admin.display(description="input signature")
    def signature_display(self, obj):
        return pretty_json(obj.signature)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("model__project", "run")

    def service_create(self, request, data):
        return services.model_version_register(
            actor=admin_actor(request),
            model=data["model"],
            run=data["run"],
            artifact_uri=data["artifact_uri"],
            artifact_sha256=data["artifact_sha256"],
            framework=data["framework"],
            intended_use=data["intended_use"],
            limitations=data["limitations"],
        )

    # Stage transitions: an action with an intermediate page, and the same page for one version.

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/transition/",
                self.admin_site.admin_view(self.transition_view),
                name="{}_{}_transition".format(*info),
            ),
            *super().get_urls(),
        ]

    def may_transition(self, request) -> bool:
        return self.has_change_permission(request) and admin_actor(request).has_any_role(TRANSITIONERS)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {"can_transition": self.may_transition(request), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Change stage of selected versions…", permissions=["change"])
    def transition_stage(self, request, queryset):
        versions = list(queryset.select_related("model__project").order_by("model__name", "-version"))
        if "apply" in request.POST:
            form = StageTransitionForm(request.POST)
            if form.is_valid():
                self._transition(request, versions, form.cleaned_data["to_stage"], form.cleaned_data["reason"])
                return None
        else:
            form = StageTransitionForm()
        return self._transition_page(request, versions, form, from_changelist=True)

    def transition_view(self, request, object_id):
        if not self.may_transition(request):
            raise PermissionDenied
        version = self.get_object(request, unquote(object_id))
        if version is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        stages = services.ALLOWED_TRANSITIONS[version.stage]
        if request.method == "POST":
            form = StageTransitionForm(request.POST, stages=stages)
            if form.is_valid():
                self._transition(request, [version], form.cleaned_data["to_stage"], form.cleaned_data["reason"])
                return HttpResponseRedirect(admin_url(version))
        else:
            form = StageTransitionForm(stages=stages)
        return self._transition_page(request, [version], form, from_changelist=False)

    def _transition_page(self, request, versions, form, *, from_changelist: bool):
        context = {
            **self.admin_site.each_context(request),
            "title": "Change stage",
            "subtitle": None,
            "opts": self.opts,
            "versions": versions,
            "rows": [
                (version, stage_badge(version.stage), sorted(services.ALLOWED_TRANSITIONS[version.stage]))
                for version in versions
            ],
            "form": form,
            "from_changelist": from_changelist,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/registry/modelversion/transition.html", context)

    def _transition(self, request, versions, to_stage: str, reason: str) -> None:
        actor = admin_actor(request)
        for version in versions:
            if not actor.can(TRANSITIONERS, version.project_id):
                messages.error(request, f"{version}: your role in {version.model.project.slug} may not change stages.")
                continue
            before = version.stage
            try:
                services.model_version_transition(actor=actor, model_version=version, to_stage=to_stage, reason=reason)
            except ServiceError as exc:
                messages.error(request, f"{version}: {exc.message}")
                continue
            messages.success(request, f"{version}: {before} → {version.stage}.")


@admin.register(StageTransition)
class StageTransitionAdmin(ReadOnlyAdmin):
    project_path = "model_version__project"
    list_display = ["model_version", "from_stage", "to_stage", "short_reason", "created_by", "created"]
    list_select_related = ["model_version__model", "created_by_user", "created_by_key__project"]
    list_filter = ["to_stage", "from_stage", ("model_version__model", InProjectFilter)]
    search_fields = ["model_version__model__name", "reason"]
    date_hierarchy = "created_at"
    fields = ["model_version", "from_stage", "to_stage", "reason", "checks_display", "created_at_utc", "created_by"]
    readonly_fields = ["checks_display", "created_by"]

    @admin.display(description="reason")
    def short_reason(self, obj):
        return Truncator(obj.reason).chars(80)

    @admin.display(description="gate checks")
    def checks_display(self, obj):
        return pretty_json(obj.checks)


class LiveFilter(admin.SimpleListFilter):
    title = "live now"
    parameter_name = "live"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        live = Q(ended_at__isnull=True) | Q(ended_at__gt=timezone.now())
        if self.value() == "yes":
            return queryset.filter(live)
        if self.value() == "no":
            return queryset.exclude(live)
        return queryset


class DeploymentForm(forms.ModelForm):
    class Meta:
        model = Deployment
        fields = ["model_version", "environment", "strategy", "traffic_percent", "started_at", "ended_at"]


@admin.register(Deployment)
class DeploymentAdmin(ServiceCreateAdmin):
    form = DeploymentForm
    list_display = ["model_version", "project", "environment", "strategy", "traffic", "started", "ended"]
    list_select_related = ["model_version__model", "project"]
    list_filter = [LiveFilter, "environment", "strategy", ("project", ProjectFilter)]
    search_fields = ["environment", "model_version__model__name"]
    date_hierarchy = "started_at"
    readonly_fields = ["created_at_utc", "created_by"]
    actions = ["end_now"]

    def get_fields(self, request, obj=None):
        fields = list(DeploymentForm._meta.fields)
        return fields if obj is None else [*fields, "project", "created_at_utc", "created_by"]

    @admin.display(description="traffic", ordering="traffic_percent")
    def traffic(self, obj):
        return f"{obj.traffic_percent.normalize():f}%"

    @admin.display(description="started (UTC)", ordering="started_at")
    def started(self, obj):
        return when(obj.started_at, suffix=False)

    @admin.display(description="ended (UTC)", ordering="ended_at")
    def ended(self, obj):
        return when(obj.ended_at, suffix=False)

    def get_changeform_initial_data(self, request):
        return {"started_at": timezone.now(), **super().get_changeform_initial_data(request)}

    def service_create(self, request, data):
        return services.deployment_create(
            actor=admin_actor(request),
            model_version=data["model_version"],
            environment=data["environment"],
            strategy=data["strategy"],
            traffic_percent=data["traffic_percent"],
            started_at=data["started_at"],
            ended_at=data["ended_at"],
        )

    @admin.action(description="End selected deployments now", permissions=["change"])
    def end_now(self, request, queryset):
        actor = admin_actor(request)
        for deployment in queryset.select_related("model_version__model").filter(ended_at__isnull=True):
            if not actor.can(self.write_roles, deployment.project_id):
                messages.error(request, f"{deployment}: your role in this project may not end deployments.")
                continue
            try:
                services.deployment_end(actor=actor, deployment=deployment)
            except ServiceError as exc:
                messages.error(request, f"{deployment}: {exc.message}")
            else:
                messages.success(request, f"{deployment}: ended.")


# The audit trail and the suppression list ----------------------------------------------------------

AUDIT_TARGET_CHANGE_URLS = {
    # target_type -> admin URL name of that model's page, for the records an event can link to
    "registry.project": "admin:registry_project_change",
    "registry.apikey": "admin:registry_apikey_change",
    "registry.membership": "admin:registry_membership_change",
    "registry.dataset": "admin:registry_dataset_change",
    "registry.dataversion": "admin:registry_dataversion_change",
    "registry.run": "admin:registry_run_change",
    "registry.model": "admin:registry_model_change",
    "registry.modelversion": "admin:registry_modelversion_change",
    "registry.deployment": "admin:registry_deployment_change",
    "governance.erasurerequest": "admin:governance_erasurerequest_change",
    "llmops.prompttemplate": "admin:llmops_prompttemplate_change",
    "llmops.promptversion": "admin:llmops_promptversion_change",
    "llmops.budget": "admin:llmops_budget_change",
    "llmops.evaluationdataset": "admin:llmops_evaluationdataset_change",
    "llmops.evaluationrun": "admin:llmops_evaluationrun_change",
}
# The changelist with a "Verify chain" button; kept here beside the view it calls.
AUDIT_CHANGE_LIST = """{% extends "admin/change_list.html" %}
{% block extrastyle %}{{ block.super }}<style>
  #result_list thead th, #result_list tbody td, #result_list tbody th { padding-left: 6px; padding-right: 6px; }
  td.field-event_type, td.field-actor, td.field-hash_short { white-space: nowrap; }
  td.field-target { overflow-wrap: anywhere; }
</style>{% endblock %}
{% block object-tools-items %}
{% if verify_url %}<li><a href="{{ verify_url }}" class="verify-chain-link">Verify chain</a></li>{% endif %}
{{ block.super }}
{% endblock %}"""


def may_verify_chain(request: HttpRequest) -> bool:
    return request.user.has_perm("registry.view_auditevent") and admin_actor(request).has_any_role(CHAIN_VERIFIERS)


class EventTypeFilter(admin.SimpleListFilter):
    """The event types the service writes (every app's registered types, not a scan of the log)."""

    title = "event type"
    parameter_name = "event_type"

    def lookups(self, request, model_admin):
        return [(value, value) for value, _ in event_type_choices()]

    def queryset(self, request, queryset):
        return queryset.filter(event_type=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The hash-chained audit trail. Append-only: nobody adds, changes or deletes an event, superusers included.

    Members see the events of their projects; events of no project (such as a project's creation) are shown to
    superusers only. "Verify chain" walks the whole chain with registry.audit.audit_chain_verify.
    """

    project_path = "project_id"
    list_display = ["seq", "occurred_utc", "event_type", "actor", "target", "hash_short"]
    list_display_links = ["seq"]
    list_filter = [EventTypeFilter, "target_type"]
    search_fields = ["target_id", "request_id", "actor_name"]
    search_help_text = "exact target id, request id or actor (user:name, key:prefix, or a user name)"
    ordering = ["-seq"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    fieldsets = [
        (None, {"fields": ["seq", "occurred", "event_type", "actor_name", "actor_ids", "project"]}),
        ("Target", {"fields": ["target_type", "target_id", "target_link", "request_id"]}),
        ("Change", {"fields": ["before_display", "after_display"]}),
        ("Chain", {"fields": ["hash_full", "prev_hash_full"]}),
    ]
    readonly_fields = [
        "occurred",
        "actor_ids",
        "project",
        "target_link",
        "before_display",
        "after_display",
        "hash_full",
        "prev_hash_full",
    ]

    @property
    def change_list_template(self):
        return engines["django"].from_string(AUDIT_CHANGE_LIST)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("verify/", self.admin_site.admin_view(self.verify_view), name="{}_{}_verify".format(*info)),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        verify_url = reverse("admin:registry_auditevent_verify") if may_verify_chain(request) else None
        return super().changelist_view(request, {"verify_url": verify_url, **(extra_context or {})})

    def get_search_results(self, request, queryset, search_term):
        """Exact matches only (ids and actor names), so a search never scans the log for a substring."""
        term = search_term.strip()
        if not term:
            return queryset, False
        match = Q(target_id=term) | Q(request_id=term) | Q(actor_name=term)
        if ":" not in term:
            match |= Q(actor_name=f"user:{term}")
        return queryset.filter(match), False

    def verify_view(self, request):
        if not may_verify_chain(request):
            raise PermissionDenied
        result = audit_chain_verify()
        if result.ok:
            messages.success(
                request, f"Audit chain verified: {count(result.length)} events, head #{result.length} {result.head}."
            )
        else:
            messages.error(
                request,
                f"Audit chain broken at event #{result.broken_seq}: {result.reason}. "
                f"The {count(result.length)} events before it verify (last good hash {result.head}).",
            )
        records = records_verify()
        if not records.ok:
            first = records.bad_records[0]
            messages.error(
                request,
                f"{count(len(records.bad_records))} records differ from their creation events, the first "
                f"{first['record']} {first['id']}: {first['reason']}.",
            )
        return HttpResponseRedirect(reverse("admin:registry_auditevent_changelist"))

    @admin.display(description="time (UTC)", ordering="seq")
    def occurred_utc(self, obj):
        return when(obj.occurred_at, suffix=False)

    @admin.display(description="occurred at")
    def occurred(self, obj):
        return when(obj.occurred_at)

    @admin.display(description="actor", ordering="actor_name")
    def actor(self, obj):
        return obj.actor_name

    @admin.display(description="target")
    def target(self, obj):
        return Truncator(obj.target_repr).chars(60)

    @admin.display(description="hash")
    def hash_short(self, obj):
        return short_hash(obj.hash)

    @admin.display(description="hash")
    def hash_full(self, obj):
        return format_html("<code>{}</code>", obj.hash)

    @admin.display(description="previous hash")
    def prev_hash_full(self, obj):
        return format_html("<code>{}</code>", obj.prev_hash)

    @admin.display(description="actor ids")
    def actor_ids(self, obj):
        parts = [(f"user {obj.actor_user_id}", obj.actor_user_id), (f"key {obj.actor_key_id}", obj.actor_key_id)]
        return ", ".join(text for text, pk in parts if pk) or EMPTY

    @admin.display(description="project")
    def project(self, obj):
        return link(Project.objects.filter(pk=obj.project_id).first()) if obj.project_id else EMPTY

    @admin.display(description="target")
    def target_link(self, obj):
        name = AUDIT_TARGET_CHANGE_URLS.get(obj.target_type)
        if name is None or not obj.target_id:
            return obj.target_repr or EMPTY
        return format_html('<a href="{}">{}</a>', reverse(name, args=[obj.target_id]), obj.target_repr)

    @admin.display(description="before")
    def before_display(self, obj):
        return pretty_json(obj.before)

    @admin.display(description="after")
    def after_display(self, obj):
        return pretty_json(obj.after)


@admin.register(SuppressedSubject)
class SuppressedSubjectAdmin(ReadOnlyAdmin):
    """Subjects erased from a project (later data about them is refused or stripped). The key is shown truncated."""

    list_display = ["key_short", "project", "reason", "created"]
    list_select_related = ["project"]
    list_filter = [("project", ProjectFilter)]
    search_fields = ["=subject_key"]
    search_help_text = "exact subject key (the HMAC); raw ids are never searchable"
    fields = ["project", "key_short", "reason", "created_at_utc"]
    readonly_fields = ["key_short"]
    ordering = ["-created_at"]

    @admin.display(description="subject key")
    def key_short(self, obj):
        return format_html("<code>{}…</code>", obj.subject_key[:10])
