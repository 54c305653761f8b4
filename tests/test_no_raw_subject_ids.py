"""Raw subject ids never reach the database or the logs: a pg_dump after ingest holds none."""

from __future__ import annotations

import logging
import shutil
import subprocess

import pytest
from django.db import connection

from registry.subjects import subject_key
from tests import factories as f

RAW_IDS = [f"zz-raw-subject-{i:04d}@example.org" for i in range(200)]


@pytest.mark.django_db(transaction=True)
def test_pg_dump_after_ingest_contains_no_raw_subject_id(make_client, caplog):
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump needs PostgreSQL")
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump is needed for this test (Debian package postgresql-client)"
    caplog.set_level(logging.DEBUG)

    version = f.ModelVersionFactory()
    dv = f.DataVersionFactory(dataset__project=version.project)
    ds = make_client("data_scientist", version.project)
    ingest = make_client("ingest", version.project)
    assert ds.post(f"/api/v1/data-versions/{dv.pk}/subjects/", {"subject_ids": RAW_IDS}, format="json").json() == {
        "indexed": 200,
        "duplicates": 0,
    }
    decisions = [
        {
            "model_version": version.pk,
            "request_id": f"req-{i}",
            "subject_id": raw,
            "features": {"x": i},
            "prediction": 1,
            "occurred_at": "2026-03-01T00:00:00Z",
        }
        for i, raw in enumerate(RAW_IDS)
    ]
    assert ingest.post("/api/v1/decisions/bulk/", {"decisions": decisions}, format="json").json()["accepted"] == 200
    # a query by subject and a failed request carry the raw id too
    assert ds.get("/api/v1/decisions/", {"subject_id": RAW_IDS[0]}).status_code == 200
    bad = ingest.post("/api/v1/decisions/bulk/", {"decisions": [{**decisions[0], "score": "x"}]}, format="json")
    assert bad.status_code == 400 and RAW_IDS[0] not in bad.content.decode()

    _otlp_ingest(ingest.raw_key)

    settings = connection.settings_dict
    dump = subprocess.run(
        [
            pg_dump,
            "--data-only",
            "-h",
            settings["HOST"] or "127.0.0.1",
            "-p",
            str(settings["PORT"] or 5432),
            "-U",
            settings["USER"] or "postgres",
            settings["NAME"],
        ],
        capture_output=True,
        text=True,
        check=True,
        env={"PGPASSWORD": settings.get("PASSWORD") or "", "PATH": "/usr/bin:/bin"},
    ).stdout
    assert subject_key(RAW_IDS[0]) in dump  # the rows are in the dump, pseudonymised
    assert subject_key(RAW_IDS[1]) in dump  # the OTLP-ingested call's subject too
    assert "zz-raw-subject" not in dump
    assert "zz-raw-subject" not in caplog.text


def test_request_log_lines_redact_subject_ids():
    import io

    from config.logging import RedactSubjectIds

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSubjectIds())
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.warning('"%s" %s', "GET /api/v1/decisions/?model_version=3&subject_id=alice%40example.org HTTP/1.1", 200)
    assert "alice" not in stream.getvalue()
    assert "subject_id=[redacted]" in stream.getvalue()
    assert "model_version=3" in stream.getvalue()


def _otlp_ingest(raw_key: str) -> None:
    """OTLP/HTTP trace exports whose end user is a raw subject id, in the attributes every emitter uses, in a span
    name and status, in the Traceloop association properties of non-LLM spans, and in a refused span."""
    import json

    from django.test import Client

    def attr(key, value):
        return {"key": key, "value": {"stringValue": value}}

    trace = "0af7651916cd43dd8448eb211c80319c"
    spans = []
    for i, key in enumerate(("enduser.id", "user.id", "traceloop.association.properties.user_id", "gen_ai.user")):
        raw = RAW_IDS[1 + i]
        spans.append(
            {
                "traceId": trace,
                "spanId": f"{i + 1:016x}",
                "parentSpanId": f"{100:016x}",
                "name": f"chat for {raw}",
                "startTimeUnixNano": "1795701665921349871",
                "endTimeUnixNano": "1795701665938721099",
                "attributes": [
                    attr("gen_ai.operation.name", "chat"),
                    attr("gen_ai.provider.name", "openai"),
                    attr("gen_ai.request.model", "gpt-4o-mini"),
                    attr(key, raw),
                ],
                "status": {"code": 2, "message": f"failed for {raw}"},
            }
        )
    spans.append(
        {
            "traceId": trace,
            "spanId": f"{100:016x}",
            "name": f"workflow of {RAW_IDS[1]}",
            "startTimeUnixNano": "1795701665921349870",
            "attributes": [
                attr("traceloop.span.kind", "workflow"),
                attr("traceloop.association.properties.user_id", RAW_IDS[1]),
            ],
            "status": {"code": 2, "message": f"failed for {RAW_IDS[1]}"},
        }
    )
    refused = {
        **spans[0],
        "spanId": f"{200:016x}",
        "attributes": [*spans[0]["attributes"][:3], attr("enduser.id", RAW_IDS[5])],
    }
    body = {
        "resourceSpans": [
            {
                "resource": {"attributes": [attr("service.name", f"app-{RAW_IDS[5]}")]},
                "scopeSpans": [{"scope": {"name": "t"}, "spans": [refused]}],
            },
            {
                "resource": {"attributes": [attr("service.name", "app")]},
                "scopeSpans": [{"scope": {"name": "t"}, "spans": spans}],
            },
        ]
    }
    client = Client()
    response = client.post(
        "/api/v1/otlp/v1/traces",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw_key}",
    )
    assert response.status_code == 200
    assert response.json()["partialSuccess"]["rejectedSpans"] == "1"  # the span tagged with its service name
    assert "zz-raw-subject" not in response.content.decode()
