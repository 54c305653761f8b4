"""Serious incidents: opened through the add form, each on a page of its own with its clock (the report to the
authority due by...), the versions it freezes, the affected decisions, the reports sent, and the forms to record a
report and to close it. Every write goes through governance.services.incidents."""

from __future__ import annotations

from datetime import UTC, datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import widgets
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from governance.models import Incident, IncidentReport
from governance.permissions import INCIDENT_OFFICERS
from governance.presenters.common import choice_badge, utc
from governance.presenters.erasure import days_left_of
from governance.services import incidents
from governance.templatetags import governance_admin as draw
from registry.admin.kit import EMPTY, ProjectFilter, ServiceCreateAdmin, admin_actor, role_scope
from registry.errors import ServiceError
from registry.models import Deployment, ModelVersion


class IncidentForm(forms.ModelForm):
    affected_after = forms.SplitDateTimeField(
        required=False, widget=widgets.AdminSplitDateTime, help_text="UTC: the affected decisions from"
    )
    affected_before = forms.SplitDateTimeField(
        required=False, widget=widgets.AdminSplitDateTime, help_text="UTC: the affected decisions until"
    )
    aware_at = forms.SplitDateTimeField(
        widget=widgets.AdminSplitDateTime, help_text="UTC: when you became aware of it. The clock runs from then."
    )

    class Meta:
        model = Incident
        fields = ["project", "title", "description", "category", "aware_at", "model_versions", "deployments"]


class ReportForm(forms.Form):
    kind = forms.ChoiceField(choices=IncidentReport.Kind.choices)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "cols": 80}), help_text="What was sent.")
    sent_at = forms.SplitDateTimeField(widget=widgets.AdminSplitDateTime, help_text="UTC")
    recipient = forms.CharField(max_length=300, help_text="The authority, and how it was sent.")
    attachments = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        help_text="One per line: file name, a space, its sha256.",
    )

    def clean_attachments(self):
        rows = []
        for line in self.cleaned_data["attachments"].splitlines():
            if line.strip():
                name, _, digest = line.strip().rpartition(" ")
                rows.append({"name": name.strip(), "sha256": digest.strip().lower()})
        return rows


class CloseForm(forms.Form):
    root_cause = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 80}))
    corrective_action = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 80}))


class RollbackForm(forms.Form):
    """A rollback from the incident: another version of a model it names goes back to production (through the
    gate) and is deployed; the choices are those versions."""

    model_version = forms.ModelChoiceField(queryset=ModelVersion.objects.none(), help_text="Roll back to")
    environment = forms.CharField(max_length=100, initial="production")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2, "cols": 80}))

    def __init__(self, *args, incident: Incident, **kwargs):
        super().__init__(*args, **kwargs)
        named = incident.model_versions.values_list("pk", flat=True)
        models = incident.model_versions.values_list("model_id", flat=True)
        self.fields["model_version"].queryset = (
            ModelVersion.objects.filter(project_id=incident.project_id, model_id__in=models)
            .exclude(pk__in=named)
            .select_related("model")
            .order_by("model__name", "-version")
        )


def clock(incident: Incident, now):
    """The report's clock while nothing is sent; once sent, whether it went in time."""
    if incident.status == Incident.Status.OPEN:
        return days_left_of(incident.due_at, now)
    first = min((r.sent_at for r in incident.reports.all()), default=None)
    if first is None:
        return None
    in_time = first <= incident.due_at
    return {
        "days": 0,
        "text": "reported in time" if in_time else "reported late",
        "tone": "" if in_time else "danger",
        "due": incident.due_at.astimezone(UTC).strftime("due %Y-%m-%d %H:%M UTC"),
    }


@admin.register(Incident)
class IncidentAdmin(ServiceCreateAdmin):
    write_roles = INCIDENT_OFFICERS
    form = IncidentForm
    list_display = ["title", "project", "category", "status_display", "clock_display", "affected_count"]
    list_select_related = ["project"]
    list_filter = ["status", "category", ("project", ProjectFilter)]
    search_fields = ["title"]
    ordering = ["status", "due_at", "id"]
    filter_horizontal = ()

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("reports")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        actor = admin_actor(request)
        if db_field.name == "model_versions":
            kwargs["queryset"] = role_scope(
                ModelVersion.objects.select_related("model"), actor, INCIDENT_OFFICERS, "project"
            )
        if db_field.name == "deployments":
            kwargs["queryset"] = role_scope(
                Deployment.objects.select_related("model_version__model"), actor, INCIDENT_OFFICERS, "project"
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def service_create(self, request, data):
        return incidents.incident_open(
            actor=admin_actor(request),
            project=data["project"],
            title=data["title"],
            description=data["description"],
            category=data["category"],
            aware_at=data["aware_at"],
            model_versions=list(data["model_versions"]),
            deployments=list(data.get("deployments") or []),
            affected_after=data.get("affected_after"),
            affected_before=data.get("affected_before"),
        )

    @admin.display(description="status", ordering="status")
    def status_display(self, obj):
        return draw.badge(choice_badge(Incident.Status, obj.status))

    @admin.display(description="report", ordering="due_at")
    def clock_display(self, obj):
        shown = clock(obj, timezone.now())
        return draw.days_left(shown) if shown is not None else EMPTY

    # The incident's page

    def change_view(self, request, object_id, form_url="", extra_context=None):
        incident = self.get_object(request, unquote(object_id))
        if incident is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, incident):
            raise PermissionDenied
        actor = admin_actor(request)
        may_write = actor.can(INCIDENT_OFFICERS, incident.project_id) and incident.is_open
        report_form = ReportForm(prefix="report")
        close_form = CloseForm(prefix="close")
        rollback_form = RollbackForm(prefix="rollback", incident=incident)
        if request.method == "POST":
            if not may_write:
                raise PermissionDenied
            try:
                if "record_report" in request.POST:
                    report_form = ReportForm(request.POST, prefix="report")
                    if report_form.is_valid():
                        incidents.incident_report(actor=actor, incident=incident, **report_form.cleaned_data)
                        messages.success(request, "Report recorded.")
                        return HttpResponseRedirect(request.path)
                elif "close_incident" in request.POST:
                    close_form = CloseForm(request.POST, prefix="close")
                    if close_form.is_valid():
                        incidents.incident_close(actor=actor, incident=incident, **close_form.cleaned_data)
                        messages.success(request, "Incident closed.")
                        return HttpResponseRedirect(request.path)
                elif "record_rollback" in request.POST:
                    rollback_form = RollbackForm(request.POST, prefix="rollback", incident=incident)
                    if rollback_form.is_valid():
                        deployment = incidents.incident_rollback(
                            actor=actor, incident=incident, **rollback_form.cleaned_data
                        )
                        messages.success(request, f"Rolled back: {deployment} recorded.")
                        return HttpResponseRedirect(request.path)
            except ServiceError as exc:
                details = "; ".join(f"{name}: {' '.join(texts)}" for name, texts in (exc.fields or {}).items())
                messages.error(request, f"{exc.message}{' (' + details + ')' if details else ''}")
        filter_ = incident.affected_filter or {}
        decisions_url = reverse("admin:governance_decision_changelist")
        if len(filter_.get("model_versions", [])) == 1:
            decisions_url += f"?model_version__id__exact={filter_['model_versions'][0]}"
        now = timezone.now()
        return self.render_page(
            request,
            "admin/governance/incident/page.html",
            title=str(incident),
            incident=incident,
            status=choice_badge(Incident.Status, incident.status),
            clock=clock(incident, now),
            due=utc(incident.due_at),
            aware=utc(incident.aware_at),
            versions=[
                {"label": str(v), "url": reverse("admin:registry_modelversion_change", args=[v.pk]), "stage": v.stage}
                for v in incident.model_versions.select_related("model")
            ],
            deployments=[str(d) for d in incident.deployments.select_related("model_version__model")],
            window=(
                utc(datetime.fromisoformat(filter_["occurred_after"])) if filter_.get("occurred_after") else "start",
                utc(datetime.fromisoformat(filter_["occurred_before"])) if filter_.get("occurred_before") else "now",
            ),
            decisions_url=decisions_url,
            reports=[
                {
                    "kind": r.get_kind_display(),
                    "sent": utc(r.sent_at),
                    "recipient": r.recipient,
                    "text": r.text,
                    "attachments": r.attachments,
                    "in_time": r.sent_at <= incident.due_at,
                }
                for r in incident.reports.all()
            ],
            may_write=may_write,
            report_form=report_form,
            close_form=close_form,
            rollback_form=rollback_form if rollback_form.fields["model_version"].queryset.exists() else None,
            media=self.media + report_form.media,
        )
