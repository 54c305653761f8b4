"""Log filters: raw subject ids sent in query strings (`?subject_id=`) never reach a log line."""

from __future__ import annotations

import logging
import re

_SUBJECT_PARAM = re.compile(r"(subject_id=)[^&\s\"']*")


def redact(text: str) -> str:
    return _SUBJECT_PARAM.sub(r"\1[redacted]", text)


class RedactSubjectIds(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
