"""Evidence over REST: a model version's CycloneDX ML-BOM and Hugging Face-style model card, the record of
processing, and the technical documentation packs of a model version or of a model across its versions."""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from governance.api import serializers as s
from governance.evidence import bom, model_card
from governance.evidence.pdf import PdfUnavailable
from governance.models import EvidencePack
from governance.permissions import EVIDENCE_AUTHORS
from governance.presenters.evidence import pack_pdf
from governance.queries.processing import processing_record, processing_record_csv
from governance.services import evidence
from registry.api.common import ScopedViewSet
from registry.api.views import ERRORS, WRITE_ERRORS
from registry.models import Model, ModelVersion, Project
from registry.permissions import ALL_HUMAN_ROLES


class ServiceUnavailable(APIException):
    status_code = 503
    default_code = "unavailable"


class EvidenceViewSet(ScopedViewSet):
    """Detail routes under model-versions/{id}/ that export what was recorded about the version."""

    queryset = ModelVersion.objects.all()
    read_roles = ALL_HUMAN_ROLES
    action_roles = {"bom": ALL_HUMAN_ROLES, "card": ALL_HUMAN_ROLES}

    def _download(self, body: str, media_type: str, name: str) -> HttpResponse:
        response = HttpResponse(body, content_type=media_type)
        response["Content-Disposition"] = f'inline; filename="{name}"'
        return response

    @extend_schema(
        summary="The version as a CycloneDX 1.6 ML-BOM (model, data versions with hashes, packages)",
        responses={(200, "application/vnd.cyclonedx+json"): OpenApiTypes.OBJECT, **ERRORS},
    )
    def bom(self, request, pk=None):
        version = self.get_object()
        document = bom.model_version_bom(model_version=version)
        body = json.dumps(document, indent=2, sort_keys=True)
        return self._download(body, bom.MEDIA_TYPE, f"model-version-{version.pk}.cdx.json")

    @extend_schema(
        summary="The version as a Hugging Face-style model card (markdown with YAML front matter)",
        responses={(200, "text/markdown"): OpenApiTypes.STR, **ERRORS},
    )
    def card(self, request, pk=None):
        version = self.get_object()
        text = model_card.model_version_card(model_version=version)
        return self._download(text, model_card.MEDIA_TYPE, f"model-version-{version.pk}-README.md")


class ProcessingRecordViewSet(ScopedViewSet):
    """The record of processing activities of a project (GDPR Art. 30), as JSON or CSV."""

    queryset = Project.objects.all()
    project_lookup = "id"
    lookup_field = "slug"
    read_roles = ALL_HUMAN_ROLES
    action_roles = {"record": ALL_HUMAN_ROLES, "record_csv": ALL_HUMAN_ROLES}

    @extend_schema(
        summary="The project's record of processing activities (GDPR Art. 30), generated from the records",
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def record(self, request, slug=None):
        project = self.get_object()
        return Response(processing_record(project=project, now=timezone.now()))

    @extend_schema(
        summary="The project's record of processing activities as CSV",
        responses={(200, "text/csv"): OpenApiTypes.STR, **ERRORS},
    )
    def record_csv(self, request, slug=None):
        project = self.get_object()
        body = processing_record_csv(processing_record(project=project, now=timezone.now()))
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="processing-record-{project.slug}.csv"'
        return response


@extend_schema_view(
    list=extend_schema(summary="Technical documentation packs (of model versions and of models), newest first"),
    retrieve=extend_schema(
        summary="One technical documentation pack", responses={200: s.EvidencePackSerializer, **ERRORS}
    ),
)
class EvidencePackViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = EvidencePack.objects.select_related("project").order_by("-generated_at", "-id")
    serializer_class = s.EvidencePackSerializer
    filterset_fields = ["model_version", "model"]
    read_roles = ALL_HUMAN_ROLES

    @extend_schema(
        summary="The pack printed to PDF (A4, by headless Chromium); 503 where no Chromium is installed",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **ERRORS},
    )
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        pack = self.get_object()
        try:
            body = pack_pdf(pack)
        except PdfUnavailable as exc:
            raise ServiceUnavailable(str(exc)) from None
        response = HttpResponse(body, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="evidence-pack-{pack.pk}.pdf"'
        return response


class EvidencePackGenerateViewSet(ScopedViewSet):
    """POST model-versions/{id}/evidence-packs/: generate the version's pack now."""

    queryset = ModelVersion.objects.all()
    read_roles = ALL_HUMAN_ROLES
    action_roles = {"generate": EVIDENCE_AUTHORS}

    @extend_schema(
        summary="Generate the version's technical documentation pack (AI Act Annex IV) from the records",
        request=None,
        responses={201: s.EvidencePackSerializer, **WRITE_ERRORS},
    )
    def generate(self, request, pk=None):
        pack = evidence.evidence_pack_generate(actor=self.actor, model_version=self.get_object())
        return Response(s.EvidencePackSerializer(pack).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="The model's technical documentation packs across its versions, newest first"),
)
class ModelEvidencePackViewSet(mixins.ListModelMixin, ScopedViewSet):
    """GET and POST models/{id}/evidence-packs/: the model's packs across its versions, and a new one now. Who may
    generate one is who may generate a version's pack (EVIDENCE_AUTHORS)."""

    queryset = EvidencePack.objects.select_related("project").order_by("-generated_at", "-id")
    serializer_class = s.EvidencePackSerializer
    read_roles = ALL_HUMAN_ROLES
    action_roles = {"generate": EVIDENCE_AUTHORS}

    def _model(self) -> Model:
        """The model, within the projects where the caller's role allows this action (404 elsewhere)."""
        return get_object_or_404(self.scope_queryset(Model.objects.all()), pk=self.kwargs["pk"])

    def get_queryset(self):
        return super().get_queryset().filter(model=self._model())

    @extend_schema(
        summary="Generate the model's technical documentation pack across its versions (AI Act Annex IV)",
        request=None,
        responses={201: s.EvidencePackSerializer, **WRITE_ERRORS},
    )
    def generate(self, request, pk=None):
        pack = evidence.model_evidence_pack_generate(actor=self.actor, model=self._model())
        return Response(s.EvidencePackSerializer(pack).data, status=status.HTTP_201_CREATED)
