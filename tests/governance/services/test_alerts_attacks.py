"""Attacks on webhooks, the one place the service makes requests of its own: a compliance officer (or a stolen
officer key) registering a URL that points inside the network, a receiver that redirects there, delivery
errors used as a port scanner, and slow receivers used to hold requests open."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from governance.models import Webhook, WebhookDelivery
from governance.services.alerts import deliveries_run
from tests.governance.services.test_alerts import run_audit

HOOKS = "/api/v1/webhooks/"


@pytest.fixture
def officer(chain, make_client):
    return make_client("compliance_officer", chain.project)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://localhost@169.254.169.254/",
        "http://user:pw@example.com/",
        "http://127.0.0.1:5432/",
        "http://localhost:6379/",
        "http://[::1]:8000/",
        "http://[::ffff:127.0.0.1]/",
        "http://10.0.0.5/hook",
        "http://192.168.1.1/",
        "http://0.0.0.0:8000/",
        "http://224.0.0.1/",
        "http://2130706433/",  # 127.0.0.1 as one decimal number
        "ftp://example.com/",
        "gopher://127.0.0.1:25/",
        "file:///etc/passwd",
    ],
)
def test_webhooks_pointing_inside_the_network_are_refused_at_registration(officer, url):
    response = officer.post(HOOKS, {"url": url, "events": ["*"]}, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["fields"]) == ["url"]
    assert not Webhook.objects.exists()


def test_loopback_is_refused_even_by_name_unless_the_operator_allows_it(officer, settings):
    assert officer.post(HOOKS, {"url": "http://localhost:9/x", "events": ["*"]}, format="json").status_code == 400
    settings.WEBHOOK_ALLOWED_HOSTS = ["localhost"]
    assert officer.post(HOOKS, {"url": "http://localhost:9/x", "events": ["*"]}, format="json").status_code == 201
    # the allowance names a host: another name for the same address is still refused
    assert officer.post(HOOKS, {"url": "http://127.0.0.1:9/x", "events": ["*"]}, format="json").status_code == 400


@pytest.mark.django_db(transaction=True)
def test_a_hook_made_before_the_rules_or_rebound_later_is_checked_again_at_connect(failing_audit_setup, receiver):
    """An insider writes the URL straight into the table (or DNS changes after registration): nothing is sent."""
    chain = failing_audit_setup
    hook = receiver()
    Webhook.objects.create(project=chain.project, url=hook.url, events=["*"], secret="s" * 32)
    run_audit(chain)
    deliveries_run()
    delivery = WebhookDelivery.objects.get()
    assert hook.received == []
    assert (delivery.attempts, delivery.last_error, delivery.last_status_code) == (1, "address not allowed", None)


class Redirector:
    """Answers every POST with a redirect to ``location``."""

    def __init__(self, location: str, status: int = 307):
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(status)
                self.send_header("Location", location)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirects_are_never_followed(failing_audit_setup, receiver, make_client, settings, status):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    chain = failing_audit_setup
    inner = receiver()  # stands for 127.0.0.1:5432 or the metadata service: must never be reached
    redirectors = [Redirector(location, status) for location in (inner.url, "ftp://127.0.0.1/")]
    try:
        officer = make_client("compliance_officer", chain.project)
        for redirector in redirectors:
            assert officer.post(HOOKS, {"url": redirector.url, "events": ["*"]}, format="json").status_code == 201
        run_audit(chain)
        assert len(deliveries_run()) == 2
    finally:
        for redirector in redirectors:
            redirector.close()
    assert inner.received == []
    for delivery in WebhookDelivery.objects.all():
        assert (delivery.status, delivery.last_status_code, delivery.last_error) == (
            "pending",
            status,
            f"HTTP {status}",
        )


@pytest.mark.django_db(transaction=True)
def test_delivery_errors_do_not_tell_open_ports_from_closed_ones(failing_audit_setup, make_client, settings):
    """An open port that is not HTTP (a database, a mail server) and a closed port read the same."""
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    chain = failing_audit_setup
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def speak_not_http():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.sendall(b"\x00\x00\x00\x08 not http\r\n")
            conn.close()

    threading.Thread(target=speak_not_http, daemon=True).start()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    officer = make_client("compliance_officer", chain.project)
    for port in (listener.getsockname()[1], closed_port):
        officer.post(HOOKS, {"url": f"http://127.0.0.1:{port}/", "events": ["*"]}, format="json")
    try:
        run_audit(chain)
        deliveries_run()
    finally:
        listener.close()
    errors = {d.last_error for d in WebhookDelivery.objects.all()}
    assert errors == {"connection failed"}


@pytest.mark.django_db(transaction=True)
def test_the_request_that_raises_an_alert_sends_nothing(failing_audit_setup, make_client, settings):
    """Two receivers that never answer used to hold the request 2 x 5 s; now the request only queues rows."""
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    chain = failing_audit_setup
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    officer = make_client("compliance_officer", chain.project)
    for _ in range(2):
        officer.post(HOOKS, {"url": f"http://127.0.0.1:{silent.getsockname()[1]}/", "events": ["*"]}, format="json")
    try:
        run_audit(chain)
        deliveries = list(WebhookDelivery.objects.all())
        assert len(deliveries) == 2
        assert all(
            d.status == "pending" and d.attempts == 0 and d.next_attempt_at <= timezone.now() for d in deliveries
        )
    finally:
        silent.close()
