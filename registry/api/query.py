"""Query strings are checked against what the OpenAPI schema declares for the operation.

One mechanism for every endpoint (StrictQueryMixin, part of ScopedViewSet): the schema that documents an
operation's parameters (django-filter fields, pagination, @extend_schema parameters) is also the list of the
parameters it accepts. An unknown parameter (`?model_versoin=2`) is a 400 naming it rather than a silently
unfiltered answer; an integer or timestamp parameter that is not one is a 400 naming it; a window whose start
lies after its end is a 400 naming both ends.
"""

from __future__ import annotations

import functools
import re

from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from registry.inputs import INT_MAX, INT_MIN, to_sane_utc

ALWAYS_ALLOWED = {"format"}  # DRF's format override (json, api, csv where offered)
WINDOW_PAIRS = [
    (re.compile(r"^(.*)_after$"), "{}_before"),
    (re.compile(r"^(.*)start$"), "{}end"),
    (re.compile(r"^(.*)_from$"), "{}_to"),
]
_INTEGER = re.compile(r"^-?[0-9]+$")


@functools.cache
def declared_query_params() -> dict[tuple[type, str | None, str], dict[str, dict]]:
    """{(view class, action, HTTP method): {query parameter: its JSON schema}} for every operation in the schema."""
    from drf_spectacular.generators import SchemaGenerator

    class _Generator(SchemaGenerator):
        def _get_paths_and_endpoints(self):
            self.seen = super()._get_paths_and_endpoints()
            return self.seen

    generator = _Generator()
    schema = generator.get_schema(request=None, public=True)
    table: dict[tuple[type, str | None, str], dict[str, dict]] = {}
    for path, _regex, method, view in generator.seen:
        operation = schema["paths"].get(path, {}).get(method.lower())
        if operation is None:
            continue
        params = {p["name"]: p.get("schema", {}) for p in operation.get("parameters", []) if p.get("in") == "query"}
        table[(type(view), getattr(view, "action", None), method.upper())] = params
    return table


def _int_ok(value: str) -> bool:
    return bool(_INTEGER.match(value)) and INT_MIN <= int(value) <= INT_MAX


def _as_datetime(value: str):
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is None or parsed.tzinfo is None:
        return parsed
    try:
        return to_sane_utc(parsed)
    except ValueError:
        return "out of range"


def check_query_params(view, request) -> None:
    declared = declared_query_params().get((type(view), getattr(view, "action", None), request.method.upper()))
    if declared is None:  # not an operation of the schema (the schema and docs pages themselves)
        return
    query = request.query_params
    unknown = sorted(set(query) - set(declared) - ALWAYS_ALLOWED)
    if unknown:
        takes = ", ".join(sorted(declared)) or "none"
        raise serializers.ValidationError(
            {name: [f"unknown query parameter; this endpoint takes {takes}"] for name in unknown}
        )
    errors: dict[str, list[str]] = {}
    times = {}
    for name, values in query.lists():
        schema = declared.get(name) or {}
        kind = schema.get("items", {}).get("type") if schema.get("type") == "array" else schema.get("type")
        fmt = schema.get("format")
        for value in values:
            if kind == "integer" and value != "" and not _int_ok(value):
                errors[name] = ["must be an integer (signed 64-bit)"]
            elif fmt == "date-time" and value != "":
                parsed = _as_datetime(value)
                if parsed == "out of range":
                    errors[name] = ["must lie between the years 1970 and 9999 (UTC)"]
                elif parsed is not None and parsed.tzinfo is not None:
                    times[name] = parsed
    for name, start in times.items():
        for pattern, end_template in WINDOW_PAIRS:
            match = pattern.match(name)
            if match:
                end_name = end_template.format(match[1])
                end = times.get(end_name)
                if end is not None and start > end:
                    message = f"the window's start ({name}) lies after its end ({end_name})"
                    errors[name] = errors[end_name] = [message]
    if errors:
        raise serializers.ValidationError(errors)


class StrictQueryMixin:
    # Refuses query parameters the operation does not declare (see the module docstring). After authentication
    # and permissions, so an anonymous or wrong-role caller still learns nothing but 401/403. (A comment, not a
    # docstring: drf-spectacular would show a docstring as every view's description.)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        check_query_params(self, request)
