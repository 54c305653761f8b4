"""governance.presenters.erasure on its own: days left, the trace, the execution plan and what was done, the
obligations, the confirmation rows and the report, as data (the pages' HTML is tested in tests/governance/admin)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.urls import reverse

from governance import selectors
from governance.models import ErasureRequest
from governance.presenters import erasure as presenters
from governance.services import erasure
from registry import services
from registry.actors import Actor
from registry.models import Stage
from registry.subjects import subject_key
from registry.tones import tone_of
from tests import factories as f
from tests.governance.presenters.helpers import no_html

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def receive(project, reference: str, *, subject: str = "nobody", received_at: datetime | None = None):
    return erasure.erasure_request_create(
        actor=Actor.system(), project=project, subject_id=subject, reference=reference, received_at=received_at
    )


@pytest.fixture
def story(chain):
    """`alice` is in the training data of credit v1, which is live; she has two decisions."""
    services.subjects_index(actor=Actor.system(), data_version=chain.train, subject_ids=["alice", "bob"])
    for _ in range(2):
        f.DecisionFactory(
            model_version=chain.version,
            deployment=chain.deployment,
            subject_key=subject_key("alice"),
            subject_key_id="k1",
            sensitive={"sex": "F"},
        )
    chain.request = receive(chain.project, "DSR-1", subject="alice")
    return chain


def request_due(project, due_at: datetime, status: str = "received") -> ErasureRequest:
    request = receive(project, f"due-{due_at:%m%d%H}")
    request.due_at, request.status = due_at, status
    return request


def test_days_left_in_words_tone_and_due_title(project):
    later = presenters.days_left(request_due(project, NOW + timedelta(days=25)), NOW)
    assert later == {"days": 25, "text": "25 days", "tone": "", "due": "due 2026-04-04 12:00 UTC"}
    soon = presenters.days_left(request_due(project, NOW + timedelta(days=2)), NOW, left=" left")
    assert soon == {"days": 2, "text": "2 days left", "tone": "warning", "due": "due 2026-03-12 12:00 UTC"}
    assert presenters.days_left(request_due(project, NOW + timedelta(days=7)), NOW)["tone"] == "warning"
    assert presenters.days_left(request_due(project, NOW + timedelta(days=8)), NOW)["tone"] == ""
    today = presenters.days_left(request_due(project, NOW + timedelta(hours=3)), NOW)
    assert (today["text"], today["tone"]) == ("due today", "warning")
    late_today = presenters.days_left(request_due(project, NOW - timedelta(hours=3)), NOW)
    assert (late_today["text"], late_today["tone"]) == ("overdue (due today)", "danger")
    late = presenters.days_left(request_due(project, NOW - timedelta(days=10)), NOW)
    assert (late["days"], late["text"], late["tone"]) == (-10, "overdue by 10 days", "danger")
    one = presenters.days_left(request_due(project, NOW - timedelta(days=1)), NOW)
    assert one["text"] == "overdue by 1 day"
    for status in ("completed", "rejected"):
        assert presenters.days_left(request_due(project, NOW - timedelta(days=10), status), NOW) is None


def test_status_badge_takes_the_tone_declared_on_the_choices():
    assert presenters.status_badge("received")["text"] == "received"
    tones = {status: presenters.status_badge(status)["tone"] for status in ErasureRequest.Status.values}
    assert tones == {status: tone_of(ErasureRequest.Status, status).value for status in ErasureRequest.Status.values}


def test_trace_view_reads_the_stored_trace_with_labels_and_links(story):
    request = erasure.erasure_request_trace(actor=Actor.system(), request=story.request)
    trace = presenters.trace_view(request.trace)
    no_html(trace)
    assert trace["computed_at"].endswith(" UTC") and len(trace["computed_at"]) == len("2026-01-01 00:00 UTC")
    assert trace["data_versions"] == [
        {
            "label": f"{story.train.dataset.name} train",
            "url": reverse("admin:registry_dataversion_change", args=[story.train.pk]),
            "holds_subject": True,
            "derived_from": [],
            "status": "active",
        }
    ]
    assert trace["holding_count"] == 1
    assert trace["runs"] == [
        {
            "label": story.run.name,
            "url": reverse("admin:registry_run_change", args=[story.run.pk]),
            "inputs": [{"label": f"{story.train.dataset.name} train", "role": "train"}],
            "trained_on_subject": True,
            "used_for": ["train"],
        }
    ]
    [version] = trace["model_versions"]
    assert version["label"] == "credit v1"
    assert version["url"] == reverse("admin:registry_modelversion_change", args=[story.version.pk])
    assert version["stage"] == {"text": story.version.stage, "tone": tone_of(Stage, story.version.stage).value}
    assert (version["live"], version["trained_on_subject"]) == (True, True)
    assert trace["live_count"] == 1
    assert trace["live_deployments"] == [
        {
            "url": reverse("admin:registry_deployment_change", args=[story.deployment.pk]),
            "model_version": "credit v1",
            "environment": "production",
            "strategy": story.deployment.strategy,
            "traffic": "100%",
        }
    ]
    assert (trace["decision_count"], trace["decision_count_display"]) == (2, "2")
    assert presenters.trace_view(None) is None
    assert presenters.trace_view({}) is None


def test_trace_view_names_what_it_cannot_find_and_counts_other_sections(db):
    trace = presenters.trace_view(
        {
            "data_versions": [{"id": 7, "dataset": "d", "version": "v", "holds_subject": False, "derived_from": [8]}],
            "runs": [{"id": 999999, "inputs": [{"data_version": 8, "role": "test"}]}],
            "model_versions": [],
            "live_deployments": [],
            "decisions": {"count": 1234},
            "other": {"llm_calls": {"count": 3}, "notes": "kept"},
        }
    )
    assert trace["computed_at"] == "-"
    assert trace["data_versions"][0]["derived_from"][0]["label"] == "data version 8"
    assert trace["runs"][0]["label"] == "run 999999"
    assert trace["runs"][0]["inputs"] == [{"label": "data version 8", "role": "test"}]
    assert trace["decision_count_display"] == "1,234"
    # sections of apps that are not registered are read generically, each record named with its app
    assert trace["other"] == [
        {"record": "llm_calls: records", "count": "3", "note": ""},
        {"record": "notes: records", "count": "—", "note": "kept"},
    ]
    assert trace["records"][0] == {
        "record": "Decisions about the subject",
        "count": "1,234",
        "note": presenters.DECISIONS_ERASED,
    }
    assert trace["records"][1:] == trace["other"]


def test_execution_plan_and_what_the_execution_did(story):
    assert presenters.execution_plan(story.request) is None  # not traced
    request = erasure.erasure_request_trace(actor=Actor.system(), request=story.request)
    plan = presenters.execution_plan(request)
    no_html(plan)
    assert plan["traced_at"] == request.traced_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    assert (plan["decision_count"], plan["decision_count_display"]) == (2, "2")
    assert [dv["label"] for dv in plan["data_versions"]] == [f"{story.train.dataset.name} train"]
    assert plan["already_pending"] == []
    assert [mv["label"] for mv in plan["obligations"]] == ["credit v1"]
    assert [dep["environment"] for dep in plan["live_deployments"]] == ["production"]

    request = erasure.erasure_request_execute(actor=Actor.system(), request=request)
    done = presenters.execution_view(request.execution)
    no_html(done)
    assert [(row["record"], row["count"]) for row in done] == [
        ("Decisions redacted", "2"),
        ("Subject index rows removed", "1"),
        ("Data versions marked erasure_pending", "1"),
        ("Retraining obligations opened", "1"),
        # llmops reads its own answer
        ("LLM calls redacted", "0"),
        ("Retrieved documents redacted", "0"),
        ("Call scores' details cleared", "0"),
    ]
    assert all(row["note"] for row in done)
    assert presenters.execution_view(None) == []
    gone = presenters.execution_view({"decisions_redacted": 1500, "other": {"llm_calls": {"redacted": 3}}})
    assert [(row["record"], row["count"]) for row in gone] == [
        ("Decisions redacted", "1,500"),
        ("Subject index rows removed", "0"),
        ("Data versions marked erasure_pending", "0"),
        ("Retraining obligations opened", "0"),
        ("llm_calls: redacted", "3"),  # an app that is gone: read generically
    ]
    pending = {
        **request.trace,
        "data_versions": [{**dv, "status": "erasure_pending"} for dv in request.trace["data_versions"]],
    }
    replanned = presenters.execution_plan(SimpleNamespace(trace=pending, traced_at=NOW))
    assert replanned["data_versions"] == []
    assert [dv["label"] for dv in replanned["already_pending"]] == [f"{story.train.dataset.name} train"]
    assert replanned["traced_at"] == "2026-03-10 12:00 UTC"

    [obligation] = presenters.obligations_view(request.obligations.select_related("model_version__model"))
    no_html(obligation)
    assert obligation["model_version"] == {
        "label": str(story.version),
        "url": reverse("admin:registry_modelversion_change", args=[story.version.pk]),
    }
    assert obligation["status"] == "open"
    assert obligation["opened_at"].endswith(" UTC")
    assert (obligation["closed_at"], obligation["closed_by"]) == (None, None)


def test_operation_rows_say_why_an_operation_cannot_be_done(story, other_project):
    traced = erasure.erasure_request_trace(actor=Actor.system(), request=receive(story.project, "DSR-2"))
    theirs = receive(other_project, "GLOBEX-1")
    requests = [story.request, traced, theirs]
    may = lambda obj: obj.project_id == story.project.pk  # noqa: E731
    statuses = ("traced",)
    rows = presenters.operation_rows(requests, operation="execute", from_statuses=statuses, may_operate=may, now=NOW)
    no_html(rows)
    assert [row["problem"] for row in rows] == [
        "not traced yet: trace it first",
        "",
        "your role in globex may not execute erasure requests",
    ]
    assert [row["reference"] for row in rows] == ["DSR-1", "DSR-2", "GLOBEX-1"]
    assert [row["project"] for row in rows] == ["acme", "acme", "globex"]
    assert rows[1]["url"] == reverse("admin:governance_erasurerequest_change", args=[traced.pk])
    assert rows[1]["status"]["text"] == "traced"
    assert rows[1]["due"] == traced.due_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    assert rows[1]["days_left"] == presenters.days_left(traced, NOW)
    assert rows[0]["traced_at"] == "-"
    assert [row["plan"] is not None for row in rows] == [False, True, False]  # a plan only where it can run
    trace_rows = presenters.operation_rows(
        [traced], operation="trace", from_statuses=("received",), may_operate=may, now=NOW
    )
    assert trace_rows[0]["problem"] == "already traced"
    assert trace_rows[0]["plan"] is None


def test_the_report_lays_out_the_selectors_report(story):
    request = erasure.erasure_request_trace(actor=Actor.system(), request=story.request)
    request = erasure.erasure_request_execute(actor=Actor.system(), request=request)
    report = presenters.erasure_report(
        request,
        selectors.erasure_report(request=request),
        now=NOW,
        generated_by="user:olga",
        json_url="/api/v1/erasure-requests/1/report/",
        verify_url=None,
    )
    no_html({key: value for key, value in report.items() if key != "summary"})
    assert report["summary"]["reference"] == "DSR-1"
    assert report["status"]["text"] == "executed"
    # executed: the clock has stopped, and the report says whether the erasure came in time (not "N days left")
    assert report["days_left"]["text"].startswith("erased in time")
    assert report["days_left"]["tone"] == ""
    labels = [label for label, _ in report["dates"]]
    assert labels == ["Received", "Due", "Traced", "Executed", "Completed"]
    dates = dict(report["dates"])
    assert dates["Completed"] is None  # not yet: an obligation is open
    assert dates["Traced"] == request.traced_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    assert report["trace"] == presenters.trace_view(request.trace)
    assert report["execution"] == presenters.execution_view(request.execution)
    [obligation] = report["obligations"]
    assert obligation["label"] == "credit v1"
    assert (obligation["status"], obligation["closed"], obligation["closed_by"]) == ("open", None, "")
    assert not obligation["opened"].endswith("UTC")  # the column title says (UTC)
    steps = selectors.erasure_report(request=request)["steps"]
    assert [step["seq"] for step in report["steps"]] == [step["seq"] for step in steps]
    assert [step["hash"] for step in report["steps"]] == [step["hash"] for step in steps]
    assert [step["prev_hash"] for step in report["steps"]] == [step["prev_hash"] for step in steps]
    assert [step["event_type"] for step in report["steps"]] == [
        "erasure.received",
        "erasure.traced",
        "erasure.executed",
        "erasure.obligation_opened",
    ]
    assert report["generated_at"] == "2026-03-10 12:00 UTC"
    assert (report["generated_by"], report["json_url"], report["verify_url"]) == (
        "user:olga",
        "/api/v1/erasure-requests/1/report/",
        None,
    )
    assert request.subject_key not in repr(report)


def test_the_report_of_a_closed_request_has_no_days_left(project):
    request = receive(project, "DSR-0")
    request = erasure.erasure_request_reject(actor=Actor.system(), request=request, reason="legal hold")
    report = presenters.erasure_report(
        request, selectors.erasure_report(request=request), now=NOW, generated_by="x", json_url=None, verify_url=None
    )
    assert report["days_left"] is None
    assert report["trace"] is None and report["execution"] == [] and report["obligations"] == []
    assert dict(report["dates"])["Traced"] is None


def test_the_llm_section_reads_as_a_table_of_records(db):
    """llmops traces several kinds under one section; the pages show a row per kind with its count and what
    erasure does to it (they showed the stored dict, then a "?"), naming the prompt versions the calls ran."""
    from llmops.services.prompts import prompt_create, prompt_version_create

    project = f.ProjectFactory()
    prompt = prompt_create(actor=Actor.system(), project=project, name="summarise")
    version = prompt_version_create(
        actor=Actor.system(), template=prompt, kind="text", text="Sum up {{x}}", variables=["x"]
    )
    section = {
        "llm_calls": {"count": 2, "ids": [4, 5], "ids_truncated": True, "prompt_versions": [version.pk, 999999]},
        "retrieved_documents": {"about_subject": 1, "in_subjects_calls": 3, "document_ids_about_subject": [7]},
    }
    rows = presenters.other_rows({"llmops": section}, redaction=False)
    no_html(rows)
    assert [(row["record"], row["count"]) for row in rows] == [
        ("LLM calls about the subject", "2"),
        ("Retrieved documents about the subject", "1"),
        ("Retrieved documents given in the subject's calls", "3"),
    ]
    assert "through summarise v1, prompt version 999999" in rows[0]["note"]
    assert "the first 1,000 ids" in rows[0]["note"]
    assert rows[1]["note"].startswith("document id, source and chunk hash cleared")
    # a section of another shape (an older answer) shows no count rather than a wrong one
    assert [row["count"] for row in presenters.other_rows({"llmops": {}}, redaction=False)] == ["—", "—", "—"]


def test_an_executed_request_says_whether_it_was_erased_in_time(story):
    request = erasure.erasure_request_trace(actor=Actor.system(), request=story.request)
    request = erasure.erasure_request_execute(actor=Actor.system(), request=request)
    ErasureRequest.objects.filter(pk=request.pk).update(due_at=request.executed_at - timedelta(days=3))
    request.refresh_from_db()
    late = presenters.days_left(request, request.executed_at + timedelta(days=40))
    assert (late["text"], late["tone"]) == ("erased 3 days late", "danger")
    assert not selectors.erasure_report(request=request)["request"]["overdue"]  # the clock stopped at execution
