"""MLflow's wire conventions: its error shape and codes, authentication, and reading a request message.

A request message arrives as a JSON body (POST, PATCH, DELETE) or as query-string parameters with repeated keys
(GET). Every error is `{"error_code", "message"}` with MLflow's status code, never a 5xx for bad or unknown
input: the client retries 5xx for minutes and then loses the message."""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
import math
from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from registry.actors import Actor
from registry.auth import key_lookup
from registry.errors import ServiceError
from registry.inputs import InputError, check_json, check_query
from registry.models import ApiKey

log = logging.getLogger(__name__)

PROTOCOL_PREFIXES = ("/api/2.0/", "/api/3.0/")

INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
ENDPOINT_NOT_FOUND = "ENDPOINT_NOT_FOUND"
UNAUTHENTICATED = "UNAUTHENTICATED"
PERMISSION_DENIED = "PERMISSION_DENIED"
REQUEST_LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"
INTERNAL_ERROR = "INTERNAL_ERROR"

STATUS = {
    INVALID_PARAMETER_VALUE: 400,
    RESOURCE_ALREADY_EXISTS: 400,
    RESOURCE_DOES_NOT_EXIST: 404,
    ENDPOINT_NOT_FOUND: 404,
    UNAUTHENTICATED: 401,
    PERMISSION_DENIED: 403,
    REQUEST_LIMIT_EXCEEDED: 413,
    INTERNAL_ERROR: 500,
}


class MlflowError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def error_response(code: str, message: str) -> JsonResponse:
    return JsonResponse({"error_code": code, "message": message}, status=STATUS[code])


def error_for_status(request: HttpRequest, status: int) -> JsonResponse:
    """Django's own 404 or 500 on a protocol path (registered with the registry's middleware)."""
    if status == 404:
        return error_response(ENDPOINT_NOT_FOUND, f"no {request.method} {request.path} on this server")
    return error_response(INTERNAL_ERROR, "internal server error")


def from_service_error(exc: ServiceError) -> MlflowError:
    """Our services' errors in MLflow's codes; the message names the fields and what is wrong with each."""
    details = "; ".join(f"{field}: {', '.join(messages)}" for field, messages in exc.fields.items() if messages)
    message = exc.message if not details or details in exc.message else f"{exc.message} ({details})"
    if exc.code == "gate_refused" or exc.status_code == 403:
        return MlflowError(PERMISSION_DENIED, message)
    if exc.status_code == 404:
        return MlflowError(RESOURCE_DOES_NOT_EXIST, message)
    if exc.status_code == 409:
        return MlflowError(RESOURCE_ALREADY_EXISTS, message)
    if exc.status_code == 413:
        return MlflowError(REQUEST_LIMIT_EXCEEDED, message)
    return MlflowError(INVALID_PARAMETER_VALUE, message)


def _key_from(request: HttpRequest) -> ApiKey | None:
    """`Authorization: Bearer <key>` (MLFLOW_TRACKING_TOKEN) or `Basic base64(user:<key>)`
    (MLFLOW_TRACKING_USERNAME/PASSWORD: the password is the key, the user name is not read)."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if not header:
        raise MlflowError(UNAUTHENTICATED, "an API key is required: set MLFLOW_TRACKING_TOKEN to your key")
    if scheme.lower() == "bearer":
        raw = value
    elif scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise MlflowError(UNAUTHENTICATED, "malformed Basic credentials") from None
        raw = decoded.partition(":")[2]
    else:
        raise MlflowError(UNAUTHENTICATED, "use Bearer or Basic authentication with an API key")
    key = key_lookup(raw) if raw else None
    if key is None:
        raise MlflowError(UNAUTHENTICATED, "invalid or revoked API key")
    return key


def endpoint(*, methods: Iterable[str], roles: Iterable[str]) -> Callable:
    """An MLflow route: CSRF-exempt, authenticated by API key, the key's role checked, errors in MLflow's shape.

    The view is called as `view(request, actor, key, message, **kwargs)` and answers a dict (JSON) or a
    response."""
    allowed_methods = frozenset(methods)
    allowed_roles = frozenset(roles)

    def wrap(view: Callable) -> Callable:
        @csrf_exempt
        @functools.wraps(view)
        def handler(request: HttpRequest, **kwargs) -> HttpResponse:
            if request.method not in allowed_methods:
                return error_response(ENDPOINT_NOT_FOUND, f"no {request.method} {request.path} on this server")
            try:
                key = _key_from(request)
                if key.role not in allowed_roles:
                    raise MlflowError(PERMISSION_DENIED, f"the role {key.role} may not call {request.path}")
                actor = Actor.for_key(key)
                message = Message.of(request)
                answer = view(request, actor, key, message, **kwargs)
            except MlflowError as exc:
                return error_response(exc.code, exc.message)
            except ServiceError as exc:
                error = from_service_error(exc)
                return error_response(error.code, error.message)
            except InputError as exc:
                fields = exc.detail if isinstance(exc.detail, dict) else {"body": exc.detail}
                text = "; ".join(f"{name}: {', '.join(map(str, messages))}" for name, messages in fields.items())
                return error_response(INVALID_PARAMETER_VALUE, f"invalid input: {text}")
            if isinstance(answer, HttpResponseBase):
                return answer
            return JsonResponse(answer, json_dumps_params={"allow_nan": False})

        return handler

    return wrap


class Message:
    """One request message's fields with MLflow's types: strings, int64 (a JSON number or its decimal string),
    doubles (also "NaN" and "Infinity", as protobuf's JSON writes them), repeated fields and sub-messages."""

    def __init__(self, data: dict, *, from_query: bool = False, path: str = ""):
        self.data = data
        self.from_query = from_query
        self.path = path

    @classmethod
    def of(cls, request: HttpRequest) -> Message:
        check_query(request.GET)
        if request.method == "GET" or request.method == "HEAD":
            return cls({key: values for key, values in request.GET.lists()}, from_query=True)
        if request.method == "PUT":  # artifact uploads: the body is the file
            return cls({})
        body = request.body
        if not body.strip():
            return cls({})
        try:
            text = body.decode("utf-8")
            data = json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise MlflowError(INVALID_PARAMETER_VALUE, f"the body is not valid JSON: {str(exc)[:200]}") from None
        if not isinstance(data, dict):
            raise MlflowError(INVALID_PARAMETER_VALUE, "the body must be a JSON object")
        check_json(data, text=text)
        return cls(data)

    def _name(self, name: str) -> str:
        return f"{self.path}{name}"

    def _raw(self, name: str):
        value = self.data.get(name)
        if self.from_query and isinstance(value, list):
            return value[-1] if value else None
        return value

    def has(self, name: str) -> bool:
        return self._raw(name) not in (None, "")

    def str(self, name: str, *, required: bool = False, default: str = "", limit: int = 100_000) -> str:
        value = self._raw(name)
        if value is None or value == "":
            if required:
                raise MlflowError(INVALID_PARAMETER_VALUE, f"Missing value for required parameter '{self._name(name)}'")
            return default
        if not isinstance(value, str):
            raise MlflowError(INVALID_PARAMETER_VALUE, f"'{self._name(name)}' must be a string")
        if len(value) > limit:
            raise MlflowError(INVALID_PARAMETER_VALUE, f"'{self._name(name)}' is longer than {limit} characters")
        return value

    def first(self, *names: str, required: bool = False) -> str:
        """The first of several names that is set (MLflow sends `run_id` and the deprecated `run_uuid`)."""
        for name in names:
            if self.has(name):
                return self.str(name)
        if required:
            raise MlflowError(INVALID_PARAMETER_VALUE, f"Missing value for required parameter '{self._name(names[0])}'")
        return ""

    def int64(self, name: str, *, default: int | None = None, low: int = -(2**63), high: int = 2**63 - 1) -> int | None:
        value = self._raw(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise MlflowError(INVALID_PARAMETER_VALUE, f"'{self._name(name)}' must be an integer")
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise MlflowError(INVALID_PARAMETER_VALUE, f"'{self._name(name)}' must be an integer") from None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or not low <= value <= high:
            raise MlflowError(INVALID_PARAMETER_VALUE, f"'{self._name(name)}' must be an integer in [{low}, {high}]")
        return value

    def double(self, name: str, *, required: bool = False) -> float | None:
        value = self._raw(name)
        if value is None:
            if required:
                raise MlflowError(INVALID_PARAMETER_VALUE, f"Missing value for required parameter '{self._name(name)}'")
            return None
        if isinstance(value, str):
            special = {"nan": math.nan, "infinity": math.inf, "-infinity": -math.inf, "inf": math.inf}
            if value.strip().lower() in special:
                return special[value.strip().lower()]
            try:
                value = float(value)
            except ValueError:
                raise MlflowError(INVALID_PARAMETER_VALUE, f"'{self._name(name)}' must be a number") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise MlflowError(INVALID_PARAMETER_VALUE, f"'{self._name(name)}' must be a number")
        return float(value)

    def bool(self, name: str, *, default: bool = False) -> bool:
        value = self._raw(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise MlflowError(INVALID_PARAMETER_VALUE, f"'{self._name(name)}' must be true or false")

    def strings(self, name: str) -> list[str]:
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise MlflowError(INVALID_PARAMETER_VALUE, f"'{self._name(name)}' must be a list of strings")
        return value

    def messages(self, name: str) -> list[Message]:
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise MlflowError(INVALID_PARAMETER_VALUE, f"'{self._name(name)}' must be a list of objects")
        return [Message(item, path=f"{self._name(name)}[{index}].") for index, item in enumerate(value)]

    def message(self, name: str) -> Message:
        value = self.data.get(name)
        if value is None:
            return Message({}, path=f"{self._name(name)}.")
        if not isinstance(value, dict):
            raise MlflowError(INVALID_PARAMETER_VALUE, f"'{self._name(name)}' must be an object")
        return Message(value, path=f"{self._name(name)}.")

    def key_values(self, name: str) -> dict[str, str]:
        """A repeated {key, value} field (tags, params) as a dict; values are strings in MLflow."""
        out: dict[str, str] = {}
        for item in self.messages(name):
            key = item.str("key", required=True, limit=250)
            out[key] = item.str("value", limit=8000)
        return out


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")
