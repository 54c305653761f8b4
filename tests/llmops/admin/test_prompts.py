"""Prompts in admin: the versions, labels and label moves on a prompt's page; the diff page shows the changed
lines, escaped; a label moved here goes through the service and into the audit trail, by data scientists of the
prompt's project only; a prompt is added through the service."""

from __future__ import annotations

from llmops.models import PromptLabel
from llmops.services import prompts
from registry.models import AuditEvent
from tests.helpers import staff_client
from tests.llmops.admin.pages import POLITE, messages_of, page, url
from tests.llmops.conftest import SYSTEM


def test_prompt_page_shows_versions_labels_and_label_moves(admin_client, llm):
    response = admin_client.get(page(llm.template))
    body = response.content.decode()
    for text in ("v1", "v2", "v3", "be polite", "plain text", POLITE, "production", "staging", "(new label)"):
        assert text in body
    assert llm.v2.content_sha256[:12] in body
    assert '<mark class="llm-var">{{context}}</mark>' in body  # the variables of a version's content, marked
    assert f"target_type__exact=llmops.prompttemplate&amp;q={llm.template.pk}" in body  # the audit trail link
    changelist = admin_client.get(url("prompttemplate_changelist")).content.decode()
    assert "production → v1" in changelist and "staging → v2" in changelist and "(3 versions)" in changelist


def test_diff_page_shows_the_changed_lines_and_fields(admin_client, llm):
    response = admin_client.get(url("prompttemplate_diff", llm.template.pk), {"a": 1, "b": 2})
    body = response.content.decode()
    assert '<div class="add">+' + POLITE + "</div>" in body
    assert '<div class="del">-You answer bank customers briefly.</div>' in body
    assert '<div class="add">+parameters: {&quot;temperature&quot;: 0.2}</div>' in body
    assert "parameters.temperature" in body and "1 line added" not in body  # two lines changed
    assert response.context["diff"]["added"] == 2 and response.context["diff"]["removed"] == 2
    # the default compares the last two versions; a text version differs in kind
    latest = admin_client.get(url("prompttemplate_diff", llm.template.pk))
    assert (latest.context["diff"]["from"], latest.context["diff"]["to"]) == (2, 3)
    assert "kind" in [row["field"] for row in latest.context["diff"]["rows"]]


def test_diff_page_escapes_prompt_content(admin_client, project):
    template = prompts.prompt_create(actor=SYSTEM, project=project, name="hostile")
    prompts.prompt_version_create(actor=SYSTEM, template=template, kind="text", text="Say hi")
    prompts.prompt_version_create(actor=SYSTEM, template=template, kind="text", text="<script>alert(1)</script>")
    body = admin_client.get(url("prompttemplate_diff", template.pk)).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "+&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script>alert(1)</script>" not in admin_client.get(page(template)).content.decode()


def test_a_data_scientist_moves_a_label_through_the_service_and_the_audit_trail(llm):
    client = staff_client("dana", "data_scientist", llm.project)
    move = url("prompttemplate_move_label", llm.template.pk)
    response = client.post(move, {"label": "production", "version": 2})
    assert response.status_code == 302 and response["Location"] == page(llm.template)
    assert PromptLabel.objects.get(template=llm.template, name="production").version == llm.v2
    event = AuditEvent.objects.filter(event_type="llm.prompt_label_moved").order_by("-seq").first()
    assert event.actor_name == "user:dana"
    assert event.before == {"label": "production", "version": 1}
    assert event.after["version"] == 2
    assert "production moved from v1 to v2" in " ".join(messages_of(client.get(page(llm.template))))
    history = client.get(page(llm.template)).content.decode()
    assert "user:dana" in history  # the label move history shows who moved it
    # a label name the service refuses comes back as a form error, nothing moved
    refused = client.post(move, {"label": "Not A Label!", "version": 3})
    assert refused.status_code == 200 and refused.context["form"].errors["label"]
    assert not PromptLabel.objects.filter(name="Not A Label!").exists()


def test_only_data_scientists_of_the_prompts_project_move_labels(llm, other_project):
    officer = staff_client("olga", "compliance_officer", llm.project)
    events = AuditEvent.objects.filter(event_type="llm.prompt_label_moved").count()
    move = url("prompttemplate_move_label", llm.template.pk)
    assert officer.post(move, {"label": "production", "version": 3}).status_code == 403
    outsider = staff_client("omar", "data_scientist", other_project)
    assert outsider.post(move, {"label": "production", "version": 3}).status_code == 302  # as if it did not exist
    assert AuditEvent.objects.filter(event_type="llm.prompt_label_moved").count() == events
    assert PromptLabel.objects.get(template=llm.template, name="production").version == llm.v1


def test_move_label_action_opens_the_form_for_one_prompt(llm):
    client = staff_client("dana", "data_scientist", llm.project)
    other = prompts.prompt_create(actor=SYSTEM, project=llm.project, name="other")
    changelist = url("prompttemplate_changelist")
    one = client.post(changelist, {"action": "move_label", "_selected_action": [llm.template.pk]})
    assert one.status_code == 302 and one["Location"] == url("prompttemplate_move_label", llm.template.pk)
    two = client.post(
        changelist, {"action": "move_label", "_selected_action": [llm.template.pk, other.pk]}, follow=True
    )
    assert "Select one prompt" in " ".join(messages_of(two))
    officer = staff_client("olga", "compliance_officer", llm.project)
    assert "move_label" not in officer.get(changelist).content.decode()


def test_a_data_scientist_adds_a_prompt_through_the_service(llm):
    client = staff_client("dana", "data_scientist", llm.project)
    response = client.post(url("prompttemplate_add"), {"project": llm.project.pk, "name": "triage"})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(event_type="llm.prompt_created", target_repr="triage").exists()
    again = client.post(url("prompttemplate_add"), {"project": llm.project.pk, "name": "triage"})
    assert again.status_code == 200 and "already exists" in again.content.decode()
