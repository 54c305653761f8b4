"""Read queries shared by the API, admin and jobs."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from registry.models import Deployment, Model


def deployments_live_at(*, model: Model, at: datetime) -> QuerySet[Deployment]:
    """The deployments of a model's versions that were live at `at` (started, not yet ended)."""
    return (
        Deployment.objects.filter(model_version__model=model, started_at__lte=at)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=at))
        .select_related("model_version")
        .order_by("environment", "-traffic_percent", "started_at")
    )


def jobs_visible(*, actor, queryset=None):
    """The background jobs the actor may see: in each project, those of the kinds whose roles (registry.jobs) the
    actor holds there. Project-less jobs (the monitoring run) and kinds no app registers: superusers only."""
    from registry.jobs import job_kinds
    from registry.models import BackgroundJob

    queryset = BackgroundJob.objects.all() if queryset is None else queryset
    if actor.is_superuser:
        return queryset
    visible = Q(pk__in=[])
    for kind in job_kinds():
        ids = actor.project_ids(kind.roles)
        if ids:
            visible |= Q(kind=kind.name, project_id__in=ids)
    return queryset.filter(visible)


def job_result_record(job):
    """The record a succeeded job made, or None (its model unknown here, or the record gone)."""
    from django.apps import apps

    if not job.result_type or not job.result_id:
        return None
    try:
        model = apps.get_model(job.result_type)
    except (LookupError, ValueError):
        return None
    return model._default_manager.filter(pk=job.result_id).first()
