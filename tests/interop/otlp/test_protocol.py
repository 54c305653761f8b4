"""The OTLP/HTTP answers (spec A.2) under attack: partial success naming the rejected span, 400 for garbage, 413 for
a body over the cap also after gunzip (a gzip bomb), 415, 405, no redirect, and never a 5xx for any input."""

from __future__ import annotations

import gzip
import json
import zlib

import pytest
from django.db import connection
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from interop.otlp.protocol import status_bytes
from llmops.models import LLMCall, TraceSpan
from tests.interop.otlp.conftest import (
    LOGS,
    PROTOBUF,
    TRACES,
    as_protobuf,
    chat_attrs,
    sample,
    span,
    stored_spans,
    trace_json,
)

T = "0af7651916cd43dd8448eb211c80319c"


def _status(content: bytes) -> tuple[int, str]:
    from google.rpc.status_pb2 import Status  # googleapis-common-protos, installed with the exporter

    status = Status.FromString(content)
    return status.code, status.message


def test_status_is_encoded_as_the_spec_shows():
    assert status_bytes(2, "x") == b"\x08\x02\x12\x01x"
    assert _status(status_bytes(3, "bad " * 100)) == (3, "bad " * 100)


def test_partial_success_names_the_rejected_span(world):
    good = span(T, "b7ad6b7169203331", chat_attrs())
    bad = span(T, "b7ad6b7169203332", chat_attrs(**{"gen_ai.usage.input_tokens": "many"}))
    negative = span(T, "b7ad6b7169203333", chat_attrs(**{"gen_ai.usage.output_tokens": -3}))
    response = world.otlp.traces(trace_json([good, bad, negative]))
    assert response.status_code == 200
    partial = response.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "2"
    assert "b7ad6b7169203332" in partial["errorMessage"] and "gen_ai.usage.input_tokens" in partial["errorMessage"]
    assert "b7ad6b7169203333" in partial["errorMessage"] and "usage" in partial["errorMessage"]
    assert list(stored_spans()) == ["b7ad6b7169203331"]
    assert LLMCall.objects.count() == 1


def test_partial_success_in_protobuf(world):
    body = trace_json([span(T, "b7ad6b7169203331", chat_attrs()), span(T, "00", chat_attrs())])
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    from interop.otlp.protocol import JSON, decode

    response = world.otlp.traces(
        decode(body, JSON, ExportTraceServiceRequest).SerializeToString(), content_type=PROTOBUF
    )
    assert response.status_code == 200 and response["Content-Type"] == PROTOBUF
    answer = ExportTraceServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_spans == 1 and "spanId" in answer.partial_success.error_message


def test_empty_exports_are_accepted(world):
    assert world.otlp.traces(b"{}").content == b"{}"
    assert world.otlp.traces(b'{"resourceSpans": []}').status_code == 200
    assert (
        world.otlp.post(LOGS, b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": {}}]}]}]}').status_code == 200
    )


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\x0a\xff\xff\xff\xff\x0f", PROTOBUF),  # a length beyond the body
        (b"not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}', "application/json"),
        (b'{"resourceSpans": "x"}', "application/json"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "a\\u0000b"}]}]}]}', "application/json"),
    ],
)
def test_undecodable_input_is_a_400_status(world, body, content_type):
    response = world.otlp.traces(body, content_type=content_type)
    assert response.status_code == 400, response.content
    if content_type == PROTOBUF:
        code, message = _status(response.content)
    else:
        code, message = response.json()["code"], response.json()["message"]
    assert code == 3 and message
    assert not TraceSpan.objects.exists()


def test_bad_gzip_is_a_400(world):
    client = world.otlp.client
    auth = {"HTTP_AUTHORIZATION": f"Bearer {world.otlp.key}", "HTTP_CONTENT_ENCODING": "gzip"}
    response = client.post(TRACES, b"\x1f\x8bnot gzip at all", content_type=PROTOBUF, **auth)
    assert response.status_code == 400
    truncated = gzip.compress(as_protobuf("C1_openai_chat_span.otlp.json"))[:-12]
    assert client.post(TRACES, truncated, content_type=PROTOBUF, **auth).status_code == 400


def test_a_gzip_bomb_is_a_413_and_never_expanded_whole(world, settings):
    settings.OTLP_MAX_BODY_BYTES = 1024 * 1024
    bomb = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    body = bomb.compress(b"\0" * (64 * 1024 * 1024)) + bomb.flush()  # 64 MiB of zeros in ~64 KiB
    assert len(body) < 200 * 1024
    client = world.otlp.client
    auth = {"HTTP_AUTHORIZATION": f"Bearer {world.otlp.key}", "HTTP_CONTENT_ENCODING": "gzip"}
    response = client.post(TRACES, body, content_type=PROTOBUF, **auth)
    assert response.status_code == 413
    assert _status(response.content)[0] == 8


def test_a_plain_body_over_the_cap_is_a_413(world, settings):
    settings.OTLP_MAX_BODY_BYTES = 1000
    response = world.otlp.traces(b"{" + b" " * 2000 + b"}")
    assert response.status_code == 413 and response.json()["code"] == 8
    assert world.otlp.traces(b"{}").status_code == 200


def test_a_body_under_the_cap_that_gunzips_over_it_is_a_413(world, settings):
    body = sample("otlp_proto__traceloop-sdk-0.62.4__llm_span.decoded.json")
    settings.OTLP_MAX_BODY_BYTES = len(body) - 1
    assert len(gzip.compress(body)) < settings.OTLP_MAX_BODY_BYTES
    assert world.otlp.traces(body, gzipped=True).status_code == 413
    settings.OTLP_MAX_BODY_BYTES = len(body)
    assert world.otlp.traces(body, gzipped=True).status_code == 200


def test_other_content_types_and_encodings_are_a_415(world):
    assert world.otlp.traces(b"{}", content_type="text/plain").status_code == 415
    client, key = world.otlp.client, world.otlp.key
    response = client.post(
        TRACES, b"{}", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_CONTENT_ENCODING="br"
    )
    assert response.status_code == 415


def test_post_only_and_no_redirect(world):
    client = world.otlp.client
    response = client.get(TRACES, HTTP_AUTHORIZATION=f"Bearer {world.otlp.key}")
    assert response.status_code == 405 and response["Allow"] == "POST"
    response = world.otlp.post(TRACES + "/", b"{}")  # no trailing-slash redirect: the protocol's own 404
    assert response.status_code == 404 and response.json()["code"] == 5  # in the request's encoding
    assert world.otlp.post("/api/v1/otlp/v1/profiles", b"{}").status_code == 404


def test_the_routes_are_not_shadowed_by_the_api(world):
    from django.urls import resolve

    assert resolve(TRACES).func.__module__ == "interop.otlp.views"
    assert resolve(LOGS).func.__name__ == "logs"


def test_a_failed_write_writes_nothing(world, monkeypatch):
    """A refusal by the service (here: a subject id too long) rolls the export's spans back with it."""
    long_subject = span(T, "b7ad6b7169203331", chat_attrs(**{"enduser.id": "x" * 600}))
    workflow = span(T, "b7ad6b7169203339", {"traceloop.span.kind": "workflow"})
    response = world.otlp.traces(trace_json([long_subject, workflow]))
    assert response.status_code == 200 and response.json()["partialSuccess"]["rejectedSpans"] == "1"
    assert "x" * 600 not in response.content.decode()
    assert list(TraceSpan.objects.values_list("span_id", flat=True)) == ["b7ad6b7169203339"]
    assert not LLMCall.objects.exists()


ANY_VALUE = st.recursive(
    st.one_of(
        st.builds(lambda v: {"stringValue": v}, st.text(max_size=20)),
        st.builds(lambda v: {"intValue": v}, st.one_of(st.integers(-(2**70), 2**70), st.text(max_size=5))),
        st.builds(lambda v: {"doubleValue": v}, st.floats(allow_nan=False)),
        st.builds(lambda v: {"boolValue": v}, st.booleans()),
        st.just({}),
    ),
    lambda inner: st.one_of(
        st.builds(lambda vs: {"arrayValue": {"values": vs}}, st.lists(inner, max_size=3)),
        st.builds(
            lambda kvs: {"kvlistValue": {"values": [{"key": k, "value": v} for k, v in kvs]}},
            st.lists(st.tuples(st.text(max_size=8), inner), max_size=3),
        ),
    ),
    max_leaves=6,
)
KEYS = st.sampled_from(
    [
        "gen_ai.operation.name",
        "gen_ai.provider.name",
        "gen_ai.request.model",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.prompt.0.content",
        "llm.input_messages.0.message.role",
        "openinference.span.kind",
        "retrieval.documents.0.document.id",
        "enduser.id",
        "traceloop.prompt.version",
        "llm.request.type",
    ]
)
SPAN = st.fixed_dictionaries(
    {
        "traceId": st.sampled_from([T, "", "00" * 16, "ab" * 8]),
        "spanId": st.sampled_from(["b7ad6b7169203331", "", "00" * 8, "ab" * 16]),
        "parentSpanId": st.sampled_from(["", "b7ad6b7169203330", "ab"]),
        "name": st.text(max_size=30),
        "kind": st.integers(0, 5),
        "startTimeUnixNano": st.one_of(st.integers(0, 2**64 - 1).map(str), st.just("1795701665921349871")),
        "endTimeUnixNano": st.integers(0, 2**64 - 1).map(str),
        "attributes": st.lists(st.builds(lambda k, v: {"key": k, "value": v}, KEYS, ANY_VALUE), max_size=6),
        "status": st.fixed_dictionaries({"code": st.integers(0, 2), "message": st.text(max_size=10)}),
        "events": st.lists(
            st.fixed_dictionaries(
                {
                    "name": st.sampled_from(["exception", "gen_ai.user.message", "db.query.result", "x"]),
                    "attributes": st.lists(st.builds(lambda k, v: {"key": k, "value": v}, KEYS, ANY_VALUE), max_size=2),
                }
            ),
            max_size=2,
        ),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spans=st.lists(SPAN, max_size=3))
def test_fuzzed_json_exports_never_5xx(world, spans):
    response = world.otlp.traces(trace_json(spans))
    assert response.status_code in (200, 400), response.content


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300), gzipped=st.booleans(), path=st.sampled_from([TRACES, LOGS]))
def test_fuzzed_protobuf_bytes_never_5xx(world, body, gzipped, path):
    assume(body or gzipped)  # Django's test client drops the Content-Type of an empty body
    response = world.otlp.post(path, body, content_type=PROTOBUF, gzipped=gzipped)
    assert response.status_code in (200, 400), response.content
    assert connection.in_atomic_block  # the test's transaction is still usable: nothing broke it


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda c: (
            st.lists(c, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "resourceSpans",
                        "scopeSpans",
                        "spans",
                        "traceId",
                        "attributes",
                        "resourceLogs",
                        "logRecords",
                        "body",
                    ]
                ),
                c,
                max_size=3,
            )
        ),
        max_leaves=10,
    )
)
def test_fuzzed_json_shapes_never_5xx(world, data):
    for path in (TRACES, LOGS):
        response = world.otlp.post(path, json.dumps(data).encode())
        assert response.status_code in (200, 400), response.content
