"""The pieces several LLMOps pages show: {{variables}} cut out of prompt text, chat messages, variables, score lines."""

from __future__ import annotations

from datetime import UTC, datetime

from llmops.presenters import content


def test_highlight_cuts_each_placeholder_into_a_piece_of_its_own():
    assert content.highlight("Hi {{name}}, {{ place }}!") == [
        {"text": "Hi ", "variable": False},
        {"text": "{{name}}", "variable": True},
        {"text": ", ", "variable": False},
        {"text": "{{ place }}", "variable": True},
        {"text": "!", "variable": False},
    ]
    assert content.highlight("no variable") == [{"text": "no variable", "variable": False}]


def test_messages_content_keeps_roles_and_reads_parts():
    shown = content.messages_content(
        [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url"}]}, "plain", {"x": 1}]
    )
    assert shown == {
        "messages": [
            {"role": "user", "pieces": [{"text": "a\n[image_url]", "variable": False}]},
            {"role": "", "pieces": [{"text": "plain", "variable": False}]},
            {"role": "", "pieces": [{"text": "", "variable": False}]},
        ],
        "text": [],
    }
    assert content.text_content("{{q}}", highlighted=True) == {
        "messages": None,
        "text": [{"text": "", "variable": False}, {"text": "{{q}}", "variable": True}, {"text": "", "variable": False}],
    }
    assert content.content_text({"a": "é"}) == '{"a": "é"}'


def test_variables_labels_and_timestamps():
    long = "x" * 300
    (variable,) = content.variables({"context": long}, limit=90)
    assert variable["name"] == "context" and len(variable["value"]) == 90 and variable["value"].endswith("…")
    assert variable["full"] == long
    assert content.variables({}) == []
    assert content.label("production", 3) == {"text": "production → v3", "tone": "success"}
    assert content.label("staging") == {"text": "staging", "tone": "warning"}
    assert content.label("canary") == {"text": "canary", "tone": "secondary"}
    assert content.utc_text(datetime(2026, 2, 1, 9, 0, tzinfo=UTC)) == "2026-02-01 09:00 UTC"
    assert content.utc_text(None) == "-"
    assert content.percent(0.5) == "50%" and content.percent(None) == "-"
