"""Governance's Celery tasks (found by autodiscovery). The long work of governance runs as background jobs
(governance/jobs.py); what is here runs often and keeps its state in its own rows.

Webhook deliveries are not job rows: each WebhookDelivery is its own state (pending, succeeded, failed, with its
attempts and next attempt), and governance.services.alerts.delivery_attempt locks the row it sends (SKIP LOCKED),
so beat's tick every WEBHOOK_DELIVERY_SECONDS may reach any number of workers and none sends a delivery twice.
"""

from __future__ import annotations

from celery import shared_task

from governance.services.alerts import deliveries_run


@shared_task(name="governance.deliver_webhooks")
def deliver_webhooks() -> int:
    """Send the due webhook deliveries (failures are retried with backoff by the next ticks)."""
    return len(deliveries_run())


@shared_task(name="governance.log_partitions")
def log_partitions() -> int:
    """This month's and the next three months' partitions of every partitioned log, for every project (through
    log_partition_create, which the service's role may call); answers how many were created."""
    from django.utils import timezone

    from registry import partitions
    from registry.models import Project

    projects = list(Project.objects.values_list("pk", flat=True))
    now = timezone.now()
    return sum(
        len(partitions.months_ahead(table, project_ids=projects, now=now)) for table in partitions.partitioned_tables()
    )


@shared_task(name="governance.retention")
def retention() -> list[dict]:
    """Seal and drop every month past its project's maximum that no hold keeps. Dropping a table is the owner's:
    the worker that takes this task needs the owner's DATABASE_URL (README, "Partitions and retention")."""
    from django.utils import timezone

    from governance.services.retention import retention_apply
    from registry.actors import Actor

    return [outcome.as_dict() for outcome in retention_apply(actor=Actor.system(), now=timezone.now())]
