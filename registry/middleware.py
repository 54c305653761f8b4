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


def is_api_path(path: str) -> bool:
    return path.startswith("/api/")


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
