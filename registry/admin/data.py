"""Admin of datasets, data versions and the subject index. Datasets are created through dataset_create; data
versions and subject index rows are registered through the API only and read-only here."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from registry import services
from registry.admin.kit import (
    EMPTY,
    InProjectFilter,
    ProjectFilter,
    ReadOnlyAdmin,
    ReadOnlyInline,
    ServiceCreateAdmin,
    VersionCountMixin,
    admin_actor,
    count,
    link,
    pretty_json,
    scoped_related_filter,
    short_hash,
)
from registry.models import Dataset, DataVersion, DataVersionParent, SubjectIndex


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
class DatasetAdmin(VersionCountMixin, ServiceCreateAdmin):
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
        ("Use", {"fields": ["written_by_runs", "derived_versions", "used_by_runs", "subjects"]}),
        ("Record", {"fields": ["created_at_utc", "created_by"]}),
    ]
    readonly_fields = [
        "dataset_link",
        "rows",
        "personal_data",
        "schema_display",
        "profile_display",
        "written_by_runs",
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
        return format_html('<span class="nowrap">{}</span>', obj.version)

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

    @admin.display(description="written by (pipeline runs)")
    def written_by_runs(self, obj):
        outputs = obj.producer_links.select_related("run__pipeline__job").order_by("-run__started_at")
        return (
            format_html_join(", ", "{} ({}, {})", ((link(o.run), o.run.pipeline.job, o.run.status) for o in outputs))
            or EMPTY
        )

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
