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
