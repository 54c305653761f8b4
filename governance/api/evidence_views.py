"""Evidence exports of a model version over REST: its CycloneDX ML-BOM and its Hugging Face-style model card."""

from __future__ import annotations

import json

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema

from governance.evidence import bom, model_card
from registry.api.common import ScopedViewSet
from registry.api.views import ERRORS
from registry.models import ModelVersion
from registry.permissions import ALL_HUMAN_ROLES


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
