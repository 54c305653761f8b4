"""The cost dashboard: the unpriced model listed (never at $0), the costs drawn, the range, project and grouping;
its charts escape model names."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from llmops import charts
from llmops.models import LLMCall
from tests.llmops.admin.pages import COSTS, NS, svgs


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
    assert rows["gpt-9-turbo"]["calls"] == "2" and rows["gpt-9-turbo"]["all_unpriced"]
    table = body[body.index('id="cost-table"') :]
    unknown = table[table.index("<td>gpt-9-turbo</td>") :].split("</tr>")[0]
    assert '<span class="badge badge-danger">unpriced</span> <span class="text-muted">(cost unknown)</span>' in unknown
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
