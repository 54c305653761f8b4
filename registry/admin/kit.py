"""The admin kit every app's admin is built on: scoping, the base admins, a page mixin, a defer mixin, display
helpers, filters and the one mapping of a ServiceError onto a form.

Why one kit: registry, governance and llmops admins scope rows by the same project roles, draw the same
badges and timestamps, and build custom pages the same way; kept here once, a page looks and behaves alike
wherever it is, and a change (a colour, a permission rule) is made in one place. Colours live in
registry/static/registry/admin.css (attached by the base admins' Media), never in Python strings.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from datetime import UTC

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from registry.actors import Actor
from registry.errors import ServiceError
from registry.models import (
    ApiKey,
    Dataset,
    DataVersion,
    Deployment,
    Membership,
    Model,
    ModelVersion,
    Project,
    Run,
)
from registry.permissions import REGISTRY_WRITERS
from registry.roles import roles_with_permission
from registry.tones import Tone, tone_of

__all__ = [
    "EMPTY",
    "LABEL_JOINS",
    "PROJECT_PATHS",
    "STYLESHEET",
    "SUPERUSERS_ONLY",
    "BooleanFieldFilter",
    "DeferMixin",
    "ErasedFilter",
    "InProjectFilter",
    "PageMixin",
    "PresenceFilter",
    "ProjectFilter",
    "ProjectScopedAdmin",
    "ReadOnlyAdmin",
    "ReadOnlyInline",
    "ServiceCreateAdmin",
    "ServiceRejected",
    "Tone",
    "admin_actor",
    "admin_url",
    "apply_service_error",
    "as_get",
    "audit_trail_url",
    "badge",
    "choice_badge",
    "count",
    "json_scalar",
    "link",
    "member_scope",
    "plural",
    "pretty_json",
    "progress_bar",
    "role_scope",
    "scoped_related_filter",
    "service_error_text",
    "short_hash",
    "view_roles",
    "when",
]

STYLESHEET = "registry/admin.css"
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


# Filters -------------------------------------------------------------------------------------------


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


class VersionOfParentFilter(admin.SimpleListFilter):
    """Versions of the parent chosen in another filter (a model's versions, a prompt's versions), or the version
    already chosen and its siblings; with no parent chosen, listed only while there are few. Subclasses name
    the version model, its parent field, the other filter's parameter and the lookup on the filtered list."""

    version_model: type
    parent: str  # the version's field naming its parent: "model", "template"
    parent_parameter: str  # the GET parameter of the parent's filter
    field: str  # what the filtered list's rows name the version by: "model_version_id"
    MAX_UNFILTERED = 20

    def lookups(self, request, model_admin):
        versions = member_scope(self.version_model.objects.select_related(self.parent), request.user, "project")
        parent_id = request.GET.get(self.parent_parameter, "")
        selected = self.value() or ""
        if parent_id.isdigit():
            versions = versions.filter(**{f"{self.parent}_id": parent_id})
        elif selected.isdigit():
            versions = versions.filter(**{f"{self.parent}__versions__pk": selected})
        versions = list(versions.order_by(f"{self.parent}__name", "-version")[: self.MAX_UNFILTERED + 1])
        if len(versions) > self.MAX_UNFILTERED and not (parent_id.isdigit() or selected.isdigit()):
            return []  # too many to list: choose the parent first
        return [(str(version.pk), str(version)) for version in versions]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(**{self.field: value}) if value and value.isdigit() else queryset


class VersionCountMixin:
    """A list column with each row's number of versions (`versions` related name), counted in the list's query."""

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(version_count=Count("versions"))

    @admin.display(description="versions", ordering="version_count")
    def version_count(self, obj):
        return obj.version_count


class PresenceFilter(admin.SimpleListFilter):
    """Whether a nullable field is set (``field``), with words of its own for the two answers (``labels``)."""

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


class ErasedFilter(PresenceFilter):
    """Whether an erasure request redacted the record (its ``erased_at``): decisions, LLM calls."""

    title = "erasure"
    parameter_name = "erased"
    field = "erased_at"
    labels = ("Erased", "Not erased")


class BooleanFieldFilter(admin.SimpleListFilter):
    """A yes/no filter on one boolean field, with words of its own for the two values."""

    field: str
    yes: tuple[str, str]  # (parameter value, label) of True
    no: tuple[str, str]

    def lookups(self, request, model_admin):
        return [self.yes, self.no]

    def queryset(self, request, queryset):
        if self.value() in (self.yes[0], self.no[0]):
            return queryset.filter(**{self.field: self.value() == self.yes[0]})
        return queryset


# Display helpers -----------------------------------------------------------------------------------


EMPTY = "-"  # what Django's admin shows for an empty value


def when(value, *, suffix: bool = True):
    """A timestamp as compliance reports write it: 2026-02-01 09:00 UTC (every timestamp is stored in UTC).
    Changelists leave the suffix out and say "(UTC)" in the column title."""
    if value is None:
        return EMPTY
    text = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") + (" UTC" if suffix else "")
    return format_html('<span class="nowrap">{}</span>', text)


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
    return format_html('<code title="{}" class="nowrap">{}…</code>', value, value[:length])


def count(value: int) -> str:
    return f"{value:,}"


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def json_scalar(value) -> str:
    """A prediction or outcome as a person reads it: a label as is, anything else as JSON."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def audit_trail_url(obj) -> str:
    """The audit event list filtered to the events about ``obj``."""
    return reverse("admin:registry_auditevent_changelist") + f"?target_type__exact={obj._meta.label_lower}&q={obj.pk}"


def badge(text: str, tone: Tone | str):
    """A small coloured label: ``<span class="badge badge-<tone>">``; the colours are the stylesheet's."""
    return format_html('<span class="badge badge-{}">{}</span>', Tone(tone).value, text)


def progress_bar(done: int, total: int, *, finished: bool = False):
    """A background job's progress: a ``<progress>`` bar with "done / total" beside it (indeterminate while the
    total is unknown; full once the job finished). Its look is the stylesheet's ``.job-progress``."""
    if finished:
        done = total = max(done, total, 1)
    if not total:
        return format_html('<span class="job-progress"><progress></progress> <span>{}</span></span>', "starting")
    percent = round(100 * min(done, total) / total)
    return format_html(
        '<span class="job-progress"><progress value="{}" max="{}">{}%</progress> <span>{} / {} ({}%)</span></span>',
        min(done, total),
        total,
        percent,
        f"{done:,}",
        f"{total:,}",
        percent,
    )


def choice_badge(choices: type, value: str):
    """A value of a choices class as a badge in the tone declared beside the choices (registry.tones)."""
    return badge(value, tone_of(choices, value))


# Forms ---------------------------------------------------------------------------------------------


def apply_service_error(form: forms.BaseForm, exc: ServiceError) -> None:
    """Put a ServiceError on the form: each of its field messages beside the form field of that name, and its
    message above the form when none of its fields is one of the form's (so a person always sees why)."""
    placed = False
    for name, field_messages in exc.fields.items():
        if name in form.fields:
            form.add_error(name, field_messages)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def service_error_text(exc: ServiceError) -> str:
    """A ServiceError as one message line: its message, then every field message (a refused promotion names
    each failed check)."""
    details = "; ".join(text for texts in exc.fields.values() for text in texts)
    return f"{exc.message}: {details}" if details else exc.message


def as_get(request: HttpRequest) -> HttpRequest:
    """The request as a GET of the same page: a page whose own form was posted and refused renders again with
    the bound form, while the admin's change form underneath is only shown."""
    shown = copy.copy(request)
    shown.method = "GET"
    return shown


# Mixins --------------------------------------------------------------------------------------------


class PageMixin:
    """A custom admin page (a confirmation, a report, a dashboard) built on the admin's own context once:
    the site's context, the model's options, the title, the media (the admin's, with the stylesheet, and the
    form's), and the current app for URL reversing."""

    def page_context(self, request: HttpRequest, *, title: str, form: forms.BaseForm | None = None, **context):
        media = self.media + form.media if form is not None else self.media
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": None,
            "opts": self.opts,
            "has_view_permission": self.has_view_permission(request),
            "form": form,
            "media": media,
            **context,
        }

    def render_page(self, request: HttpRequest, template: str, *, title: str, form=None, **context):
        request.current_app = self.admin_site.name
        return TemplateResponse(request, template, self.page_context(request, title=title, form=form, **context))


class DeferMixin:
    """``list_defer``: columns the changelist leaves in the database (large JSON a list never shows); a
    record's own page still loads them."""

    list_defer: tuple[str, ...] = ()

    def get_changelist(self, request, **kwargs):
        changelist = super().get_changelist(request, **kwargs)
        fields = tuple(self.list_defer)
        if not fields:
            return changelist

        class DeferringChangeList(changelist):
            def get_queryset(self, request, exclude_parameters=None):
                return super().get_queryset(request, exclude_parameters).defer(*fields)

        return DeferringChangeList


# Base admins ---------------------------------------------------------------------------------------


class ProjectScopedAdmin(PageMixin, DeferMixin, admin.ModelAdmin):
    """Non-superusers see only the rows of projects where their role may see the model (``member_scope``).

    `project_path` leads from the model to its project; `write_roles` are the project roles whose
    projects are offered in the foreign keys of an add form.
    """

    project_path = "project"
    write_roles: frozenset[str] = REGISTRY_WRITERS
    list_per_page = 50

    class Media:
        css = {"all": [STYLESHEET]}

    def get_queryset(self, request):
        return member_scope(super().get_queryset(request), request.user, self.project_path)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if related in PROJECT_PATHS and "queryset" not in kwargs:
            queryset = related._default_manager.select_related(*LABEL_JOINS.get(related, ()))
            kwargs["queryset"] = role_scope(queryset, admin_actor(request), self.write_roles, PROJECT_PATHS[related])
            if related is Project and "initial" not in kwargs:
                only = list(kwargs["queryset"].values_list("pk", flat=True)[:2])
                if len(only) == 1:  # the one project the person may write in: chosen for them
                    kwargs["initial"] = only[0]
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
    form (apply_service_error), so the person sees the message next to the field with their input kept.
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
                apply_service_error(self, error)
                return cleaned

        return RejectedForm
