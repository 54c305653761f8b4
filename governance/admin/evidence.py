"""Technical documentation packs: generated from a model version's page or a model's (or the API), each shown as a
printable page with every statement's citations (the record and the audit events, seq and hash) and what changed
since the previous pack of the same version or model. Read-only: a pack is kept as it was generated."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import path, reverse

from governance.models import EvidencePack
from governance.permissions import EVIDENCE_AUTHORS
from governance.presenters.evidence import pack_page
from governance.services import evidence
from registry.admin.kit import EMPTY, ReadOnlyAdmin, admin_actor, link, when
from registry.errors import ServiceError
from registry.models import Model, ModelVersion


@admin.register(EvidencePack)
class EvidencePackAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "subject", "generated", "short_sha", "change_count"]
    list_select_related = ["model_version__model__project", "model__project"]
    list_filter = ["model", "model_version__model"]
    ordering = ["-generated_at", "-id"]

    @admin.display(description="documents")
    def subject(self, obj):
        if obj.model_id is not None:
            return link(obj.model, f"{obj.model.name}, all versions")
        return link(obj.model_version, str(obj.model_version)) if obj.model_version_id else EMPTY

    @admin.display(description="generated (UTC)", ordering="generated_at")
    def generated(self, obj):
        return when(obj.generated_at, suffix=False)

    @admin.display(description="sha256")
    def short_sha(self, obj):
        return obj.sha256[:12] + "…"

    @admin.display(description="changes since the previous pack")
    def change_count(self, obj):
        if obj.previous_id is None:
            return "first pack"
        changes = obj.changes or {}
        return ", ".join(f"{len(changes.get(kind, []))} {kind}" for kind in ("added", "changed", "removed"))

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "generate/<int:version_id>/",
                self.admin_site.admin_view(self.generate_view),
                name="{}_{}_generate".format(*info),
            ),
            path(
                "generate-model/<int:model_id>/",
                self.admin_site.admin_view(self.generate_model_view),
                name="{}_{}_generate_model".format(*info),
            ),
            *super().get_urls(),
        ]

    def generate_view(self, request, version_id):
        if request.method != "POST":
            raise PermissionDenied
        version = ModelVersion.objects.filter(pk=version_id).first()
        actor = admin_actor(request)
        if version is None or not actor.can(EVIDENCE_AUTHORS, version.project_id):
            raise PermissionDenied
        try:
            pack = evidence.evidence_pack_generate(actor=actor, model_version=version)
        except ServiceError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("admin:registry_modelversion_change", args=[version_id]))
        return HttpResponseRedirect(reverse("admin:governance_evidencepack_change", args=[pack.pk]))

    def generate_model_view(self, request, model_id):
        if request.method != "POST":
            raise PermissionDenied
        model = Model.objects.filter(pk=model_id).first()
        actor = admin_actor(request)
        if model is None or not actor.can(EVIDENCE_AUTHORS, model.project_id):
            raise PermissionDenied
        try:
            pack = evidence.model_evidence_pack_generate(actor=actor, model=model)
        except ServiceError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("admin:registry_model_change", args=[model_id]))
        return HttpResponseRedirect(reverse("admin:governance_evidencepack_change", args=[pack.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        pack = self.get_object(request, unquote(object_id))
        if pack is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, pack):
            raise PermissionDenied
        return self.render_page(
            request,
            "admin/governance/evidencepack/page.html",
            title=pack.content.get("title", str(pack)),
            **pack_page(pack),
            json_url=reverse("evidence-pack-detail", args=[pack.pk]),
            pdf_url=reverse("evidence-pack-pdf", args=[pack.pk]),
            subject_url=reverse("admin:registry_model_change", args=[pack.model_id])
            if pack.model_id is not None
            else reverse("admin:registry_modelversion_change", args=[pack.model_version_id]),
        )
