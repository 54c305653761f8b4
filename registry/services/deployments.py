"""Deployments: a version going live in an environment, and its end. A direct or blue-green deployment
replaces the live one; a start or end is now (within the clock skew) unless code loads history (`backfill`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from registry.actors import Actor
from registry.audit import AuditEventType as Event
from registry.audit import audit_append
from registry.errors import Conflict, ServiceError, field_error
from registry.locks import for_update
from registry.models import Deployment, Model, ModelVersion, Stage
from registry.services.common import created_by
from registry.services.gate import gate_enforce

REPLACING_STRATEGIES = {Deployment.Strategy.DIRECT, Deployment.Strategy.BLUE_GREEN}


def serves_production(environment: str, strategy: str) -> bool:
    """Whether a deployment puts a version's decisions in front of people: every strategy but shadow, in every
    environment but the named pre-production ones (fail closed: an unknown name counts as production)."""
    return strategy != Deployment.Strategy.SHADOW and environment not in settings.PREPRODUCTION_ENVIRONMENTS


def _not_backdated(field: str, at: datetime, now: datetime) -> None:
    skew = timedelta(seconds=settings.DEPLOYMENT_CLOCK_SKEW_SECONDS)
    if at < now - skew:
        raise field_error(field, f"may not lie more than {skew.total_seconds():.0f} seconds in the past")
    if at > now + skew:
        raise field_error(field, f"may not lie more than {skew.total_seconds():.0f} seconds in the future")


def deployment_create(
    *,
    actor: Actor,
    model_version: ModelVersion,
    environment: str,
    strategy: str = Deployment.Strategy.DIRECT,
    traffic_percent: Decimal | None = None,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    backfill: bool = False,
) -> Deployment:
    """Record that a version goes live. A direct or blue-green deployment (a rollback too) ends, at its own start,
    every deployment of the same model still open in that environment; ends already set never move.

    Unless it is a shadow or in a pre-production environment, the version must be in stage production and pass
    the gate again now (an audit may have failed since its promotion). The start is now, give or take the clock
    skew setting. `backfill` (code only, never the API: demo and benchmarks loading history) allows a start and
    an end in the past; the gate, the stage and the one-live rule hold even then."""
    now = timezone.now()
    started_at = started_at or now
    if not backfill:
        _not_backdated("started_at", started_at, now)
        if ended_at is not None:
            raise field_error("ended_at", "is set when the deployment ends (deployments/{id}/end/), not before")
    if ended_at is not None and ended_at <= started_at:
        raise field_error("ended_at", "must be after started_at")
    if traffic_percent is None:
        traffic_percent = Decimal(100)
    if not Decimal(0) < traffic_percent <= Decimal(100):
        raise field_error("traffic_percent", "must be greater than 0 and at most 100")
    if strategy == Deployment.Strategy.CANARY and traffic_percent >= 100:
        raise field_error("traffic_percent", "a canary takes a share of traffic below 100")
    with transaction.atomic():
        # One deployment of a model at a time: the lock orders concurrent ones, the partial unique index backs it.
        for_update(Model.objects).filter(pk=model_version.model_id).first()
        current = for_update(ModelVersion.objects).get(pk=model_version.pk)
        checks: list[dict] = []
        if serves_production(environment, strategy):
            if current.stage != Stage.PRODUCTION:
                raise ServiceError(
                    f"{current} is in stage {current.stage}: only a version in production may be deployed "
                    f"({strategy}) to {environment}",
                    fields={"model_version": [f"is in stage {current.stage}, not production"]},
                    code="gate_refused",
                )
            checks = gate_enforce(
                actor=actor, model_version=current, to_stage=Stage.PRODUCTION, field="model_version", doing="to deploy"
            )
        if strategy in REPLACING_STRATEGIES and ended_at is None:
            live = list(
                for_update(Deployment.objects).filter(
                    model_id=model_version.model_id, environment=environment, ended_at__isnull=True
                )
            )
            later = [d for d in live if d.started_at >= started_at]
            if later:
                raise field_error(
                    "started_at", f"must be after the start of live deployment {later[0].pk} ({later[0].started_at})"
                )
            for replaced in live:
                _end(actor, replaced, started_at, reason="replaced")
        try:
            with transaction.atomic():
                deployment = Deployment.objects.create(
                    project_id=model_version.project_id,
                    model_id=model_version.model_id,
                    model_version=model_version,
                    environment=environment,
                    strategy=strategy,
                    traffic_percent=traffic_percent,
                    started_at=started_at,
                    ended_at=ended_at,
                    **created_by(actor),
                )
        except IntegrityError as exc:  # the constraints, should validation above miss a case
            raise Conflict(
                f"deployment rejected by the database: {exc.__class__.__name__}",
                fields={"environment": ["another direct or blue-green deployment of this model may be live there"]},
            ) from exc
        audit_append(
            actor=actor,
            event_type=Event.DEPLOYMENT_CREATED,
            target=deployment,
            after={
                "model_version": model_version.pk,
                "environment": environment,
                "strategy": strategy,
                "traffic_percent": traffic_percent,
                "started_at": started_at,
                "ended_at": ended_at,
                "backfill": backfill,
                "gate": [{"check": c["check"], "passed": c["passed"]} for c in checks],
            },
        )
    return deployment


def deployment_end(
    *, actor: Actor, deployment: Deployment, ended_at: datetime | None = None, backfill: bool = False
) -> Deployment:
    """End a live deployment, now (give or take the clock skew); `backfill` (code only) allows a past end."""
    now = timezone.now()
    ended_at = ended_at or now
    if not backfill:
        _not_backdated("ended_at", ended_at, now)
    with transaction.atomic():
        current = for_update(Deployment.objects).get(pk=deployment.pk)
        if current.ended_at is not None:
            raise Conflict("deployment has already ended", fields={"ended_at": ["already set"]})
        if ended_at <= current.started_at:
            raise field_error("ended_at", "must be after started_at")
        _end(actor, current, ended_at, reason="ended")
    return current


def _end(actor: Actor, deployment: Deployment, ended_at: datetime, *, reason: str) -> None:
    before = deployment.ended_at
    Deployment.objects.filter(pk=deployment.pk).update(ended_at=ended_at)
    deployment.ended_at = ended_at
    audit_append(
        actor=actor,
        event_type=Event.DEPLOYMENT_ENDED,
        target=deployment,
        before={"ended_at": before},
        after={"ended_at": ended_at, "reason": reason},
    )
