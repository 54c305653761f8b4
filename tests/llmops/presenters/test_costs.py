"""The cost dashboard on its fields: totals, the unpriced models (never at $0), the charts' series and the table."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from llmops.presenters.costs import cost_dashboard, default_range


@pytest.mark.sqlite  # as the admin's dashboard tests: day and tag grouping differ on SQLite
def test_dashboard_totals_unpriced_models_series_and_table(llm):
    scope = {llm.project.pk}
    assert default_range(scope) == (date(2026, 2, 10), date(2026, 2, 13))  # nothing in the last 30 days
    report = cost_dashboard(scope, date(2026, 2, 10), date(2026, 2, 13), "model")
    assert (report["calls"], report["unpriced"], report["days"]) == (5, 2, 4)
    assert (report["calls_display"], report["unpriced_display"]) == ("5", "2")
    assert report["cost"] == "$0.0108"  # 2 x 0.004125 + (400 x 3 + 90 x 15) per million
    assert report["cost_exact"].startswith("$0.0108")
    assert report["per_call"] == "$0.0036"
    (unpriced,) = report["unpriced_models"]
    assert {k: unpriced[k] for k in ("provider", "model", "calls", "all")} == {
        "provider": "openai",
        "model": "gpt-9-turbo",
        "calls": 2,
        "all": True,
    }
    assert unpriced["url"].endswith("?cost_status__exact=unpriced&model=gpt-9-turbo")
    day = report["day_chart"]
    assert day["days"] == [date(2026, 2, d) for d in (10, 11, 12, 13)]
    assert day["unpriced"] == [0, 0, 1, 1]
    series = {s["label"]: s for s in day["series"]}
    assert set(series) == {"gpt-4o", "claude-sonnet-4-5"}  # the unknown model has no series, not a zero one
    assert series["gpt-4o"]["calls"] == [1, 1, 0, 0] and series["gpt-4o"]["values"][0] == Decimal("0.004125")
    assert [bar["label"] for bar in report["model_chart"]] == ["gpt-4o", "claude-sonnet-4-5", "gpt-9-turbo"]
    assert report["model_chart"][-1]["unpriced"] == report["model_chart"][-1]["calls"] == 2
    rows = {row["label"]: row for row in report["rows"]}
    assert rows["gpt-9-turbo"]["calls"] == "2" and rows["gpt-9-turbo"]["all_unpriced"] is True
    assert rows["gpt-4o"]["all_unpriced"] is False and rows["gpt-4o"]["has_unpriced"] is False
    assert rows["gpt-4o"]["cost"] == "$0.0083" and rows["gpt-4o"]["input_cache_read"] == "3,000"
    totals = report["totals"]
    assert (totals["calls"], totals["unpriced"], totals["has_unpriced"], totals["all_unpriced"]) == (
        "5",
        "2",
        True,
        False,
    )
    assert totals["cost"] == report["cost"]
    assert (report["group_by"], report["group_label"]) == ("model", "model")


@pytest.mark.sqlite
def test_dashboard_groups_by_tag_over_one_day_and_is_empty_without_calls(llm):
    report = cost_dashboard({llm.project.pk}, date(2026, 2, 12), date(2026, 2, 12), "tag")
    assert (report["calls"], report["days"], report["group_label"]) == (2, 1, "tag")
    assert [row["label"] for row in report["rows"]] == ["beta"]
    empty = cost_dashboard({llm.project.pk}, date(2025, 1, 1), date(2025, 1, 2), "day")
    assert empty["calls"] == 0 and empty["day_chart"] is None and empty["model_chart"] is None
    assert empty["per_call"] == "-" and empty["unpriced_models"] == [] and empty["rows"] == []
    assert cost_dashboard(set(), date(2026, 2, 10), date(2026, 2, 13), "model")["calls"] == 0  # no project: nothing
