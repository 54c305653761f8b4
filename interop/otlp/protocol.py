"""OTLP/HTTP's wire conventions (opentelemetry-proto docs/specification.md, OTLP/HTTP): POST only, a protobuf or
JSON body (optionally gzipped), a size cap counted after decompression, answers in the request's encoding, and
failures as a `google.rpc.Status`. Never a 5xx for bad input: exporters retry those.

| situation                          | answer                                                   |
|------------------------------------|----------------------------------------------------------|
| accepted (also an empty export)    | 200, an empty Export*ServiceResponse (b'' or {})         |
| some spans or log records refused  | 200, partial_success {rejected_*, error_message}         |
| undecodable body, bad gzip         | 400 Status INVALID_ARGUMENT                              |
| no or unknown API key              | 401 Status UNAUTHENTICATED                               |
| a key whose role may not ingest    | 403 Status PERMISSION_DENIED                             |
| another method than POST           | 405 Status UNIMPLEMENTED                                 |
| body over OTLP_MAX_BODY_BYTES      | 413 Status RESOURCE_EXHAUSTED (also after gunzip)        |
| another content type or encoding   | 415 Status INVALID_ARGUMENT                              |
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from google.protobuf.json_format import MessageToDict, ParseDict, ParseError
from google.protobuf.message import DecodeError, Message

from llmops.permissions import CALL_INGESTERS
from registry.actors import Actor
from registry.auth import key_lookup
from registry.errors import ServiceError
from registry.inputs import GzipInvalid, GzipTooLarge, InputError, check_json, gunzip_bounded
from registry.models import ApiKey

PREFIX = "/api/v1/otlp/"
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
READ_CHUNK = 1 << 16
MAX_ERROR_MESSAGE = 64 * 1024  # a partial success stays far below the spec's 4 MiB

# google.rpc.Code values used in a Status body
INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, RESOURCE_EXHAUSTED = 3, 5, 7, 8
UNIMPLEMENTED, INTERNAL, UNAUTHENTICATED = 12, 13, 16

# the fields OTLP/JSON writes as hex where protobuf's JSON mapping expects base64 (`bytes` fields)
HEX_ID_FIELDS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})


class OtlpError(Exception):
    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def status_bytes(code: int, message: str) -> bytes:
    """A google.rpc.Status (1: code, 2: message) in protobuf's binary form, encoded by hand: the one message of
    googleapis-common-protos we need is two fields."""
    text = message.encode("utf-8")
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text


def status_response(status: int, code: int, message: str, *, content_type: str = PROTOBUF) -> HttpResponse:
    if content_type == JSON:
        body = json.dumps({"code": code, "message": message}).encode()
    else:
        body, content_type = status_bytes(code, message), PROTOBUF
    return HttpResponse(body, status=status, content_type=content_type)


def error_for_status(request: HttpRequest, status: int) -> HttpResponse:
    """Django's own 404 or 500 on an OTLP path (registered with the registry's middleware)."""
    kind = content_type_of(request, strict=False)
    if status == 404:
        return status_response(404, NOT_FOUND, f"no {request.path} on this server", content_type=kind)
    return status_response(500, INTERNAL, "internal server error", content_type=kind)


def content_type_of(request: HttpRequest, *, strict: bool = True) -> str:
    kind = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if kind in (PROTOBUF, JSON):
        return kind
    if strict:
        raise OtlpError(415, INVALID_ARGUMENT, f"Content-Type must be {PROTOBUF} or {JSON}")
    return PROTOBUF


def _key_from(request: HttpRequest) -> ApiKey:
    """`Authorization: Bearer <key>`, as OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20<key> sends it."""
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if not header:
        raise OtlpError(
            401, UNAUTHENTICATED, "an API key is required: OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20<key>"
        )
    if scheme.lower() != "bearer" or not raw.strip():
        raise OtlpError(401, UNAUTHENTICATED, "use Bearer authentication with an API key")
    key = key_lookup(raw.strip())
    if key is None:
        raise OtlpError(401, UNAUTHENTICATED, "invalid or revoked API key")
    return key


def read_body(request: HttpRequest) -> bytes:
    """The request body, decompressed, never more than OTLP_MAX_BODY_BYTES of it held: the raw body is read up to
    the cap and gunzipped in bounded steps, so neither a long body nor a gzip bomb is ever expanded whole."""
    cap = settings.OTLP_MAX_BODY_BYTES
    too_large = OtlpError(413, RESOURCE_EXHAUSTED, f"the request body is larger than {cap} bytes")
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        raise OtlpError(400, INVALID_ARGUMENT, "Content-Length is not a number") from None
    if length > cap:
        raise too_large
    raw = request.read(cap + 1)
    if len(raw) > cap:
        raise too_large
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return raw
    if encoding != "gzip":
        raise OtlpError(415, INVALID_ARGUMENT, "Content-Encoding must be gzip or identity")
    try:
        return gunzip_bounded([raw], cap)
    except GzipTooLarge:
        raise too_large from None
    except GzipInvalid as exc:
        raise OtlpError(400, INVALID_ARGUMENT, f"the body is {exc}") from None


def _hex_ids_to_base64(data: object) -> None:
    """OTLP/JSON writes trace and span ids as hex (case-insensitive); protobuf's JSON parser wants base64."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in HEX_ID_FIELDS and isinstance(value, str):
                    try:
                        node[key] = base64.b64encode(bytes.fromhex(value)).decode()
                    except ValueError:
                        raise OtlpError(400, INVALID_ARGUMENT, f"{key} must be hex, got {value[:40]!r}") from None
                elif isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(item for item in node if isinstance(item, (dict, list)))


def decode(body: bytes, kind: str, message: type[Message]) -> Message:
    """One Export*ServiceRequest from its protobuf or OTLP/JSON form; anything undecodable is a 400."""
    if kind == PROTOBUF:
        try:
            return message.FromString(body)
        except (DecodeError, RecursionError, ValueError) as exc:
            raise OtlpError(
                400, INVALID_ARGUMENT, f"the body is not a valid {message.DESCRIPTOR.name}: {exc}"
            ) from None
    if not body.strip():
        return message()
    try:
        text = body.decode("utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise OtlpError(400, INVALID_ARGUMENT, f"the body is not valid JSON: {str(exc)[:200]}") from None
    if not isinstance(data, dict):
        raise OtlpError(400, INVALID_ARGUMENT, f"the body must be a JSON object ({message.DESCRIPTOR.name})")
    try:
        check_json(data, text=text)
    except InputError as exc:
        fields = exc.detail if isinstance(exc.detail, dict) else {"body": exc.detail}
        details = "; ".join(f"{name}: {', '.join(map(str, problems))}" for name, problems in fields.items())
        raise OtlpError(400, INVALID_ARGUMENT, f"invalid input: {details}") from None
    _hex_ids_to_base64(data)
    try:
        return ParseDict(data, message(), ignore_unknown_fields=True)
    except (ParseError, ValueError, TypeError, RecursionError, binascii.Error, AttributeError) as exc:
        raise OtlpError(400, INVALID_ARGUMENT, f"invalid {message.DESCRIPTOR.name}: {str(exc)[:300]}") from None


def encode(response: Message, kind: str) -> HttpResponse:
    if kind == JSON:
        return HttpResponse(json.dumps(MessageToDict(response)).encode(), content_type=JSON)
    return HttpResponse(response.SerializeToString(), content_type=PROTOBUF)


def error_message(problems: list[str]) -> str:
    text = "; ".join(problems)
    return text if len(text) <= MAX_ERROR_MESSAGE else text[: MAX_ERROR_MESSAGE - 20] + " ... (truncated)"


def endpoint(view: Callable) -> Callable:
    """An OTLP route: POST only, CSRF-exempt, an API key whose role may write LLM calls (as calls/bulk/), errors
    as google.rpc.Status. The view is called as `view(request, actor, key, body, kind)` and answers a response."""

    @csrf_exempt
    @functools.wraps(view)
    def handler(request: HttpRequest) -> HttpResponse:
        kind = content_type_of(request, strict=False)
        if request.method != "POST":
            response = status_response(405, UNIMPLEMENTED, f"{request.path} takes POST only", content_type=kind)
            response["Allow"] = "POST"
            return response
        try:
            key = _key_from(request)
            if key.role not in CALL_INGESTERS:
                raise OtlpError(403, PERMISSION_DENIED, f"the role {key.role} may not export telemetry here")
            kind = content_type_of(request)
            body = read_body(request)
            return view(request, Actor.for_key(key), key, body, kind)
        except OtlpError as exc:
            return status_response(exc.status, exc.code, exc.message, content_type=kind)
        except ServiceError as exc:
            if exc.status_code == 403:
                return status_response(403, PERMISSION_DENIED, exc.message, content_type=kind)
            return status_response(400, INVALID_ARGUMENT, exc.message, content_type=kind)

    return handler
