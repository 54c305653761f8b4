"""Admin of the hash-chained audit trail (with its "Verify chain" page) and the suppression list."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from registry.admin.kit import (
    EMPTY,
    ProjectFilter,
    ReadOnlyAdmin,
    admin_actor,
    count,
    link,
    pretty_json,
    short_hash,
    when,
)
from registry.audit import audit_chain_verify, event_type_choices
from registry.models import AuditEvent, Project, SuppressedSubject
from registry.permissions import CHAIN_VERIFIERS
from registry.records import records_verify, verification_recorded

# target_type -> admin URL name of that model's page, for the records an event can link to. The registry's own
# are here; each app's admin adds its own with audit_target_links when it is imported.
AUDIT_TARGET_CHANGE_URLS: dict[str, str] = {}


def audit_target_links(*labels: str) -> None:
    """Link the audit trail's events whose target is one of these models ("app_label.model") to the model's admin
    page (only models whose events carry the record's primary key as target id)."""
    for label in labels:
        app_label, model = label.split(".")
        AUDIT_TARGET_CHANGE_URLS[label] = f"admin:{app_label}_{model}_change"


audit_target_links(
    "registry.project",
    "registry.apikey",
    "registry.membership",
    "registry.dataset",
    "registry.dataversion",
    "registry.run",
    "registry.model",
    "registry.modelversion",
    "registry.deployment",
)


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

    change_list_template = "admin/registry/auditevent/change_list.html"  # with the "Verify chain" button

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("verify/", self.admin_site.admin_view(self.verify_view), name="{}_{}_verify".format(*info)),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        verify_url = reverse("admin:registry_auditevent_verify") if may_verify_chain(request) else None
        # The numbers are the one chain's, across projects: a list of some projects skips the others' events.
        partial = not request.user.is_superuser or any(name.startswith("project") for name in request.GET)
        context = {"verify_url": verify_url, "numbering_note": partial, **(extra_context or {})}
        return super().changelist_view(request, context)

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
        verification_recorded(actor_name=admin_actor(request).label, chain=result, records=records)
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
