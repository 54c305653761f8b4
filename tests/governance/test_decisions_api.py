"""Reading the decision log: filters, cursor pages, CSV export, a subject's decisions."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from registry.subjects import subject_key
from tests import factories as f


@pytest.fixture
def analyst(make_client, project):
    return make_client("risk_analyst", project)


@pytest.fixture
def logged(chain):
    start = datetime(2026, 3, 1, tzinfo=UTC)
    v2 = f.ModelVersionFactory(model=chain.model, run=chain.run, version=2)
    for i in range(30):
        f.DecisionFactory(
            model_version=chain.version if i < 20 else v2,
            deployment=chain.deployment if i < 10 else None,
            request_id=f"r{i}",
            subject_key=subject_key(f"person-{i % 5}"),
            occurred_at=start + timedelta(days=i),
            features={"age": i},
            sensitive={"sex": "F"},
            outcome="Yes" if i % 3 == 0 else None,
        )
    chain.v2 = v2
    return chain


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_filters(analyst, logged):
    c = logged
    assert len(results(analyst.get("/api/v1/decisions/", {"model_version": c.version.pk}))) == 20
    assert len(results(analyst.get("/api/v1/decisions/", {"deployment": c.deployment.pk}))) == 10
    window = {"occurred_after": "2026-03-05T00:00:00Z", "occurred_before": "2026-03-08T00:00:00Z"}
    assert sorted(d["request_id"] for d in results(analyst.get("/api/v1/decisions/", window))) == ["r4", "r5", "r6"]
    mine = results(analyst.get("/api/v1/decisions/", {"subject_id": "person-2"}))
    assert sorted(d["request_id"] for d in mine) == ["r12", "r17", "r2", "r22", "r27", "r7"]
    assert all(d["has_subject"] for d in mine)
    assert "subject_key" not in mine[0]
    assert len(results(analyst.get("/api/v1/decisions/", {"has_outcome": "true"}))) == 10
    bad = analyst.get("/api/v1/decisions/", {"occurred_after": "soon"})
    assert bad.status_code == 400 and "occurred_after" in bad.json()["error"]["fields"]


def test_cursor_pagination_walks_every_decision_once(analyst, logged):
    seen, url, pages = [], "/api/v1/decisions/?page_size=7", 0
    while url:
        body = analyst.get(url).json()
        seen += [d["id"] for d in body["results"]]
        url, pages = body["next"], pages + 1
    assert pages == 5
    assert len(seen) == len(set(seen)) == 30
    assert seen == sorted(seen, reverse=True)


def test_csv_export(analyst, logged):
    response = analyst.get("/api/v1/decisions/", {"format": "csv", "model_version": logged.v2.pk})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["request_id"] for r in rows] == [f"r{i}" for i in range(20, 30)]
    assert rows[0]["features"] == '{"age": 20}'
    assert rows[0]["prediction"] == "Yes"
    assert rows[0]["has_subject"] == "True"
    assert all(subject_key("person-0") not in value for row in rows for value in row.values())


def test_detail(analyst, logged):
    decision = logged.version.decisions.first()
    body = analyst.get(f"/api/v1/decisions/{decision.pk}/").json()
    assert body["request_id"] == decision.request_id
    assert body["model_version"] == logged.version.pk


def test_decisions_list_query_count_is_flat(analyst, logged, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        assert len(results(analyst.get("/api/v1/decisions/"))) == 30
