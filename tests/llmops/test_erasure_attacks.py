"""Attacks on the erasure promise for LLM calls: scores, tags, ids and documents that embed the subject,
strip mode, free text repeating the subject id, and an ingest racing the erasure."""

from __future__ import annotations

import pytest
from django.db import connection

from governance.services.erasure import erasure_request_create, erasure_request_execute, erasure_request_trace
from llmops.models import CallScore, LLMCall, RetrievedDocument
from llmops.services.calls import calls_ingest
from registry.actors import Actor
from registry.errors import ServiceError
from registry.models import Project
from registry.subjects import subject_key
from tests.governance.services.test_erasure_attacks import Paused, Plain, wait_until_blocked
from tests.llmops.conftest import SYSTEM
from tests.llmops.test_calls import call, post

NAME = "Zebulon Quackenbush"
IBAN = "DE89370400440532013000"
RAW = "cust-7f3a"
L = "/api/v1/llm"


def erase(project, raw=RAW):
    request = erasure_request_create(actor=SYSTEM, project=project, subject_id=raw, reference="DSR-11")
    return erasure_request_execute(actor=SYSTEM, request=erasure_request_trace(actor=SYSTEM, request=request))


@pytest.mark.django_db
def test_an_erasure_leaves_no_fragment_in_scores_tags_ids_or_documents(
    ingest, scientist, project, prices, admin_client
):
    output = f"Dear {NAME}, your IBAN {IBAN} is confirmed. Call +44 20 7946 0958."
    response = post(
        ingest,
        [
            call(
                f"chat-{NAME}",
                subject_id=RAW,
                input=f"I am {NAME}, IBAN {IBAN}",
                output=output,
                tags=[f"customer:{NAME}", "support"],
                retrieved_documents=[{"document_id": f"crm/{NAME}/profile", "source": f"crm://{NAME}"}],
            )
        ],
    )
    assert response.status_code == 200, response.content
    pk = LLMCall.objects.get().pk
    scored = scientist.post(
        f"{L}/calls/score/",
        {
            "calls": [pk],
            "evaluators": [
                {"name": "grounded", "kind": "groundedness"},
                {"name": "pii", "kind": "pii_leak"},
                {"name": "mentions", "kind": "contains", "config": {"value": NAME}},
            ],
        },
        format="json",
    )
    assert scored.status_code == 200, scored.content
    assert "7946 0958" in str(list(CallScore.objects.values_list("detail", flat=True)))  # they quote the output

    executed = erase(project)
    assert executed.execution["other"]["llmops"]["call_scores_cleared"] == 3
    erased = LLMCall.objects.get()
    assert (erased.client_call_id, erased.tags, erased.input, erased.output) == (f"erased:{pk}", [], None, "")
    document = RetrievedDocument.objects.get()
    assert (document.document_id, document.source, document.erased_at is not None) == (
        f"erased:{document.pk}",
        "",
        True,
    )
    assert [score.detail for score in CallScore.objects.all()] == [{}, {}, {}]
    assert CallScore.objects.count() == 3  # the values stay
    with connection.cursor() as cursor:
        for table in ("llmops_llmcall", "llmops_retrieveddocument", "llmops_callscore"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            dumped = str(cursor.fetchall())
            for planted in (NAME, "Quackenbush", IBAN, "7946 0958"):
                assert planted not in dumped, (table, planted)
    for page in (f"/admin/llmops/llmcall/{pk}/change/", "/admin/llmops/llmcall/"):
        shown = admin_client.get(page)
        assert shown.status_code == 200
        assert "Quackenbush" not in shown.content.decode()


@pytest.mark.django_db
@pytest.mark.sqlite
def test_ids_and_tags_repeating_the_calls_own_subject_id_are_refused(ingest, prices):
    response = post(
        ingest,
        [
            call(f"chat-{RAW.upper()}", subject_id=RAW),
            call("c2", subject_id=RAW, tags=[f"customer:{RAW}"]),
            call("c3", subject_id="other", retrieved_documents=[{"document_id": f"crm/{RAW}", "subject_id": RAW}]),
            call("c4", subject_id=RAW, retrieved_documents=[{"document_id": "kb/1", "source": f"crm://{RAW}"}]),
        ],
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "calls[0].client_call_id": ["must not contain the subject id"],
        "calls[1].tags": ["must not contain the subject id"],
        "calls[2].retrieved_documents[0].document_id": ["must not contain the subject id"],
        "calls[3].retrieved_documents[0].source": ["must not contain the subject id"],
    }
    assert RAW not in response.content.decode().lower()
    assert not LLMCall.objects.exists()


@pytest.mark.django_db
@pytest.mark.sqlite
def test_strip_mode_keeps_no_text_tag_or_document_of_the_erased_subject(ingest, project, prices):
    Project.objects.filter(pk=project.pk).update(erased_subject_ingest=Project.ErasedSubjectIngest.STRIP)
    erase(project)
    response = post(
        ingest,
        [
            call("late", subject_id=RAW, input=NAME, output=IBAN, error=NAME, tags=[NAME]),
            call(
                "about",
                subject_id="someone",
                retrieved_documents=[{"document_id": f"crm/{NAME}", "source": NAME, "subject_id": RAW}],
            ),
        ],
    )
    assert response.status_code == 200, response.content
    assert response.json()["subjects_stripped"] == 2
    late = LLMCall.objects.get(client_call_id="late")
    assert (late.subject_key, late.input, late.output, late.error, late.tags) == (None, None, "", "", [])
    assert late.erased_at is not None
    document = RetrievedDocument.objects.get()
    assert (document.document_id, document.source, document.subject_key) == ("[erased]", "", None)
    assert document.erased_at is not None
    assert LLMCall.objects.get(client_call_id="about").subject_key == subject_key("someone")


@pytest.mark.django_db
@pytest.mark.sqlite
def test_a_call_about_an_erased_subject_through_its_documents_is_refused(ingest, project, prices):
    erase(project)
    response = post(ingest, [call("c1", retrieved_documents=[{"document_id": "kb/9", "subject_id": RAW}])])
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "calls[0].retrieved_documents[0].subject_id": ["this subject was erased from the project; the call is refused"]
    }
    assert not RetrievedDocument.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_call_ingest_started_while_an_erasure_executes_waits_and_is_refused(project, prices, make_client):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL")
    from registry import services

    key, _ = services.api_key_create(actor=SYSTEM, project=project, role="ingest", name="app")
    request = erasure_request_create(actor=SYSTEM, project=project, subject_id=RAW, reference="DSR-12")
    request = erasure_request_trace(actor=SYSTEM, request=request)
    erasure = Paused(lambda: erasure_request_execute(actor=SYSTEM, request=request))
    erasure.start()
    assert erasure.done_work.wait(120) and erasure.error is None

    items = [call(f"c{n}", subject_id=f"person-{n}") for n in range(20)] + [call("late", subject_id=RAW, input=NAME)]
    ingest = Plain(lambda: calls_ingest(actor=Actor.for_key(key), items=items))
    ingest.start()
    wait_until_blocked(ingest)
    assert ingest.is_alive(), "the call ingest checked the suppression list before the erasure committed"
    erasure.release()
    erasure.join(120)
    ingest.join(120)
    assert erasure.error is None
    assert isinstance(ingest.error, ServiceError)
    assert ingest.error.fields == {
        "calls[20].subject_id": ["this subject was erased from the project; the call is refused"]
    }
    assert not LLMCall.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_calls_in_flight_when_an_erasure_executes_are_redacted(project, prices):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL")
    from registry import services

    key, _ = services.api_key_create(actor=SYSTEM, project=project, role="ingest", name="app")
    request = erasure_request_create(actor=SYSTEM, project=project, subject_id=RAW, reference="DSR-13")
    request = erasure_request_trace(actor=SYSTEM, request=request)
    items = [call("late", subject_id=RAW, input=NAME, tags=[NAME])]
    ingest = Paused(lambda: calls_ingest(actor=Actor.for_key(key), items=items))
    ingest.start()
    assert ingest.done_work.wait(120) and ingest.error is None
    erasure = Plain(lambda: erasure_request_execute(actor=SYSTEM, request=request))
    erasure.start()
    wait_until_blocked(erasure)
    assert erasure.is_alive()
    ingest.release()
    ingest.join(120)
    erasure.join(120)
    assert erasure.error is None
    erased = LLMCall.objects.get()
    assert (erased.subject_key, erased.input, erased.tags) == (None, None, [])
