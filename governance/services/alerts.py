"""Alerts and webhooks: a failed fairness audit, detected drift or a performance drop writes an audit
event and queues a signed delivery to each of the project's webhooks that wants it.

Each delivery is a JSON POST with the headers
    X-Governance-Event: <alert type>      X-Governance-Delivery: <delivery id>
    X-Governance-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<unix time>.<body>")>
(verify the HMAC and reject old timestamps to refuse replays). Raising an alert only queues its deliveries
(pending rows): nothing is sent inside the request. `deliveries_run` sends what is due
(`manage.py deliver_webhooks`, `--loop` to keep going, as `make run` does; or `run_monitoring`) and retries
failures with exponential backoff (1, 2, 4, 8 minutes) up to MAX_ATTEMPTS.

A webhook URL is an outbound request made by the service, so it is checked like one: http or https, no
user info, and every address its host resolves to must be public (no loopback, private, link-local such as
the cloud metadata address 169.254.169.254, multicast or reserved) unless the host is named in
settings.WEBHOOK_ALLOWED_HOSTS. The check runs at registration and again at each connection, which goes to
the address just checked (no DNS rebinding between check and connect). Redirects are never followed (a 3xx
is a failed delivery) and the stored error is generic, so deliveries cannot map the network behind the service.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import time
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance.events import GovernanceEvent as Event
from governance.models import Webhook, WebhookDelivery
from registry.actors import Actor
from registry.audit import audit_append
from registry.locks import for_update

ALERT_TYPES = (
    "fairness.audit_failed",
    "drift.detected",
    "performance.degraded",
    "llm.budget_crossed",
    "review.override_rate",
    "incident.opened",
    "incident.deadline_near",
)
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
    return deliveries


class WebhookTargetRefused(ValueError):
    """A webhook URL the service will not call; the message says why, without probing anything."""


def _address_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback)


def webhook_target(url: str) -> tuple[str, str, int, str, str]:
    """(scheme, host, port, address, path) of a URL the service may call, address being the one to connect to;
    WebhookTargetRefused otherwise. Resolves the host, so call it right before connecting."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookTargetRefused("is not a valid URL")
    if parts.scheme not in ("http", "https"):
        raise WebhookTargetRefused("must be an http or https URL")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise WebhookTargetRefused("must not carry user info (user:password@)")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise WebhookTargetRefused("has no host")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise WebhookTargetRefused("host does not resolve")
    addresses = [info[4][0] for info in infos]
    allowed = host.lower() in getattr(settings, "WEBHOOK_ALLOWED_HOSTS", [])
    if not addresses or not (allowed or all(_address_public(address) for address in addresses)):
        raise WebhookTargetRefused(
            "resolves to a loopback, private, link-local, multicast or reserved address (not allowed)"
        )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, host, port, addresses[0], path


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked; the Host header still names the host."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As _PinnedHTTPConnection, with TLS verified against the host name (SNI and certificate)."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _post(url: str, body: bytes, headers: dict) -> tuple[int | None, str]:
    """(status code, generic error or "") of one POST; never follows a redirect."""
    try:
        scheme, host, port, address, path = webhook_target(url)
    except WebhookTargetRefused:
        return None, "address not allowed"
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, address, TIMEOUT_SECONDS)
    try:
        connection.request("POST", path, body=body, headers=headers)
        status = connection.getresponse().status
    except TimeoutError:
        return None, "timed out"
    except (OSError, http.client.HTTPException):
        return None, "connection failed"
    finally:
        connection.close()
    return status, "" if 200 <= status < 300 else f"HTTP {status}"


def delivery_attempt(*, delivery_id: int) -> WebhookDelivery:
    """One attempt; the row is locked so that two workers never send the same delivery at once."""
    with transaction.atomic():
        delivery = (
            for_update(WebhookDelivery.objects, skip_locked=True)
            .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
            .select_related("webhook")
            .first()
        )
        if delivery is None:
            return WebhookDelivery.objects.get(pk=delivery_id)
        body = json.dumps(delivery.payload, sort_keys=True).encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "ml-governance-webhooks/1",
            "X-Governance-Event": delivery.event_type,
            "X-Governance-Delivery": str(delivery.pk),
            "X-Governance-Signature": sign(delivery.webhook.secret, timestamp, body),
        }
        delivery.attempts += 1
        delivery.last_status_code, delivery.last_error = _post(delivery.webhook.url, body, headers)
        ok = not delivery.last_error
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

    unknown = sorted(set(events) - set(ALERT_TYPES) - {"*"})
    if not events or unknown:
        raise field_error(
            "events", f"choose from {', '.join(ALERT_TYPES)} or *" + (f"; unknown: {unknown}" if unknown else "")
        )
    if secret and len(secret) < 16:
        raise field_error("secret", "must be at least 16 characters")
    try:
        webhook_target(url)
    except WebhookTargetRefused as exc:
        raise field_error("url", str(exc))
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
