"""The input gate: every JSON body and query string the API accepts is checked here once, before any view.

What no endpoint may receive, whatever its fields: NUL characters, lone surrogates (and, in query strings,
other control characters), nesting deeper than MAX_DEPTH, strings or keys beyond the size limits, integers
beyond signed 64-bit, floats that are not finite. A bad value is a 400 naming its JSON path
(`decisions[3].features.x`), so bad input never costs a 5xx or reaches the database.

The parser classes here are the project's DEFAULT_PARSER_CLASSES (config/settings.py): every DRF view
parses its body through them, so a new endpoint gets the gate for free.
"""

from __future__ import annotations

import codecs
import json
import math
import re
import zlib
from collections.abc import Iterable
from datetime import UTC, datetime

from django.conf import settings
from django.utils import timezone
from rest_framework import exceptions, parsers, serializers, status

MAX_DEPTH = 64
MAX_STRING = 1_000_000  # characters of one string value
MAX_KEY = 1_000  # characters of one object key
INT_MIN, INT_MAX = -(2**63), 2**63 - 1

_BAD_CHARS = re.compile(r"[\x00\ud800-\udfff]")
_BAD_QUERY_CHARS = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


class InputError(exceptions.ValidationError):
    """A value the gate refuses: 400, `fields` = {json path: [message]}."""

    def __init__(self, path: str, message: str):
        super().__init__({path or "body": [message]})


class TooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "request body too large"


def _child(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _string_problem(value: str, limit: int) -> str | None:
    if len(value) > limit:
        return f"longer than {limit} characters"
    if _BAD_CHARS.search(value):
        return "contains a NUL character or a lone surrogate"
    return None


def check_json(data: object, *, path: str = "", text: str | None = None) -> None:
    """Walk a parsed JSON value once (iteratively: no recursion limit to hit) and raise InputError at the first
    bad value. Given the JSON `text` it was parsed from, strings are searched for NULs and surrogates only when
    the text holds such an escape (strict JSON can carry them no other way)."""
    scan = text is None or _BAD_ESCAPE.search(text) is not None
    if _has_problem(data, scan):
        _name_problem(data, path)


_BAD_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def _scalar_bad(value: object, scan: bool) -> bool:
    kind = type(value)
    if kind is str:
        return len(value) > MAX_STRING or (scan and _BAD_CHARS.search(value) is not None)
    if kind is int:
        return not INT_MIN <= value <= INT_MAX
    if kind is float:
        return not math.isfinite(value)
    return False


def _has_problem(data: object, scan: bool) -> bool:
    """The fast pass: no paths built, scalars checked in place."""
    if type(data) not in (dict, list):
        return _scalar_bad(data, scan)
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth >= MAX_DEPTH:
            return True
        if type(value) is dict:
            for key in value:
                if len(key) > MAX_KEY or (scan and _BAD_CHARS.search(key) is not None):
                    return True
            children = value.values()
        else:
            children = value
        for item in children:
            kind = type(item)
            if kind is dict or kind is list:
                stack.append((item, depth + 1))
            elif kind is not bool and item is not None and _scalar_bad(item, scan):
                return True
    return False


def _name_problem(data: object, path: str) -> None:
    """The slow pass, run only when the fast one found something: raise InputError naming the first bad value."""
    stack: list[tuple[object, str, int]] = [(data, path, 0)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, str):
            problem = _string_problem(value, MAX_STRING)
            if problem:
                raise InputError(where, problem)
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if not INT_MIN <= value <= INT_MAX:
                raise InputError(where, "integer out of range (signed 64-bit)")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise InputError(where, "must be a finite number")
        elif isinstance(value, (dict, list)):
            if depth >= MAX_DEPTH:
                raise InputError(where, f"nested deeper than {MAX_DEPTH} levels")
            items: Iterable = value.items() if isinstance(value, dict) else enumerate(value)
            children = []
            for key, item in items:
                if isinstance(key, str):
                    problem = _string_problem(key, MAX_KEY)
                    if problem:
                        name = "<key>" if _BAD_CHARS.search(key) else key[:40]
                        raise InputError(_child(where, name), f"key {problem}")
                children.append((item, _child(where, key), depth + 1))
            stack.extend(reversed(children))


def check_query(query) -> None:
    """Query strings: no control characters, NULs or surrogates in any key or value."""
    for key, values in query.lists():
        if _BAD_QUERY_CHARS.search(key):
            raise InputError("query", "a parameter name contains a control character")
        if len(key) > MAX_KEY:
            raise InputError("query", f"a parameter name is longer than {MAX_KEY} characters")
        for value in values:
            if _BAD_QUERY_CHARS.search(value):
                raise InputError(key, "contains a control character")
            if len(value) > MAX_STRING:
                raise InputError(key, f"longer than {MAX_STRING} characters")


def _check_size(parser_context) -> None:
    request = (parser_context or {}).get("request")
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if request is None or limit is None:
        return
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise exceptions.ParseError("invalid Content-Length") from None
    if length > limit:
        raise TooLarge(f"request body larger than {limit} bytes")


class CheckedJSONParser(parsers.JSONParser):
    """JSON, strict (no NaN), then the gate. Deep nesting that the decoder cannot take is a 400 too."""

    def parse(self, stream, media_type=None, parser_context=None):
        _check_size(parser_context)
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            data = json.loads(text, parse_constant=_refuse_constant)
        except RecursionError:
            raise InputError("body", f"nested deeper than {MAX_DEPTH} levels") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {_safe(str(exc))}") from None
        check_json(data, text=text)
        return data


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _safe(message: str) -> str:
    return _BAD_QUERY_CHARS.sub("?", message)[:200]


class CheckedFormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        _check_size(parser_context)
        data = super().parse(stream, media_type, parser_context)
        check_query(data)
        return data


class CheckedMultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        # Django's multipart parser enforces DATA_UPLOAD_MAX_MEMORY_SIZE on the non-file fields itself
        result = super().parse(stream, media_type, parser_context)
        check_query(result.data)
        return result


class GzipInvalid(ValueError):
    """Not a gzip body, or one that ends early."""


class GzipTooLarge(ValueError):
    """A gzip body that inflates beyond its limit."""


def gunzip_bounded(chunks: Iterable[bytes], limit: int) -> bytes:
    """A gzip body (its bytes in chunks, as they are read) inflated up to `limit` bytes and never further: a
    small body that inflates without end is refused (GzipTooLarge), not expanded. Several members one after
    the other (`cat a.gz b.gz`) are one body."""
    out = bytearray()
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        for data in chunks:
            while data:
                out += inflater.decompress(data, limit + 1 - len(out))  # never more than one byte past the limit
                if len(out) > limit:
                    raise GzipTooLarge(f"larger than {limit} bytes once decompressed")
                if not inflater.eof:
                    data = inflater.unconsumed_tail
                elif data := inflater.unused_data:  # the next member begins
                    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    except zlib.error:
        raise GzipInvalid("not valid gzip") from None
    if not inflater.eof:
        raise GzipInvalid("not valid gzip: it ends early")
    return bytes(out)


MIN_YEAR, MAX_YEAR = 1970, 9999


def to_sane_utc(value: datetime) -> datetime:
    """An aware datetime as UTC, refused (ValueError) when its UTC year is outside MIN_YEAR..MAX_YEAR: year 1 at
    +14:00 is year 0 in UTC, which Python cannot represent and every later read of the row would fail on."""
    try:
        converted = value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError(f"must lie between the years {MIN_YEAR} and {MAX_YEAR} (UTC)") from None
    if (
        not MIN_YEAR <= converted.year <= MAX_YEAR
        or converted.year == MAX_YEAR
        and converted.month == 12
        and (converted.day == 31)
    ):
        raise ValueError(f"must lie between the years {MIN_YEAR} and {MAX_YEAR} (UTC)")
    return converted


class SaneDateTimeField(serializers.DateTimeField):
    """DRF's DateTimeField, normalised to UTC within MIN_YEAR..MAX_YEAR (every serializer's default, see
    registry.apps)."""

    default_error_messages = {"year_range": f"must lie between the years {MIN_YEAR} and {MAX_YEAR} (UTC)"}

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        if timezone.is_naive(parsed):
            return parsed
        try:
            return to_sane_utc(parsed)
        except ValueError:
            self.fail("year_range")
