"""Prompt versions and LLM calls in the lineage graph, linked to the data versions of their documents."""

from __future__ import annotations

import pytest

from llmops.models import LLMCall
from tests import factories as f
from tests.llmops.test_calls import call, post

pytestmark = pytest.mark.sqlite


def test_a_calls_lineage_reaches_its_prompt_version_and_the_data_behind_its_documents(
    ingest, make_client, project, other_project, prompt, prices
):
    _, v1 = prompt
    kb = f.DataVersionFactory(dataset__project=project, version="kb-2026-10")
    docs = [{"document_id": f"kb/{n}", "chunk_sha256": "b" * 64, "rank": n, "data_version": kb.pk} for n in (1, 2)]
    post(ingest, [call("l1", prompt_version=v1.pk, retrieved_documents=docs), call("l2", prompt_version=v1.pk)])
    first = LLMCall.objects.get(client_call_id="l1")
    analyst = make_client("risk_analyst", project)

    up = analyst.get(f"/api/v1/lineage/?node=llm_call:{first.pk}&direction=upstream").json()
    assert {n["id"] for n in up["nodes"]} == {
        f"llm_call:{first.pk}",
        f"prompt_version:{v1.pk}",
        f"data_version:{kb.pk}",
    }
    edges = {(e["source"], e["relation"], tuple(e["attrs"].items())) for e in up["edges"]}
    assert (f"prompt_version:{v1.pk}", "prompted_by", ()) in edges
    assert (f"data_version:{kb.pk}", "retrieved_from", (("documents", 2),)) in edges
    node = next(n for n in up["nodes"] if n["kind"] == "llm_call")
    assert node["label"] == "l1" and node["attrs"]["model"] == "gpt-4o" and node["attrs"]["erased"] is False

    down = analyst.get(f"/api/v1/lineage/?node=prompt_version:{v1.pk}&direction=downstream").json()
    assert sorted(n["label"] for n in down["nodes"] if n["kind"] == "llm_call") == ["l1", "l2"]
    from_data = analyst.get(f"/api/v1/lineage/?node=data_version:{kb.pk}&direction=downstream").json()
    assert [n["label"] for n in from_data["nodes"] if n["kind"] == "llm_call"] == ["l1"]

    stranger = make_client("risk_analyst", other_project)
    assert stranger.get(f"/api/v1/lineage/?node=llm_call:{first.pk}").status_code == 404
    unknown = analyst.get("/api/v1/lineage/?node=llm_cal:1")
    assert unknown.status_code == 400 and "llm_call" in unknown.json()["error"]["message"] + str(unknown.json())
