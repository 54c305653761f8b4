"""The erasure promise, checked systematically: plant a recognisable raw id and recognisable personal values
in every free-text and JSON field the API accepts for a subject, erase through the API, and find none of
them (nor their JSON-escaped forms) anywhere in a pg_dump of the database. The subject key survives only
in the erasure request and the suppression list."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from django.db import connection

from llmops.models import LLMCall
from registry import services
from registry.actors import Actor
from registry.subjects import subject_key

SYSTEM = Actor.system()
RAW = "PLANTED-ID-7f3a"
NAME = "Zebulon Quackenbush"
UNICODE_NAME = "Zébulon Quäckenbüsch"
IBAN = "DE89370400440532013000"
EMAIL = "zebulon.q@example.org"
PLANTED = (RAW, NAME, UNICODE_NAME, IBAN, EMAIL, "Quackenbush", "Quäckenbüsch")
PERSONAL = f"{NAME} / {UNICODE_NAME}, IBAN {IBAN}, {EMAIL}"  # no raw id: accepted where the raw id is refused
WITH_ID = f"{PERSONAL}, customer {RAW}"


def pg_dump() -> str:
    settings = connection.settings_dict
    return subprocess.run(
        [
            shutil.which("pg_dump"),
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
    ).stdout


def forms(value: str) -> set[str]:
    """A value as it may be written: itself, JSON-escaped (ASCII and not), and casefolded."""
    return {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1], value.casefold()}


def tables_holding(dump: str, needle: str) -> set[str]:
    tables, current = set(), None
    for line in dump.splitlines():
        match = re.match(r"COPY (\S+) \(", line)
        if match:
            current = match.group(1)
        elif line == "\\.":
            current = None
        elif needle in line:
            tables.add(current)
    return tables


@pytest.mark.django_db(transaction=True)
def test_nothing_planted_for_a_subject_survives_its_erasure_in_pg_dump(make_client, project):
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump")
    ingest = make_client("ingest", project)
    scientist = make_client("data_scientist", project)
    officer = make_client("compliance_officer", project)

    # the registry: a data version indexing the subject, a model trained on it
    dataset = services.dataset_create(
        actor=SYSTEM, project=project, name="customers", contains_personal_data=True, legal_basis="contract"
    )
    dv = services.data_version_register(
        actor=SYSTEM, dataset=dataset, version="raw", content_sha256="a" * 64, row_count=2, schema={}
    )
    indexed = scientist.post(f"/api/v1/data-versions/{dv.pk}/subjects/", {"subject_ids": [RAW, "other"]}, format="json")
    assert indexed.status_code == 200, indexed.content
    model = services.model_create(actor=SYSTEM, project=project, name="credit")
    run = services.run_register(actor=SYSTEM, project=project, name="r", inputs=[{"data_version": dv, "role": "train"}])
    version = services.model_version_register(
        actor=SYSTEM, model=model, run=run, artifact_uri="s3://m/1", artifact_sha256="b" * 64
    )

    # decisions: every JSON field holds the raw id and the personal values. The request id is the client's
    # idempotency key and stays with the erased skeleton (which version decided what, when): it may not hold
    # the subject id, and is the client's to keep free of personal values
    decision = {
        "model_version": version.pk,
        "request_id": "req-0001",
        "subject_id": RAW,
        "features": {"name": WITH_ID, RAW: IBAN, "nested": [{"email": EMAIL, "who": UNICODE_NAME}]},
        "sensitive": {"sex": "M", "note": WITH_ID},
        "prediction": 1,
        "score": 0.5,
        "occurred_at": "2026-01-01T00:00:00Z",
    }
    assert ingest.post("/api/v1/decisions/bulk/", {"decisions": [decision]}, format="json").status_code == 200
    refused = ingest.post(
        "/api/v1/decisions/bulk/", {"decisions": [{**decision, "request_id": f"req-{RAW}"}]}, format="json"
    )
    assert refused.status_code == 400 and set(refused.json()["error"]["fields"]) == {"decisions[0].request_id"}

    # LLM calls: input, output, error, tags, client id, documents, and the scores of the call
    llm_call = {
        "client_call_id": f"chat-{NAME}",
        "provider": "openai",
        "model": "gpt-4o",
        "input": [
            {"role": "system", "content": f"The customer is {WITH_ID}"},
            {"role": "user", "content": [{"type": "text", "text": WITH_ID}]},
        ],
        "output": f"Dear {NAME}, your IBAN {IBAN} and {EMAIL} ({RAW}) are confirmed. Sincerely, {UNICODE_NAME}.",
        "error": WITH_ID,
        "status": "ok",
        "subject_id": RAW,
        "tags": [f"customer:{NAME}", UNICODE_NAME],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5},
        "occurred_at": "2026-01-02T00:00:00Z",
        "retrieved_documents": [
            {"document_id": f"crm/{NAME}", "source": f"crm://{UNICODE_NAME}", "chunk_text": WITH_ID, "rank": 0},
            {"document_id": f"kyc/{EMAIL}", "source": IBAN, "subject_id": RAW, "rank": 1},
        ],
    }
    bulk = ingest.post("/api/v1/llm/calls/bulk/", {"calls": [llm_call]}, format="json")
    assert bulk.status_code == 200, bulk.content
    for name, value in (("client_call_id", f"chat-{RAW}"), ("tags", [f"customer:{RAW}"])):
        refused = ingest.post("/api/v1/llm/calls/bulk/", {"calls": [{**llm_call, name: value}]}, format="json")
        assert refused.status_code == 400 and set(refused.json()["error"]["fields"]) == {f"calls[0].{name}"}
    call_pk = LLMCall.objects.get().pk
    scored = scientist.post(
        "/api/v1/llm/calls/score/",
        {
            "calls": [call_pk],
            "evaluators": [
                {"name": "grounded", "kind": "groundedness"},
                {"name": "pii", "kind": "pii_leak"},
                {"name": "mentions", "kind": "contains", "config": {"value": NAME}},
                {"name": "shape", "kind": "regex", "config": {"pattern": "Quackenbush"}},
            ],
        },
        format="json",
    )
    assert scored.status_code == 200, scored.content

    # the erasure request: a reference holding the raw id is refused; then trace and execute
    refused = officer.post(
        "/api/v1/erasure-requests/", {"subject_id": RAW, "reference": f"ticket {RAW.lower()}"}, format="json"
    )
    assert refused.status_code == 400 and set(refused.json()["error"]["fields"]) == {"reference"}
    created = officer.post("/api/v1/erasure-requests/", {"subject_id": RAW, "reference": "DSR-2026-11"}, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    before = pg_dump()
    assert NAME in before and IBAN in before  # the dump does show what is stored
    assert officer.post(f"/api/v1/erasure-requests/{pk}/trace/", {}, format="json").status_code == 200
    executed = officer.post(f"/api/v1/erasure-requests/{pk}/execute/", {}, format="json")
    assert executed.status_code == 202, executed.content
    assert executed.json()["state"] == "succeeded", executed.json()  # the job, run in process (no broker)
    report = officer.get(f"/api/v1/erasure-requests/{pk}/report/")
    assert report.status_code == 200

    dump = pg_dump()
    left = {
        (planted, form, tuple(sorted(tables_holding(dump, form), key=str)))
        for planted in PLANTED
        for form in forms(planted)
        if form in dump
    }
    assert not left
    key = subject_key(RAW)
    assert tables_holding(dump, key) == {"public.governance_erasurerequest", "public.registry_suppressedsubject"}
    for text in (executed.content.decode(), report.content.decode()):
        assert not any(form in text for planted in PLANTED for form in forms(planted))
        assert key not in text
