"""llmops 0005: the LLM spans' TraceSpan rows move onto their calls (and back)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("llmops", "0004_otlp_trace_spans")]
AFTER = [("llmops", "0005_llm_spans_on_calls")]
T = "0af7651916cd43dd8448eb211c80319c"


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.mark.django_db(transaction=True)
def test_llm_spans_move_onto_their_calls_and_back():
    apps = _migrate(BEFORE)
    try:
        Project = apps.get_model("registry", "Project")
        LLMCall = apps.get_model("llmops", "LLMCall")
        TraceSpan = apps.get_model("llmops", "TraceSpan")
        now = timezone.now()
        project = Project.objects.create(slug="mig", name="mig")
        call = LLMCall.objects.create(
            project=project,
            client_call_id=f"otlp:{T}:b7ad6b7169203331",
            provider="openai",
            model="m",
            token_source="provider",
            cost_status="unpriced",
            trace_id=T,
            span_id="b7ad6b7169203331",
            occurred_at=now,
            created_at=now,
        )
        common = {"project": project, "trace_id": T, "kind": 3, "created_at": now}
        TraceSpan.objects.create(
            **common,
            span_id="b7ad6b7169203330",
            name="flow",
            category="workflow",
            start_time_unix_nano=1,
            end_time_unix_nano=9,
        )
        TraceSpan.objects.create(
            **common,
            span_id="b7ad6b7169203331",
            parent_span_id="b7ad6b7169203330",
            name="chat m",
            category="llm",
            service_name="svc",
            scope_name="scope",
            start_time_unix_nano=2,
            end_time_unix_nano=5,
            status="ok",
            attributes={"gen_ai.request.model": "m"},
            call=call,
        )

        apps = _migrate(AFTER)
        TraceSpan = apps.get_model("llmops", "TraceSpan")
        moved = apps.get_model("llmops", "LLMCall").objects.get(pk=call.pk)
        assert list(TraceSpan.objects.values_list("span_id", flat=True)) == ["b7ad6b7169203330"]
        assert (moved.span_parent_id, moved.span_name, moved.span_category, moved.span_kind) == (
            "b7ad6b7169203330",
            "chat m",
            "llm",
            3,
        )
        assert (moved.span_service_name, moved.span_scope_name, moved.span_status) == ("svc", "scope", "ok")
        assert (moved.span_start_time_unix_nano, moved.span_end_time_unix_nano) == (2, 5)
        assert moved.span_attributes == {"gen_ai.request.model": "m"}

        apps = _migrate(BEFORE)
        back = apps.get_model("llmops", "TraceSpan").objects.get(span_id="b7ad6b7169203331")
        assert (back.call_id, back.name, back.parent_span_id, back.start_time_unix_nano) == (
            call.pk,
            "chat m",
            "b7ad6b7169203330",
            2,
        )
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
