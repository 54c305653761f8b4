"""The registry's model and model version pages registered again with the sections that belong to governance: on a
version's page the Promotion gate (every check for production with why, the verdict, the approvals, and an Approve
form for a compliance officer of the project), Lineage (it reaches decisions) and its documentation packs; on a
model's page its documentation packs across its versions. The registry imports nothing from governance."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.http import HttpResponseRedirect
from django.urls import reverse

from governance.models import EvidencePack
from governance.permissions import APPROVERS, EVIDENCE_AUTHORS
from governance.presenters.gate import model_version_gate
from governance.presenters.lineage import model_version_lineage
from governance.services.gate import model_version_approve
from registry.admin.kit import admin_actor, admin_url, apply_service_error, as_get, when
from registry.admin.models import ModelAdmin, ModelVersionAdmin
from registry.errors import ServiceError
from registry.models import Model, ModelVersion, Stage

admin.site.unregister(ModelVersion)
admin.site.unregister(Model)


def _pack_links(packs) -> list[dict]:
    return [
        {"url": reverse("admin:governance_evidencepack_change", args=[pack.pk]), "when": when(pack.generated_at)}
        for pack in packs.order_by("-generated_at", "-id")[:5]
    ]


@admin.register(Model)
class ModelEvidenceAdmin(ModelAdmin):
    change_form_template = "admin/governance/model_change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        model = self.get_object(request, unquote(object_id))
        if model is not None and self.has_view_or_change_permission(request, model):
            actor = admin_actor(request)
            extra["evidence"] = {
                "packs": _pack_links(EvidencePack.objects.filter(model=model)),
                "generate_url": reverse("admin:governance_evidencepack_generate_model", args=[model.pk])
                if actor.can(EVIDENCE_AUTHORS, model.project_id)
                else None,
            }
        return super().change_view(request, object_id, form_url, extra)


class ApprovalForm(forms.Form):
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="What you reviewed. Recorded with the approval, under your name.",
    )


@admin.register(ModelVersion)
class ModelVersionLineageAdmin(ModelVersionAdmin):
    change_form_template = "admin/governance/modelversion_change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        version = self.get_object(request, unquote(object_id))
        if version is not None and self.has_view_or_change_permission(request, version):
            actor = admin_actor(request)
            gate = model_version_gate(actor=actor, model_version=version)
            approval_form = ApprovalForm(prefix="approval") if gate["may_approve"] else None
            if request.method == "POST" and "_approve" in request.POST and gate["may_approve"]:
                approval_form = ApprovalForm(request.POST, prefix="approval")
                if self._approve(request, version, approval_form):
                    return HttpResponseRedirect(admin_url(version))
                request = as_get(request)  # the page again, with the refused approval form
            extra["gate"] = gate
            extra["approval_form"] = approval_form
            extra["lineage"] = model_version_lineage(version)
            extra["evidence"] = {
                "packs": _pack_links(EvidencePack.objects.filter(model_version=version)),
                "generate_url": reverse("admin:governance_evidencepack_generate", args=[version.pk])
                if actor.can(EVIDENCE_AUTHORS, version.project_id)
                else None,
                "bom_url": reverse("model-version-bom", args=[version.pk]),
                "card_url": reverse("model-version-model-card", args=[version.pk]),
            }
        return super().change_view(request, object_id, form_url, extra)

    def _approve(self, request, version: ModelVersion, form: ApprovalForm) -> bool:
        if not form.is_valid():
            return False
        actor = admin_actor(request)
        if not actor.can(APPROVERS, version.project_id):  # may_approve says so already; the service checks too
            form.add_error(None, "Only a compliance officer of the project may approve.")
            return False
        try:
            model_version_approve(
                actor=actor, model_version=version, to_stage=Stage.PRODUCTION, comment=form.cleaned_data["comment"]
            )
        except ServiceError as exc:
            apply_service_error(form, exc)
            return False
        messages.success(request, f"{version}: approved for production.")
        return True
