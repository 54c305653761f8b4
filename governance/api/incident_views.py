"""Serious incidents over REST (AI Act Art. 73): open one, record the reports sent to the authority, close it,
roll back from it. Compliance officers write; the project's people read."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from governance.api import serializers as s
from governance.models import Incident
from governance.permissions import INCIDENT_OFFICERS, INCIDENT_READERS
from governance.services import incidents
from registry.api.common import ScopedViewSet
from registry.api.views import ERRORS, WRITE_ERRORS


@extend_schema_view(
    list=extend_schema(summary="Incidents, soonest report due first"),
    retrieve=extend_schema(summary="One incident with its reports", responses={200: s.IncidentSerializer, **ERRORS}),
)
class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = (
        Incident.objects.select_related("project")
        .prefetch_related("reports", "model_versions", "deployments")
        .order_by("due_at", "id")
    )
    serializer_class = s.IncidentSerializer
    filterset_fields = ["status", "category"]
    read_roles = INCIDENT_READERS
    write_roles = INCIDENT_OFFICERS
    action_roles = {"report": INCIDENT_OFFICERS, "close": INCIDENT_OFFICERS, "rollback": INCIDENT_OFFICERS}

    def _answer(self, incident, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=incident.pk)).data, status=code)

    @extend_schema(
        summary="Open an incident: its category fixes the report's deadline; its versions are frozen while open",
        request=s.IncidentCreateSerializer,
        responses={201: s.IncidentSerializer, **WRITE_ERRORS},
    )
    def create(self, request):
        payload = s.IncidentCreateSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        created = incidents.incident_open(actor=self.actor, **payload.validated_data)
        return self._answer(created, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record a report sent to the authority (initial or complete)",
        request=s.IncidentReportInputSerializer,
        responses={200: s.IncidentSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def report(self, request, pk=None):
        payload = s.IncidentReportInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        incident = self.get_object()
        incidents.incident_report(actor=self.actor, incident=incident, **payload.validated_data)
        return self._answer(incident)

    @extend_schema(
        summary="Close the incident with its root cause and corrective action (after the complete report)",
        request=s.IncidentCloseSerializer,
        responses={200: s.IncidentSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        payload = s.IncidentCloseSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        incident = incidents.incident_close(actor=self.actor, incident=self.get_object(), **payload.validated_data)
        return self._answer(incident)

    @extend_schema(
        summary="Record a rollback: another version of the model back to production and deployed",
        request=s.IncidentRollbackSerializer,
        responses={200: s.IncidentSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def rollback(self, request, pk=None):
        incident = self.get_object()
        payload = s.IncidentRollbackSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        incidents.incident_rollback(actor=self.actor, incident=incident, **payload.validated_data)
        return self._answer(incident)
