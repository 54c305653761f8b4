"""The stock OpenTelemetry SDK and its OTLP/HTTP exporters (protobuf with gzip, and JSON) against a live test server,
configured only by the environment variables the README gives: GenAI spans made by hand with the semconv attributes
land as LLM calls, a re-export adds nothing, a bad key fails the export."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.trace import Status, StatusCode

from llmops.models import LLMCall, TraceSpan
from registry.subjects import subject_key
from tests import factories as f
from tests.interop.otlp.conftest import key_for, stored_spans


@pytest.fixture
def env(live_server, transactional_db, monkeypatch):
    project = f.ProjectFactory(slug="acme")
    key = key_for(project)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"{live_server.url}/api/v1/otlp")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", f"Authorization=Bearer%20{key}")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    return project


def _exporter(kind: str):
    if kind == "protobuf+gzip":
        from opentelemetry.exporter.otlp.proto.http import Compression
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(compression=Compression.Gzip)
    from opentelemetry.exporter.otlp.json.http.trace_exporter import OTLPSpanExporter as JsonSpanExporter

    return JsonSpanExporter()


def _genai_spans(provider: TracerProvider) -> None:
    tracer = provider.get_tracer("manual.genai", "0.1")
    with tracer.start_as_current_span("qa_flow", attributes={"gen_ai.operation.name": "invoke_workflow"}):
        with tracer.start_as_current_span(
            "retrieve", attributes={"gen_ai.operation.name": "retrieval", "gen_ai.data_source.id": "kb"}
        ) as retrieval:
            retrieval.set_attribute("gen_ai.retrieval.documents", '[{"id": "doc-1", "score": 0.9}]')
        with tracer.start_as_current_span("chat gpt-4o-mini") as span:
            span.set_attributes(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o-mini",
                    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
                    "gen_ai.usage.input_tokens": 21,
                    "gen_ai.usage.output_tokens": 7,
                    "gen_ai.usage.cache_read.input_tokens": 16,
                    "gen_ai.usage.reasoning.output_tokens": 3,
                    "gen_ai.input.messages": '[{"role":"user","parts":[{"type":"text","content":"Capital?"}]}]',
                    "gen_ai.output.messages": '[{"role":"assistant","parts":[{"type":"text","content":"Paris."}]}]',
                    "enduser.id": "zz-exporter-user@example.org",
                }
            )
        with tracer.start_as_current_span("chat broken") as span:
            span.set_attributes(
                {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "x"}
            )
            span.set_status(Status(StatusCode.ERROR, "Error code: 429"))


@pytest.mark.parametrize("kind", ["protobuf+gzip", "json"])
def test_the_sdk_exporter_lands_calls(env, kind):
    exporter = _exporter(kind)
    provider = TracerProvider(resource=Resource.create({"service.name": "rag-app"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    _genai_spans(provider)
    provider.shutdown()
    assert len(stored_spans(env)) == 4 and TraceSpan.objects.filter(project=env).count() == 2  # + 2 calls' spans
    call = LLMCall.objects.get(project=env, status="ok")
    assert (call.input_uncached, call.input_cache_read, call.output_tokens, call.output_reasoning) == (5, 16, 4, 3)
    assert call.input == [{"role": "user", "content": "Capital?"}] and call.output == "Paris."
    assert call.subject_key == subject_key("zz-exporter-user@example.org")
    assert list(call.documents.values_list("document_id", flat=True)) == ["doc-1"]
    failed = LLMCall.objects.get(project=env, status="error")
    assert failed.error == "Error code: 429"
    assert call.trace_id == failed.trace_id and len(call.trace_id) == 32


def test_a_re_export_adds_nothing_and_a_bad_key_fails(env, monkeypatch):
    from opentelemetry.sdk.trace.export import SpanExporter

    class Keep(SpanExporter):
        spans: list = []

        def export(self, spans):
            self.spans.extend(spans)
            return SpanExportResult.SUCCESS

    keep = Keep()
    provider = TracerProvider(resource=Resource.create({"service.name": "rag-app"}))
    provider.add_span_processor(SimpleSpanProcessor(keep))
    _genai_spans(provider)
    exporter = _exporter("protobuf+gzip")
    assert exporter.export(keep.spans) == SpanExportResult.SUCCESS
    assert exporter.export(keep.spans) == SpanExportResult.SUCCESS
    assert len(stored_spans()) == 4 and TraceSpan.objects.count() == 2 and LLMCall.objects.count() == 2
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Bearer%20gk_0123456789ab_not-a-key")
    assert _exporter("protobuf+gzip").export(keep.spans) == SpanExportResult.FAILURE
