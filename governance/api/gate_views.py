"""The promotion gate over REST: see a version's checks, approve it as a compliance officer."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from governance.api import serializers as s
from governance.permissions import APPROVERS
from governance.services import gate
from registry.api.common import ScopedViewSet
from registry.api.views import ERRORS, WRITE_ERRORS
from registry.models import ModelVersion, Stage
from registry.permissions import ALL_HUMAN_ROLES


class GateViewSet(ScopedViewSet):
    """Detail routes under model-versions/{id}/ that belong to governance (the gate's checks are here)."""

    queryset = ModelVersion.objects.all()
    read_roles = ALL_HUMAN_ROLES
    action_roles = {"gate": ALL_HUMAN_ROLES, "approve": APPROVERS}

    @extend_schema(
        summary="The promotion gate's checks for moving this version to a stage",
        parameters=[OpenApiParameter("to_stage", OpenApiTypes.STR, enum=Stage.values, default="production")],
        responses={200: s.GateSerializer, **ERRORS},
    )
    def gate(self, request, pk=None):
        version = self.get_object()
        to_stage = request.query_params.get("to_stage", Stage.PRODUCTION)
        return Response(gate.gate_evaluate(actor=self.actor, model_version=version, to_stage=to_stage))

    @extend_schema(
        summary="Approve a version for production (a compliance officer: the gate's second person)",
        request=s.ApprovalInputSerializer,
        responses={201: s.ApprovalSerializer, **WRITE_ERRORS},
    )
    def approve(self, request, pk=None):
        version = self.get_object()
        payload = s.ApprovalInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        approval = gate.model_version_approve(actor=self.actor, model_version=version, **payload.validated_data)
        return Response(s.ApprovalSerializer(approval).data, status=status.HTTP_201_CREATED)
