"""Log filters: raw subject ids sent in query strings (`?subject_id=`) never reach a log line.

The query is decoded as Django decodes it (urllib.parse), so `subject%5Fid=`, `SUBJECT_ID` or a value with
quotes is redacted like the plain form.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

_REDACTED_KEYS = {"subject_id", "subject_ids"}
# a query string inside a log line: from "?" to the first space or quote (request lines quote the path)
_QUERY = re.compile(r"\?([^\s\"]*)")


def _is_subject_key(raw_key: str) -> bool:
    return unquote_plus(raw_key).strip().lower().rstrip("[]") in _REDACTED_KEYS


def _redact_query(query: str) -> str:
    parts = []
    for part in query.split("&"):
        key, sep, _ = part.partition("=")
        parts.append(f"{key}=[redacted]" if _is_subject_key(key) else part)
    return "&".join(parts)


# the same outside a query (a message that names the parameter itself)
_PLAIN = re.compile(r"(subject_ids?=)[^&\s\"]*", re.IGNORECASE)


def redact(text: str) -> str:
    return _PLAIN.sub(r"\1[redacted]", _QUERY.sub(lambda m: "?" + _redact_query(m[1]), text))


class RedactSubjectIds(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
