"""Fixtures shared by the webhook tests: a real HTTP receiver on loopback and a project whose audit fails."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from governance.models import Policy
from tests import factories as f


class Receiver:
    """Answers the queued status codes in turn (then 200) and keeps what it received."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": dict(self.headers), "body": body})
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(statuses=()):
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.fixture
def failing_audit_setup(chain):
    # by the policy's attribute: only such an audit alerts (others are exploratory)
    Policy.objects.update_or_create(project=chain.project, defaults={"required_sensitive_features": ["sex"]})
    for i in range(80):  # group F is always selected, group M never: a failed audit
        f.DecisionFactory(
            model_version=chain.version,
            request_id=f"d{i}",
            sensitive={"sex": "F" if i % 2 else "M"},
            prediction=int(i % 2 == 1),
            outcome=int(i % 3 == 0),
        )
    return chain
