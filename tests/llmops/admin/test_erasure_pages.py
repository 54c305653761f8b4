"""The LLM section of an erasure request's pages: the trace, the execute confirmation, the request's page and the
printable report show a row per kind of record with its count and what erasure does (not a stored dict or a "?")."""

from __future__ import annotations

import re

from django.urls import reverse

from governance.services.erasure import erasure_request_create, erasure_request_trace
from tests.helpers import staff_client
from tests.llmops.conftest import SYSTEM
from tests.llmops.test_calls import call, post

ALICE = "alice.martin@example.com"
CHANGELIST = reverse("admin:governance_erasurerequest_changelist")


def rows(body: str) -> list[tuple[str, str]]:
    """(record, how many) of every records table on the page."""
    tables = re.findall(r'<table class="erasure-table erasure-records">(.*?)</table>', body, re.S)
    found = []
    for table in tables:
        for record, count in re.findall(r'<tr><td>([^<]*)</td><td class="count">([^<]*)</td>', table):
            found.append((record.replace("&#x27;", "'"), count))
    return found


def test_the_llm_records_of_a_request_read_as_tables(ingest, project, prompt, prices):
    _, v1 = prompt
    document = {"document_id": "crm/4411", "source": "crm", "chunk_text": "Alice ...", "subject_id": ALICE}
    post(
        ingest,
        [
            call("a1", subject_id=ALICE, prompt_version=v1.pk, retrieved_documents=[document]),
            call("a2", subject_id=ALICE),
            call("b1", subject_id="bob", retrieved_documents=[document]),
        ],
    )
    officer = staff_client("olga", "compliance_officer", project)
    request = erasure_request_create(actor=SYSTEM, project=project, subject_id=ALICE, reference="GDPR-17")
    request = erasure_request_trace(actor=SYSTEM, request=request)

    body = officer.get(reverse("admin:governance_erasurerequest_change", args=[request.pk])).content.decode()
    assert rows(body) == [
        ("Decisions about the subject", "0"),
        ("LLM calls about the subject", "2"),
        ("Retrieved documents about the subject", "2"),
        ("Retrieved documents given in the subject's calls", "1"),
    ]
    assert f"through {v1}" in body
    assert "{&#x27;" not in body and "&#x27;count&#x27;" not in body  # no stored dict printed

    confirm = officer.post(CHANGELIST, {"action": "execute_requests", "_selected_action": [request.pk], "index": 0})
    plan = confirm.content.decode()
    assert "What executing GDPR-17 will do" in plan
    assert ("LLM calls about the subject", "2") in rows(plan)
    assert "?" not in re.sub(r"<script.*?</script>|href=\"[^\"]*\"|action=\"[^\"]*\"", "", plan, flags=re.S)

    done = officer.post(
        CHANGELIST,
        {"action": "execute_requests", "_selected_action": [request.pk], "apply": "Execute erasure", "confirm": "on"},
        follow=True,
    )
    assert done.status_code == 200
    body = officer.get(reverse("admin:governance_erasurerequest_change", args=[request.pk])).content.decode()
    executed = rows(body)
    assert ("LLM calls redacted", "2") in executed
    assert ("Retrieved documents redacted", "2") in executed
    assert ("Call scores' details cleared", "0") in executed

    report = officer.get(reverse("admin:governance_erasurerequest_report", args=[request.pk])).content.decode()
    assert ("LLM calls about the subject", "2") in rows(report) and ("LLM calls redacted", "2") in rows(report)
    assert ALICE not in report
