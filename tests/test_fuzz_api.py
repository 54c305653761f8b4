"""Property-based fuzzing of the whole OpenAPI schema (schemathesis): whatever a key of any role sends to any
operation, the answer is never a server error.

In process through Django's WSGI application (no server, no network), on a project with a small real lineage;
bounded and derandomised so `make test` stays within minutes: FUZZ_EXAMPLES examples per operation (default 10),
no shrinking. A 5xx names the operation, the request and the answer.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from registry import services
from registry.actors import Actor
from tests import factories as f

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
ROLES = ["data_scientist", "compliance_officer", "risk_analyst", "ingest"]


@pytest.fixture
def keys(chain):
    for i in range(3):
        f.DecisionFactory(model_version=chain.version, request_id=f"fz{i}", features={"age": 30 + i})
    out = []
    for role in ROLES:
        _, raw = services.api_key_create(actor=Actor.system(), project=chain.project, role=role, name=f"fuzz {role}")
        out.append(raw)
    return out


@pytest.fixture
def wsgi_app():
    """Django's WSGI application sharing the test's connection and transaction, as the test client does (it
    must not close the connection when a request finishes)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_no_operation_answers_a_server_error(keys, wsgi_app):
    app = wsgi_app
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", app)
    failures: list[str] = []
    answered: Counter[int] = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40

    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), key=st.sampled_from(keys))
        def fuzz(case, key):
            response = case.call(headers={"Authorization": f"Bearer {key}"})
            answered[response.status_code] += 1
            if response.status_code >= 500:
                failures.append(
                    f"{case.method.upper()} {case.path} -> {response.status_code}: "
                    f"query={case.query!r} body={str(case.body)[:300]!r} path={case.path_parameters!r} "
                    f"answer={response.text[:300]!r}"
                )

        fuzz()
    assert not failures, "\n".join(failures[:30])
    # the keys were accepted and the requests reached the views: not a run of 401s
    assert sum(n for code, n in answered.items() if code in (200, 201)) > len(operations)
    assert answered[401] == 0, answered
