"""LLMOps in admin: every page renders for a superuser and for the role that uses it; prompt versions, calls,
prices, datasets and evaluation runs are read-only (superusers included); the diff page shows the changed
lines; the compare page shows wins and losses; the cost dashboard lists the unpriced model (never at $0); a
label moved here goes through the service and into the audit trail; budgets and prices are added through
their services by the right people; subject keys never reach a page; lists do not query per row."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from llmops import charts
from llmops.models import Budget, LLMCall, Price, PromptLabel, PromptVersion
from llmops.services import budgets, evaluation, prompts
from registry.models import AuditEvent
from registry.subjects import subject_key
from tests.helpers import staff_client
from tests.llmops.conftest import SYSTEM
from tests.llmops.test_calls import call, post
from tests.llmops.test_evaluation_api import EVALUATORS, ITEMS

NS = "{http://www.w3.org/2000/svg}"
A = "admin:llmops_"
COSTS = reverse("admin:llmops_llmcall_costs")
COMPARE = reverse("admin:llmops_evaluationrun_compare")
USAGE = {"prompt_tokens": 2000, "completion_tokens": 100, "prompt_tokens_details": {"cached_tokens": 1500}}
POLITE = "You answer bank customers briefly and politely."
CUSTOMER = "customer-4711"


def url(name: str, *args) -> str:
    return reverse(A + name, args=args)


def page(obj, name: str = "change") -> str:
    return reverse(f"{A}{obj._meta.model_name}_{name}", args=[obj.pk])


def svgs(body: str, css_class: str) -> list[ET.Element]:
    return [ET.fromstring(svg) for svg in re.findall(rf'<svg [^>]*class="{css_class}".*?</svg>', body, re.DOTALL)]


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def llm(project, prompt, prices, ingest):
    """A prompt with three versions (v2 changes the system line, v3 is a text prompt), calls of two priced
    models and one unknown model (with cached tokens, documents, a subject and tags), a budget, a dataset and
    two runs of it (v1 and v3)."""
    template, v1 = prompt
    v2 = prompts.prompt_version_create(
        actor=SYSTEM,
        template=template,
        kind="chat",
        messages=[
            {"role": "system", "content": POLITE},
            {"role": "user", "content": "Context: {{context}}\nQuestion: {{question}}"},
        ],
        variables=["context", "question"],
        model="gpt-4o",
        parameters={"temperature": 0.2},
        commit_message="be polite",
        labels=["staging"],
    )
    v3 = prompts.prompt_version_create(
        actor=SYSTEM,
        template=template,
        kind="text",
        text="Answer the question: {{question}} (ignore: {{context}})",
        variables=["question", "context"],
        model="gpt-4o",
        commit_message="plain text",
    )
    documents = [
        {"document_id": "kb/fees.md#3", "source": "kb", "chunk_text": "A late payment costs 25 euros.", "rank": 1},
        {"document_id": "kb/cards.md#1", "source": "kb", "chunk_text": "Cards can be blocked.", "rank": 2},
    ]
    response = post(
        ingest,
        [
            call("c1", usage=USAGE, prompt_version=v1.pk, tags=["support"], retrieved_documents=documents),
            call("c2", usage=USAGE, occurred_at="2026-02-11T09:00:00Z", subject_id=CUSTOMER),
            call(
                "c3",
                provider="anthropic",
                model="claude-sonnet-4-5",
                usage={"input_tokens": 400, "output_tokens": 90},
                occurred_at="2026-02-12T09:00:00Z",
            ),
            call("c4", model="gpt-9-turbo", occurred_at="2026-02-12T10:00:00Z", tags=["beta"]),
            call("c5", model="gpt-9-turbo", occurred_at="2026-02-13T10:00:00Z", status="error", error="timeout"),
        ],
    )
    assert response.status_code == 200, response.content
    budget = budgets.budget_create(actor=SYSTEM, project=project, name="support monthly", limit="0.01")
    dataset = evaluation.evaluation_dataset_create(actor=SYSTEM, project=project, name="fees", items=ITEMS)
    run1 = evaluation.evaluation_run(actor=SYSTEM, version=v1, dataset=dataset, evaluators=EVALUATORS)
    run3 = evaluation.evaluation_run(actor=SYSTEM, version=v3, dataset=dataset, evaluators=EVALUATORS)
    return SimpleNamespace(
        project=project,
        template=template,
        v1=v1,
        v2=v2,
        v3=v3,
        calls={c.client_call_id: c for c in LLMCall.objects.all()},
        budget=budget,
        dataset=dataset,
        run1=run1,
        run3=run3,
        price=prices[0],
    )


def pages(llm) -> list[str]:
    return [
        reverse("admin:app_list", args=["llmops"]),
        url("prompttemplate_changelist"),
        page(llm.template),
        url("prompttemplate_diff", llm.template.pk) + "?a=1&b=2",
        url("promptversion_changelist"),
        page(llm.v1),
        page(llm.v3),
        url("llmcall_changelist"),
        url("llmcall_changelist") + "?model=gpt-9-turbo&cost_status__exact=unpriced",
        url("llmcall_changelist")
        + f"?prompt_version__template__id__exact={llm.template.pk}&prompt_version={llm.v1.pk}",
        page(llm.calls["c1"]),
        page(llm.calls["c4"]),
        COSTS,
        COSTS + "?start=2026-02-01&end=2026-02-28&group_by=tag",
        COSTS + "?group_by=prompt_version",
        COSTS + "?group_by=day",
        url("price_changelist"),
        page(llm.price),
        url("budget_changelist"),
        page(llm.budget),
        url("evaluationrun_changelist"),
        page(llm.run1),
        COMPARE,
        COMPARE + f"?a={llm.run1.pk}&b={llm.run3.pk}",
        url("evaluationdataset_changelist"),
        page(llm.dataset),
    ]


# Every page, for the people who use them ---------------------------------------------------------------


@pytest.mark.sqlite  # `make run` serves admin from SQLite: the dashboard's day and tag grouping differ there
def test_every_page_renders_for_a_superuser(admin_client, llm):
    for address in pages(llm):
        response = admin_client.get(address)
        assert response.status_code == 200, address
    for name in ("prompttemplate_add", "price_add", "budget_add"):
        assert admin_client.get(url(name)).status_code == 200, name
    assert admin_client.get(url("prompttemplate_move_label", llm.template.pk)).status_code == 200
    index = admin_client.get(reverse("admin:app_list", args=["llmops"])).content.decode()
    assert COSTS in index  # the dashboard is linked from the app index
    assert COSTS in admin_client.get(url("llmcall_changelist")).content.decode()


@pytest.mark.parametrize("role", ["data_scientist", "compliance_officer", "risk_analyst"])
def test_every_page_renders_for_each_human_role(llm, role):
    client = staff_client("pat", role, llm.project)
    for address in pages(llm):
        response = client.get(address)
        assert response.status_code == 200, address
    move = client.get(url("prompttemplate_move_label", llm.template.pk)).status_code
    budget_add = client.get(url("budget_add")).status_code
    assert move == (200 if role == "data_scientist" else 403)
    assert budget_add == (200 if role == "compliance_officer" else 403)
    assert client.get(url("price_add")).status_code == 403  # the shared catalog: superusers only
    template_page = client.get(page(llm.template)).content.decode()
    assert ("move-label-link" in template_page) == (role == "data_scientist")


def test_read_only_records_refuse_add_change_and_delete_even_for_a_superuser(admin_client, llm):
    for obj in (llm.v1, llm.calls["c1"], llm.run1, llm.dataset, llm.price, llm.budget):
        name = obj._meta.model_name
        if name not in ("price", "budget"):  # those two are added through their service
            assert admin_client.get(url(f"{name}_add")).status_code == 403, name
        assert admin_client.post(page(obj), {"model": "changed", "name": "changed"}).status_code == 403, name
        assert admin_client.post(page(obj, "delete"), {"post": "yes"}).status_code == 403, name
        body = admin_client.get(page(obj)).content.decode()
        assert 'name="_save"' not in body, name
    assert "delete_selected" not in admin_client.get(url("llmcall_changelist")).content.decode()
    assert PromptVersion.objects.filter(pk=llm.v1.pk, model="gpt-4o").exists()
    assert Price.objects.filter(pk=llm.price.pk, model="gpt-4o").exists()


# Prompts: versions, diff, label moves --------------------------------------------------------------------


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


# Calls ---------------------------------------------------------------------------------------------------


def test_call_list_and_page_show_tokens_cost_and_the_unpriced(admin_client, llm):
    body = admin_client.get(url("llmcall_changelist")).content.decode()
    assert "2,000" in body and "1,500 cached" in body  # tokens in, with the cached share
    assert "unpriced" in body and "$0.0041" in body  # 500 x 2.50 + 1500 x 1.25 + 100 x 10.00 per million
    assert "support" in body
    detail = admin_client.get(page(llm.calls["c1"])).content.decode()
    for text in ("input read from the cache", "1,500", "$1.25", "$0.004125", "kb/fees.md#3", "What is the fee"):
        assert text in detail
    assert "The late payment fee is 25 euros." in detail
    unpriced = admin_client.get(page(llm.calls["c4"])).content.decode()
    assert "the cost is unknown, not zero" in unpriced
    errored = admin_client.get(url("llmcall_changelist"), {"status__exact": "error"})
    assert list(errored.context["cl"].result_list) == [llm.calls["c5"]]


def test_subject_keys_never_reach_a_page(admin_client, llm):
    key = subject_key(CUSTOMER)
    for address in (url("llmcall_changelist"), page(llm.calls["c2"]), COSTS + "?group_by=model"):
        body = admin_client.get(address).content.decode()
        assert key not in body and key[:16] not in body and CUSTOMER not in body
    assert "Linked to a subject" in admin_client.get(page(llm.calls["c2"])).content.decode()


def test_an_erased_call_says_so_instead_of_its_text(admin_client, llm):
    LLMCall.objects.filter(pk=llm.calls["c2"].pk).update(
        input=None, output="", subject_key=None, erased_at=datetime(2026, 3, 1, tzinfo=UTC)
    )
    body = admin_client.get(page(llm.calls["c2"])).content.decode()
    assert "redacted on 2026-03-01" in body and "What is the fee" not in body
    erased = admin_client.get(url("llmcall_changelist"), {"erased": "yes"})
    assert list(erased.context["cl"].result_list) == [llm.calls["c2"]]
    assert ">erased</span>" in erased.content.decode()  # the badge beside the status


def test_calls_of_other_projects_are_hidden(llm, other_project, make_client):
    theirs = make_client("ingest", other_project)
    post(theirs, [call("x1", model="secret-model", occurred_at="2026-02-12T10:00:00Z")])
    client = staff_client("pat", "risk_analyst", llm.project)
    body = client.get(url("llmcall_changelist")).content.decode()
    assert "secret-model" not in body and "globex" not in body
    assert "secret-model" not in client.get(COSTS).content.decode()
    hidden = LLMCall.objects.get(client_call_id="x1")
    assert client.get(page(hidden)).status_code == 302


# The cost dashboard ---------------------------------------------------------------------------------------


@pytest.mark.sqlite
def test_cost_dashboard_lists_the_unpriced_model_and_draws_the_costs(admin_client, llm):
    response = admin_client.get(COSTS)
    body = response.content.decode()
    # nothing was called in the last 30 days: the range is the data's
    assert (response.context["start"].isoformat(), response.context["end"].isoformat()) == ("2026-02-10", "2026-02-13")
    warning = body[body.index('id="unpriced-models"') :]
    assert "2 calls without a price" in warning and "gpt-9-turbo" in warning.split("</div>")[0]
    (day,) = svgs(body, "cost-day-chart")
    days = [r.get("data-day") for r in day.iter(f"{NS}rect") if r.get("class") == "day"]
    assert days == ["2026-02-10", "2026-02-11", "2026-02-12", "2026-02-13"]
    unpriced = [g.get("data-day") for g in day.iter(f"{NS}g") if g.get("class") == "unpriced"]
    assert unpriced == ["2026-02-12", "2026-02-13"]
    (models,) = svgs(body, "cost-model-chart")
    bars = [r.get("data-model") for r in models.iter(f"{NS}rect") if r.get("class") == "bar"]
    assert bars == ["gpt-4o", "claude-sonnet-4-5"]  # the unknown model has no bar, not a zero bar
    assert [r for r in models.iter(f"{NS}rect") if r.get("class") == "unpriced-band"]
    rows = {row["label"]: row for row in response.context["report"]["rows"]}
    assert rows["gpt-9-turbo"]["calls"] == "2" and "cost unknown" in rows["gpt-9-turbo"]["cost_html"]
    assert response.context["report"]["cost"] == "$0.0108"  # 2 x 0.004125 + (400 x 3 + 90 x 15) per million


@pytest.mark.sqlite
def test_cost_dashboard_range_project_and_grouping(admin_client, llm):
    response = admin_client.get(
        COSTS, {"project": "acme", "start": "2026-02-12", "end": "2026-02-12", "group_by": "tag"}
    )
    report = response.context["report"]
    assert report["calls"] == 2 and report["days"] == 1
    assert [row["label"] for row in report["rows"]] == ["beta"]
    bad = admin_client.get(COSTS, {"start": "2026-02-12", "end": "2026-02-01"})
    assert bad.status_code == 200 and bad.context["form"].errors["end"]
    recent = timezone.now() - timedelta(days=2)
    LLMCall.objects.filter(pk=llm.calls["c1"].pk).update(occurred_at=recent)
    latest = admin_client.get(COSTS)
    assert latest.context["end"] == timezone.now().astimezone(UTC).date()  # calls in the last 30 days: those days


def test_cost_charts_escape_model_names():
    day = datetime(2026, 2, 1, tzinfo=UTC).date()
    series = [{"label": '<script>"x"</script>', "colour": "#000", "values": [1], "calls": [1]}]
    svg = charts.cost_by_day_svg([day], series, [3])
    assert "<script>" not in svg and ET.fromstring(svg) is not None
    rows = [{"label": "<b>m</b>", "colour": "#000", "cost": 0, "calls": 2, "unpriced": 2}]
    svg = charts.cost_by_model_svg(rows)
    assert "<b>" not in svg and ET.fromstring(svg) is not None
    svg = charts.comparison_svg(
        {"<i>e</i>": {"wins": 1, "losses": 0, "ties": 1, "mean_a": 0.5, "mean_b": 1.0, "mean_delta": 0.5}},
        label_a="<a>",
        label_b="b&c",
    )
    assert "<i>" not in svg and ET.fromstring(svg) is not None


# Prices and budgets ---------------------------------------------------------------------------------------


def test_a_superuser_adds_a_price_through_prices_import(admin_client, llm):
    data = {
        "provider": "openai",
        "model": "gpt-9-turbo",
        "model_pattern": "",
        "effective_from_0": "2026-01-01",
        "effective_from_1": "00:00:00",
        "input_uncached": "1.00",
        "output": "4.00",
        "source": "https://openai.com/api/pricing/",
    }
    response = admin_client.post(url("price_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Price.objects.filter(model="gpt-9-turbo", output="4").exists()
    assert AuditEvent.objects.filter(event_type="llm.prices_imported", actor_name="user:root").exists()
    both = admin_client.post(url("price_add"), {**data, "model_pattern": "gpt-9-*"})
    assert both.status_code == 200 and "exactly one" in both.content.decode()


def test_budgets_show_their_state_and_officers_set_them_through_the_service(llm, ingest):
    now = timezone.now().astimezone(UTC).isoformat()
    post(ingest, [call(f"now{i}", usage=USAGE, occurred_at=now) for i in range(4)])  # 4 x $0.0033 (March prices)
    officer = staff_client("olga", "compliance_officer", llm.project)
    response = officer.get(url("budget_changelist"))
    body = response.content.decode()
    assert "exceeded" in body and "132%" in body and "$0.0132</span> / $0.01" in body
    detail = officer.get(page(llm.budget)).content.decode()
    assert "Alerts raised" in detail and "100% of the limit" in detail and "50% of the limit" in detail
    response = officer.post(
        url("budget_add"),
        {
            "project": llm.project.pk,
            "name": "gpt-4o daily",
            "scope": "model",
            "scope_value": "gpt-4o",
            "period": "daily",
            "limit": "5",
            "thresholds": "0.5, 0.9, 1",
        },
    )
    assert response.status_code == 302
    budget = Budget.objects.get(name="gpt-4o daily")
    assert budget.thresholds == [0.5, 0.9, 1.0]
    assert AuditEvent.objects.filter(event_type="llm.budget_set", actor_name="user:olga").exists()
    refused = officer.post(
        url("budget_add"),
        {"project": llm.project.pk, "name": "x", "scope": "tag", "period": "daily", "limit": "5", "thresholds": "0.5"},
    )
    assert refused.status_code == 200 and "name the tag" in refused.content.decode()


# Evaluation ----------------------------------------------------------------------------------------------


def test_run_page_shows_results_item_by_item_and_links_the_comparison(admin_client, llm):
    body = admin_client.get(page(llm.run1)).content.decode()
    assert "How much is the late payment fee?" in body and "A late payment costs 25 euros." in body
    assert f"?a={llm.run1.pk}&amp;b={llm.run3.pk}" in body  # compare with the other run over the dataset
    changelist = admin_client.get(url("evaluationrun_changelist")).content.decode()
    assert "exact 100%" in changelist and "exact 0%" in changelist


def test_compare_page_shows_wins_losses_and_both_outputs(admin_client, llm):
    response = admin_client.get(COMPARE, {"a": llm.run1.pk, "b": llm.run3.pk})
    comparison = response.context["comparison"]
    exact = next(row for row in comparison["evaluators"] if row["name"] == "exact")
    assert (exact["wins"], exact["ties"], exact["losses"], exact["delta"]) == (0, 0, 2, "-1.000")
    assert [row["cells"][0]["outcome"] for row in comparison["rows"]] == ["loss", "loss"]
    body = response.content.decode()
    assert "B worse" in body and "A late payment costs 25 euros." in body
    (chart,) = svgs(body, "comparison-chart")
    losses = [r for r in chart.iter(f"{NS}rect") if r.get("class") == "losses"]
    assert losses  # exact, at least, is worse for B
    assert comparison["version_diff_url"] == url("prompttemplate_diff", llm.template.pk) + "?a=1&b=3"


def test_compare_action_needs_two_runs_of_one_dataset(admin_client, llm):
    changelist = url("evaluationrun_changelist")
    both = admin_client.post(changelist, {"action": "compare_runs", "_selected_action": [llm.run1.pk, llm.run3.pk]})
    assert both.status_code == 302 and both["Location"] == COMPARE + f"?a={llm.run1.pk}&b={llm.run3.pk}"
    one = admin_client.post(changelist, {"action": "compare_runs", "_selected_action": [llm.run1.pk]}, follow=True)
    assert "exactly two runs" in " ".join(messages_of(one))
    other = evaluation.evaluation_dataset_create(actor=SYSTEM, project=llm.project, name="other", items=ITEMS)
    run = evaluation.evaluation_run(actor=SYSTEM, version=llm.v1, dataset=other, evaluators=EVALUATORS)
    mixed = admin_client.post(
        changelist, {"action": "compare_runs", "_selected_action": [llm.run1.pk, run.pk]}, follow=True
    )
    assert "same dataset" in " ".join(messages_of(mixed))
    form = admin_client.get(COMPARE, {"a": llm.run1.pk, "b": run.pk}).context["form"]
    assert "same dataset" in str(form.errors["b"])


# Query counts --------------------------------------------------------------------------------------------


def _more_calls(ingest, prefix: str, n: int) -> None:
    post(
        ingest,
        [call(f"{prefix}-{i}", usage=USAGE, tags=["bulk"], occurred_at="2026-02-14T10:00:00Z") for i in range(n)],
    )


def test_lists_do_not_query_per_row(admin_client, llm, ingest, django_assert_max_num_queries):
    lists = [url(name) for name in ("llmcall_changelist", "prompttemplate_changelist", "promptversion_changelist")]
    lists += [url("evaluationrun_changelist"), url("evaluationdataset_changelist"), url("price_changelist")]
    counts = {}
    for address in lists:
        with django_assert_max_num_queries(20) as few:
            assert admin_client.get(address).status_code == 200
        counts[address] = len(few.captured_queries)
    _more_calls(ingest, "more", 60)
    for i in range(8):
        template = prompts.prompt_create(actor=SYSTEM, project=llm.project, name=f"p{i}")
        prompts.prompt_version_create(actor=SYSTEM, template=template, kind="text", text="Hi", labels=["production"])
        evaluation.evaluation_run(actor=SYSTEM, version=llm.v2, dataset=llm.dataset, evaluators=EVALUATORS)
        evaluation.evaluation_dataset_create(actor=SYSTEM, project=llm.project, name=f"d{i}", items=ITEMS)
    for address in lists:
        with django_assert_max_num_queries(counts[address]):
            assert admin_client.get(address).status_code == 200


def test_pages_do_not_query_per_item(admin_client, llm, ingest, django_assert_max_num_queries):
    """The compare page and the dashboard ask the same number of queries for 2 items or 8, 5 calls or 45."""
    items = ITEMS * 4
    dataset = evaluation.evaluation_dataset_create(actor=SYSTEM, project=llm.project, name="eight", items=items)
    big = [
        evaluation.evaluation_run(actor=SYSTEM, version=v, dataset=dataset, evaluators=EVALUATORS)
        for v in (llm.v1, llm.v3)
    ]
    with django_assert_max_num_queries(40) as captured:
        assert admin_client.get(COMPARE, {"a": llm.run1.pk, "b": llm.run3.pk}).status_code == 200
    compare_queries = len(captured.captured_queries)
    with django_assert_max_num_queries(30) as captured:
        assert admin_client.get(COSTS).status_code == 200
    dashboard_queries = len(captured.captured_queries)
    with django_assert_max_num_queries(compare_queries):
        response = admin_client.get(COMPARE, {"a": big[0].pk, "b": big[1].pk})
    assert response.context["comparison"]["item_count"] == 8
    _more_calls(ingest, "page", 40)
    with django_assert_max_num_queries(dashboard_queries):
        assert admin_client.get(COSTS).status_code == 200
