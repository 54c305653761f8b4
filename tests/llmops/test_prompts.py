"""Prompt templates, immutable versions, audited label moves, render, diff and resolve."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from llmops.models import PromptVersion
from registry.models import AuditEvent

pytestmark = pytest.mark.sqlite  # the ingest, JSON tag and erasure paths differ on SQLite

BASE = "/api/v1/llm"


def new_version(client, prompt_id, content="Context: {{context}}\nQ: {{question}}", **extra):
    body = {
        "kind": "chat",
        "messages": [{"role": "user", "content": content}],
        "variables": ["context", "question"],
        "model": "gpt-4o-mini",
        **extra,
    }
    return client.post(f"{BASE}/prompts/{prompt_id}/versions/", body, format="json")


def test_create_prompt_and_versions_numbered_with_content_hash(scientist, project):
    created = scientist.post(f"{BASE}/prompts/", {"name": "triage"}, format="json")
    assert created.status_code == 201, created.content
    pid = created.json()["id"]
    v1 = new_version(scientist, pid, commit_message="first")
    v2 = new_version(scientist, pid, content="Use only: {{context}}\nQ: {{question}}")
    assert (v1.status_code, v2.status_code) == (201, 201)
    assert (v1.json()["version"], v2.json()["version"]) == (1, 2)
    assert len(v1.json()["content_sha256"]) == 64 and v1.json()["content_sha256"] != v2.json()["content_sha256"]
    again = new_version(scientist, pid, content="Use only: {{context}}\nQ: {{question}}")
    assert again.status_code == 409 and "identical to version 2" in again.json()["error"]["message"]
    listed = scientist.get(f"{BASE}/prompts/{pid}/versions/").json()
    assert [v["version"] for v in listed] == [2, 1]
    assert scientist.get(f"{BASE}/prompts/{pid}/").json()["latest_version"] == 2
    duplicate = scientist.post(f"{BASE}/prompts/", {"name": "triage"}, format="json")
    assert duplicate.status_code == 409


def test_undeclared_and_unused_variables_are_refused(scientist, prompt):
    template, _ = prompt
    response = new_version(scientist, template.pk, content="{{context}} {{question}} {{extra}}")
    assert response.status_code == 400
    assert "undeclared variables: extra" in response.json()["error"]["fields"]["variables"][0]
    response = new_version(scientist, template.pk, content="only {{context}}")
    assert "declared but never used: question" in response.json()["error"]["fields"]["variables"][0]
    response = scientist.post(
        f"{BASE}/prompts/{template.pk}/versions/",
        {"kind": "chat", "messages": [{"role": "wizard", "content": "x"}]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "messages[0].role": ["must be one of system, user, assistant, tool, developer"]
    }


def test_prompt_versions_cannot_be_edited(scientist, prompt):
    _, v1 = prompt
    assert scientist.patch(f"{BASE}/prompt-versions/{v1.pk}/", {"text": "x"}, format="json").status_code == 405
    assert scientist.put(f"{BASE}/prompt-versions/{v1.pk}/", {"text": "x"}, format="json").status_code == 405
    assert scientist.delete(f"{BASE}/prompt-versions/{v1.pk}/").status_code == 405
    v1.model = "gpt-5"
    with pytest.raises(ValidationError):
        v1.save()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_the_database_refuses_to_update_a_prompt_version(prompt):
    _, v1 = prompt
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        PromptVersion.objects.filter(pk=v1.pk).update(model="gpt-5")


def test_render_fills_variables_and_refuses_missing_and_unknown(scientist, prompt):
    _, v1 = prompt
    url = f"{BASE}/prompt-versions/{v1.pk}/render/"
    ok = scientist.post(url, {"variables": {"context": "Fees are 2%.", "question": "What fee?"}}, format="json")
    assert ok.status_code == 200
    assert ok.json()["messages"][1]["content"] == "Context: Fees are 2%.\nQuestion: What fee?"
    bad = scientist.post(url, {"variables": {"context": "x", "colour": "red"}}, format="json")
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"] == {
        "variables.colour": ["is not a variable of this prompt version"],
        "variables.question": ["is required by this prompt version"],
    }
    assert scientist.post(url, {}, format="json").json()["error"]["fields"] == {"variables": ["is required"]}


def test_label_moves_are_audited_and_resolve_follows_them(scientist, make_client, project, prompt):
    template, v1 = prompt
    v2 = new_version(scientist, template.pk, content="Short: {{context}} / {{question}}").json()
    app = make_client("ingest", project)  # what a running application holds
    resolved = app.get(f"{BASE}/prompts/{template.pk}/resolve/?label=production")
    assert resolved.status_code == 200 and resolved.json()["version"] == 1
    moved = scientist.post(
        f"{BASE}/prompts/{template.pk}/labels/", {"label": "production", "version": 2}, format="json"
    )
    assert moved.status_code == 200 and moved.json()["version"] == 2
    assert app.get(f"{BASE}/prompts/{template.pk}/resolve/?label=production").json()["id"] == v2["id"]
    event = AuditEvent.objects.filter(event_type="llm.prompt_label_moved").order_by("-seq").first()
    assert event.before == {"label": "production", "version": 1}
    assert event.after["version"] == 2 and event.actor_name.startswith("key:")
    history = scientist.get(f"{BASE}/prompts/{template.pk}/label-history/").json()
    assert [(h["from_version"], h["to_version"]) for h in history] == [(1, 2), (None, 1)]
    missing = app.get(f"{BASE}/prompts/{template.pk}/resolve/?label=canary")
    assert missing.status_code == 400 and missing.json()["error"]["fields"]["label"]
    nothing = scientist.post(f"{BASE}/prompts/{template.pk}/labels/", {"label": "staging", "version": 9}, format="json")
    assert nothing.status_code == 400 and "no version 9" in nothing.json()["error"]["fields"]["version"][0]


def test_diff_between_two_versions(scientist, prompt):
    template, v1 = prompt
    v2 = new_version(
        scientist, template.pk, content="Context: {{context}}\nQuestion: {{question}}", parameters={"temperature": 0.2}
    ).json()
    diff = scientist.get(f"{BASE}/prompt-versions/{v1.pk}/diff/{v2['id']}/").json()
    assert diff["from"] == 1 and diff["to"] == 2 and diff["identical"] is False
    assert diff["changes"]["model"] == {"from": "gpt-4o", "to": "gpt-4o-mini"}
    assert diff["changes"]["parameters"] == {"temperature": {"from": 0, "to": 0.2}}
    assert "-You answer bank customers briefly." in diff["unified"]
    assert "+model: gpt-4o-mini" in diff["unified"]
