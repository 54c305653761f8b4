"""Retention in admin: legal holds (placed through the add form, released on the hold's page with a reason) and
the months retention sealed and dropped, each with its seal's audit event. Every write goes through
governance.services.retention."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from governance.models import LegalHold, SealedMonth
from governance.permissions import HOLD_OFFICERS
from governance.presenters.common import utc
from governance.services import retention
from registry.admin.kit import ProjectFilter, ProjectScopedAdmin, ServiceCreateAdmin, admin_actor, badge
from registry.errors import ServiceError
from registry.models import AuditEvent


class LegalHoldForm(forms.ModelForm):
    class Meta:
        model = LegalHold
        fields = ["project", "model_version", "reason"]
        help_texts = {
            "model_version": "Leave empty to hold the whole project.",
            "reason": "The matter the hold is for (litigation, an investigation, a regulator's request).",
        }


class ReleaseForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}), help_text="Why the hold no longer applies."
    )


@admin.register(LegalHold)
class LegalHoldAdmin(ServiceCreateAdmin):
    write_roles = HOLD_OFFICERS
    form = LegalHoldForm
    list_display = ["__str__", "project", "state", "placed_by", "created_at", "released_at"]
    list_select_related = ["project", "model_version__model"]
    list_filter = [("project", ProjectFilter)]
    ordering = ["-created_at", "-id"]

    def service_create(self, request, data):
        return retention.hold_place(
            actor=admin_actor(request),
            project=data["project"],
            model_version=data.get("model_version"),
            reason=data["reason"],
        )

    @admin.display(description="state")
    def state(self, obj):
        return badge("in force", "danger") if obj.is_active else badge("released", "muted")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        hold = self.get_object(request, unquote(object_id))
        if hold is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, hold):
            raise PermissionDenied
        actor = admin_actor(request)
        may_release = hold.is_active and actor.can(HOLD_OFFICERS, hold.project_id)
        form = ReleaseForm()
        if request.method == "POST":
            if not may_release:
                raise PermissionDenied
            form = ReleaseForm(request.POST)
            if form.is_valid():
                try:
                    retention.hold_release(
                        actor=actor, hold=hold, reason=form.cleaned_data["reason"], now=timezone.now()
                    )
                except ServiceError as exc:
                    messages.error(request, exc.message)
                else:
                    messages.success(request, "Hold released: retention applies again at its next run.")
                    return HttpResponseRedirect(request.path)
        return self.render_page(
            request,
            "admin/governance/legalhold/page.html",
            title=str(hold),
            hold=hold,
            placed=utc(hold.created_at),
            released=utc(hold.released_at) if hold.released_at else None,
            version_url=reverse("admin:registry_modelversion_change", args=[hold.model_version_id])
            if hold.model_version_id
            else None,
            form=form if may_release else None,
        )


@admin.register(SealedMonth)
class SealedMonthAdmin(ProjectScopedAdmin):
    list_display = ["month_display", "project", "decisions", "outcome_versions", "seal_event", "sealed_at"]
    list_select_related = ["project"]
    list_filter = [("project", ProjectFilter)]
    ordering = ["project", "month"]
    readonly_fields = [
        "project",
        "month_display",
        "decisions",
        "outcome_versions",
        "commitments_sha256",
        "seal_event",
        "sealed_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="month", ordering="month")
    def month_display(self, obj):
        return f"{obj.month:%Y-%m}"

    @admin.display(description="seal in the audit trail")
    def seal_event(self, obj):
        event = AuditEvent.objects.filter(seq=obj.audit_seq).values_list("pk", "hash").first()
        if event is None:
            return badge("no event", "danger")
        return format_html(
            '<a href="{}">event {}</a> <code>{}…</code>',
            reverse("admin:registry_auditevent_change", args=[event[0]]),
            obj.audit_seq,
            event[1][:12],
        )
