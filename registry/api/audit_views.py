"""The audit trail over REST: list and filter events, verify the chain."""

from __future__ import annotations

import re

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from registry.api import serializers as s
from registry.api.common import ScopedViewSet
from registry.api.pagination import NewestFirstCursorPagination
from registry.api.views import ERRORS
from registry.audit import event_type_choices
from registry.models import AuditEvent
from registry.permissions import ALL_HUMAN_ROLES, CHAIN_VERIFIERS
from registry.records import trail_verify_for

ANCHOR = re.compile(r"^(\d+):([0-9a-f]{64})$")


class AuditEventFilter(django_filters.FilterSet):
    occurred_after = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    # every app has registered its event types by now (apps are ready before any URLconf is imported)
    event_type = django_filters.ChoiceFilter(choices=event_type_choices())
    actor = django_filters.CharFilter(field_name="actor_name", help_text="e.g. user:olga or key:<prefix>")
    project = django_filters.CharFilter(method="filter_project", help_text="project slug")
    seq_after = django_filters.NumberFilter(field_name="seq", lookup_expr="gt")

    class Meta:
        model = AuditEvent
        fields = ["target_type", "target_id", "event_type", "actor", "request_id"]

    def filter_project(self, queryset, name, value):
        from registry.models import Project

        return queryset.filter(project_id__in=Project.objects.filter(slug=value).values("pk"))


class SeqCursorPagination(NewestFirstCursorPagination):
    ordering = "-seq"


@extend_schema_view(
    list=extend_schema(summary="Audit events (newest first), filtered by target, actor, type, time"),
    retrieve=extend_schema(summary="One audit event", responses={200: s.AuditEventSerializer, **ERRORS}),
)
class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Events of the caller's projects; events of no single project (a batch spanning projects, sent by a
    superuser) only to superusers."""

    queryset = AuditEvent.objects.all()
    serializer_class = s.AuditEventSerializer
    filterset_class = AuditEventFilter
    pagination_class = SeqCursorPagination
    read_roles = ALL_HUMAN_ROLES
    action_roles = {"verify": CHAIN_VERIFIERS}

    @extend_schema(
        summary="Walk the whole chain and check every content-hashed record against the hash its creation "
        "event recorded: {ok, length, head, records_checked, bad_records} (superusers); {ok, project_events, "
        "reason} for a project's auditors",
        parameters=[
            OpenApiParameter("anchor", str, many=True, description="SEQ:HASH published earlier; checked on the way")
        ],
        responses={200: s.ChainVerificationSerializer, **ERRORS},
    )
    @action(detail=False, methods=["get"])
    def verify(self, request):
        anchors: dict[int, str] = {}
        for raw in request.query_params.getlist("anchor"):
            match = ANCHOR.match(raw)
            if not match:
                raise serializers.ValidationError({"anchor": [f"{raw!r} must read SEQ:HASH (64 hex characters)"]})
            anchors[int(match[1])] = match[2]
        scope = self.actor.project_ids(self.action_roles["verify"])
        return Response(trail_verify_for(scope=scope, anchors=anchors, actor_name=self.actor.label))
