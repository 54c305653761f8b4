"""Contests of automated decisions: received through the add form (the decision named by model version and request
id, or by subject id and time; the subject id is never kept), soonest due first, each linked to the review that
decides it."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin import widgets
from django.utils import timezone
from django.utils.html import format_html

from governance.admin.erasure_forms import WriteOnlyInput
from governance.models import Contest
from governance.permissions import CONTEST_OFFICERS
from governance.presenters.common import choice_badge
from governance.presenters.erasure import days_left_of
from governance.services import contests
from governance.templatetags import governance_admin as draw
from registry.admin.kit import EMPTY, ProjectFilter, ServiceCreateAdmin, admin_actor, link, when


class ContestForm(forms.ModelForm):
    request_id = forms.CharField(required=False, max_length=200, help_text="With the model version.")
    subject_id = forms.CharField(
        label="Subject id",
        required=False,
        max_length=512,
        widget=WriteOnlyInput(attrs={"autocomplete": "off", "spellcheck": "false", "size": 40}),
        help_text="Instead of the model version and request id: the person's id as your systems know it, with the "
        "time of the decision. Only used to find the decision; never stored, never shown again.",
    )
    occurred_at = forms.SplitDateTimeField(
        label="Decision made at", required=False, widget=widgets.AdminSplitDateTime, help_text="UTC, with the id."
    )
    received_at = forms.SplitDateTimeField(
        label="Received at",
        required=False,
        widget=widgets.AdminSplitDateTime,
        help_text="UTC. Leave empty for now. The answer is due one month after receipt.",
    )

    class Meta:
        model = Contest
        fields = ["project", "reference", "statement", "model_version"]
        help_texts = {
            "reference": "Your ticket or case reference. Never the person's name or identifiers.",
            "statement": "What the person says about the decision (their point of view, Art. 22(3)).",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "model_version" in self.fields:
            self.fields["model_version"].required = False


@admin.register(Contest)
class ContestAdmin(ServiceCreateAdmin):
    write_roles = CONTEST_OFFICERS
    form = ContestForm
    list_display = ["reference", "project", "decision", "status_display", "outcome", "received", "days_left"]
    list_select_related = ["project", "review_item"]
    list_filter = ["status", "outcome", ("project", ProjectFilter)]
    search_fields = ["reference"]
    ordering = ["status", "due_at", "id"]
    readonly_fields = [
        "reference",
        "project",
        "statement",
        "decision",
        "review_link",
        "status_display",
        "outcome",
        "final_decision",
        "received",
        "due",
        "days_left",
        "extension",
        "decided",
    ]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (None, {"fields": ["project", "reference", "statement"]}),
                ("The decision", {"fields": ["model_version", "request_id", "subject_id", "occurred_at"]}),
                (None, {"fields": ["received_at"]}),
            ]
        return [
            (None, {"fields": ["reference", "project", "statement", "status_display", "received", "due", "days_left"]}),
            ("The decision and its review", {"fields": ["decision", "review_link", "outcome", "final_decision"]}),
            ("Record", {"fields": ["extension", "decided"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def service_create(self, request, data):
        return contests.contest_receive(
            actor=admin_actor(request),
            project=data["project"],
            reference=data["reference"],
            statement=data.get("statement") or "",
            model_version=data.get("model_version"),
            request_id=data.get("request_id") or None,
            subject_id=data.get("subject_id") or None,
            occurred_at=data.get("occurred_at"),
            received_at=data.get("received_at"),
        )

    @admin.display(description="decision")
    def decision(self, obj):
        return format_html("{} of {}", obj.request_id, link(obj.model_version))

    @admin.display(description="review")
    def review_link(self, obj):
        return format_html("{} ({})", link(obj.review_item), obj.review_item.get_status_display().lower())

    @admin.display(description="status", ordering="status")
    def status_display(self, obj):
        return draw.badge(choice_badge(Contest.Status, obj.status))

    @admin.display(description="received", ordering="received_at")
    def received(self, obj):
        return when(obj.received_at)

    @admin.display(description="due", ordering="due_at")
    def due(self, obj):
        return when(obj.due_at)

    @admin.display(description="days left", ordering="due_at")
    def days_left(self, obj):
        if obj.status != Contest.Status.OPEN:
            return "answered in time" if obj.decided_at and obj.decided_at <= obj.due_at else EMPTY
        return draw.days_left(days_left_of(obj.due_at, timezone.now()))

    @admin.display(description="extended")
    def extension(self, obj):
        if not obj.extension_months:
            return EMPTY
        return format_html("by {} months on {}: {}", obj.extension_months, when(obj.extended_at), obj.extension_reason)

    @admin.display(description="decided at")
    def decided(self, obj):
        return when(obj.decided_at)
