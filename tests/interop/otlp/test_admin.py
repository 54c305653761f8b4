"""A call's trace on its admin page (the waterfall presenter and chart) and the trace spans' admin."""

from __future__ import annotations

from llmops.models import LLMCall, TraceSpan
from llmops.presenters.traces import call_waterfall
from tests.interop.otlp.conftest import sample

TRACE = "477f1afddf78937038bd7a0fe5f0ce3a"
PARTS = [
    "otlp_proto__traceloop-sdk-0.62.4__llm_span.decoded.json",
    "otlp_proto__traceloop-sdk-0.62.4__task_span.decoded.json",
    "otlp_proto__traceloop-sdk-0.62.4__workflow_span.decoded.json",
]


def test_the_waterfall_of_a_calls_trace(world):
    for name in PARTS:
        world.otlp.traces(sample(name))
    call = LLMCall.objects.get(trace_id=TRACE)
    waterfall = call_waterfall(call)
    assert [(r["name"], r["depth"], r["this_call"]) for r in waterfall["rows"]] == [
        ("qa_flow.workflow", 0, False),
        ("answer.task", 1, False),
        ("openai.chat", 2, True),
    ]
    assert waterfall["rows"][0]["offset_ms"] == 0 and waterfall["total_ms"] > waterfall["rows"][2]["duration_ms"]
    assert waterfall["rows"][2]["offset_ms"] > 0


def test_the_call_page_draws_its_trace(world, admin_client):
    for name in PARTS:
        world.otlp.traces(sample(name))
    call = LLMCall.objects.get(trace_id=TRACE)
    page = admin_client.get(f"/admin/llmops/llmcall/{call.pk}/change/").content.decode()
    assert "trace-waterfall" in page and "qa_flow.workflow" in page
    assert admin_client.get("/admin/llmops/tracespan/").status_code == 200
    span = TraceSpan.objects.get(span_id="9974d14860f0a48a")  # the workflow: the LLM span is its call's row
    assert admin_client.get(f"/admin/llmops/tracespan/{span.pk}/change/").status_code == 200

    # scoping by project and role: tests/test_admin_isolation.py walks this admin with every other one
