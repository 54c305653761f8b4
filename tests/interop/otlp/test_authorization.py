"""Every OTLP route: anonymous and bad keys 401 UNAUTHENTICATED, each role that may not write LLM calls 403
PERMISSION_DENIED, the ingest key of another project writes only into its own project, the happy path; and every
route under /api/v1/otlp/ is in this matrix."""

from __future__ import annotations

import pytest
from django.urls import URLPattern

from interop.otlp import urls as otlp_urls
from llmops.models import LLMCall, TraceSpan
from llmops.permissions import CALL_INGESTERS
from tests import factories as f
from tests.interop.otlp.conftest import LOGS, METRICS, TRACES, Otlp, key_for, sample, stored_spans

ROLES = {"data_scientist", "compliance_officer", "risk_analyst", "ingest"}
BODIES = {
    TRACES: "otlp_proto__traceloop-sdk-0.62.4__llm_span.decoded.json",
    LOGS: "otlp_logs__openai-v2-2.1b0__legacy_event_choice.decoded.json",
    METRICS: None,
}
ROUTES = list(BODIES)


def _body(path: str) -> bytes:
    return sample(BODIES[path]) if BODIES[path] else b"{}"


def test_every_otlp_route_is_in_this_matrix():
    routes = {"/" + str(p.pattern) for p in otlp_urls.urlpatterns if isinstance(p, URLPattern)}
    assert routes == set(ROUTES)


@pytest.mark.parametrize("path", ROUTES)
def test_anonymous_and_bad_keys_are_refused(path, acme):
    client = Otlp("")
    anonymous = client.client.post(path, _body(path), content_type="application/json")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == 16
    for bad in ("gk_0123456789ab_not-a-real-key", "not-even-a-key"):
        response = client.post(path, _body(path), key=bad)
        assert response.status_code == 401 and response.json()["code"] == 16
    basic = client.client.post(path, _body(path), content_type="application/json", HTTP_AUTHORIZATION="Basic eDp5")
    assert basic.status_code == 401
    assert not TraceSpan.objects.exists()


@pytest.mark.parametrize("path", ROUTES)
def test_roles_that_may_not_write_calls_are_forbidden(path, acme):
    for role in sorted(ROLES - CALL_INGESTERS):
        response = Otlp(key_for(acme, role)).post(path, _body(path))
        assert response.status_code == 403, role
        assert response.json()["code"] == 7
    assert not TraceSpan.objects.exists() and not LLMCall.objects.exists()


@pytest.mark.parametrize("path", ROUTES)
def test_the_ingest_role_succeeds(path, acme):
    response = Otlp(key_for(acme)).post(path, _body(path))
    assert response.status_code == 200 and response.content == b"{}"


def test_a_revoked_key_is_refused(acme):
    from registry.models import ApiKey

    otlp = Otlp(key_for(acme))
    assert otlp.traces(_body(TRACES)).status_code == 200
    ApiKey.objects.update(revoked_at="2026-01-01T00:00:00Z")
    assert otlp.traces(_body(TRACES)).status_code == 401


def test_another_projects_key_writes_only_into_its_own_project(acme):
    """The project is the key's: nothing in the export can name another one, and the same trace and span ids in two
    projects are two records, neither disturbing the other."""
    globex = f.ProjectFactory(slug="globex")
    assert Otlp(key_for(acme)).traces(_body(TRACES)).status_code == 200
    assert Otlp(key_for(globex)).traces(_body(TRACES)).status_code == 200
    assert set(LLMCall.objects.values_list("project__slug", flat=True)) == {"acme", "globex"}
    ours = LLMCall.objects.get(project=acme)
    theirs = LLMCall.objects.get(project=globex)
    assert ours.pk != theirs.pk and ours.trace_id == theirs.trace_id
    assert stored_spans(acme)[ours.span_id].call == ours and stored_spans(globex)[theirs.span_id].call == theirs
