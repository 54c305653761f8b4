"""Erasure requests over REST (compliance officers): create, trace, execute, reject, report."""

from __future__ import annotations

import django_filters
from django.db.models import Count, Q
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from governance import selectors
from governance.api import serializers as s
from governance.erasure_states import overdue_filter
from governance.models import ErasureRequest, RetrainingObligation
from governance.permissions import ERASURE_OFFICERS
from governance.services import erasure
from registry.api.common import ScopedViewSet
from registry.api.job_views import JobSerializer, job_accepted
from registry.api.views import ERRORS, WRITE_ERRORS


class ErasureRequestFilter(django_filters.FilterSet):
    overdue = django_filters.BooleanFilter(method="filter_overdue")

    class Meta:
        model = ErasureRequest
        fields = ["status", "reference", "overdue"]

    def filter_overdue(self, queryset, name, value):
        late = overdue_filter(timezone.now())
        return queryset.filter(late) if value else queryset.exclude(late)


@extend_schema_view(
    list=extend_schema(summary="Erasure requests, soonest due first"),
    retrieve=extend_schema(summary="One erasure request", responses={200: s.ErasureRequestSerializer, **ERRORS}),
)
class ErasureRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = (
        ErasureRequest.objects.select_related("project")
        .annotate(
            open_obligation_count=Count("obligations", filter=Q(obligations__status=RetrainingObligation.Status.OPEN))
        )
        .order_by("due_at", "id")
    )
    serializer_class = s.ErasureRequestSerializer
    filterset_class = ErasureRequestFilter
    read_roles = ERASURE_OFFICERS
    write_roles = ERASURE_OFFICERS

    def _answer(self, request_obj, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=request_obj.pk)).data, status=code)

    @extend_schema(
        summary="Receive an erasure request: only the subject key is kept; due in 30 days",
        request=s.ErasureRequestCreateSerializer,
        responses={201: s.ErasureRequestSerializer, **WRITE_ERRORS},
    )
    def create(self, request):
        payload = s.ErasureRequestCreateSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        created = erasure.erasure_request_create(actor=self.actor, **payload.validated_data)
        return self._answer(created, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Trace where the subject sits: data versions (and derived), runs, model versions, live ones, decisions",
        request=None,
        responses={200: s.ErasureRequestSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def trace(self, request, pk=None):
        return self._answer(erasure.erasure_request_trace(actor=self.actor, request=self.get_object()))

    @extend_schema(
        summary="Execute the erasure as a background job, in one transaction (only once, only after a trace): 202 "
        "with the job (asked again, the same job); its result links the request once executed",
        request=None,
        responses={202: JobSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def execute(self, request, pk=None):
        job, _ = erasure.erasure_execution_queue(actor=self.actor, request=self.get_object())
        return job_accepted(job, context=self.get_serializer_context())

    @extend_schema(
        summary="Reject a request, with the reason (before execution)",
        request=s.ErasureRejectSerializer,
        responses={200: s.ErasureRequestSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        payload = s.ErasureRejectSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        rejected = erasure.erasure_request_reject(
            actor=self.actor, request=self.get_object(), reason=payload.validated_data["reason"]
        )
        return self._answer(rejected)

    @extend_schema(
        summary="Extend the deadline by one or two further months, with the reason (GDPR Art. 12(3))",
        request=s.ErasureExtendSerializer,
        responses={200: s.ErasureRequestSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def extend(self, request, pk=None):
        payload = s.ErasureExtendSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        extended = erasure.erasure_request_extend(
            actor=self.actor,
            request=self.get_object(),
            months=payload.validated_data["months"],
            reason=payload.validated_data["reason"],
        )
        return self._answer(extended)

    @extend_schema(
        summary="Check the open retraining obligations against the versions registered since",
        request=None,
        responses={200: s.ErasureRequestSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="check-obligations")
    def check_obligations(self, request, pk=None):
        target = self.get_object()
        erasure.obligations_check(actor=self.actor, request=target)
        return self._answer(target)

    @extend_schema(
        summary="The completion report: trace, actions, who and when, with the audit-chain hash of each step",
        responses={200: s.ErasureReportSerializer, **ERRORS},
    )
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        return Response(selectors.erasure_report(request=self.get_object()))
