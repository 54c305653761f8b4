"""Request ids: taken from X-Request-ID when sane, else made; echoed back and stamped on audit events."""

from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse

from registry.audit import current_request_id
from registry.inputs import InputError, check_query

_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _SANE.match(given) else uuid.uuid4().hex
        request.request_id = request_id
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


def _json_error(status: int, code: str, message: str, fields: dict | None = None) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "fields": fields or {}}}, status=status)


# Path prefixes under /api/ where a foreign protocol (interop/) answers in its own error shape: this gate and
# the JSON error format of our API stay out of them (the adapter checks its input with registry.inputs itself).
_protocol_prefixes: list[str] = []


_protocol_errors: dict[str, object] = {}  # prefix -> renderer(request, status) -> HttpResponse


def register_protocol_prefix(prefix: str, error_response) -> None:
    """`error_response(request, status)` renders a 404 or 500 on these paths in the protocol's own shape."""
    if prefix not in _protocol_prefixes:
        _protocol_prefixes.append(prefix)
    _protocol_errors[prefix] = error_response


def protocol_error_response(request, status: int):
    for prefix in _protocol_prefixes:
        if request.path.startswith(prefix):
            return _protocol_errors[prefix](request, status)
    raise LookupError(request.path)


def is_protocol_path(path: str) -> bool:
    return any(path.startswith(prefix) for prefix in _protocol_prefixes)


def is_api_path(path: str) -> bool:
    return path.startswith("/api/") and not is_protocol_path(path)


class ApiInputMiddleware:
    """The input gate's query-string half, and the JSON error format for what Django itself answers under /api/
    (a body over DATA_UPLOAD_MAX_MEMORY_SIZE: 413; a path no route matches: 404, also with DEBUG on, where
    Django renders its HTML debug page instead of calling handler404). Bodies are checked by the parsers in
    registry.inputs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_api_path(request.path):
            try:
                check_query(request.GET)
            except InputError as exc:
                fields = {key: [str(m) for m in messages] for key, messages in exc.detail.items()}
                return _json_error(400, "invalid", f"invalid input: {', '.join(fields)}", fields)
            response = self.get_response(request)
            if response.status_code == 404 and response.get("Content-Type", "").startswith("text/html"):
                return _json_error(404, "not_found", "Not found.")
            return response
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_api_path(request.path) and isinstance(exception, RequestDataTooBig):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            return _json_error(413, "too_large", f"request body larger than {limit} bytes")
        return None
