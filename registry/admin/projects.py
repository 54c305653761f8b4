"""Admin of projects, API keys and memberships: projects and keys are created through their services (the raw
key is shown once), keys are revoked by an action, memberships set through membership_set."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.utils.html import format_html

from registry import services
from registry.admin.kit import (
    SUPERUSERS_ONLY,
    ProjectFilter,
    ProjectScopedAdmin,
    ServiceCreateAdmin,
    admin_actor,
    when,
)
from registry.models import ApiKey, Membership, Project


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
