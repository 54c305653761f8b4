"""Fairness audits, drift reports and project policies over REST."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from governance.api import serializers as s
from governance.models import DriftReport, FairnessAudit, PerformanceReport, Policy, Webhook
from governance.permissions import AUDITORS, POLICY_EDITORS, WEBHOOK_EDITORS, WEBHOOK_READERS
from governance.services import alerts, drift, fairness, performance, policies
from registry.api.common import ScopedViewSet
from registry.api.job_views import JobSerializer, idempotency_key_of, job_accepted
from registry.api.views import ERRORS, WRITE_ERRORS
from registry.models import Project
from registry.permissions import ALL_HUMAN_ROLES


class ComputedRecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """A stored result (audit, report) that a POST computes in a background job; never edited. The input is
    checked in the request (a 400 names the field, no job exists); the answer is 202 with the job, whose result
    links the record (already there when jobs run in process). An `Idempotency-Key` header makes a repeat
    answer the same job."""

    input_serializer_class: type
    queue_service = None  # the service checking the validated input and queueing the job that makes the record

    def create(self, request):
        payload = self.input_serializer_class(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        job, _ = type(self).queue_service(
            actor=self.actor, idempotency_key=idempotency_key_of(request), **payload.validated_data
        )
        return job_accepted(job, context=self.get_serializer_context())


@extend_schema_view(
    list=extend_schema(summary="Fairness audits, newest first"),
    retrieve=extend_schema(summary="One fairness audit", responses={200: s.FairnessAuditSerializer, **ERRORS}),
    create=extend_schema(
        summary="Audit a version's decisions with outcomes by sensitive attributes (fairlearn MetricFrame), in a "
        "background job: 202 with the job, whose result links the audit",
        request=s.FairnessAuditInputSerializer,
        responses={202: JobSerializer, **WRITE_ERRORS},
    ),
)
class FairnessAuditViewSet(ComputedRecordViewSet):
    queryset = FairnessAudit.objects.select_related("project").order_by("-created_at", "-id")
    serializer_class = s.FairnessAuditSerializer
    filterset_fields = ["model_version", "passed"]
    read_roles = ALL_HUMAN_ROLES
    write_roles = AUDITORS
    input_serializer_class = s.FairnessAuditInputSerializer
    queue_service = staticmethod(fairness.fairness_audit_queue)


@extend_schema_view(
    list=extend_schema(summary="The policies of your projects"),
    retrieve=extend_schema(
        summary="A project's policy (by project slug)", responses={200: s.PolicySerializer, **ERRORS}
    ),
    partial_update=extend_schema(
        summary="Change a project's policy", responses={200: s.PolicySerializer, **WRITE_ERRORS}
    ),
)
class PolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, ScopedViewSet):
    queryset = Policy.objects.select_related("project").order_by("project__slug")
    serializer_class = s.PolicySerializer
    lookup_field = "project__slug"
    lookup_url_kwarg = "project"
    lookup_value_regex = "[a-z0-9-]+"
    http_method_names = ["get", "patch", "head", "options"]
    read_roles = ALL_HUMAN_ROLES
    write_roles = POLICY_EDITORS

    def get_queryset(self):
        # every project has a policy (the defaults until someone changes them)
        ids = self.scope()
        missing = Project.objects.exclude(policy__isnull=False)
        if ids is not None:
            missing = missing.filter(pk__in=ids)
        policies.policies_ensure(actor=self.actor, projects=missing)
        return super().get_queryset()

    def perform_update(self, serializer):
        policies.policy_update(actor=self.actor, policy=serializer.instance, changes=serializer.validated_data)


@extend_schema_view(
    list=extend_schema(summary="Drift reports, newest first"),
    retrieve=extend_schema(summary="One drift report", responses={200: s.DriftReportSerializer, **ERRORS}),
    create=extend_schema(
        summary="Compare a window's logged features with the training data's profile (PSI, JS, KS), in a "
        "background job: 202 with the job, whose result links the report",
        request=s.DriftReportInputSerializer,
        responses={202: JobSerializer, **WRITE_ERRORS},
    ),
)
class DriftReportViewSet(ComputedRecordViewSet):
    queryset = DriftReport.objects.select_related("project").order_by("-created_at", "-id")
    serializer_class = s.DriftReportSerializer
    filterset_fields = ["model_version", "drifted"]
    read_roles = ALL_HUMAN_ROLES
    write_roles = ALL_HUMAN_ROLES
    input_serializer_class = s.DriftReportInputSerializer
    queue_service = staticmethod(drift.drift_report_queue)


@extend_schema_view(
    list=extend_schema(summary="Performance reports (concept drift), newest first"),
    retrieve=extend_schema(summary="One performance report", responses={200: s.PerformanceReportSerializer, **ERRORS}),
    create=extend_schema(
        summary="Live accuracy (and AUC) per time bucket against the version's validation accuracy, in a "
        "background job: 202 with the job, whose result links the report",
        request=s.PerformanceReportInputSerializer,
        responses={202: JobSerializer, **WRITE_ERRORS},
    ),
)
class PerformanceReportViewSet(ComputedRecordViewSet):
    queryset = PerformanceReport.objects.select_related("project").order_by("-created_at", "-id")
    serializer_class = s.PerformanceReportSerializer
    filterset_fields = ["model_version", "degraded"]
    read_roles = ALL_HUMAN_ROLES
    write_roles = ALL_HUMAN_ROLES
    input_serializer_class = s.PerformanceReportInputSerializer
    queue_service = staticmethod(performance.performance_report_queue)


@extend_schema_view(
    list=extend_schema(summary="The project's webhooks (alerts: failed audits, drift, performance drops)"),
    retrieve=extend_schema(summary="One webhook", responses={200: s.WebhookSerializer, **ERRORS}),
)
class WebhookViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = Webhook.objects.select_related("project").order_by("pk")
    serializer_class = s.WebhookSerializer
    read_roles = WEBHOOK_READERS
    write_roles = WEBHOOK_EDITORS

    @extend_schema(
        summary="Add a webhook; the answer carries its signing secret, once",
        request=s.WebhookSerializer,
        responses={201: s.WebhookSerializer, **WRITE_ERRORS},
    )
    def create(self, request):
        payload = s.WebhookSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        hook, secret = alerts.webhook_create(actor=self.actor, **payload.validated_data)
        return Response({**self.get_serializer(hook).data, "secret": secret}, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="A webhook's deliveries, newest first", responses={200: s.WebhookDeliverySerializer(many=True)}
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        hook = self.get_object()
        page = self.paginate_queryset(hook.deliveries.order_by("-created_at", "-id"))
        return self.get_paginated_response(s.WebhookDeliverySerializer(page, many=True).data)
