"""The end user of an OTLP span is the call's subject: HMAC'd on arrival, never stored raw (not in the call, the span,
its attributes or names, nor in an answer), erased and suppressed like any other call's subject."""

from __future__ import annotations

import json

from django.core import serializers

from governance.services.erasure import erasure_request_create, erasure_request_execute, erasure_request_trace
from llmops.models import LLMCall, TraceSpan
from llmops.presenters.traces import call_waterfall
from llmops.services.traces import trace_settings_set
from registry.actors import Actor
from registry.models import Project
from registry.subjects import subject_key
from tests.interop.otlp.conftest import chat_attrs, sample, span, trace_json

SYSTEM = Actor.system()
RAW = "zz-otlp-subject-42@example.org"
T = "0af7651916cd43dd8448eb211c80319c"


def _everything() -> str:
    rows = [*LLMCall.objects.all(), *TraceSpan.objects.all()]
    return serializers.serialize("json", rows)


def _export(span_id: str = "b7ad6b7169203331", **attrs) -> bytes:
    workflow = span(
        T,
        "b7ad6b7169203330",
        {"traceloop.span.kind": "workflow", "traceloop.association.properties.user_id": RAW},
        name=f"flow for {RAW}",
        status={"code": 2, "message": f"failed for {RAW}"},
    )
    messages = json.dumps([{"role": "user", "parts": [{"type": "text", "content": f"I am {RAW.upper()}"}]}])
    attrs = {"enduser.id": RAW, "gen_ai.input.messages": messages, **attrs}
    call = span(T, span_id, chat_attrs(**attrs), parent="b7ad6b7169203330", name=f"chat {RAW}")
    return trace_json([workflow, call])


def test_the_end_user_is_hmacd_and_never_stored_raw(world):
    response = world.otlp.traces(_export())
    assert response.status_code == 200 and response.content == b"{}"
    call = LLMCall.objects.get()
    assert call.subject_key == subject_key(RAW)
    assert RAW not in _everything() and "zz-otlp-subject" not in _everything()
    assert TraceSpan.objects.get(span_id="b7ad6b7169203330").name == "[redacted]"
    assert call.input == [{"role": "user", "content": "I am [redacted]"}]  # the text stays, the id does not


def test_a_refused_span_does_not_echo_the_subject(world):
    body = _export(**{"gen_ai.request.model": "m"})
    bad = trace_json([span(T, "b7ad6b7169203339", chat_attrs(**{"enduser.id": RAW}))], service=f"svc-{RAW}")
    for export in (body, bad):
        response = world.otlp.traces(export)
        assert RAW not in response.content.decode()
    assert "tags: must not contain the subject id" in response.json()["partialSuccess"]["errorMessage"]


def test_the_projects_own_attribute_names_the_subject(world):
    trace_settings_set(actor=SYSTEM, project=world.project, subject_attribute="app.customer_id")
    body = trace_json([span(T, "b7ad6b7169203331", chat_attrs(**{"app.customer_id": "c-991", "user.id": "u-1"}))])
    world.otlp.traces(body)
    assert LLMCall.objects.get().subject_key == subject_key("c-991")  # the project's attribute comes first


def test_erasure_reaches_otlp_calls_and_a_re_sent_export_does_not_bring_them_back(world):
    world.otlp.traces(_export())
    world.otlp.traces(sample("otlp_proto__traceloop-sdk-0.62.4__llm_span.decoded.json"))  # another user (u-7)
    request = erasure_request_create(actor=SYSTEM, project=world.project, subject_id=RAW, reference="T-9")
    traced = erasure_request_trace(actor=SYSTEM, request=request)
    assert traced.trace["other"]["llmops"]["llm_calls"]["count"] == 1
    erasure_request_execute(actor=SYSTEM, request=traced)
    erased = LLMCall.objects.get(trace_id=T)
    assert erased.erased_at is not None and erased.input is None and erased.output == "" and erased.subject_key is None
    assert LLMCall.objects.get(trace_id="477f1afddf78937038bd7a0fe5f0ce3a").erased_at is None
    assert world.otlp.traces(_export()).status_code == 200  # the exporter retries an old batch
    assert LLMCall.objects.filter(trace_id=T).count() == 1  # the span is known: no second, unredacted call
    assert erased.span_start_time_unix_nano and erased.span_name == "[redacted]"  # the waterfall still draws it
    assert [row["this_call"] for row in call_waterfall(erased)["rows"]] == [False, True]


def test_a_suppressed_subjects_new_span_is_refused_or_stripped_as_the_project_says(world):
    world.otlp.traces(_export())
    request = erasure_request_create(actor=SYSTEM, project=world.project, subject_id=RAW, reference="T-9")
    erasure_request_execute(actor=SYSTEM, request=erasure_request_trace(actor=SYSTEM, request=request))
    later = trace_json([span("1" * 32, "b7ad6b7169203331", chat_attrs(**{"enduser.id": RAW}))])
    response = world.otlp.traces(later)
    assert response.status_code == 200
    partial = response.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "1" and "erased from the project" in partial["errorMessage"]
    assert not LLMCall.objects.filter(trace_id="1" * 32).exists()
    assert not TraceSpan.objects.filter(trace_id="1" * 32).exists()
    Project.objects.filter(pk=world.project.pk).update(erased_subject_ingest=Project.ErasedSubjectIngest.STRIP)
    assert world.otlp.traces(later).content == b"{}"
    stripped = LLMCall.objects.get(trace_id="1" * 32)
    assert stripped.subject_key is None and stripped.input is None and stripped.erased_at is not None
    assert stripped.span_name and json.dumps(stripped.span_attributes).find(RAW) == -1


def _user_message_log(content: str, span_id: str, *, user: str | None = None) -> bytes:
    attrs = [
        {"key": "gen_ai.system", "value": {"stringValue": "openai"}},
        {"key": "event.name", "value": {"stringValue": "gen_ai.user.message"}},
    ]
    if user is not None:
        attrs.append({"key": "enduser.id", "value": {"stringValue": user}})
    record = {
        "timeUnixNano": "1795702127572198833",
        "body": {"kvlistValue": {"values": [{"key": "content", "value": {"stringValue": content}}]}},
        "attributes": attrs,
        "traceId": T,
        "spanId": span_id,
    }
    return json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]}).encode()


def test_messages_sent_as_log_events_lose_the_id_too(world):
    """Messages that arrive as log-record events (before their span: they wait; naming their user or not) never
    keep the raw id: not while they wait, not in the call they join."""
    from llmops.models import SpanMessages

    waiting = world.otlp.logs(_user_message_log(f"this is {RAW}, please help", "b7ad6b7169203341", user=RAW))
    assert waiting.status_code == 200
    assert RAW not in serializers.serialize("json", SpanMessages.objects.all())
    # an event that does not name its user: the id is known once its span arrives and says whose call it is
    world.otlp.logs(_user_message_log(f"again {RAW}", "b7ad6b7169203342"))
    for span_id in ("b7ad6b7169203341", "b7ad6b7169203342"):
        call = span(T, span_id, chat_attrs(**{"enduser.id": RAW}), name="chat m")
        assert world.otlp.traces(trace_json([call])).status_code == 200
    assert LLMCall.objects.count() == 2
    assert RAW not in _everything()
    assert {json.dumps(c.input) for c in LLMCall.objects.all()} >= {
        json.dumps([{"role": "user", "content": "again [redacted]"}])
    }
