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
