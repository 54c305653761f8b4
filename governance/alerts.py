"""Alerts and webhooks: a failed fairness audit, detected drift or a performance drop writes an audit
event and queues a signed delivery to each of the project's webhooks that wants it.

Each delivery is a JSON POST with the headers
    X-Governance-Event: <alert type>      X-Governance-Delivery: <delivery id>
    X-Governance-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<unix time>.<body>")>
(verify the HMAC and reject old timestamps to refuse replays). The first attempt runs right after
the alert's transaction commits; failures are retried with exponential backoff (1, 2, 4, 8 minutes)
by `deliveries_run` (`manage.py deliver_webhooks`, or `run_monitoring`) up to MAX_ATTEMPTS.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from governance.models import Webhook, WebhookDelivery
from registry.actors import Actor
from registry.audit import AuditEventType as Event
from registry.audit import audit_append

ALERT_TYPES = ("fairness.audit_failed", "drift.detected", "performance.degraded", "llm.budget_crossed")
MAX_ATTEMPTS = 5
BACKOFF_BASE = timedelta(minutes=1)
TIMEOUT_SECONDS = 5


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def alert_raise(*, actor: Actor, project_id: int, alert_type: str, target, payload: dict) -> list[WebhookDelivery]:
    """Record the alert in the audit trail and queue its deliveries, in the caller's transaction."""
    event = audit_append(
        actor=actor,
        event_type=Event.ALERT_RAISED,
        target=target,
        project_id=project_id,
        after={"alert": alert_type, **payload},
    )
    body = {
        "alert": alert_type,
        "project_id": project_id,
        "audit_seq": event.seq,
        "audit_hash": event.hash,
        "raised_at": event.occurred_at.isoformat(),
        **payload,
    }
    deliveries = [
        WebhookDelivery.objects.create(
            webhook=hook, event_type=alert_type, payload=body, next_attempt_at=timezone.now()
        )
        for hook in Webhook.objects.filter(project_id=project_id, active=True)
        if hook.wants(alert_type)
    ]
    if deliveries:
        ids = [d.pk for d in deliveries]
        transaction.on_commit(lambda: [delivery_attempt(delivery_id=pk) for pk in ids])
    return deliveries


def delivery_attempt(*, delivery_id: int) -> WebhookDelivery:
    """One attempt; the row is locked so that two workers never send the same delivery at once."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
            .select_related("webhook")
            .first()
        )
        if delivery is None:
            return WebhookDelivery.objects.get(pk=delivery_id)
        body = json.dumps(delivery.payload, sort_keys=True).encode()
        timestamp = int(time.time())
        if not delivery.webhook.url.startswith(("http://", "https://")):
            delivery.status, delivery.last_error = WebhookDelivery.Status.FAILED, "only http and https URLs are sent"
            delivery.save()
            return delivery
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            delivery.webhook.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "ml-governance-webhooks/1",
                "X-Governance-Event": delivery.event_type,
                "X-Governance-Delivery": str(delivery.pk),
                "X-Governance-Signature": sign(delivery.webhook.secret, timestamp, body),
            },
        )
        delivery.attempts += 1
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (http/https only)
                delivery.last_status_code, delivery.last_error = response.status, ""
                ok = 200 <= response.status < 300
        except urllib.error.HTTPError as exc:
            delivery.last_status_code, delivery.last_error, ok = exc.code, f"HTTP {exc.code}", False
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            delivery.last_status_code, delivery.last_error, ok = None, str(reason)[:300], False
        now = timezone.now()
        if ok:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = (
                WebhookDelivery.Status.SUCCEEDED,
                now,
                None,
            )
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
        else:
            delivery.next_attempt_at = now + BACKOFF_BASE * (2 ** (delivery.attempts - 1))
        delivery.save()
    return delivery


def deliveries_run(*, now=None, limit: int = 100) -> list[WebhookDelivery]:
    """Attempt every pending delivery that is due (the retry loop, for cron or run_monitoring)."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return [delivery_attempt(delivery_id=pk) for pk in due]


def webhook_create(*, actor: Actor, project, url: str, events: list[str], secret: str = "") -> tuple[Webhook, str]:
    """A new webhook; answers it and its signing secret (generated unless given), shown once."""
    import secrets as secret_tokens

    from registry.errors import field_error

    if not url.startswith(("http://", "https://")):
        raise field_error("url", "must be an http or https URL")
    unknown = sorted(set(events) - set(ALERT_TYPES) - {"*"})
    if not events or unknown:
        raise field_error(
            "events", f"choose from {', '.join(ALERT_TYPES)} or *" + (f"; unknown: {unknown}" if unknown else "")
        )
    if secret and len(secret) < 16:
        raise field_error("secret", "must be at least 16 characters")
    secret = secret or secret_tokens.token_urlsafe(32)
    with transaction.atomic():
        hook = Webhook.objects.create(
            project=project,
            url=url,
            events=list(events),
            secret=secret,
            created_by_user=actor.user if actor.user is not None and actor.user.pk else None,
            created_by_key=actor.api_key,
        )
        audit_append(actor=actor, event_type=Event.WEBHOOK_CREATED, target=hook, after={"url": url, "events": events})
    return hook, secret
