"""`POST /api/v1/lineage`: one OpenLineage event a request, as openlineage-python's HttpTransport and the Java
client send them (also gzipped), authenticated by an API key (`OPENLINEAGE_API_KEY`). 201 with an empty body
when recorded, 200 when the same event was recorded before; bad events are a 400 in the API's error format
naming the field (the clients do not retry a 4xx; they retry a 5xx, so bad input never gets one)."""

from __future__ import annotations

import io

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from interop.openlineage.events import decode_event
from registry import services
from registry.api.common import ErrorSerializer
from registry.auth import ApiKeyUser
from registry.inputs import CheckedJSONParser, GzipInvalid, GzipTooLarge, TooLarge, gunzip_bounded
from registry.models import Role
from registry.permissions import actor_of

WRITERS = frozenset({Role.INGEST, Role.DATA_SCIENTIST})  # pipelines report with an ingest key; notebooks may too
CHUNK = 64 * 1024


class LineageJSONParser(CheckedJSONParser):
    """The API's JSON parser (the input gate), after `Content-Encoding: gzip` when the client compressed."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        coding = request.META.get("HTTP_CONTENT_ENCODING", "").strip().lower() if request is not None else ""
        if coding in ("", "identity"):
            return super().parse(stream, media_type, parser_context)
        if coding != "gzip":
            raise exceptions.UnsupportedMediaType(f"Content-Encoding {coding[:40]!r}; send gzip or none")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            body = gunzip_bounded(iter(lambda: stream.read(CHUNK), b""), limit)
        except GzipTooLarge:
            raise TooLarge(f"request body larger than {limit} bytes once decompressed") from None
        except GzipInvalid as exc:
            raise exceptions.ParseError(f"body is {exc}") from None
        return super().parse(io.BytesIO(body), media_type, parser_context)


class LineageEventView(APIView):
    write_roles = WRITERS
    parser_classes = [LineageJSONParser]

    @extend_schema(
        operation_id="lineage_event_record",
        summary="Record an OpenLineage event (RunEvent, DatasetEvent or JobEvent)",
        request={"application/json": {"type": "object"}},
        responses={
            201: OpenApiResponse(description="recorded"),
            200: OpenApiResponse(description="the same event was recorded before; nothing changed"),
            400: ErrorSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
            413: ErrorSerializer,
            415: ErrorSerializer,
        },
        tags=["lineage"],
    )
    def post(self, request):
        if not isinstance(request.user, ApiKeyUser):
            raise exceptions.PermissionDenied("report lineage with an API key (OPENLINEAGE_API_KEY)")
        report = decode_event(request.data)
        result = services.lineage_event_record(
            actor=actor_of(request), project=request.user.api_key.project, report=report
        )
        return Response(status=status.HTTP_201_CREATED if result.recorded else status.HTTP_200_OK)
