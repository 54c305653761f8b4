"""OTLP spans and log records read into llmops' trace inputs: which spans are LLM calls, retrievals, prompts, tools,
agents or workflows, and each naming scheme's attributes mapped onto an LLM call item for `calls_ingest`
(../shared/specs/otlp-openlineage.md A.4-A.8):

- current GenAI semconv (`gen_ai.provider.name`, `gen_ai.input.messages`, `gen_ai.usage.*`),
- older semconv (`gen_ai.system`, `gen_ai.usage.prompt_tokens`, messages as log-record or span events),
- Traceloop/OpenLLMetry new and old (`gen_ai.prompt.{i}.*`, `llm.usage.*`, `traceloop.*`),
- OpenInference (`openinference.span.kind`, `llm.input_messages.{i}.*`, `llm.token_count.*`).

Usage goes to calls_ingest in the `otel` format (llmops.usage): cached and reasoning tokens are parts of the
input and output totals there, so each token is counted once. The end user's id goes only into the item's
`subject_id`, which calls_ingest HMACs: it is kept out of every stored attribute, name and message."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime

from llmops.models import TraceSpan
from llmops.services.traces import MessagesIn, SpanIn
from registry.subjects import REDACTED, mentions_subject_id, redact_subject_id

C = TraceSpan.Category
MAX_INT64 = 2**63 - 1
MAX_TEXT = 200
MAX_TEMPLATE = 4000

LLM_OPERATIONS = {"chat": C.LLM, "text_completion": C.LLM, "generate_content": C.LLM, "embeddings": C.EMBEDDING}
OTHER_OPERATIONS = {
    "retrieval": C.RETRIEVAL,
    "execute_tool": C.TOOL,
    "invoke_agent": C.AGENT,
    "create_agent": C.AGENT,
    "invoke_workflow": C.WORKFLOW,
}
TRACELOOP_REQUEST_TYPES = {"chat": C.LLM, "completion": C.LLM, "embedding": C.EMBEDDING}
OPENINFERENCE_KINDS = {
    "LLM": C.LLM,
    "EMBEDDING": C.EMBEDDING,
    "RETRIEVER": C.RETRIEVAL,
    "PROMPT": C.PROMPT,
    "TOOL": C.TOOL,
    "AGENT": C.AGENT,
    "CHAIN": C.CHAIN,
}
TRACELOOP_KINDS = {"workflow": C.WORKFLOW, "task": C.TASK, "agent": C.AGENT, "tool": C.TOOL}

# every emitter's provider spelling -> the name our price catalog uses (llmops/data/prices.json) or the semconv one
PROVIDER_ALIASES = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "google": "google",
    "gemini": "google",
    "vertex_ai": "google",
    "vertexai": "google",
    "google_genai": "google",
    "mistral_ai": "mistral",
    "mistralai": "mistral",
    "mistral": "mistral",
    "aws.bedrock": "aws.bedrock",
    "aws": "aws.bedrock",
    "bedrock": "aws.bedrock",
    "az.ai.openai": "azure.ai.openai",
    "azure.ai.openai": "azure.ai.openai",
    "azure": "azure.ai.openai",
    "azure_openai": "azure.ai.openai",
    "azure.ai.inference": "azure.ai.inference",
    "x_ai": "xai",
    "xai": "xai",
    "ibm.watsonx.ai": "ibm.watsonx.ai",
    "watsonx": "ibm.watsonx.ai",
    "cohere": "cohere",
    "groq": "groq",
    "deepseek": "deepseek",
    "perplexity": "perplexity",
}
PROVIDER_KEYS = ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system")
MODEL_KEYS = (
    "gen_ai.response.model",
    "llm.response.model_name",
    "llm.model_name",
    "gen_ai.request.model",
    "llm.request.model_name",
)
# our usage key (llmops.usage's otel format) <- each emitter's spelling, the current one first
USAGE_KEYS = {
    "gen_ai.usage.input_tokens": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt"),
    "gen_ai.usage.output_tokens": (
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.completion_tokens",
        "llm.token_count.completion",
    ),
    "gen_ai.usage.cache_read.input_tokens": (
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_read_input_tokens",
        "llm.token_count.prompt_details.cache_read",
    ),
    "gen_ai.usage.cache_creation.input_tokens": (
        "gen_ai.usage.cache_creation.input_tokens",
        "gen_ai.usage.cache_creation_input_tokens",
        "gen_ai.usage.cache_write_input_tokens",
        "llm.token_count.prompt_details.cache_write",
    ),
    "gen_ai.usage.reasoning.output_tokens": (
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.usage.reasoning_tokens",
        "llm.usage.reasoning_tokens",
        "llm.token_count.completion_details.reasoning",
    ),
}
# the end user of a call, after the project's own attribute (TraceSettings.subject_attribute)
SUBJECT_KEYS = ("enduser.id", "user.id", "traceloop.association.properties.user_id", "gen_ai.user", "llm.user")
# what a stored span keeps (never content, never the end user)
KEPT_ATTRIBUTES = (
    "gen_ai.operation.name",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "gen_ai.agent.name",
    "gen_ai.tool.name",
    "gen_ai.workflow.name",
    "llm.request.type",
    "llm.model_name",
    "openinference.span.kind",
    "traceloop.span.kind",
    "traceloop.entity.name",
    "traceloop.workflow.name",
    "error.type",
)
PROMPT_NAME_KEYS = ("gen_ai.prompt.name", "traceloop.prompt.key", "llm.prompt_template.name", "prompt.id")
PROMPT_VERSION_KEYS = ("gen_ai.prompt.version", "traceloop.prompt.version", "llm.prompt_template.version")
PROMPT_TEMPLATE_KEYS = ("traceloop.prompt.template", "llm.prompt_template.template")
# every attribute a span is read for, beside the project's subject attribute: any other is neither decoded nor
# kept (an instrumentation's request parameters, response ids, finish reasons)
SPAN_KEYS = frozenset(
    {
        *KEPT_ATTRIBUTES,
        *PROVIDER_KEYS,
        *MODEL_KEYS,
        *(key for spellings in USAGE_KEYS.values() for key in spellings),
        *SUBJECT_KEYS,
        *PROMPT_NAME_KEYS,
        *PROMPT_VERSION_KEYS,
        *PROMPT_TEMPLATE_KEYS,
        "gen_ai.system_instructions",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.prompt",
        "gen_ai.completion",
        "gen_ai.retrieval.documents",
        "llm.invocation_parameters",
    }
)
SPAN_PREFIXES = (
    "gen_ai.prompt.",
    "gen_ai.completion.",
    "llm.input_messages.",
    "llm.output_messages.",
    "retrieval.documents.",
)
# log-record (and span) events carrying a call's messages
ROLE_EVENTS = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
CHOICE_EVENT = "gen_ai.choice"
DETAILS_EVENT = "gen_ai.client.inference.operation.details"
MESSAGE_EVENTS = frozenset({*ROLE_EVENTS, CHOICE_EVENT, DETAILS_EVENT})
INDEXED = re.compile(r"^(\d+)\.(.+)$")


class SpanError(ValueError):
    """Why one span (or log record) is refused; the others of the export go on."""


def clean(text: str, where: str) -> str:
    if "\x00" in text:
        raise SpanError(f"{where} contains a NUL character")
    return text


def any_value(value, where: str = "value"):
    """An opentelemetry.proto.common.v1.AnyValue as a Python value."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "string_value":
        return clean(value.string_value, where)
    if kind == "array_value":
        return [any_value(item, where) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {clean(kv.key, where): any_value(kv.value, where) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind)


def attributes(key_values: Iterable) -> dict:
    """The attributes as a dict; the scalar kinds read here, without a call per value (an LLM span has a dozen
    or more, and an export 512 spans)."""
    found = {}
    for kv in key_values:
        key, value = kv.key, kv.value
        kind = value.WhichOneof("value")
        if kind == "string_value":
            text = value.string_value
            if "\x00" in text or "\x00" in key:
                raise SpanError(f"{key if chr(0) in text else 'an attribute name'} contains a NUL character")
            found[key] = text
            continue
        if "\x00" in key:
            raise SpanError("an attribute name contains a NUL character")
        if kind in ("int_value", "double_value", "bool_value"):
            found[key] = getattr(value, kind)
        else:
            found[key] = any_value(value, key)
    return found


def span_attributes(key_values: Iterable, project_attribute: str) -> dict:
    """The attributes a span is read for (SPAN_KEYS, SPAN_PREFIXES, the project's subject attribute) as a dict;
    the others are skipped by name, their values never decoded (each value read through protobuf costs more than
    its name's test). The checks are attributes()'s."""
    found = {}
    wanted, prefixes = SPAN_KEYS, SPAN_PREFIXES
    for kv in key_values:
        key = kv.key
        if key not in wanted and key != project_attribute and not key.startswith(prefixes):
            continue
        value = kv.value
        text = value.string_value  # "" when the value is of another kind: most are strings, read at once
        if text:
            if "\x00" in text:
                raise SpanError(f"{key} contains a NUL character")
            found[key] = text
            continue
        kind = value.WhichOneof("value")
        if kind == "string_value":
            found[key] = text
        elif kind in ("int_value", "double_value", "bool_value"):
            found[key] = getattr(value, kind)
        else:
            found[key] = any_value(value, key)
    return found


def _first(attrs: dict, keys: Iterable[str]):
    for key in keys:
        value = attrs.get(key)
        if value not in (None, "", []):
            return value
    return None


def _int(attrs: dict, key: str) -> int | None:
    value = attrs.get(key)
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        raise SpanError(f"{key} must be an integer")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            raise SpanError(f"{key} must be an integer") from None
    if isinstance(value, int):
        return value
    raise SpanError(f"{key} must be an integer")


_raw_decode = json.JSONDecoder().raw_decode
JSON_WHITESPACE = " \t\n\r"


def _json(value):
    """A JSON string attribute (Python SDKs cannot set structured values) or an already structured one; None for
    a string that is not JSON. What json.loads accepts, read without its two whitespace scans (a message
    attribute rarely starts with a space: then json.loads reads it)."""
    if isinstance(value, str):
        try:
            parsed, end = _raw_decode(value)
        except (ValueError, RecursionError):
            try:
                return json.loads(value)
            except (ValueError, RecursionError):
                return None
        if end != len(value) and value[end:].strip(JSON_WHITESPACE):
            return None
        return parsed
    return value


def _indexed(attrs: dict, prefix: str) -> list[dict]:
    """`prefix.{i}.rest` attributes grouped by index: [{rest: value}, ...] in index order."""
    groups: dict[int, dict] = {}
    for key, value in attrs.items():
        if key.startswith(prefix):
            match = INDEXED.match(key[len(prefix) :])
            if match and len(match.group(1)) < 6:
                groups.setdefault(int(match.group(1)), {})[match.group(2)] = value
    return [groups[i] for i in sorted(groups)]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


_NO_PARTS = object()


def _parts_content(parts) -> str | list:
    """semconv message parts as our content: the text when every part is text, else the parts (text parts as
    {"type": "text", "text"}, others as sent)."""
    if not isinstance(parts, list):
        return _text(parts)
    if len(parts) == 1:  # the usual message: one text part, read without the general pass below
        part = parts[0]
        if isinstance(part, dict) and part.get("type", "text") == "text":
            content = part.get("content")
            return content if isinstance(content, str) else _text(content)
    elif all(isinstance(p, dict) and p.get("type", "text") == "text" for p in parts):
        return "".join(_text(p.get("content")) for p in parts)
    out = []
    for part in parts:
        if isinstance(part, dict) and part.get("type", "text") == "text":
            out.append({"type": "text", "text": _text(part.get("content"))})
        elif isinstance(part, dict):
            out.append(part)
        else:
            out.append({"type": "text", "text": _text(part)})
    return out


def semconv_messages(value) -> list[dict]:
    """`gen_ai.input.messages` / `gen_ai.output.messages` ([{role, parts}], a JSON string or structured)."""
    value = _json(value)
    if not isinstance(value, list):
        return []
    messages = []
    for message in value:
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        if not isinstance(role, str):
            role = "user"
        parts = message.get("parts", _NO_PARTS)
        if parts is _NO_PARTS:
            content = _text(message.get("content"))
        elif (  # the usual message, one text part: read here, without a call
            type(parts) is list
            and len(parts) == 1
            and type(part := parts[0]) is dict
            and part.get("type", "text") == "text"
            and type(text := part.get("content")) is str
        ):
            content = text
        else:
            content = _parts_content(parts)
        messages.append({"role": role, "content": content})
    return messages


def _system_instructions(value) -> list[dict]:
    value = _json(value)
    if value in (None, "", []):
        return []
    if isinstance(value, str):
        return [{"role": "system", "content": value}]
    return [{"role": "system", "content": _parts_content(value)}]


def output_text(messages: list[dict]) -> str:
    texts = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            text = "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
            texts.append(text or json.dumps(content, ensure_ascii=False, sort_keys=True))
    return "\n".join(t for t in texts if t)


def _flattened(attrs: dict, prefix: str, inner: str = "") -> list[dict]:
    """Traceloop's `gen_ai.prompt.{i}.role/content` and OpenInference's `llm.input_messages.{i}.message.*`."""
    messages = []
    for group in _indexed(attrs, prefix):
        role = group.get(f"{inner}role")
        content = group.get(f"{inner}content")
        if content is None:
            parts = _indexed(group, f"{inner}contents.")
            texts = [_text(p.get("message_content.text")) for p in parts if p.get("message_content.text") is not None]
            content = "".join(texts) if texts else None
        calls = _indexed(group, f"{inner}tool_calls.")
        if content is None and calls:
            content = json.dumps(calls, ensure_ascii=False, sort_keys=True)
        if role is None and content is None:
            continue
        messages.append({"role": role if isinstance(role, str) else "user", "content": _text(content)})
    return messages


def event_messages(name: str, values: dict, body=None) -> tuple[list[dict], str]:
    """(input messages, output text) of one GenAI event, from a log record (body and attributes) or a span event
    (attributes)."""
    if name == DETAILS_EVENT:
        system = _system_instructions(values.get("gen_ai.system_instructions"))
        inputs = semconv_messages(values.get("gen_ai.input.messages"))
        return system + inputs, output_text(semconv_messages(values.get("gen_ai.output.messages")))
    payload = body if isinstance(body, dict) else values
    if name in ROLE_EVENTS:
        content = payload.get("content") if isinstance(payload, dict) else body
        if content is None and isinstance(payload, dict) and payload.get("tool_calls") is not None:
            content = payload["tool_calls"]
        role = payload.get("role") if isinstance(payload, dict) and isinstance(payload.get("role"), str) else None
        return [{"role": role or ROLE_EVENTS[name], "content": _text(content)}], ""
    if name == CHOICE_EVENT:
        message = payload.get("message") if isinstance(payload, dict) else None
        if isinstance(message, dict):
            content = message.get("content")
            if content is None and message.get("tool_calls") is not None:
                content = message["tool_calls"]
            return [], _text(content)
        return [], _text(body)
    return [], ""


def _span_event_messages(span) -> tuple[list[dict], str]:
    """Messages sent as span events: the GenAI event names, or the oldest semconv's gen_ai.content.prompt /
    gen_ai.content.completion (a JSON list in gen_ai.prompt / gen_ai.completion)."""
    inputs, outputs = [], []
    for event in span.events:
        name = event.name
        if name in MESSAGE_EVENTS:
            values = attributes(event.attributes)
            found_in, found_out = event_messages(name, values)
            inputs += found_in
            if found_out:
                outputs.append(found_out)
        elif name in ("gen_ai.content.prompt", "gen_ai.content.completion"):
            values = attributes(event.attributes)
            key = "gen_ai.prompt" if name.endswith("prompt") else "gen_ai.completion"
            parsed = _json(values.get(key))
            messages = (
                [
                    {
                        "role": m.get("role", "user") if isinstance(m.get("role"), str) else "user",
                        "content": _text(m.get("content")),
                    }
                    for m in parsed
                    if isinstance(m, dict)
                ]
                if isinstance(parsed, list)
                else ([{"role": "user", "content": _text(values.get(key))}] if values.get(key) else [])
            )
            if key == "gen_ai.prompt":
                inputs += messages
            else:
                outputs.append(output_text(messages))
    return inputs, "\n".join(o for o in outputs if o)


def _name(attrs: dict, key: str) -> str:
    """A naming attribute's value, or "" when it is not a string (an array or map names nothing)."""
    value = attrs.get(key)
    return value if isinstance(value, str) else ""


def category_of(attrs: dict, span) -> str:
    operation = _name(attrs, "gen_ai.operation.name")
    if operation in LLM_OPERATIONS:
        return LLM_OPERATIONS[operation]
    request_type = _name(attrs, "llm.request.type")
    if request_type in TRACELOOP_REQUEST_TYPES:
        return TRACELOOP_REQUEST_TYPES[request_type]
    kind = str(attrs.get("openinference.span.kind") or "").upper()
    if kind in OPENINFERENCE_KINDS:
        return OPENINFERENCE_KINDS[kind]
    if operation in OTHER_OPERATIONS:
        return OTHER_OPERATIONS[operation]
    if any(event.name == "db.query.result" for event in span.events):
        return C.RETRIEVAL
    traceloop = _name(attrs, "traceloop.span.kind")
    if traceloop in TRACELOOP_KINDS:
        return TRACELOOP_KINDS[traceloop]
    return C.OTHER


def provider_of(attrs: dict) -> str:
    value = _first(attrs, PROVIDER_KEYS)
    if not isinstance(value, str) or not value.strip():
        return "unknown"
    name = value.strip().lower()
    return PROVIDER_ALIASES.get(name, name)[:64]


def model_of(attrs: dict) -> str:
    value = _first(attrs, MODEL_KEYS)
    if value is None:
        parameters = _json(attrs.get("llm.invocation_parameters"))
        if isinstance(parameters, dict):
            value = parameters.get("model")
    return str(value).strip()[:200] if value not in (None, "") else "unknown"


def usage_of(attrs: dict) -> dict | None:
    usage = {}
    for ours, spellings in USAGE_KEYS.items():
        for key in spellings:
            if key in attrs and (value := _int(attrs, key)) is not None:
                usage[ours] = value
                break
    if "gen_ai.usage.input_tokens" not in usage and "gen_ai.usage.output_tokens" not in usage:
        return None  # no provider usage: calls_ingest counts the tokens and says so
    return usage


def subject_of(attrs: dict, project_attribute: str):
    keys = (project_attribute, *SUBJECT_KEYS) if project_attribute else SUBJECT_KEYS
    for key in keys:
        value = attrs.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return value
    return None


def _error(span, attrs: dict) -> str:
    parts = []
    if span.status.message:
        parts.append(span.status.message)
    error_type = attrs.get("error.type")
    if isinstance(error_type, str) and error_type and not any(error_type in p for p in parts):
        parts.append(error_type)
    for event in span.events:
        if event.name == "exception":
            values = attributes(event.attributes)
            described = ": ".join(str(values[k]) for k in ("exception.type", "exception.message") if values.get(k))
            if described and not any(described in p for p in parts):
                parts.append(described)
    return "\n".join(parts) or "error"


def _documents(attrs: dict, span) -> list[dict]:
    """Retrieved documents from OpenInference's `retrieval.documents.{i}.document.*`, semconv's
    `gen_ai.retrieval.documents` or vector-DB `db.query.result` events: id (else from the metadata, else the
    content's hash), score, source; the content only hashed (chunk_sha256), never stored."""
    found = []
    for group in _indexed(attrs, "retrieval.documents."):
        found.append(
            {
                "id": group.get("document.id"),
                "score": group.get("document.score"),
                "content": group.get("document.content"),
                "metadata": _json(group.get("document.metadata")),
                "url": group.get("document.url") or group.get("document.name"),
            }
        )
    listed = _json(attrs.get("gen_ai.retrieval.documents"))
    if isinstance(listed, list):
        for doc in listed:
            if isinstance(doc, dict):
                found.append(
                    {"id": doc.get("id"), "score": doc.get("score"), "content": doc.get("content"), "metadata": doc}
                )
    for event in span.events:
        if event.name == "db.query.result":
            values = attributes(event.attributes)
            score = values.get("db.query.result.score")
            if score is None and isinstance(values.get("db.query.result.distance"), (int, float)):
                score = values["db.query.result.distance"]
            found.append(
                {
                    "id": values.get("db.query.result.id"),
                    "score": score,
                    "content": values.get("db.query.result.document"),
                    "metadata": _json(values.get("db.query.result.metadata")),
                }
            )
    documents = []
    for doc in found:
        metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
        content = doc.get("content")
        document_id = doc.get("id") or metadata.get("id") or metadata.get("document_id")
        chunk = hashlib.sha256(_text(content).encode()).hexdigest() if content not in (None, "") else ""
        if document_id in (None, ""):
            if not chunk:
                continue
            document_id = f"sha256:{chunk}"
        score = doc.get("score") if doc.get("score") is not None else metadata.get("score")
        source = metadata.get("source") or doc.get("url") or ""
        documents.append(
            {
                "document_id": str(document_id)[:300],
                "source": str(source)[:500] if isinstance(source, (str, int, float)) else "",
                "chunk_sha256": chunk,
                "score": float(score) if isinstance(score, (int, float)) and not isinstance(score, bool) else None,
            }
        )
    return documents


def _prompt_of(attrs: dict) -> dict | None:
    name = _first(attrs, PROMPT_NAME_KEYS)
    version = _first(attrs, PROMPT_VERSION_KEYS)
    template = _first(attrs, PROMPT_TEMPLATE_KEYS)
    if name is None and template is None:
        return None
    ref = {}
    if isinstance(name, (str, int)):
        ref["name"] = str(name)[:MAX_TEXT]
    if isinstance(version, (str, int)):
        ref["version"] = str(version)[:40]
    if isinstance(template, str):
        ref["template"] = template[:MAX_TEMPLATE]
    return ref or None


STATUS_OF = {1: TraceSpan.Status.OK, 2: TraceSpan.Status.ERROR}
OK, ERROR, UNSET = TraceSpan.Status.OK, TraceSpan.Status.ERROR, TraceSpan.Status.UNSET
CALL_CATEGORIES = frozenset({C.LLM, C.EMBEDDING})
NO_TRACE, NO_SPAN = bytes(16), bytes(8)
PROMPT_KEYS = frozenset({*PROMPT_NAME_KEYS, *PROMPT_TEMPLATE_KEYS})


def span_in(span, *, service_name: str, scope_name: str, project_attribute: str) -> SpanIn:
    """One protobuf Span as llmops' SpanIn; raises SpanError naming what is wrong. Each protobuf field is read
    once (every read builds a Python object), and only the attributes span_attributes() names."""
    trace_id, span_id, parent_id = span.trace_id, span.span_id, span.parent_span_id
    if len(trace_id) != 16 or trace_id == NO_TRACE:
        raise SpanError("traceId must be 16 bytes, not all zero")
    if len(span_id) != 8 or span_id == NO_SPAN:
        raise SpanError("spanId must be 8 bytes, not all zero")
    if len(parent_id) not in (0, 8):
        raise SpanError("parentSpanId must be 8 bytes or empty")
    start, end = span.start_time_unix_nano, span.end_time_unix_nano
    if not 0 < start <= MAX_INT64:
        raise SpanError("startTimeUnixNano must be a time in nanoseconds since 1970")
    if end == 0:
        end = start
    elif not 0 < end <= MAX_INT64:
        raise SpanError("endTimeUnixNano must be a time in nanoseconds since 1970")
    elif end < start:
        end = start
    attrs = span_attributes(span.attributes, project_attribute)
    category = category_of(attrs, span)
    subject = subject_of(attrs, project_attribute)
    name = clean(span.name, "name")
    span_status = span.status
    status = STATUS_OF.get(span_status.code, UNSET)
    is_call = category in CALL_CATEGORIES
    kept = {}
    for key in KEPT_ATTRIBUTES:
        value = attrs.get(key)
        if value is not None and value != "" and isinstance(value, (str, int, float, bool)):
            kept[key] = value[:MAX_TEXT] if isinstance(value, str) else value
    status_message = "" if is_call else clean(span_status.message, "status.message")
    if subject is not None:

        def safe(text: str) -> str:
            return REDACTED if mentions_subject_id(text, subject) else text

        kept = {key: safe(value) if isinstance(value, str) else value for key, value in kept.items()}
        name, status_message = safe(name), safe(status_message)
        service, scope_name = safe(service_name), safe(scope_name)
    else:
        safe, service = None, service_name
    result = SpanIn(
        trace_id=trace_id.hex(),
        span_id=span_id.hex(),
        parent_span_id=parent_id.hex(),
        name=name[:MAX_TEXT] or "(unnamed)",
        category=category,
        kind=kind if 0 <= (kind := span.kind) < 100 else 0,
        start_time_unix_nano=start,
        end_time_unix_nano=end,
        status=status,
        status_message=status_message[:500],
        service_name=service[:MAX_TEXT],
        scope_name=scope_name[:MAX_TEXT],
        attributes=kept,
    )
    if category == C.RETRIEVAL:
        documents = _documents(attrs, span)
        if safe is not None:
            documents = [
                {**doc, "document_id": safe(doc["document_id"]), "source": safe(doc["source"])} for doc in documents
            ]
        result.documents = documents
    if not PROMPT_KEYS.isdisjoint(attrs):
        prompt = _prompt_of(attrs)
        if prompt and safe is not None:
            prompt = {k: safe(v) for k, v in prompt.items()}
        result.prompt = prompt
    if is_call:
        result.call = _call(span, attrs, start, end, status, subject, service_name)
    return result


def _call(span, attrs: dict, start: int, end: int, status: str, subject, service_name: str) -> dict:
    system = attrs.get("gen_ai.system_instructions")
    inputs = _system_instructions(system) if system is not None else []
    inputs += semconv_messages(attrs.get("gen_ai.input.messages"))
    if not inputs:
        inputs = _flattened(attrs, "gen_ai.prompt.") or _flattened(attrs, "llm.input_messages.", "message.")
    output = output_text(semconv_messages(attrs.get("gen_ai.output.messages")))
    if not output:
        output = output_text(_flattened(attrs, "gen_ai.completion.")) or output_text(
            _flattened(attrs, "llm.output_messages.", "message.")
        )
    if not inputs and isinstance(attrs.get("gen_ai.prompt"), str):
        inputs = [{"role": "user", "content": attrs["gen_ai.prompt"]}]
    if not output and isinstance(attrs.get("gen_ai.completion"), str):
        output = attrs["gen_ai.completion"]
    if not inputs or not output:
        event_in, event_out = _span_event_messages(span)
        inputs = inputs or event_in
        output = output or event_out
    failed = status == ERROR or (status != OK and attrs.get("error.type"))
    item = {
        "provider": provider_of(attrs),
        "model": model_of(attrs),
        "input": inputs or None,
        "output": output,
        "latency_ms": (end - start) / 1e6,
        "status": "error" if failed else "ok",
        "occurred_at": datetime.fromtimestamp(start // 1000 / 1e6, UTC).isoformat(),
        "tags": [f"service:{service_name}"[:100]] if service_name else [],
    }
    if failed:
        item["error"] = _error(span, attrs)
    usage = usage_of(attrs)
    if usage is not None:
        item["usage"], item["usage_format"] = usage, "otel"
    if subject is not None:
        item["subject_id"] = subject
        for name in ("input", "output", "error"):
            if item.get(name):
                item[name] = redact_subject_id(item[name], subject)
    return item


def log_messages(record, *, project_attribute: str) -> MessagesIn | None:
    """The messages of one GenAI log-record event (None for any other log record, accepted and not kept); raises
    SpanError when a GenAI event cannot be joined to a span."""
    values = attributes(record.attributes)
    name = record.event_name or values.get("event.name") or ""
    if name not in MESSAGE_EVENTS:
        return None
    if len(record.trace_id) != 16 or len(record.span_id) != 8 or not any(record.trace_id) or not any(record.span_id):
        raise SpanError(f"a {name} event needs the traceId and spanId of its span")
    body = any_value(record.body, "body") if record.HasField("body") else None
    inputs, output = event_messages(name, values, body)
    if not inputs and not output:
        return None
    subject = subject_of(values, project_attribute)  # an event naming its end user: the id leaves its texts
    if subject is not None:
        inputs, output = redact_subject_id(inputs, subject), redact_subject_id(output, subject)
    return MessagesIn(
        trace_id=record.trace_id.hex(),
        span_id=record.span_id.hex(),
        time_unix_nano=min(record.time_unix_nano or record.observed_time_unix_nano, MAX_INT64),
        input=inputs,
        output=output,
    )
