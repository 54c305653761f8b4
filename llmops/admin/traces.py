"""Trace spans (OTLP ingest), read-only: every span of a trace that is not an LLM call (an LLM span is its call's
row), with its place in the tree; a call's trace, LLM spans included, is drawn as a waterfall on the call's page
(llmops.admin.calls). Trace settings (which span
attribute names the end user) are set here by compliance officers through trace_settings_set."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html

from llmops.models import TraceSettings, TraceSpan
from llmops.permissions import TRACE_SETTERS
from llmops.services.traces import trace_settings_set
from registry.admin.kit import (
    EMPTY,
    ProjectFilter,
    ReadOnlyAdmin,
    ServiceCreateAdmin,
    admin_actor,
    choice_badge,
    pretty_json,
)


@admin.register(TraceSpan)
class TraceSpanAdmin(ReadOnlyAdmin):
    list_display = ["name", "category", "status_display", "duration", "trace_id", "span_id"]
    list_filter = ["category", "status", ("project", ProjectFilter)]
    search_fields = ["trace_id"]
    search_help_text = "exact trace id"
    ordering = ["-id"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    fields = [
        "project",
        "name",
        "category",
        "kind",
        "status_display",
        "status_message",
        "trace_id",
        "span_id",
        "parent_span_id",
        "service_name",
        "scope_name",
        "duration",
        "start_time_unix_nano",
        "end_time_unix_nano",
        "attributes_display",
        "created_at",
    ]
    readonly_fields = ["status_display", "duration", "attributes_display"]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().lower()
        return (queryset.filter(trace_id=term), False) if term else (queryset, False)

    @admin.display(description="status", ordering="status")
    def status_display(self, obj):
        return choice_badge(TraceSpan.Status, obj.status)

    @admin.display(description="duration")
    def duration(self, obj):
        return f"{obj.duration_ms:,.1f} ms"

    @admin.display(description="attributes")
    def attributes_display(self, obj):
        return pretty_json(obj.attributes) if obj.attributes else EMPTY


class TraceSettingsForm(forms.ModelForm):
    class Meta:
        model = TraceSettings
        fields = ["project", "subject_attribute"]


@admin.register(TraceSettings)
class TraceSettingsAdmin(ServiceCreateAdmin):
    write_roles = TRACE_SETTERS
    form = TraceSettingsForm
    list_display = ["project", "subject_display"]
    list_select_related = ["project"]

    def service_create(self, request, data):
        return trace_settings_set(
            actor=admin_actor(request), project=data["project"], subject_attribute=data["subject_attribute"]
        )

    @admin.display(description="end-user attribute")
    def subject_display(self, obj):
        return format_html("<code>{}</code>", obj.subject_attribute) if obj.subject_attribute else EMPTY
