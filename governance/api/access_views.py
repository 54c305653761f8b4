"""Subject access requests over REST (compliance officers): receive one, read the report built from the records,
extend the deadline, answer it (the report's sha256 audited)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from governance.api import serializers as s
from governance.models import AccessRequest
from governance.permissions import ACCESS_OFFICERS
from governance.queries.access import REPORT_RELATED, subject_access_report
from governance.services import access
from registry.api.common import ScopedViewSet
from registry.api.views import ERRORS, WRITE_ERRORS


@extend_schema_view(
    list=extend_schema(summary="Subject access requests, soonest due first"),
    retrieve=extend_schema(summary="One subject access request", responses={200: s.AccessRequestSerializer, **ERRORS}),
)
class AccessRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = AccessRequest.objects.select_related(*REPORT_RELATED).order_by("due_at", "id")
    serializer_class = s.AccessRequestSerializer
    filterset_fields = ["status", "reference"]
    read_roles = ACCESS_OFFICERS
    write_roles = ACCESS_OFFICERS

    def _answer(self, request_, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=request_.pk)).data, status=code)

    @extend_schema(
        summary="Receive a subject access request (GDPR Art. 15): the subject id is hashed; due in one month",
        request=s.AccessRequestCreateSerializer,
        responses={201: s.AccessRequestSerializer, **WRITE_ERRORS},
    )
    def create(self, request):
        payload = s.AccessRequestCreateSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        created = access.access_request_receive(actor=self.actor, **payload.validated_data)
        return self._answer(created, status.HTTP_201_CREATED)

    @extend_schema(
        summary="The subject access report: decisions with their factors, data held, other records, erasures",
        responses={200: s.AccessReportSerializer, **ERRORS},
    )
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        target = self.get_object()
        report = subject_access_report(project=target.project, subject_key=target.subject_key, now=timezone.now())
        return Response(s.AccessReportSerializer(report).data)

    @extend_schema(
        summary="Answer the request with the report as it stands (its sha256 recorded in the audit trail)",
        request=None,
        responses={200: s.AccessAnswerSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        answered, report = access.access_request_answer(actor=self.actor, request=self.get_object())
        return Response(
            {
                "request": self.get_serializer(self.get_queryset().get(pk=answered.pk)).data,
                "report": s.AccessReportSerializer(report).data,
            }
        )

    @extend_schema(
        summary="Extend the deadline by one or two further months, with the reason (GDPR Art. 12(3))",
        request=s.ErasureExtendSerializer,
        responses={200: s.AccessRequestSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def extend(self, request, pk=None):
        payload = s.ErasureExtendSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        extended = access.access_request_extend(actor=self.actor, request=self.get_object(), **payload.validated_data)
        return self._answer(extended)
