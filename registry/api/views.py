"""Registry endpoints. Plain resources are thin viewsets; writes go through services."""

from __future__ import annotations

import django_filters
from django.db.models import Count
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from registry import selectors, services
from registry.api import serializers as s
from registry.api.common import ErrorSerializer, ScopedViewSet
from registry.inputs import SaneDateTimeField
from registry.models import Dataset, DataVersion, Deployment, Model, ModelVersion, Project, Role, Run, Stage
from registry.permissions import CARD_EDITORS, REGISTRY_WRITERS, TRANSITIONERS

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
WRITE_ERRORS = {**ERRORS, 409: ErrorSerializer}


class ReadCreateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet):
    """List, read and create; registry records are not edited or deleted through the API."""

    write_roles = REGISTRY_WRITERS

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.perform_service(serializer.validated_data)
        return Response(self.get_serializer(self.refetch(instance)).data, status=status.HTTP_201_CREATED)

    def refetch(self, instance):
        return self.get_queryset().get(pk=instance.pk)

    def perform_service(self, data: dict):  # pragma: no cover - each viewset defines it
        raise NotImplementedError


class ProjectFilter(django_filters.FilterSet):
    project = django_filters.CharFilter(field_name="project__slug")


@extend_schema_view(
    list=extend_schema(summary="Projects you may see"),
    retrieve=extend_schema(summary="One project", responses={200: s.ProjectSerializer, **ERRORS}),
    create=extend_schema(summary="Create a project (superusers)", responses={201: s.ProjectSerializer, **WRITE_ERRORS}),
)
class ProjectViewSet(ReadCreateViewSet):
    queryset = Project.objects.all()
    serializer_class = s.ProjectSerializer
    project_lookup = "id"
    write_roles = frozenset()  # superusers only: keys and memberships are scoped to one project
    lookup_field = "slug"
    lookup_value_regex = "[a-z0-9-]+"

    def perform_service(self, data):
        return services.project_create(actor=self.actor, slug=data["slug"], name=data["name"])


class DatasetFilter(ProjectFilter):
    class Meta:
        model = Dataset
        fields = ["project", "name", "contains_personal_data"]


@extend_schema_view(
    list=extend_schema(summary="Datasets"),
    retrieve=extend_schema(summary="One dataset", responses={200: s.DatasetSerializer, **ERRORS}),
    create=extend_schema(summary="Register a dataset", responses={201: s.DatasetSerializer, **WRITE_ERRORS}),
)
class DatasetViewSet(ReadCreateViewSet):
    queryset = Dataset.objects.select_related("project", "created_by_user", "created_by_key__project")
    serializer_class = s.DatasetSerializer
    filterset_class = DatasetFilter

    def perform_service(self, data):
        return services.dataset_create(actor=self.actor, **data)


class DataVersionFilter(ProjectFilter):
    class Meta:
        model = DataVersion
        fields = ["project", "dataset", "version", "content_sha256", "status"]


@extend_schema_view(
    list=extend_schema(summary="Data versions"),
    retrieve=extend_schema(summary="One data version", responses={200: s.DataVersionSerializer, **ERRORS}),
    create=extend_schema(
        summary="Register an immutable data version",
        responses={201: s.DataVersionSerializer, **WRITE_ERRORS},
    ),
)
class DataVersionViewSet(ReadCreateViewSet):
    queryset = (
        DataVersion.objects.select_related("project", "dataset", "created_by_user", "created_by_key__project")
        .prefetch_related("parents")
        .annotate(subject_count=Count("subjects"))
        .order_by("dataset_id", "id")
    )
    serializer_class = s.DataVersionSerializer
    filterset_class = DataVersionFilter
    action_roles = {"subjects": REGISTRY_WRITERS}

    def perform_service(self, data):
        return services.data_version_register(actor=self.actor, **data)

    @extend_schema(
        summary="Index the data subjects of a version (raw ids are pseudonymised on arrival)",
        request=s.SubjectIdsSerializer,
        responses={200: s.SubjectIndexResultSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def subjects(self, request, pk=None):
        data_version = self.get_object()
        payload = s.SubjectIdsSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result = services.subjects_index(
            actor=self.actor, data_version=data_version, subject_ids=payload.validated_data["subject_ids"]
        )
        return Response({"indexed": result.indexed, "duplicates": result.duplicates})


class RunFilter(ProjectFilter):
    data_version = django_filters.NumberFilter(field_name="input_links__data_version")

    class Meta:
        model = Run
        fields = ["project", "name", "status", "source", "git_commit", "notebook_path", "data_version"]


@extend_schema_view(
    list=extend_schema(summary="Training runs"),
    retrieve=extend_schema(summary="One run", responses={200: s.RunSerializer, **ERRORS}),
    create=extend_schema(summary="Register a training run", responses={201: s.RunSerializer, **WRITE_ERRORS}),
)
class RunViewSet(ReadCreateViewSet):
    queryset = Run.objects.select_related(
        "project", "experiment", "created_by_user", "created_by_key__project"
    ).prefetch_related("input_links")
    serializer_class = s.RunSerializer
    filterset_class = RunFilter

    def perform_service(self, data):
        inputs = [{"data_version": i["data_version"], "role": i["role"]} for i in data.pop("input_links", [])]
        return services.run_register(actor=self.actor, inputs=inputs, **data)


class ModelFilter(ProjectFilter):
    class Meta:
        model = Model
        fields = ["project", "name", "risk_tier"]


@extend_schema_view(
    list=extend_schema(summary="Models"),
    retrieve=extend_schema(summary="One model", responses={200: s.ModelSerializer, **ERRORS}),
    create=extend_schema(summary="Register a model", responses={201: s.ModelSerializer, **WRITE_ERRORS}),
)
class ModelViewSet(ReadCreateViewSet):
    queryset = Model.objects.select_related("project", "created_by_user", "created_by_key__project")
    serializer_class = s.ModelSerializer
    filterset_class = ModelFilter

    def perform_service(self, data):
        return services.model_create(actor=self.actor, **data)

    @extend_schema(
        summary="Which versions of this model were live (deployed) at a time",
        parameters=[OpenApiParameter("at", OpenApiTypes.DATETIME, description="ISO 8601; default now")],
        responses={200: s.LiveSerializer, **ERRORS},
    )
    @action(detail=True, methods=["get"])
    def live(self, request, pk=None):
        model = self.get_object()
        at = timezone.now()
        if "at" in request.query_params:
            field = SaneDateTimeField()
            try:
                at = field.to_internal_value(request.query_params["at"])
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"at": exc.detail}) from exc
        live = [
            {
                "model_version": d.model_version_id,
                "version": d.model_version.version,
                "deployment": d.pk,
                "environment": d.environment,
                "strategy": d.strategy,
                "traffic_percent": d.traffic_percent,
                "started_at": d.started_at,
                "ended_at": d.ended_at,
            }
            for d in selectors.deployments_live_at(model=model, at=at)
        ]
        return Response(s.LiveSerializer({"model": model.pk, "at": at, "live": live}).data)


class ModelVersionFilter(ProjectFilter):
    class Meta:
        model = ModelVersion
        fields = ["project", "model", "stage", "run", "version"]


@extend_schema_view(
    list=extend_schema(summary="Model versions"),
    retrieve=extend_schema(summary="One model version", responses={200: s.ModelVersionSerializer, **ERRORS}),
    create=extend_schema(
        summary="Register a model version (numbered per model)",
        responses={201: s.ModelVersionSerializer, **WRITE_ERRORS},
    ),
)
class ModelVersionViewSet(ReadCreateViewSet):
    queryset = ModelVersion.objects.select_related("project", "model", "created_by_user", "created_by_key__project")
    serializer_class = s.ModelVersionSerializer
    filterset_class = ModelVersionFilter
    action_roles = {"transition": TRANSITIONERS, "partial_update": CARD_EDITORS}

    def perform_service(self, data):
        return services.model_version_register(actor=self.actor, **data)

    @extend_schema(
        summary="Edit a version's model card (intended use, limitations, the model's risk tier) until production",
        description="Only the card fields; any other is a 400 naming it. Refused with 409 `card_frozen` once the "
        "version has been in production, and `frozen` while an open incident names it. Audited; a request that "
        "changes nothing writes nothing.",
        request=s.ModelCardInputSerializer,
        responses={200: s.ModelVersionSerializer, **WRITE_ERRORS},
    )
    def partial_update(self, request, pk=None):
        model_version = self.get_object()
        payload = s.ModelCardInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.model_version_card_update(actor=self.actor, model_version=model_version, **payload.validated_data)
        return Response(self.get_serializer(self.refetch(model_version)).data)

    @extend_schema(
        summary="Move a version to another stage",
        request=s.TransitionInputSerializer,
        responses={200: s.StageTransitionSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        model_version = self.get_object()
        payload = s.TransitionInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        transition = services.model_version_transition(
            actor=self.actor,
            model_version=model_version,
            to_stage=Stage(payload.validated_data["to_stage"]),
            reason=payload.validated_data["reason"],
        )
        return Response(s.StageTransitionSerializer(transition).data)


class DeploymentFilter(ProjectFilter):
    live = django_filters.BooleanFilter(field_name="ended_at", lookup_expr="isnull", label="not yet ended")
    model = django_filters.NumberFilter(field_name="model_version__model")

    class Meta:
        model = Deployment
        fields = ["project", "model", "model_version", "environment", "strategy", "live"]


@extend_schema_view(
    list=extend_schema(summary="Deployments"),
    retrieve=extend_schema(summary="One deployment", responses={200: s.DeploymentSerializer, **ERRORS}),
    create=extend_schema(
        summary="Record a deployment (direct and blue-green ones end the model's live deployment there)",
        responses={201: s.DeploymentSerializer, **WRITE_ERRORS},
    ),
)
class DeploymentViewSet(ReadCreateViewSet):
    queryset = Deployment.objects.select_related(
        "project", "model_version", "created_by_user", "created_by_key__project"
    )
    serializer_class = s.DeploymentSerializer
    filterset_class = DeploymentFilter

    def perform_service(self, data):
        return services.deployment_create(actor=self.actor, **data)

    @extend_schema(
        summary="End a deployment",
        request=s.DeploymentEndSerializer,
        responses={200: s.DeploymentSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        deployment = self.get_object()
        payload = s.DeploymentEndSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.deployment_end(actor=self.actor, deployment=deployment, **payload.validated_data)
        return Response(self.get_serializer(self.refetch(deployment)).data)


class WhoAmISerializer(serializers.Serializer):
    class _Membership(serializers.Serializer):
        project = serializers.CharField(help_text="project slug")
        project_name = serializers.CharField()
        role = serializers.CharField()

    kind = serializers.ChoiceField(choices=["api_key", "user"])
    name = serializers.CharField(help_text="key prefix or user name; never the secret")
    is_superuser = serializers.BooleanField()
    memberships = _Membership(many=True)


class WhoAmIView(ScopedViewSet):
    """Who the caller is: what a client (the JupyterLab extension) shows as its connection."""

    read_roles = frozenset({*(r.value for r in Role)})

    @extend_schema(summary="The caller: key or user, and its role in each project", responses={200: WhoAmISerializer})
    def whoami(self, request):
        actor = self.actor
        projects = {p.pk: p for p in Project.objects.filter(pk__in=actor.roles)}
        memberships = [
            {"project": projects[pid].slug, "project_name": projects[pid].name, "role": role}
            for pid, role in sorted(actor.roles.items())
            if pid in projects
        ]
        return Response(
            {
                "kind": "api_key" if actor.api_key is not None else "user",
                "name": actor.api_key.prefix if actor.api_key is not None else actor.user.get_username(),
                "is_superuser": actor.is_superuser,
                "memberships": memberships,
            }
        )
