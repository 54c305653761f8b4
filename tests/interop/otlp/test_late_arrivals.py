"""What arrives late: a retrieval span exported after the call it fed, and log-record messages exported after (or
again, or before) their span. Each is joined once: a re-sent export adds nothing, and two records that only look
alike are two messages."""

from __future__ import annotations

import json

from django.utils import timezone

from llmops.models import LLMCall, RetrievedDocument, SpanMessages
from registry.models import AuditEvent
from tests.interop.otlp.conftest import PROTOBUF, as_protobuf, chat_attrs, sample, span, trace_json

RETRIEVER = "otlp_json__manual_retriever_span.json"
LLM = "otlp_json__manual_llm_span_error.json"
LEGACY_SPAN = "otlp_proto__openai-v2-2.1b0__span.decoded.json"  # no content on the span: it comes as events
LEGACY_LOGS = [
    "otlp_logs__openai-v2-2.1b0__legacy_event_system_message.decoded.json",
    "otlp_logs__openai-v2-2.1b0__legacy_event_user_message.decoded.json",
    "otlp_logs__openai-v2-2.1b0__legacy_event_choice.decoded.json",
]
T, S = "e4f6175577044367a2f8ea7513e7cdaf", "06a124de13ba3320"  # LEGACY_SPAN's trace and span


def documents(call: LLMCall) -> list[tuple]:
    return list(call.documents.order_by("rank").values_list("document_id", "score", "source", "rank"))


def test_a_retrieval_after_its_call_attaches_its_documents_once(world):
    assert world.otlp.traces(sample(LLM)).status_code == 200  # the call first, the retrieval in a later export
    call = LLMCall.objects.get(trace_id="baf4d96968cf0a57dec1a7674f0ca736")
    assert documents(call) == []
    response = world.otlp.traces(sample(RETRIEVER))
    assert response.status_code == 200 and response.content == b"{}"
    assert documents(call) == [("doc-1", 0.91, "wiki", 0), ("doc-2", 0.47, "wiki", 1)]  # as in one export
    event = AuditEvent.objects.filter(event_type="llm.traces_ingested").latest("seq")
    assert (event.after["spans"], event.after["documents_attached"]) == (1, 2)
    for _ in range(2):  # re-sent, in either encoding: a duplicate span, nothing more attached
        world.otlp.traces(sample(RETRIEVER))
        world.otlp.traces(as_protobuf(RETRIEVER), content_type=PROTOBUF)
    assert documents(call) == [("doc-1", 0.91, "wiki", 0), ("doc-2", 0.47, "wiki", 1)]


def test_a_late_retrieval_adds_nothing_to_an_erased_call(world):
    world.otlp.traces(sample(LLM))
    LLMCall.objects.update(erased_at=timezone.now())  # as erasure execution leaves the call
    assert world.otlp.traces(sample(RETRIEVER)).status_code == 200
    assert not RetrievedDocument.objects.exists()


def test_a_late_retrieval_follows_the_documents_the_call_has(world):
    trace, parent = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203330"
    docs = json.dumps([{"id": "first", "score": 0.5, "content": "one"}])
    retrieval = span(
        trace,
        "b7ad6b7169203331",
        {"gen_ai.operation.name": "retrieval", "gen_ai.retrieval.documents": docs},
        parent=parent,
        name="retrieve",
        start=1_795_701_665_000_000_000,
    )
    call = span(trace, "b7ad6b7169203332", chat_attrs(), parent=parent, start=1_795_701_666_000_000_000)
    world.otlp.traces(trace_json([retrieval, call]))
    later = json.dumps([{"id": "second", "score": 0.25, "content": "two"}])
    other = span(
        trace,
        "b7ad6b7169203333",
        {"gen_ai.operation.name": "retrieval", "gen_ai.retrieval.documents": later},
        parent=parent,
        name="retrieve again",
        start=1_795_701_665_500_000_000,
    )
    world.otlp.traces(trace_json([other]))
    assert [(d[0], d[3]) for d in documents(LLMCall.objects.get())] == [("first", 0), ("second", 1)]


def test_the_same_words_in_two_records_are_two_messages(world):
    world.otlp.traces(sample(LEGACY_SPAN))
    user = json.loads(sample(LEGACY_LOGS[1]))
    for at in ("1795702127572198833", "1795702128572198833"):  # "Capital of France?" asked twice, in two exports
        user["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["timeUnixNano"] = at
        assert world.otlp.logs(json.dumps(user).encode()).status_code == 200
        assert world.otlp.logs(json.dumps(user).encode()).status_code == 200  # and each export re-sent
    assert LLMCall.objects.get().input == [{"role": "user", "content": "Capital of France?"}] * 2


def test_a_re_sent_log_export_before_the_span_is_not_merged_twice(world):
    for _ in range(2):
        for name in LEGACY_LOGS:
            assert world.otlp.logs(sample(name)).status_code == 200
    assert SpanMessages.objects.count() == 3
    world.otlp.traces(sample(LEGACY_SPAN))
    for name in LEGACY_LOGS:  # and once more after the span
        world.otlp.logs(as_protobuf(name), content_type=PROTOBUF)
    call = LLMCall.objects.get()
    assert call.input == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Capital of France?"},
    ]
    assert call.output == "Paris."


def test_a_later_record_joins_messages_that_came_as_records(world):
    for name in LEGACY_LOGS[:1]:
        world.otlp.logs(sample(name))
    world.otlp.traces(sample(LEGACY_SPAN))  # the system message waited: it is the call's input now
    world.otlp.logs(sample(LEGACY_LOGS[1]))  # the user's message comes after the span
    assert LLMCall.objects.get().input == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Capital of France?"},
    ]


def test_records_do_not_double_the_messages_the_span_carried(world):
    """SPAN_AND_EVENT: the span has its messages and a details record repeats them afterwards."""
    world.otlp.traces(sample("otlp_proto__openai-v2-2.4b0__span_only.decoded.json"))
    call = LLMCall.objects.get()
    details = json.loads(sample("otlp_logs__openai-v2-2.4b0__event_only__inference_operation_details.decoded.json"))
    for record in details["resourceLogs"][0]["scopeLogs"][0]["logRecords"]:
        record["traceId"], record["spanId"] = call.trace_id, call.span_id
    assert world.otlp.logs(json.dumps(details).encode()).status_code == 200
    again = LLMCall.objects.get()
    assert again.input == call.input and again.output == call.output == "Paris."
    assert not SpanMessages.objects.exists()


def test_one_audit_event_records_an_export_and_its_calls(world):
    before = AuditEvent.objects.count()
    world.otlp.traces(sample("otlp_proto__traceloop-sdk-0.62.4__llm_span.decoded.json"))
    events = list(AuditEvent.objects.filter(seq__gt=before).values_list("event_type", "after"))
    assert [kind for kind, _ in events] == ["llm.traces_ingested"]  # no llm.calls_ingested beside it
    after = events[0][1]
    call = LLMCall.objects.get()
    assert after["calls"] == 1 and after["llm_calls"]["accepted"] == 1
    assert after["llm_calls"]["first_id"] == after["llm_calls"]["last_id"] == call.pk
    assert after["llm_calls"]["cost"] == str(call.cost or 0) and after["llm_calls"]["unpriced"] == (call.cost is None)
