"""LLMOps endpoints under /api/v1/llm/. Views parse input, call a service or selector, format output."""

from __future__ import annotations

import django_filters
from django.db.models import Max, Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from llmops import selectors
from llmops.api import serializers as s
from llmops.models import (
    Budget,
    EvaluationDataset,
    EvaluationRun,
    LLMCall,
    Price,
    PromptLabel,
    PromptLabelMove,
    PromptTemplate,
    PromptVersion,
)
from llmops.permissions import BUDGET_OFFICERS, CALL_INGESTERS, CALL_SCORERS, EVALUATORS, PROMPT_AUTHORS, RUNNING_APPS
from llmops.services import budgets, calls, evaluation, pricing, prompts
from registry.api.common import ScopedViewSet
from registry.api.pagination import NewestFirstCursorPagination
from registry.api.views import ERRORS, WRITE_ERRORS
from registry.inputs import SaneDateTimeField
from registry.models import Project
from registry.permissions import ALL_HUMAN_ROLES, actor_of

INGEST_ERRORS = {400: ERRORS[400], 401: ERRORS[401], 403: ERRORS[403]}


def _version_in_scope(view, pk, roles) -> PromptVersion:
    versions = PromptVersion.objects.select_related("template")
    scope = view.actor.project_ids(roles)
    if scope is not None:
        versions = versions.filter(project_id__in=scope)
    return get_object_or_404(versions, pk=pk)


@extend_schema_view(
    list=extend_schema(summary="Prompt templates of your projects"),
    retrieve=extend_schema(summary="One prompt with its labels", responses={200: s.PromptSerializer, **ERRORS}),
    create=extend_schema(summary="Create a prompt template", responses={201: s.PromptSerializer, **WRITE_ERRORS}),
)
class PromptViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet):
    queryset = (
        PromptTemplate.objects.select_related("project")
        .prefetch_related(Prefetch("labels", queryset=PromptLabel.objects.select_related("version")))
        .annotate(latest_version=Max("versions__version"))
        .order_by("project_id", "name")  # Meta.ordering does not apply to a grouped query
    )
    serializer_class = s.PromptSerializer
    filterset_fields = {"name": ["exact"], "project__slug": ["exact"]}
    read_roles = ALL_HUMAN_ROLES
    write_roles = PROMPT_AUTHORS
    # GET versions is a read; POST versions is checked for PROMPT_AUTHORS in the view (an action has one role set)
    action_roles = {
        "resolve": RUNNING_APPS,
        "labels": PROMPT_AUTHORS,
        "versions": ALL_HUMAN_ROLES,
        "label_history": ALL_HUMAN_ROLES,
    }

    def get_queryset(self):
        if self.action == "versions" and self.request.method == "GET":
            return self.scope_queryset(PromptTemplate.objects.all())
        return super().get_queryset()

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        template = prompts.prompt_create(actor=self.actor, **serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=template.pk)).data, status=201)

    @extend_schema(
        methods=["get"],
        summary="The versions of a prompt, newest first",
        responses={200: s.PromptVersionSerializer(many=True)},
    )
    @extend_schema(
        methods=["post"],
        summary="Register a new (immutable) version of a prompt",
        request=s.PromptVersionCreateSerializer,
        responses={201: s.PromptVersionSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_fields=None)
    def versions(self, request, pk=None):
        template = self.get_object()
        if request.method == "GET":
            versions = template.versions.select_related("template", "project").prefetch_related("labels")
            return Response(s.PromptVersionSerializer(versions, many=True).data)
        if not self.actor.can(PROMPT_AUTHORS, template.project_id):
            raise PermissionDenied("your role may not do this")
        payload = s.PromptVersionCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        version = prompts.prompt_version_create(actor=self.actor, template=template, **payload.validated_data)
        return Response(s.PromptVersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Move a label (production, staging, any name) to a version; audited",
        request=s.LabelMoveSerializer,
        responses={200: s.PromptLabelSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def labels(self, request, pk=None):
        template = self.get_object()
        payload = s.LabelMoveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        version = template.versions.filter(version=payload.validated_data["version"]).first()
        if version is None:
            raise serializers.ValidationError(
                {"version": [f"{template.name} has no version {payload.validated_data['version']}"]}
            )
        label = prompts.prompt_label_move(
            actor=self.actor, template=template, name=payload.validated_data["label"], version=version
        )
        return Response(s.PromptLabelSerializer(label).data)

    @extend_schema(
        summary="Every move of this prompt's labels, newest first",
        responses={200: s.LabelMoveHistorySerializer(many=True)},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="label-history",
        pagination_class=None,
        filterset_fields=None,
    )
    def label_history(self, request, pk=None):
        template = self.get_object()
        moves = PromptLabelMove.objects.filter(template=template).select_related("from_version", "to_version")
        return Response(s.LabelMoveHistorySerializer(moves, many=True).data)

    @extend_schema(
        summary="The version a label points at (what a running application fetches)",
        parameters=[OpenApiParameter("label", str, required=True)],
        responses={200: s.PromptVersionSerializer, **ERRORS},
    )
    @action(detail=True, methods=["get"], filterset_fields=None)
    def resolve(self, request, pk=None):
        template = self.get_object()
        label = request.query_params.get("label", "")
        if not label:
            raise serializers.ValidationError({"label": ["is required, e.g. ?label=production"]})
        version = prompts.prompt_version_at(template=template, label=label)
        return Response(s.PromptVersionSerializer(version).data)


class PromptVersionFilter(django_filters.FilterSet):
    prompt = django_filters.NumberFilter(field_name="template_id")
    label = django_filters.CharFilter(field_name="labels__name")

    class Meta:
        model = PromptVersion
        fields = ["prompt", "label", "version"]


@extend_schema_view(
    list=extend_schema(summary="Prompt versions of your projects"),
    retrieve=extend_schema(summary="One prompt version", responses={200: s.PromptVersionSerializer, **ERRORS}),
)
class PromptVersionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = PromptVersion.objects.select_related("template", "project").prefetch_related("labels")
    serializer_class = s.PromptVersionSerializer
    filterset_class = PromptVersionFilter
    read_roles = RUNNING_APPS
    action_roles = {"render": RUNNING_APPS}

    @extend_schema(
        summary="Fill in a version's variables; missing and unknown variables are refused",
        request=s.RenderSerializer,
        responses={200: s.RenderedSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def render(self, request, pk=None):
        version = self.get_object()
        if not isinstance(request.data, dict) or "variables" not in request.data:
            raise serializers.ValidationError({"variables": ["is required"]})
        return Response(prompts.prompt_render(version=version, variables=request.data["variables"]))

    @extend_schema(
        summary="What changed from this version to another of the same prompt",
        responses={200: s.DiffSerializer, **ERRORS},
    )
    @action(detail=True, methods=["get"], url_path=r"diff/(?P<other>\d+)", filterset_class=None)
    def diff(self, request, pk=None, other=None):
        a = self.get_object()
        b = _version_in_scope(self, int(other), RUNNING_APPS)
        return Response(prompts.prompt_versions_diff(a=a, b=b))


class CallFilter(django_filters.FilterSet):
    occurred_after = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    prompt = django_filters.NumberFilter(field_name="prompt_version__template_id")

    class Meta:
        model = LLMCall
        fields = [
            "prompt_version",
            "provider",
            "model",
            "status",
            "cost_status",
            "client_call_id",
            "trace_id",
            "prompt",
        ]


@extend_schema_view(
    list=extend_schema(summary="LLM calls (cursor paginated, newest first)"),
    retrieve=extend_schema(
        summary="One LLM call with its retrieved documents", responses={200: s.LLMCallSerializer, **ERRORS}
    ),
)
class LLMCallViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = LLMCall.objects.select_related("project").prefetch_related("documents")
    serializer_class = s.LLMCallSerializer
    filterset_class = CallFilter
    pagination_class = NewestFirstCursorPagination
    read_roles = ALL_HUMAN_ROLES
    action_roles = {"bulk": CALL_INGESTERS, "score": CALL_SCORERS}

    @extend_schema(
        summary="Record up to 5,000 LLM calls, idempotent on client_call_id; priced at each call's time",
        request=s.CallBulkSerializer,
        responses={200: s.CallBulkResultSerializer, **INGEST_ERRORS},
    )
    @action(detail=False, methods=["post"], filterset_class=None)
    def bulk(self, request):
        if not isinstance(request.data, dict) or "calls" not in request.data:
            raise serializers.ValidationError({"calls": ["is required"]})
        result = calls.calls_ingest(
            actor=actor_of(request), project_slug=request.data.get("project"), items=request.data["calls"]
        )
        body = {
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "unpriced": result.unpriced,
            "counted": result.counted,
            "cost": str(result.cost),
        }
        if result.subjects_stripped:
            body["subjects_stripped"] = result.subjects_stripped
        return Response(body)

    @extend_schema(
        summary="Score recorded calls with evaluators",
        request=s.CallScoreInSerializer,
        responses={200: s.CallScoreSerializer(many=True), **WRITE_ERRORS},
    )
    @action(detail=False, methods=["post"], filterset_class=None, pagination_class=None)
    def score(self, request):
        payload = s.CallScoreInSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        scope = self.actor.project_ids(self.action_roles["score"])
        found = LLMCall.objects.filter(pk__in=payload.validated_data["calls"])
        if scope is not None:
            found = found.filter(project_id__in=scope)
        found = list(found.prefetch_related("documents"))
        missing = sorted(set(payload.validated_data["calls"]) - {c.pk for c in found})
        if missing:
            raise serializers.ValidationError({"calls": [f"calls {missing} do not exist"]})
        scores = evaluation.calls_score(actor=self.actor, calls=found, evaluators=payload.validated_data["evaluators"])
        return Response(s.CallScoreSerializer(scores, many=True).data)


@extend_schema_view(
    list=extend_schema(summary="The price catalog (USD per million tokens, with effective dates)"),
    retrieve=extend_schema(summary="One price row", responses={200: s.PriceSerializer, **ERRORS}),
    create=extend_schema(summary="Add a price row (superusers)", responses={201: s.PriceSerializer, **WRITE_ERRORS}),
)
class PriceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet):
    queryset = Price.objects.all()
    serializer_class = s.PriceSerializer
    filterset_fields = ["provider", "model"]
    read_roles = RUNNING_APPS
    write_roles = frozenset()  # the catalog is shared by every project: superusers only

    def scope_queryset(self, queryset):
        return queryset  # global, like the catalog it is

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        price = pricing.price_add(
            actor=self.actor,
            where="API",
            entry={k: (str(v) if v is not None else None) for k, v in data.items()},
            effective_from=data["effective_from"],
            source=data["source"],
            source_date=data.get("source_date"),
        )
        return Response(self.get_serializer(price).data, status=status.HTTP_201_CREATED)


class CostQuerySerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(choices=selectors.GROUP_BY)
    start = SaneDateTimeField(required=False)
    end = SaneDateTimeField(required=False)
    project = serializers.SlugField(required=False)

    def validate(self, attrs):
        if attrs.get("start") and attrs.get("end") and attrs["start"] >= attrs["end"]:
            raise serializers.ValidationError({"end": ["must be after start"]})
        return attrs


class CostViewSet(ScopedViewSet):
    read_roles = ALL_HUMAN_ROLES

    @extend_schema(
        summary="Tokens and cost summed by model, prompt version, tag, day or subject; unpriced calls counted apart",
        parameters=[CostQuerySerializer],
        responses={200: s.CostReportSerializer, **ERRORS},
    )
    def rollup(self, request):
        query = CostQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        scope = self.scope()
        if query.validated_data.get("project"):
            project = Project.objects.filter(slug=query.validated_data["project"]).first()
            if project is None or (scope is not None and project.pk not in scope):
                raise serializers.ValidationError({"project": ["does not exist"]})
            scope = {project.pk}
        report = selectors.costs_rollup(
            project_ids=scope,
            group_by=query.validated_data["group_by"],
            start=query.validated_data.get("start"),
            end=query.validated_data.get("end"),
        )
        report["unpriced_models"] = selectors.unpriced_models(project_ids=scope)
        return Response(s.CostReportSerializer(report).data)


@extend_schema_view(
    list=extend_schema(summary="Budgets with their state in the current period"),
    retrieve=extend_schema(summary="One budget", responses={200: s.BudgetSerializer, **ERRORS}),
    create=extend_schema(summary="Set a budget", responses={201: s.BudgetSerializer, **WRITE_ERRORS}),
)
class BudgetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet):
    queryset = Budget.objects.select_related("project")
    serializer_class = s.BudgetSerializer
    read_roles = ALL_HUMAN_ROLES
    write_roles = BUDGET_OFFICERS

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        states = budgets.budget_states(page, timezone.now())  # one query for the page, not two per budget
        serializer = self.get_serializer(
            page, many=True, context={**self.get_serializer_context(), "budget_states": states}
        )
        return self.get_paginated_response(serializer.data)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        budget = budgets.budget_create(actor=self.actor, **serializer.validated_data)
        return Response(self.get_serializer(budget).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Evaluation datasets"),
    retrieve=extend_schema(
        summary="One evaluation dataset with its items", responses={200: s.EvaluationDatasetSerializer, **ERRORS}
    ),
    create=extend_schema(
        summary="Create an evaluation dataset with its items",
        responses={201: s.EvaluationDatasetSerializer, **WRITE_ERRORS},
    ),
)
class EvaluationDatasetViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    queryset = EvaluationDataset.objects.select_related("project").prefetch_related("items")
    serializer_class = s.EvaluationDatasetSerializer
    read_roles = ALL_HUMAN_ROLES
    write_roles = EVALUATORS

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        dataset = evaluation.evaluation_dataset_create(actor=self.actor, **serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=dataset.pk)).data, status=201)


@extend_schema_view(
    list=extend_schema(summary="Evaluation runs, newest first"),
    retrieve=extend_schema(
        summary="One evaluation run with every item's output and scores",
        responses={200: s.EvaluationRunSerializer, **ERRORS},
    ),
    create=extend_schema(
        summary="Run a prompt version over a dataset and score every output",
        request=s.EvaluationRunCreateSerializer,
        responses={201: s.EvaluationRunSerializer, **WRITE_ERRORS},
    ),
)
class EvaluationRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet):
    queryset = EvaluationRun.objects.select_related("project").prefetch_related("results__item")
    serializer_class = s.EvaluationRunSerializer
    filterset_fields = ["prompt_version", "dataset", "status"]
    read_roles = ALL_HUMAN_ROLES
    write_roles = EVALUATORS
    action_roles = {"compare": ALL_HUMAN_ROLES}

    def create(self, request, *args, **kwargs):
        payload = s.EvaluationRunCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            version = _version_in_scope(self, data["prompt_version"], EVALUATORS)
        except Http404:
            raise serializers.ValidationError(
                {"prompt_version": [f"prompt version {data['prompt_version']} does not exist"]}
            ) from None
        datasets = EvaluationDataset.objects.filter(pk=data["dataset"], project_id=version.project_id)
        dataset = datasets.first()
        if dataset is None:
            raise serializers.ValidationError(
                {"dataset": [f"dataset {data['dataset']} does not exist in this project"]}
            )
        run = evaluation.evaluation_run(
            actor=self.actor, version=version, dataset=dataset, evaluators=data["evaluators"], model=data.get("model")
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=run.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Compare two evaluation runs item by item: wins, losses and mean deltas per evaluator",
        parameters=[
            OpenApiParameter("a", OpenApiTypes.INT, required=True),
            OpenApiParameter("b", OpenApiTypes.INT, required=True),
        ],
        responses={200: s.ComparisonSerializer, **ERRORS},
    )
    @action(detail=False, methods=["get"], filterset_fields=None, pagination_class=None)
    def compare(self, request):
        ids = {}
        for name in ("a", "b"):
            raw = request.query_params.get(name, "")
            if not raw.isdigit():
                raise serializers.ValidationError({name: ["is required: an evaluation run id"]})
            ids[name] = int(raw)
        runs = {r.pk: r for r in self.get_queryset().filter(pk__in=ids.values())}
        for name, pk in ids.items():
            if pk not in runs:
                raise serializers.ValidationError({name: [f"evaluation run {pk} does not exist"]})
        return Response(evaluation.evaluation_runs_compare(a=runs[ids["a"]], b=runs[ids["b"]]))


class EvaluatorKindsView(ScopedViewSet):
    read_roles = ALL_HUMAN_ROLES

    @extend_schema(summary="The evaluator kinds and their configuration fields", responses={200: OpenApiTypes.OBJECT})
    def kinds(self, request):
        return Response(evaluation.evaluator_kinds())
