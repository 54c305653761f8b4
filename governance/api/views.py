"""Decision log endpoints: bulk ingest, outcomes, queries, CSV export, lineage."""

from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from governance import lineage, services
from governance.api import serializers as s
from governance.api.csv_export import CSVRenderer, decisions_csv_response
from governance.integrity import decisions_verify
from governance.models import Decision
from governance.permissions import DECISION_INGESTERS, LOG_VERIFIERS
from registry.api.common import ScopedViewSet
from registry.api.pagination import NewestFirstCursorPagination
from registry.api.query import StrictQueryMixin
from registry.api.views import ERRORS
from registry.models import ModelVersion
from registry.permissions import ALL_HUMAN_ROLES, actor_of
from registry.subjects import InvalidSubjectId, subject_key

INGEST_ERRORS = {400: ERRORS[400], 401: ERRORS[401], 403: ERRORS[403]}


class SubjectFilter(django_filters.CharFilter):
    """Filters by a raw subject id, hashed on arrival like every other subject id."""

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        try:
            return qs.filter(subject_key=subject_key(value))
        except InvalidSubjectId as exc:
            raise serializers.ValidationError({"subject_id": [str(exc)]}) from exc


class DecisionFilter(django_filters.FilterSet):
    occurred_after = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    subject_id = SubjectFilter(label="raw subject id (pseudonymised before the query)")
    model = django_filters.NumberFilter(field_name="model_version__model")
    has_outcome = django_filters.BooleanFilter(field_name="outcome", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Decision
        fields = ["model_version", "deployment", "request_id", "model"]


@extend_schema_view(
    list=extend_schema(
        summary="Decisions (cursor paginated, newest first); ?format=csv exports every match",
        parameters=[OpenApiParameter("format", str, enum=["json", "csv"])],
    ),
    retrieve=extend_schema(summary="One decision", responses={200: s.DecisionSerializer, **ERRORS}),
)
class DecisionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = Decision.objects.select_related("project")
    serializer_class = s.DecisionSerializer
    filterset_class = DecisionFilter
    pagination_class = NewestFirstCursorPagination
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CSVRenderer]
    read_roles = ALL_HUMAN_ROLES
    action_roles = {
        "bulk": DECISION_INGESTERS,
        "outcomes": DECISION_INGESTERS,
        "verify": LOG_VERIFIERS,
    }

    def finalize_response(self, request, response, *args, **kwargs):
        if response.status_code >= 400 and isinstance(getattr(request, "accepted_renderer", None), CSVRenderer):
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        if request.query_params.get("format") == "csv":
            return decisions_csv_response(self.filter_queryset(self.get_queryset()).order_by("id"))
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Log up to 10,000 decisions, idempotent on (model_version, request_id)",
        request=s.DecisionBulkSerializer,
        responses={200: s.DecisionBulkResultSerializer, **INGEST_ERRORS},
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        result = services.decisions_ingest(actor=actor_of(request), items=_items(request, "decisions"))
        body = {"accepted": result.accepted, "duplicates": result.duplicates}
        if result.subjects_stripped:
            body["subjects_stripped"] = result.subjects_stripped
        return Response(body)

    @extend_schema(
        summary="Attach outcomes (ground truth) to logged decisions",
        request=s.OutcomeBulkSerializer,
        responses={200: s.OutcomeResultSerializer, **INGEST_ERRORS},
    )
    @action(detail=False, methods=["post"])
    def outcomes(self, request):
        result = services.outcomes_record(actor=actor_of(request), items=_items(request, "outcomes"))
        return Response({"updated": result.updated, "unknown": result.unknown})

    @extend_schema(
        summary="Recompute every commitment and batch hash of one model version's decisions",
        parameters=[OpenApiParameter("model_version", OpenApiTypes.INT, required=True)],
        responses={200: s.DecisionVerificationSerializer, **ERRORS},
    )
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def verify(self, request):
        raw = request.query_params.get("model_version", "")
        if not raw.isdigit():
            raise serializers.ValidationError({"model_version": ["is required: a model version id"]})
        scope = actor_of(request).project_ids(self.action_roles["verify"])
        versions = ModelVersion.objects.filter(pk=int(raw))
        if scope is not None:
            versions = versions.filter(project_id__in=scope)
        if not versions.exists():
            raise NotFound(f"model version {raw} does not exist")
        return Response(decisions_verify(model_version_id=int(raw)).as_dict())

    @extend_schema(
        summary="Lineage of one decision, up to its training data versions",
        responses={200: s.LineageSerializer, **ERRORS},
    )
    @action(detail=True, methods=["get"])
    def lineage(self, request, pk=None):
        decision = self.get_object()
        return Response(lineage.lineage_graph(kind="decision", pk=decision.pk, direction="upstream"))


def _items(request, name: str):
    if not isinstance(request.data, dict) or name not in request.data:
        raise serializers.ValidationError({name: ["is required"]})
    return request.data[name]


class LineageQuerySerializer(serializers.Serializer):
    node = serializers.RegexField(
        r"^[a-z_]+:\d+$",
        help_text="<kind>:<id>, kind one of " + ", ".join(lineage.KINDS),
        error_messages={"invalid": "must read <kind>:<id>, e.g. model_version:3"},
    )
    direction = serializers.ChoiceField(choices=lineage.DIRECTIONS, default="both")
    depth = serializers.IntegerField(min_value=1, max_value=lineage.MAX_DEPTH, default=lineage.MAX_DEPTH)

    def validate_node(self, value: str) -> tuple[str, int]:
        kind, _, pk = value.partition(":")
        if kind not in lineage.KINDS:
            raise serializers.ValidationError(f"unknown kind {kind!r}; one of {', '.join(lineage.KINDS)}")
        return kind, int(pk)


class LineageView(StrictQueryMixin, APIView):
    read_roles = ALL_HUMAN_ROLES

    @extend_schema(
        summary="Lineage graph around a node: data version -> run -> model version -> deployment -> decision",
        parameters=[
            OpenApiParameter("node", str, required=True, description="<kind>:<id>"),
            OpenApiParameter("direction", str, enum=list(lineage.DIRECTIONS)),
            OpenApiParameter("depth", OpenApiTypes.INT),
        ],
        responses={200: s.LineageSerializer, **ERRORS},
    )
    def get(self, request):
        query = LineageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        kind, pk = query.validated_data["node"]
        project_id = lineage.node_project_id(kind, pk)
        scope = actor_of(request).project_ids(self.read_roles)
        if project_id is None or (scope is not None and project_id not in scope):
            raise NotFound(f"{kind}:{pk} does not exist")
        return Response(
            lineage.lineage_graph(
                kind=kind, pk=pk, direction=query.validated_data["direction"], depth=query.validated_data["depth"]
            )
        )
