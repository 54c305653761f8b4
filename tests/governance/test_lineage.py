"""Lineage: from a decision back to its training data, and from data forward to decisions."""

from __future__ import annotations

import pytest

from tests import factories as f


@pytest.fixture
def analyst(make_client, project):
    return make_client("risk_analyst", project)


@pytest.fixture
def decided(chain):
    chain.decision = f.DecisionFactory(model_version=chain.version, deployment=chain.deployment)
    chain.loose = f.DecisionFactory(model_version=chain.version)  # logged without a deployment
    return chain


def ids(graph, kind=None):
    return {n["id"] for n in graph["nodes"] if kind is None or n["kind"] == kind}


def edges(graph):
    return {(e["source"], e["relation"], e["target"]) for e in graph["edges"]}


def test_lineage_of_a_decision_reaches_its_training_data(analyst, decided):
    c = decided
    graph = analyst.get(f"/api/v1/decisions/{c.decision.pk}/lineage/").json()
    assert ids(graph) == {
        f"decision:{c.decision.pk}",
        f"deployment:{c.deployment.pk}",
        f"model_version:{c.version.pk}",
        f"run:{c.run.pk}",
        f"data_version:{c.train.pk}",
        f"data_version:{c.raw.pk}",
    }
    assert edges(graph) == {
        (f"data_version:{c.raw.pk}", "derived_from", f"data_version:{c.train.pk}"),
        (f"data_version:{c.train.pk}", "input", f"run:{c.run.pk}"),
        (f"run:{c.run.pk}", "produced", f"model_version:{c.version.pk}"),
        (f"model_version:{c.version.pk}", "deployed", f"deployment:{c.deployment.pk}"),
        (f"deployment:{c.deployment.pk}", "decided", f"decision:{c.decision.pk}"),
        (f"model_version:{c.version.pk}", "made_by", f"decision:{c.decision.pk}"),
    }
    train = next(n for n in graph["nodes"] if n["id"] == f"data_version:{c.train.pk}")
    assert train["attrs"]["content_sha256"] == c.train.content_sha256
    input_edge = next(e for e in graph["edges"] if e["relation"] == "input")
    assert input_edge["attrs"] == {"role": "train"}
    assert graph["root"] == f"decision:{c.decision.pk}"


def test_downstream_of_raw_data_reaches_every_decision(analyst, decided):
    c = decided
    graph = analyst.get("/api/v1/lineage/", {"node": f"data_version:{c.raw.pk}", "direction": "downstream"}).json()
    assert ids(graph, "decision") == {f"decision:{c.decision.pk}", f"decision:{c.loose.pk}"}
    version = next(n for n in graph["nodes"] if n["kind"] == "model_version")
    assert version["attrs"]["decision_count"] == 2


def test_depth_limits_the_walk(analyst, decided):
    c = decided
    graph = analyst.get(
        "/api/v1/lineage/", {"node": f"model_version:{c.version.pk}", "direction": "upstream", "depth": 1}
    ).json()
    assert ids(graph) == {f"model_version:{c.version.pk}", f"run:{c.run.pk}"}
    both = analyst.get("/api/v1/lineage/", {"node": f"run:{c.run.pk}"}).json()
    assert f"data_version:{c.raw.pk}" in ids(both) and f"decision:{c.decision.pk}" in ids(both)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "node"),
        ({"node": "model_version"}, "node"),
        ({"node": "prompt:1"}, "node"),
        ({"node": "run:1", "direction": "sideways"}, "direction"),
        ({"node": "run:1", "depth": 0}, "depth"),
    ],
)
def test_bad_lineage_queries_name_the_parameter(analyst, decided, params, field):
    response = analyst.get("/api/v1/lineage/", params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_an_unknown_node_is_404(analyst, decided):
    assert analyst.get("/api/v1/lineage/", {"node": "run:999999"}).status_code == 404


def test_lineage_query_count_does_not_grow_with_the_graph(analyst, chain, django_assert_max_num_queries):
    for i in range(20):
        dv = f.DataVersionFactory(dataset=chain.raw.dataset, version=f"part-{i}")
        dv.parent_links.create(parent=chain.raw)
        chain.run.input_links.create(data_version=dv, role="validation")
    decision = f.DecisionFactory(model_version=chain.version, deployment=chain.deployment)
    # one query per kind and level (data versions: their parents and the pipeline runs that wrote them)
    with django_assert_max_num_queries(16):
        graph = analyst.get(f"/api/v1/decisions/{decision.pk}/lineage/").json()
    assert len(ids(graph, "data_version")) == 22
