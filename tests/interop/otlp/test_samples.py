"""Every captured payload (samples/) through /v1/traces and /v1/logs, JSON and protobuf, plain and gzipped: what
each emitter's spans become, with the usage mapped against the provider's own usage in the fake response."""

from __future__ import annotations

import json

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from llmops.models import LLMCall, SpanMessages, TraceSpan
from llmops.usage import usage_normalise
from registry.subjects import subject_key
from tests.interop.otlp.conftest import PROTOBUF, as_protobuf, sample, stored_spans

TRACE_SAMPLES = [
    "otlp_proto__openai-v2-2.1b0__span.decoded.json",
    "otlp_proto__openai-v2-2.4b0__error429.decoded.json",
    "otlp_proto__openai-v2-2.4b0__span_only.decoded.json",
    "otlp_proto__openinference-langchain-0.1.80__prompt_template.decoded.json",
    "otlp_proto__openinference-langchain-0.1.80__retriever.decoded.json",
    "otlp_proto__traceloop-openai-0.46.2.decoded.json",
    "otlp_proto__traceloop-sdk-0.62.4__llm_span.decoded.json",
    "otlp_proto__traceloop-sdk-0.62.4__task_span.decoded.json",
    "otlp_proto__traceloop-sdk-0.62.4__workflow_span.decoded.json",
    "otlp_json__manual_retriever_span.json",
    "otlp_json__manual_llm_span_error.json",
    "C1_openai_chat_span.otlp.json",
]
LOG_SAMPLES = [
    "otlp_logs__openai-v2-2.1b0__legacy_event_system_message.decoded.json",
    "otlp_logs__openai-v2-2.1b0__legacy_event_user_message.decoded.json",
    "otlp_logs__openai-v2-2.1b0__legacy_event_choice.decoded.json",
    "otlp_logs__openai-v2-2.4b0__event_only__inference_operation_details.decoded.json",
]
PROVIDER_USAGE = usage_normalise(json.loads(sample("fake_openai_chat_response.json"))["usage"], "openai")
# what the emitters passed on of that usage: the official instrumentation drops cached and reasoning tokens
# (spec A.5 [O]), so only the totals can match; Traceloop and the OpenInference sample keep what they send
TOTALS_ONLY = {"input_uncached": 21, "input_cache_read": 0, "input_cache_write": 0, "output": 7, "output_reasoning": 0}
EXPECTED_USAGE = {
    "93d5323b77fef47c75bd0882a4f7f928": TOTALS_ONLY,  # openai-v2 2.4b0
    "e4f6175577044367a2f8ea7513e7cdaf": TOTALS_ONLY,  # openai-v2 2.1b0
    "af76db343d631d3a624f61d9b6de9244": PROVIDER_USAGE,  # Traceloop 0.46.2
    "477f1afddf78937038bd7a0fe5f0ce3a": PROVIDER_USAGE,  # Traceloop SDK 0.62.4
    "baf4d96968cf0a57dec1a7674f0ca736": TOTALS_ONLY,  # OpenInference (manual: prompt and completion only)
}


def tokens(call: LLMCall) -> dict:
    return {
        "input_uncached": call.input_uncached,
        "input_cache_read": call.input_cache_read,
        "input_cache_write": call.input_cache_write,
        "output": call.output_tokens,
        "output_reasoning": call.output_reasoning,
    }


def test_the_provider_usage_in_our_categories():
    assert PROVIDER_USAGE == {
        "input_uncached": 5,
        "input_cache_read": 16,
        "input_cache_write": 0,
        "output": 4,
        "output_reasoning": 3,
    }


@pytest.mark.parametrize("name", TRACE_SAMPLES)
@pytest.mark.parametrize("form", ["json", "protobuf", "json+gzip", "protobuf+gzip"])
def test_every_trace_sample_is_accepted_whole(name, form, world):
    body = as_protobuf(name) if form.startswith("protobuf") else sample(name)
    content_type = PROTOBUF if form.startswith("protobuf") else "application/json"
    response = world.otlp.traces(body, content_type=content_type, gzipped=form.endswith("gzip"))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == content_type
    assert response.content == (b"" if content_type == PROTOBUF else b"{}")
    sent = json.loads(sample(name))
    span_count = sum(len(ss["spans"]) for rs in sent["resourceSpans"] for ss in rs["scopeSpans"])
    assert len(stored_spans(world.project)) == span_count


def test_the_captured_protobuf_body_as_sent(world):
    response = world.otlp.traces(sample("otlp_proto__openai-v2-2.4b0__span_only.bin"), content_type=PROTOBUF)
    assert response.status_code == 200 and response.content == b""
    assert ExportTraceServiceResponse.FromString(response.content) == ExportTraceServiceResponse()
    call = LLMCall.objects.get()
    assert (call.provider, call.model) == ("openai", "gpt-4o-mini-2024-07-18")
    assert call.input == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Capital of France?"},
    ]
    assert call.output == "Paris."
    assert (call.trace_id, call.span_id) == ("93d5323b77fef47c75bd0882a4f7f928", "03a4a2007e962e0b")
    assert call.client_call_id == "otlp:93d5323b77fef47c75bd0882a4f7f928:03a4a2007e962e0b"
    assert call.latency_ms == pytest.approx(17.371228)
    assert call.occurred_at.isoformat().startswith("2026-11-26T")
    assert call.token_source == "provider"
    assert not TraceSpan.objects.exists() and stored_spans()[call.span_id].call == call  # the span is the call


def test_usage_per_emitter_against_the_provider_usage(world):
    for name in TRACE_SAMPLES:
        assert world.otlp.traces(sample(name)).status_code == 200
    for trace_id, expected in EXPECTED_USAGE.items():
        call = LLMCall.objects.get(trace_id=trace_id)
        assert tokens(call) == expected, trace_id
        assert call.input_tokens == 21 and call.output_tokens + call.output_reasoning == 7  # each token once
        assert call.token_source == "provider"


def test_each_emitters_fields(world):
    for name in TRACE_SAMPLES:
        world.otlp.traces(sample(name))
    old = LLMCall.objects.get(trace_id="af76db343d631d3a624f61d9b6de9244")  # Traceloop 0.46.2: flattened prompts
    assert old.input == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Capital of France?"},
    ]
    assert old.output == "Paris." and old.model == "gpt-4o-mini-2024-07-18"
    sdk = LLMCall.objects.get(trace_id="477f1afddf78937038bd7a0fe5f0ce3a")  # Traceloop SDK: the end user
    assert sdk.subject_key == subject_key("u-7")
    assert sdk.tags == ["service:tl-sdk-demo"]
    failed = LLMCall.objects.get(trace_id="0a4743a37e193ce9ffa5e2987f14a72b")  # openai-v2 2.4b0, a 429
    assert failed.status == "error" and "Error code: 429" in failed.error
    assert failed.output == "" and failed.token_source.startswith("tiktoken")  # no usage on failure: counted
    oi = LLMCall.objects.get(trace_id="baf4d96968cf0a57dec1a7674f0ca736")  # OpenInference, an error
    assert oi.status == "error"
    assert "RateLimitError: 429" in oi.error and "RuntimeError: rate limited" in oi.error
    assert oi.model == "gpt-4o-mini" and oi.provider == "openai"


def test_spans_of_every_kind_are_kept_with_their_tree(world):
    for name in TRACE_SAMPLES:
        world.otlp.traces(sample(name))
    spans = stored_spans(trace_id="477f1afddf78937038bd7a0fe5f0ce3a")
    assert {s.category for s in spans.values()} == {"workflow", "task", "llm"}
    llm = spans["55c56bfea6c92784"]
    assert llm.parent_span_id == "0496d0627638ecb0" and spans[llm.parent_span_id].parent_span_id == "9974d14860f0a48a"
    assert llm.call is not None and spans["9974d14860f0a48a"].call is None
    assert llm.name == "openai.chat" and llm.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert spans["9974d14860f0a48a"].attributes["traceloop.workflow.name"] == "qa_flow"
    assert TraceSpan.objects.get(span_id="992090e501942898").category == "retrieval"
    assert TraceSpan.objects.get(span_id="5307ca40235d952c").category == "prompt"


def test_retrieved_documents_of_the_retrieval_that_fed_the_call(world):
    world.otlp.traces(sample("otlp_json__manual_retriever_span.json"))  # the retrieval ends first: it comes first
    world.otlp.traces(sample("otlp_json__manual_llm_span_error.json"))
    call = LLMCall.objects.get(trace_id="baf4d96968cf0a57dec1a7674f0ca736")
    documents = list(call.documents.order_by("rank").values("document_id", "score", "source", "rank", "chunk_sha256"))
    assert [(d["document_id"], d["score"], d["source"], d["rank"]) for d in documents] == [
        ("doc-1", 0.91, "wiki", 0),
        ("doc-2", 0.47, "wiki", 1),
    ]
    assert all(len(d["chunk_sha256"]) == 64 for d in documents)
    stored = json.dumps([s.attributes for s in stored_spans().values()])
    assert "Paris is the capital" not in stored  # the chunk's text is hashed, never kept


def test_a_re_sent_export_adds_nothing(world):
    for _ in range(2):
        for name in TRACE_SAMPLES:
            assert world.otlp.traces(sample(name)).status_code == 200
        world.otlp.traces(as_protobuf(TRACE_SAMPLES[0]), content_type=PROTOBUF, gzipped=True)
    assert LLMCall.objects.count() == 6
    assert len(stored_spans()) == 11  # C1 is the 2.4b0 span again: the same trace and span
    assert TraceSpan.objects.count() == 5  # the 6 LLM spans are their calls' rows
    assert LLMCall.objects.get(trace_id="baf4d96968cf0a57dec1a7674f0ca736").documents.count() == 2


def test_legacy_log_events_after_the_span_become_its_messages(world):
    assert world.otlp.traces(sample("otlp_proto__openai-v2-2.1b0__span.decoded.json")).status_code == 200
    call = LLMCall.objects.get()
    assert call.input is None and call.output == ""  # 2.1b0 sends content only as events
    for name in LOG_SAMPLES[:3]:
        response = world.otlp.logs(sample(name))
        assert response.status_code == 200 and response.content == b"{}"
    for name in LOG_SAMPLES[:3]:  # re-sent: nothing twice
        world.otlp.logs(as_protobuf(name), content_type=PROTOBUF)
    call.refresh_from_db()
    assert call.input == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Capital of France?"},
    ]
    assert call.output == "Paris."
    assert not SpanMessages.objects.filter(attached_at__isnull=True).exists()  # nothing waits
    assert [(r.input, r.output) for r in SpanMessages.objects.all()] == [([], "")] * 2  # keys kept, no text


def test_log_events_before_the_span_wait_for_it(world):
    for name in reversed(LOG_SAMPLES[:3]):
        assert world.otlp.logs(sample(name), gzipped=True).status_code == 200
    assert SpanMessages.objects.count() == 3
    assert world.otlp.traces(sample("otlp_proto__openai-v2-2.1b0__span.decoded.json")).status_code == 200
    call = LLMCall.objects.get()
    assert call.input == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Capital of France?"},
    ]  # in time order, whatever order they came in
    assert call.output == "Paris."
    # merged; the rows that gave the input stay, emptied, to know a re-sent record; the choice's row is deleted
    kept = SpanMessages.objects.all()
    assert [(r.input, r.output, r.attached_at is not None) for r in kept] == [([], "", True)] * 2


def test_the_details_event_of_the_current_instrumentation(world):
    """openai-v2 2.4b0 with EVENT_ONLY: the span has no content, the details log event carries it structured."""
    response = world.otlp.logs(sample(LOG_SAMPLES[3]))
    assert response.status_code == 200
    pending = SpanMessages.objects.get()
    assert (pending.trace_id, pending.span_id) == ("37adbfd9be497ef68d507266276bffd1", "6b0f51314d46050d")
    assert pending.input == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Capital of France?"},
    ]
    assert pending.output == "Paris."


def test_messages_of_another_projects_call_are_not_touched(world, db):
    from tests import factories as f
    from tests.interop.otlp.conftest import Otlp, key_for

    world.otlp.traces(sample("otlp_proto__openai-v2-2.1b0__span.decoded.json"))
    intruder = Otlp(key_for(f.ProjectFactory(slug="globex")))
    for name in LOG_SAMPLES[:3]:
        assert intruder.logs(sample(name)).status_code == 200
    call = LLMCall.objects.get()
    assert call.input is None and call.output == ""  # the other project's events wait in the other project
    assert set(SpanMessages.objects.values_list("project__slug", flat=True)) == {"globex"}


def test_metrics_are_accepted_and_discarded(world):
    from tests.interop.otlp.conftest import METRICS

    response = world.otlp.post(METRICS, b"{}")
    assert response.status_code == 200 and response.content == b"{}"
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

    export = ExportMetricsServiceRequest()
    export.resource_metrics.add().scope_metrics.add().metrics.add(name="gen_ai.client.token.usage")
    response = world.otlp.post(METRICS, export.SerializeToString(), content_type=PROTOBUF)
    assert response.status_code == 200 and response.content == b""
    assert world.otlp.post(METRICS, b"\xff\xff", content_type=PROTOBUF).status_code == 400


def test_a_prompt_template_links_the_call_to_our_prompt_version(world):
    from llmops.services import prompts
    from registry.actors import Actor

    system = Actor.system()
    template = prompts.prompt_create(actor=system, project=world.project, name="answer-tersely")
    for text in ("Be brief: {{q}}", "Answer tersely: {{q}}", "Tersely: {{q}}", "Answer tersely: {{q}}"):
        version = prompts.prompt_version_create(
            actor=system, template=template, kind="text", text=text, variables=["q"]
        )
        if version.version == 2:
            v2 = version
    # Traceloop names version "3" of "Answer tersely: {q}": ours with that text are v2 and v4, neither is v3
    other = prompts.prompt_create(actor=system, project=world.project, name="rag")
    rag = prompts.prompt_version_create(
        actor=system,
        template=other,
        kind="text",
        text="Answer using {{context}}: {{question}}",
        variables=["context", "question"],
    )
    world.otlp.traces(sample("otlp_proto__traceloop-sdk-0.62.4__llm_span.decoded.json"))
    assert LLMCall.objects.get(trace_id="477f1afddf78937038bd7a0fe5f0ce3a").prompt_version is None
    body = sample("otlp_proto__traceloop-sdk-0.62.4__llm_span.decoded.json").replace(b'"3"', b'"2"')
    body = body.replace(b"55c56bfea6c92784", b"55c56bfea6c92785")
    world.otlp.traces(body)  # version "2" of that text: ours
    assert LLMCall.objects.get(span_id="55c56bfea6c92785").prompt_version == v2
    world.otlp.traces(sample("otlp_json__manual_llm_span_error.json"))  # OpenInference: "v3" of the RAG text
    assert LLMCall.objects.get(trace_id="baf4d96968cf0a57dec1a7674f0ca736").prompt_version is None  # ours is v1
    assert rag.version == 1
