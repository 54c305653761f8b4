"""OTLP/HTTP tests: the captured payloads (samples/, copied from ../shared/specs/samples) and a client that posts
them as the exporters do."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.test import Client
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from interop.otlp.protocol import JSON, decode
from registry import services
from registry.actors import Actor
from tests import factories as f

SAMPLES = Path(__file__).parent / "samples"
PROTOBUF = "application/x-protobuf"
TRACES = "/api/v1/otlp/v1/traces"
LOGS = "/api/v1/otlp/v1/logs"
METRICS = "/api/v1/otlp/v1/metrics"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def as_protobuf(name: str) -> bytes:
    """A decoded (OTLP/JSON) sample in its protobuf form, as the protobuf exporter sent it."""
    body = sample(name)
    message = ExportLogsServiceRequest if b"resourceLogs" in body else ExportTraceServiceRequest
    return decode(body, JSON, message).SerializeToString()


def key_for(project, role: str = "ingest") -> str:
    return services.api_key_create(actor=Actor.system(), project=project, role=role, name=f"otlp {role}")[1]


class Otlp:
    def __init__(self, key: str):
        self.key = key
        self.client = Client()

    def post(self, path: str, body: bytes, *, content_type: str = JSON, gzipped: bool = False, key: str | None = None):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {key or self.key}"}
        if gzipped:
            body = gzip.compress(body)
            headers["HTTP_CONTENT_ENCODING"] = "gzip"
        return self.client.post(path, body, content_type=content_type, **headers)

    def traces(self, body: bytes, **kwargs):
        return self.post(TRACES, body, **kwargs)

    def logs(self, body: bytes, **kwargs):
        return self.post(LOGS, body, **kwargs)


@pytest.fixture
def acme(db):
    return f.ProjectFactory(slug="acme", name="Acme")


@pytest.fixture
def otlp(acme):
    return Otlp(key_for(acme))


def trace_json(spans: list[dict], *, service: str = "svc", logs: bool = False) -> bytes:
    return json.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
                    "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}],
                }
            ]
        }
    ).encode()


def value(v):
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    return {"stringValue": v}


def span(trace: str, span_id: str, attrs: dict, *, parent: str = "", name: str = "chat m", start: int = 0, **extra):
    start = start or 1_795_701_665_921_349_871
    body = {
        "traceId": trace,
        "spanId": span_id,
        "name": name,
        "kind": 3,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + 17_000_000),
        "attributes": [{"key": k, "value": value(v)} for k, v in attrs.items()],
        "status": {},
        **extra,
    }
    if parent:
        body["parentSpanId"] = parent
    return body


def chat_attrs(**more) -> dict:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.input_tokens": 21,
        "gen_ai.usage.output_tokens": 7,
        **more,
    }


@pytest.fixture
def world(acme, otlp):
    return SimpleNamespace(project=acme, otlp=otlp)


def stored_spans(project=None, **filters) -> dict[str, SimpleNamespace]:
    """Every stored span by span id: the TraceSpan rows and the LLM calls that are their spans (`call` set)."""
    from llmops.models import LLMCall, TraceSpan

    if project is not None:
        filters["project"] = project
    found = {
        s.span_id: SimpleNamespace(
            span_id=s.span_id,
            parent_span_id=s.parent_span_id,
            name=s.name,
            category=s.category,
            attributes=s.attributes,
            call=None,
        )
        for s in TraceSpan.objects.filter(**filters)
    }
    for call in LLMCall.objects.filter(span_start_time_unix_nano__isnull=False, **filters):
        assert call.span_id not in found, call.span_id
        found[call.span_id] = SimpleNamespace(
            span_id=call.span_id,
            parent_span_id=call.span_parent_id,
            name=call.span_name,
            category=call.span_category,
            attributes=call.span_attributes,
            call=call,
        )
    return found
