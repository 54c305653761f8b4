"""Errors raised by services; the API turns them into `{"error": {code, message, fields}}`."""

from __future__ import annotations


class ServiceError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code


class Conflict(ServiceError):
    status_code = 409
    code = "conflict"


class Forbidden(ServiceError):
    status_code = 403
    code = "forbidden"


class NotFound(ServiceError):
    status_code = 404
    code = "not_found"


class TooLarge(ServiceError):
    status_code = 413
    code = "too_large"


def field_error(field: str, message: str, *, code: str | None = None) -> ServiceError:
    return ServiceError(f"{field}: {message}", fields={field: [message]}, code=code)
