"""Retention over REST: legal holds (placed and released by a compliance officer) and the months retention sealed
and dropped (governance/services/retention.py). The sweep itself is a scheduled job (`manage.py apply_retention`)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from governance.api import serializers as s
from governance.models import LegalHold, SealedMonth
from governance.permissions import HOLD_OFFICERS, HOLD_READERS
from governance.services import retention
from registry.api.common import ScopedViewSet
from registry.api.views import ERRORS, WRITE_ERRORS


@extend_schema_view(
    list=extend_schema(summary="Legal holds, newest first (released ones stay as records)"),
    retrieve=extend_schema(summary="One legal hold", responses={200: s.LegalHoldSerializer, **ERRORS}),
)
class LegalHoldViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = LegalHold.objects.select_related("project").order_by("-created_at", "-id")
    serializer_class = s.LegalHoldSerializer
    filterset_fields = ["model_version"]
    read_roles = HOLD_READERS
    write_roles = HOLD_OFFICERS
    action_roles = {"release": HOLD_OFFICERS}

    @extend_schema(
        summary="Place a legal hold: retention removes nothing of the project (or of the version's decisions)",
        request=s.LegalHoldCreateSerializer,
        responses={201: s.LegalHoldSerializer, **WRITE_ERRORS},
    )
    def create(self, request):
        payload = s.LegalHoldCreateSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        hold = retention.hold_place(actor=self.actor, **payload.validated_data)
        return Response(self.get_serializer(hold).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Release the hold, with the reason: retention applies again at its next run",
        request=s.LegalHoldReleaseSerializer,
        responses={200: s.LegalHoldSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        payload = s.LegalHoldReleaseSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        hold = retention.hold_release(
            actor=self.actor, hold=self.get_object(), now=timezone.now(), **payload.validated_data
        )
        return Response(self.get_serializer(hold).data)


@extend_schema_view(
    list=extend_schema(summary="Months of decisions sealed into the audit trail and dropped by retention"),
    retrieve=extend_schema(summary="One sealed month", responses={200: s.SealedMonthSerializer, **ERRORS}),
)
class SealedMonthViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = SealedMonth.objects.select_related("project").order_by("project_id", "month")
    serializer_class = s.SealedMonthSerializer
    read_roles = HOLD_READERS
    write_roles = frozenset()
