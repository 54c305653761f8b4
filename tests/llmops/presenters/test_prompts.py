"""The prompt history and the diff of two versions, on their fields."""

from __future__ import annotations

from django.urls import reverse

from llmops.presenters.prompts import prompt_diff, prompt_history
from llmops.services import prompts
from tests.llmops.admin.pages import POLITE
from tests.llmops.conftest import SYSTEM


def diff_address(template, a: int, b: int) -> str:
    return reverse("admin:llmops_prompttemplate_diff", args=[template.pk]) + f"?a={a}&b={b}"


def test_history_lists_every_version_with_its_content_labels_and_moves(llm):
    history = prompt_history(llm.template)
    assert [row["number"] for row in history["versions"]] == [3, 2, 1] == history["numbers"]
    assert (history["latest"], history["before_latest"]) == (3, 2)
    v3, v2, v1 = history["versions"]
    assert (v2["commit"], v3["commit"], v1["commit"]) == ("be polite", "plain text", "first")
    assert v2["labels"] == [{"text": "staging", "tone": "warning"}]
    assert v1["labels"] == [{"text": "production", "tone": "success"}] and v3["labels"] == []
    assert v2["hash"] == llm.v2.content_sha256 and v2["created"].endswith(" UTC")
    assert v2["url"] == reverse("admin:llmops_promptversion_change", args=[llm.v2.pk])
    assert (v2["diff_url"], v2["previous"]) == (diff_address(llm.template, 1, 2), 1)
    assert (v1["diff_url"], v1["previous"]) == (None, None)
    assert v2["parameters"] == '{"temperature": 0.2}' and v2["variables"] == "context, question"
    assert v2["model"] == "gpt-4o" and v2["kind"] == "Chat messages" and v3["kind"] == llm.v3.get_kind_display()
    system, user = v2["content"]["messages"]
    assert system == {"role": "system", "pieces": [{"text": POLITE, "variable": False}]}
    assert {"text": "{{context}}", "variable": True} in user["pieces"]  # the variables marked
    assert v3["content"]["messages"] is None
    assert {"text": "{{question}}", "variable": True} in v3["content"]["text"]
    moves = {move["label"]["text"]: move for move in history["moves"]}
    assert set(moves) == {"production", "staging"}
    assert moves["production"]["from"] is None and moves["production"]["to"] == "v1"  # a new label
    assert moves["staging"]["to_url"] == reverse("admin:llmops_promptversion_change", args=[llm.v2.pk])
    assert history["audit_trail_url"].endswith(f"?target_type__exact=llmops.prompttemplate&q={llm.template.pk}")
    assert history["diff_base_url"] == reverse("admin:llmops_prompttemplate_diff", args=[llm.template.pk])


def test_history_names_who_moved_a_label(llm):
    prompts.prompt_label_move(actor=SYSTEM, template=llm.template, name="production", version=llm.v2)
    latest = prompt_history(llm.template)["moves"][0]
    assert (latest["label"], latest["from"], latest["to"], latest["by"]) == (
        {"text": "production", "tone": "success"},
        "v1",
        "v2",
        "system",
    )


def test_diff_gives_the_changed_lines_and_fields(llm):
    diff = prompt_diff(llm.v1, llm.v2)
    assert (diff["from"], diff["to"], diff["identical"]) == (1, 2, False)
    assert {"kind": "add", "text": "+" + POLITE} in diff["lines"]
    assert {"kind": "del", "text": "-You answer bank customers briefly."} in diff["lines"]
    assert {"kind": "add", "text": '+parameters: {"temperature": 0.2}'} in diff["lines"]
    assert [line["kind"] for line in diff["lines"][:2]] == ["file", "file"]
    assert (diff["added"], diff["removed"]) == (2, 2)
    rows = {row["field"]: row for row in diff["rows"]}
    assert rows["parameters.temperature"]["from"] == {"kind": "text", "text": "0", "content": None}
    assert rows["parameters.temperature"]["to"] == {"kind": "text", "text": "0.2", "content": None}
    assert rows["messages"]["to"]["kind"] == "messages"
    assert rows["messages"]["to"]["content"]["messages"][0]["pieces"] == [{"text": POLITE, "variable": False}]
    assert (diff["a_commit"], diff["b_commit"]) == ("first", "be polite")
    assert diff["a_url"] == reverse("admin:llmops_promptversion_change", args=[llm.v1.pk])
    assert diff["swap_url"] == diff_address(llm.template, 2, 1)
    text = prompt_diff(llm.v2, llm.v3)
    rows = {row["field"]: row for row in text["rows"]}
    assert rows["kind"]["from"]["text"] == "chat" and rows["kind"]["to"]["text"] == "text"
    assert rows["messages"]["to"] == {"kind": "messages", "text": "", "content": {"messages": [], "text": []}}
    assert rows["text"]["from"] == {"kind": "none", "text": "(none)", "content": None}
    assert prompt_diff(llm.v1, llm.v1)["identical"] is True and prompt_diff(llm.v1, llm.v1)["lines"] == []


def test_diff_keeps_hostile_content_as_plain_text(project):
    template = prompts.prompt_create(actor=SYSTEM, project=project, name="hostile")
    a = prompts.prompt_version_create(actor=SYSTEM, template=template, kind="text", text="Say hi")
    b = prompts.prompt_version_create(actor=SYSTEM, template=template, kind="text", text="<script>alert(1)</script>")
    diff = prompt_diff(a, b)
    assert {"kind": "add", "text": "+<script>alert(1)</script>"} in diff["lines"]  # escaped by the template
    assert not any(hasattr(line["text"], "__html__") for line in diff["lines"])  # plain strings, never marked safe
