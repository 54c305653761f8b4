"""The three OTLP/HTTP signals. Traces: every span kept, LLM spans recorded as calls (llmops.services.traces);
logs: GenAI message events joined to their spans, other log records accepted and not kept; metrics: accepted
and discarded (Traceloop's SDK exports them beside its traces)."""

from __future__ import annotations

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsPartialSuccess,
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from interop.otlp import spans as mapping
from interop.otlp.protocol import decode, encode, endpoint, error_message
from llmops import selectors
from llmops.services.traces import span_messages_ingest, traces_ingest


def _service_name(resource) -> str:
    for kv in resource.attributes:
        if kv.key == "service.name" and kv.value.WhichOneof("value") == "string_value":
            return kv.value.string_value.replace("\x00", "")
    return ""


@endpoint
def traces(request, actor, key, body, kind):
    message = decode(body, kind, ExportTraceServiceRequest)
    project_attribute = selectors.trace_subject_attribute(key.project)
    spans, problems = [], []
    position = 0
    for resource_spans in message.resource_spans:
        service = _service_name(resource_spans.resource)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope.name.replace("\x00", "")
            for span in scope_spans.spans:
                try:
                    spans.append(
                        mapping.span_in(
                            span, service_name=service, scope_name=scope, project_attribute=project_attribute
                        )
                    )
                except mapping.SpanError as exc:
                    problems.append(f"span {span.span_id.hex() or position}: {exc}")
                position += 1
    result = traces_ingest(actor=actor, project=key.project, spans=spans) if spans else None
    for index, why in result.rejected if result else []:
        problems.append(f"span {spans[index].span_id}: {why}")
    response = ExportTraceServiceResponse()
    if problems:
        response.partial_success.CopyFrom(
            ExportTracePartialSuccess(rejected_spans=len(problems), error_message=error_message(problems))
        )
    return encode(response, kind)


@endpoint
def logs(request, actor, key, body, kind):
    message = decode(body, kind, ExportLogsServiceRequest)
    project_attribute = selectors.trace_subject_attribute(key.project)
    found, problems = [], []
    records = (
        record for resource in message.resource_logs for scope in resource.scope_logs for record in scope.log_records
    )
    for position, record in enumerate(records):  # one count over the whole export, so "log record N" names one
        try:
            messages = mapping.log_messages(record, project_attribute=project_attribute)
        except mapping.SpanError as exc:
            problems.append(f"log record {position}: {exc}")
            continue
        if messages is not None:
            found.append(messages)
    if found:
        span_messages_ingest(actor=actor, project=key.project, messages=found)
    response = ExportLogsServiceResponse()
    if problems:
        response.partial_success.CopyFrom(
            ExportLogsPartialSuccess(rejected_log_records=len(problems), error_message=error_message(problems))
        )
    return encode(response, kind)


@endpoint
def metrics(request, actor, key, body, kind):
    decode(body, kind, ExportMetricsServiceRequest)  # a valid export is accepted; its points are not kept
    return encode(ExportMetricsServiceResponse(), kind)
