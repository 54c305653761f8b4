"""Background jobs over REST: list and read the jobs of your projects, retry a failed one. Long operations of
other apps answer 202 with a job (`job_accepted`): its `state`, `progress`, `result` link and `error`."""

from __future__ import annotations

import django_filters
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from registry import selectors
from registry.api.common import ScopedViewSet
from registry.api.views import ERRORS, WRITE_ERRORS
from registry.jobs import job_kind
from registry.models import BackgroundJob
from registry.permissions import ALL_HUMAN_ROLES
from registry.services import jobs


class JobProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    percent = serializers.IntegerField(allow_null=True, help_text="done of total, when the total is known")
    message = serializers.CharField()


class JobResultSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="app_label.model of the record the job made")
    id = serializers.CharField()
    url = serializers.CharField(help_text="the record's API path")


class JobErrorSerializer(serializers.Serializer):
    """The shape of the API's 4xx errors: what the service refused, and the input fields it names."""

    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class JobSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    title = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    result = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    stale = serializers.SerializerMethodField(help_text="running, but its worker stopped: it may be retried")
    url = serializers.SerializerMethodField()

    class Meta:
        model = BackgroundJob
        fields = [
            "id",
            "url",
            "kind",
            "title",
            "project",
            "state",
            "progress",
            "result",
            "error",
            "stale",
            "attempts",
            "requested_by",
            "idempotency_key",
            "created_at",
            "started_at",
            "heartbeat_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_title(self, job) -> str:
        spec = job_kind(job.kind)
        return spec.title if spec is not None else job.kind

    @extend_schema_field(JobProgressSerializer)
    def get_progress(self, job) -> dict:
        percent = round(100 * job.progress_done / job.progress_total) if job.progress_total else None
        if job.state == BackgroundJob.State.SUCCEEDED:
            percent = 100
        return {
            "done": job.progress_done,
            "total": job.progress_total,
            "percent": percent,
            "message": job.progress_message,
        }

    @extend_schema_field(JobResultSerializer(allow_null=True))
    def get_result(self, job) -> dict | None:
        if not job.result_type:
            return None
        return {"type": job.result_type, "id": job.result_id, "url": job.result_url}

    @extend_schema_field(JobErrorSerializer(allow_null=True))
    def get_error(self, job) -> dict | None:
        if not job.error:
            return None
        return {"code": job.error_code, "message": job.error, "fields": job.error_fields or {}}

    def get_stale(self, job) -> bool:
        return jobs.job_stale(job)

    def get_url(self, job) -> str:
        return job_path(job)


def job_path(job: BackgroundJob) -> str:
    return reverse("job-detail", args=[job.pk])


def job_accepted(job: BackgroundJob, *, context: dict | None = None) -> Response:
    """The answer of an operation that queued a job: 202, the job, and its address in Location. Without a
    broker the job has run already: its state is final and its result links the record made."""
    body = JobSerializer(job, context=context or {}).data
    return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": job_path(job)})


def idempotency_key_of(request, natural: str = "") -> str:
    """The job's idempotency key: the client's `Idempotency-Key` header (scoped to who sends it, so nobody can
    reach another's job by guessing a key) or, for an operation that happens once, its natural key."""
    given = request.headers.get("Idempotency-Key", "").strip()
    if given:
        if len(given) > 100 or not given.isprintable():
            raise serializers.ValidationError({"Idempotency-Key": ["at most 100 printable characters"]})
        from registry.permissions import actor_of

        return f"{actor_of(request).label}:{given}"
    return natural


class JobFilter(django_filters.FilterSet):
    project = django_filters.CharFilter(field_name="project__slug", help_text="project slug")
    state = django_filters.ChoiceFilter(choices=BackgroundJob.State.choices)

    class Meta:
        model = BackgroundJob
        fields = ["project", "state", "kind"]


@extend_schema_view(
    list=extend_schema(summary="Background jobs of your projects (erasure executions, audits, reports), newest first"),
    retrieve=extend_schema(
        summary="One background job: state, progress, result link, error", responses={200: JobSerializer, **ERRORS}
    ),
)
class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """A job is seen by whoever may start its kind in its project (an erasure's by compliance officers only)."""

    queryset = BackgroundJob.objects.select_related("project").order_by("-created_at", "-id")
    serializer_class = JobSerializer
    filterset_class = JobFilter
    read_roles = ALL_HUMAN_ROLES
    write_roles = ALL_HUMAN_ROLES

    def get_queryset(self):
        if self.action == "list":
            return selectors.jobs_visible(actor=self.actor, queryset=super().get_queryset())
        return super().get_queryset()  # the caller's projects: a job of a kind their role may not see is a 403

    def get_object(self):
        job = super().get_object()
        if not selectors.jobs_visible(actor=self.actor, queryset=BackgroundJob.objects.filter(pk=job.pk)).exists():
            raise PermissionDenied("your role may not see this kind of job")
        return job

    @extend_schema(
        summary="Retry a failed job, or one whose worker stopped (its heartbeat stale); 202 with the job",
        request=None,
        responses={202: JobSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        job = jobs.job_retry(actor=self.actor, job=self.get_object())
        return job_accepted(job, context=self.get_serializer_context())
