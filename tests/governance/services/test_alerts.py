"""Alerts reach the project's webhooks: signed, retried with backoff, every delivery recorded.
The receiver is a real HTTP server on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from governance.models import WebhookDelivery
from governance.services.alerts import deliveries_run
from governance.services.fairness import fairness_audit_run
from registry.actors import Actor
from registry.models import AuditEvent


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    """The receivers listen on loopback, which webhooks may only reach when the operator names it."""
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]


def run_audit(chain):
    return fairness_audit_run(
        actor=Actor.system(), model_version=chain.version, sensitive_features=["sex"], positive_label=1
    )


@pytest.mark.django_db(transaction=True)
def test_a_failed_audit_is_delivered_signed(failing_audit_setup, receiver, make_client):
    chain = failing_audit_setup
    hook = receiver()
    officer = make_client("compliance_officer", chain.project)
    created = officer.post("/api/v1/webhooks/", {"url": hook.url, "events": ["fairness.audit_failed"]}, format="json")
    assert created.status_code == 201, created.json()
    secret = created.json()["secret"]
    assert len(secret) >= 32
    assert "secret" not in officer.get(f"/api/v1/webhooks/{created.json()['id']}/").json()

    audit = run_audit(chain)
    assert not audit.passed
    assert hook.received == [] and WebhookDelivery.objects.get().status == "pending"  # queued, not sent in-request
    deliveries_run()
    assert len(hook.received) == 1
    request = hook.received[0]
    body = request["body"]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["x-governance-event"] == "fairness.audit_failed"
    timestamp, signature = (part.split("=", 1)[1] for part in headers["x-governance-signature"].split(","))
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, expected)
    payload = json.loads(body)
    assert payload["alert"] == "fairness.audit_failed"
    assert payload["fairness_audit"] == audit.pk
    assert AuditEvent.objects.get(seq=payload["audit_seq"]).hash == payload["audit_hash"]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    listed = officer.get(f"/api/v1/webhooks/{created.json()['id']}/deliveries/").json()["results"]
    assert [d["status"] for d in listed] == ["succeeded"]


@pytest.mark.django_db(transaction=True)
def test_failures_are_retried_with_backoff_then_given_up(failing_audit_setup, receiver, make_client):
    chain = failing_audit_setup
    flaky = receiver([500, 503])
    dead = receiver([500] * 10)
    officer = make_client("compliance_officer", chain.project)
    for url in (flaky.url, dead.url):
        officer.post("/api/v1/webhooks/", {"url": url, "events": ["*"]}, format="json")
    run_audit(chain)
    assert len(deliveries_run()) == 2
    flaky_delivery = WebhookDelivery.objects.get(webhook__url=flaky.url)
    assert (flaky_delivery.status, flaky_delivery.attempts, flaky_delivery.last_status_code) == ("pending", 1, 500)
    first_wait = flaky_delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=50) < first_wait <= timedelta(minutes=1)

    assert deliveries_run() == []  # nothing is due yet
    later = timezone.now()
    for attempt in range(2, 7):
        later += timedelta(minutes=2**attempt)
        deliveries_run(now=later)
        WebhookDelivery.objects.filter(status="pending").update(next_attempt_at=later)
    flaky_delivery.refresh_from_db()
    assert (flaky_delivery.status, flaky_delivery.attempts) == ("succeeded", 3)
    assert len(flaky.received) == 3
    gone = WebhookDelivery.objects.get(webhook__url=dead.url)
    assert (gone.status, gone.attempts, gone.last_error) == ("failed", 5, "HTTP 500")
    assert len(dead.received) == 5


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_receiver_is_recorded_not_raised(failing_audit_setup, make_client):
    chain = failing_audit_setup
    officer = make_client("compliance_officer", chain.project)
    officer.post("/api/v1/webhooks/", {"url": "http://127.0.0.1:9/nothing", "events": ["*"]}, format="json")
    audit = run_audit(chain)  # the audit itself is stored whatever the receiver does
    assert audit.pk
    deliveries_run()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.last_status_code is None and delivery.last_error == "connection failed"


def test_webhook_input_is_checked(chain, make_client):
    officer = make_client("compliance_officer", chain.project)
    bad = officer.post("/api/v1/webhooks/", {"url": "ftp://x/y", "events": ["*"]}, format="json")
    assert "url" in bad.json()["error"]["fields"]
    bad = officer.post(
        "/api/v1/webhooks/", {"url": "https://x.example/y", "events": ["budget.exploded"]}, format="json"
    )
    assert "events" in bad.json()["error"]["fields"]
    bad = officer.post(
        "/api/v1/webhooks/", {"url": "https://x.example/y", "events": ["*"], "secret": "short"}, format="json"
    )
    assert "secret" in bad.json()["error"]["fields"]
    scientist = make_client("data_scientist", chain.project)
    assert (
        scientist.post("/api/v1/webhooks/", {"url": "https://x.example", "events": ["*"]}, format="json").status_code
        == 403
    )
    assert scientist.get("/api/v1/webhooks/").status_code == 200
