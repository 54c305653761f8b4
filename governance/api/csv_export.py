"""CSV export of decisions, streamed row by row."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from rest_framework.renderers import BaseRenderer

COLUMNS = [
    "id",
    "project",
    "model_version",
    "deployment",
    "request_id",
    "has_subject",
    "prediction",
    "score",
    "occurred_at",
    "outcome",
    "outcome_at",
    "erased_at",
    "features",
    "sensitive",
]


class _Echo:
    def write(self, value: str) -> str:
        return value


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """A text cell a spreadsheet would run as a formula gets a leading `'` (OWASP CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return str(value)  # numbers stay numbers: -3 is a number, not a formula
    if isinstance(value, (dict, list)):
        return neutralise(json.dumps(value, sort_keys=True))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return neutralise(str(value))


def decisions_csv_response(queryset, filename: str = "decisions.csv") -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield writer.writerow(COLUMNS)
        for d in queryset.select_related("project").iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    _cell(v)
                    for v in (
                        d.pk,
                        d.project.slug,
                        d.model_version_id,
                        d.deployment_id,
                        d.request_id,
                        d.subject_key is not None,
                        d.prediction,
                        d.score,
                        d.occurred_at,
                        d.outcome,
                        d.outcome_at,
                        d.erased_at,
                        d.features,
                        d.sensitive,
                    )
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class CSVRenderer(BaseRenderer):
    """Lets `?format=csv` through content negotiation; the list view streams the rows itself.

    Anything else rendered with it (an error) is written as JSON text.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json.dumps(data).encode()
