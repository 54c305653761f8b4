"""Subject access requests: received through the add form (the subject id is hashed, never kept or shown), each
answered by a printable letter built from the records, with the officer's Answer button (the report's sha256
audited). Every write goes through governance.services.access."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import widgets
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from governance.admin.erasure_forms import WriteOnlyInput
from governance.models import AccessRequest
from governance.permissions import ACCESS_OFFICERS
from governance.presenters.access import access_letter
from governance.presenters.common import choice_badge
from governance.presenters.erasure import days_left_of
from governance.queries.access import subject_access_report
from governance.services import access
from governance.templatetags import governance_admin as draw
from registry.admin.kit import EMPTY, ProjectFilter, ServiceCreateAdmin, admin_actor
from registry.errors import ServiceError


class AccessRequestForm(forms.ModelForm):
    subject_id = forms.CharField(
        label="Subject id",
        max_length=512,
        strip=True,
        widget=WriteOnlyInput(attrs={"autocomplete": "off", "spellcheck": "false", "size": 40}),
        help_text="The person's id as your systems know it. Only its pseudonymous key is kept: the id itself is "
        "never stored and never shown again.",
    )
    received_at = forms.SplitDateTimeField(
        label="Received at",
        required=False,
        widget=widgets.AdminSplitDateTime,
        help_text="UTC. Leave empty for now. The answer is due one month after receipt (GDPR Art. 12(3)).",
    )

    class Meta:
        model = AccessRequest
        fields = ["project", "reference", "received_at"]
        help_texts = {"reference": "Your ticket or case reference. Never the person's name or identifiers."}


@admin.register(AccessRequest)
class AccessRequestAdmin(ServiceCreateAdmin):
    write_roles = ACCESS_OFFICERS
    form = AccessRequestForm
    list_display = ["reference", "project", "status_display", "clock_display", "received_at", "answered_at"]
    list_select_related = ["project"]
    list_filter = ["status", ("project", ProjectFilter)]
    search_fields = ["reference"]
    ordering = ["status", "due_at", "id"]

    def service_create(self, request, data):
        return access.access_request_receive(
            actor=admin_actor(request),
            project=data["project"],
            subject_id=data["subject_id"],
            reference=data["reference"],
            received_at=data.get("received_at"),
        )

    @admin.display(description="status", ordering="status")
    def status_display(self, obj):
        return draw.badge(choice_badge(AccessRequest.Status, obj.status))

    @admin.display(description="answer due", ordering="due_at")
    def clock_display(self, obj):
        if obj.status != AccessRequest.Status.OPEN:
            return EMPTY
        return draw.days_left(days_left_of(obj.due_at, timezone.now()))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        target = self.get_object(request, unquote(object_id))
        if target is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, target):
            raise PermissionDenied
        actor = admin_actor(request)
        may_answer = actor.can(ACCESS_OFFICERS, target.project_id) and target.status == AccessRequest.Status.OPEN
        if request.method == "POST":
            if not may_answer or "answer" not in request.POST:
                raise PermissionDenied
            try:
                access.access_request_answer(actor=actor, request=target)
            except ServiceError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"{target} answered; the report's sha256 is in the audit trail.")
            return HttpResponseRedirect(request.path)
        now = timezone.now()
        report = subject_access_report(project=target.project, subject_key=target.subject_key, now=now)
        return self.render_page(
            request,
            "admin/governance/accessrequest/letter.html",
            title=f"Your request for access ({target.reference})",
            original=target,
            letter=access_letter(target, report, now=now),
            status=choice_badge(AccessRequest.Status, target.status),
            may_answer=may_answer,
            json_url=reverse("access-request-report", args=[target.pk]),
            generated_at=now,
        )
