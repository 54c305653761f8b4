"""Fairness audits on the real arrests data (scikit-lego): every figure equals fairlearn's MetricFrame
run directly on the same rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
)
from sklearn.model_selection import train_test_split
from sklego.datasets import load_arrests

from governance import demo
from governance.models import FairnessAudit
from governance.statistics.fairness import METRICS
from registry.audit import audit_chain_verify
from tests.helpers import followed

TOLERANCE = 1e-12


@pytest.fixture(scope="module")
def scored():
    """A real classifier's predictions on the arrests test split."""
    raw = load_arrests(as_frame=True)
    raw["arrest_id"] = [f"arrest-{i:05d}" for i in range(len(raw))]
    train, test = train_test_split(raw, test_size=0.3, stratify=raw["released"], random_state=7)
    model = demo._fit(train)
    test = test.copy()
    test["prediction"] = np.where(model.predict(test[list(demo.FEATURES)]), "Yes", "No")
    test["score"] = model.predict_proba(test[list(demo.FEATURES)])[:, 1]
    return test.reset_index(drop=True)


@pytest.fixture
def logged(scored, chain, make_client):
    """The predictions logged through the API, outcomes attached; March for all, April for a one-group slice."""
    ingest = make_client("ingest", chain.project)
    decisions = [
        {
            "model_version": chain.version.pk,
            "request_id": row.arrest_id.replace("arrest", "req"),  # a request id may not hold the subject id
            "subject_id": row.arrest_id,
            "features": {name: getattr(row, name) for name in ("employed", "citizen", "checks")},
            "sensitive": {"colour": row.colour, "sex": row.sex},
            "prediction": row.prediction,
            "score": float(row.score),
            "occurred_at": f"2026-03-{1 + i % 28:02d}T12:00:00Z",
        }
        for i, row in enumerate(scored.itertuples())
    ]
    for item in decisions:
        item["features"]["checks"] = int(item["features"]["checks"])
    assert ingest.post("/api/v1/decisions/bulk/", {"decisions": decisions}, format="json").status_code == 200
    outcomes = [
        {
            "model_version": chain.version.pk,
            "request_id": row.arrest_id.replace("arrest", "req"),
            "outcome": row.released,
        }
        for row in scored.itertuples()
    ]
    response = ingest.post("/api/v1/decisions/outcomes/", {"outcomes": outcomes}, format="json")
    assert response.json()["updated"] == len(scored)
    return chain


@pytest.fixture
def officer(make_client, chain):
    return make_client("compliance_officer", chain.project)


def audit(client, version, features, **extra):
    """The audit made (its job followed), or the refusal."""
    return followed(
        client,
        client.post(
            "/api/v1/fairness-audits/",
            {"model_version": version.pk, "sensitive_features": features, "positive_label": "Yes", **extra},
            format="json",
        ),
    )


def reference(scored: pd.DataFrame, features: list[str]) -> MetricFrame:
    return MetricFrame(
        metrics=METRICS,
        y_true=(scored["released"] == "Yes").astype(int).to_numpy(),
        y_pred=(scored["prediction"] == "Yes").astype(int).to_numpy(),
        sensitive_features=scored[features],
    )


@pytest.mark.parametrize("features", [["colour"], ["sex"], ["colour", "sex"]], ids=["colour", "sex", "intersection"])
def test_every_figure_equals_metricframe_on_the_rows(scored, logged, officer, features):
    response = audit(officer, logged.version, features)
    assert response.status_code == 200, response.json()
    body = response.json()
    expected = reference(scored, features)
    assert body["row_count"] == len(scored)
    for name in METRICS:
        assert abs(body["overall"][name] - expected.overall[name]) < TOLERANCE, name
    groups = body["by_group"] + body["small_groups"]
    assert len(groups) == len(expected.by_group)
    for group in groups:
        key = tuple(group["group"][a] for a in features)
        row = expected.by_group.loc[key if len(key) > 1 else key[0]]
        for name in METRICS:
            assert abs(group[name] - row[name]) < TOLERANCE, (key, name)
        in_group = np.logical_and.reduce([scored[a] == v for a, v in zip(features, key, strict=True)])
        assert group["count"] == int(in_group.sum())
        for name, (low, high) in group["intervals"].items():
            assert low <= group[name] + TOLERANCE and group[name] - TOLERANCE <= high, (key, name)
    # disparities compare the groups of at least the policy's minimum size
    compared = {tuple(g["group"][a] for a in features) for g in body["by_group"]}
    rows = scored[[tuple(r) in compared for r in scored[features].itertuples(index=False, name=None)]]
    y_true = (rows["released"] == "Yes").astype(int)
    y_pred = (rows["prediction"] == "Yes").astype(int)
    for name, function in (
        ("demographic_parity_difference", demographic_parity_difference),
        ("demographic_parity_ratio", demographic_parity_ratio),
        ("equalized_odds_difference", equalized_odds_difference),
    ):
        value = function(y_true, y_pred, sensitive_features=rows[features])
        assert abs(body["disparities"][name] - value) < TOLERANCE, name
    assert body["passed"] == (
        body["disparities"]["demographic_parity_ratio"] >= 0.8
        and body["disparities"]["equalized_odds_difference"] <= 0.1
    )
    assert {c["check"] for c in body["failed_checks"]} <= {"demographic_parity_ratio", "equalized_odds_difference"}
    assert body["policy"]["min_group_size"] == 30
    stored = FairnessAudit.objects.get(pk=body["id"])
    assert stored.passed == body["passed"]
    assert audit_chain_verify().ok


def test_the_demo_model_fails_the_four_fifths_rule_by_colour(logged, officer):
    body = audit(officer, logged.version, ["colour"]).json()
    assert body["passed"] is False
    assert body["failed_checks"][0]["check"] == "demographic_parity_ratio"
    assert "below 0.8" in body["failed_checks"][0]["message"]


def test_small_groups_are_listed_apart(scored, logged, officer):
    officer.patch("/api/v1/policies/acme/", {"min_group_size": 200}, format="json")
    body = audit(officer, logged.version, ["colour", "sex"]).json()
    counts = {tuple(g["group"].values()): g["count"] for g in body["small_groups"]}
    assert counts and all(n < 200 for n in counts.values())
    assert all(g["count"] >= 200 for g in body["by_group"])
    assert body["disparities"]["groups_compared"] == len(body["by_group"])


def test_empty_and_one_group_windows_are_400s(scored, logged, officer, make_client):
    empty = audit(officer, logged.version, ["colour"], window_start="2027-01-01T00:00:00Z")
    assert empty.status_code == 400
    assert "no decisions with outcomes" in empty.json()["error"]["fields"]["window_start"][0]
    ingest = make_client("ingest", logged.project)
    white = scored[scored["colour"] == "White"].head(40)
    ingest.post(
        "/api/v1/decisions/bulk/",
        {
            "decisions": [
                {
                    "model_version": logged.version.pk,
                    "request_id": f"april-{i}",
                    "features": {},
                    "sensitive": {"colour": "White", "sex": "Male"},
                    "prediction": p,
                    "occurred_at": "2026-04-02T00:00:00Z",
                }
                for i, p in enumerate(white["prediction"])
            ]
        },
        format="json",
    )
    ingest.post(
        "/api/v1/decisions/outcomes/",
        {
            "outcomes": [
                {"model_version": logged.version.pk, "request_id": f"april-{i}", "outcome": "Yes"}
                for i in range(len(white))
            ]
        },
        format="json",
    )
    one = audit(officer, logged.version, ["colour"], window_start="2026-04-01T00:00:00Z")
    assert one.status_code == 202  # the input is right: what the window's groups hold, the audit's job finds
    assert (one.json()["state"], one.json()["error"]["code"]) == ("failed", "invalid")
    assert one.json()["error"]["fields"]["sensitive_features"] == [
        "the decisions form one group only (colour=White): nothing to compare"
    ]
    unknown = audit(officer, logged.version, ["religion"])
    assert unknown.status_code == 400
    bad = officer.post("/api/v1/fairness-audits/", {"model_version": logged.version.pk}, format="json")
    assert set(bad.json()["error"]["fields"]) == {"sensitive_features", "positive_label"}
    assert FairnessAudit.objects.count() == 0


def test_who_may_audit(logged, make_client, other_project):
    for role, expected in (("risk_analyst", 200), ("data_scientist", 403), ("ingest", 403)):
        assert audit(make_client(role, logged.project), logged.version, ["sex"]).status_code == expected, role
    foreign = make_client("compliance_officer", other_project)
    response = audit(foreign, logged.version, ["sex"])
    assert response.status_code == 400 and "model_version" in response.json()["error"]["fields"]


def test_policy_changes_are_audited_and_validated(chain, officer, make_client):
    assert officer.get("/api/v1/policies/acme/").json()["min_demographic_parity_ratio"] == 0.8
    assert (
        officer.patch("/api/v1/policies/acme/", {"min_demographic_parity_ratio": 1.5}, format="json").status_code == 400
    )
    assert officer.patch("/api/v1/policies/acme/", {"max_psi": 0.25}, format="json").json()["max_psi"] == 0.25
    assert (
        make_client("data_scientist", chain.project)
        .patch("/api/v1/policies/acme/", {"max_psi": 0.3}, format="json")
        .status_code
        == 403
    )
    from registry.models import AuditEvent

    event = AuditEvent.objects.get(event_type="policy.changed")
    assert (event.before["max_psi"], event.after["max_psi"]) == (0.2, 0.25)


@pytest.mark.sqlite
def test_the_counts_path_works_on_sqlite_too(chain, make_client):
    ingest = make_client("ingest", chain.project)
    rng = np.random.default_rng(1)
    items = [
        {
            "model_version": chain.version.pk,
            "request_id": f"r{i}",
            "features": {},
            "sensitive": {"group": "a" if i % 2 else "b"},
            "prediction": int(rng.integers(0, 2)),
            "occurred_at": "2026-03-01T00:00:00Z",
        }
        for i in range(200)
    ]
    unattributed = [  # decisions lacking the attribute are left out, and counted
        {
            "model_version": chain.version.pk,
            "request_id": f"none-{i}",
            "features": {},
            "prediction": 1,
            "occurred_at": "2026-03-01T00:00:00Z",
        }
        for i in range(5)
    ]
    ingest.post("/api/v1/decisions/bulk/", {"decisions": items + unattributed}, format="json")
    outcomes = [
        {"model_version": chain.version.pk, "request_id": f"r{i}", "outcome": int(rng.integers(0, 2))}
        for i in range(200)
    ]
    extra = [{"model_version": chain.version.pk, "request_id": f"none-{i}", "outcome": 1} for i in range(5)]
    ingest.post("/api/v1/decisions/outcomes/", {"outcomes": outcomes + extra}, format="json")
    officer = make_client("compliance_officer", chain.project)
    response = followed(
        officer,
        officer.post(
            "/api/v1/fairness-audits/",
            {"model_version": chain.version.pk, "sensitive_features": ["group"], "positive_label": 1},
            format="json",
        ),
    )
    assert response.status_code == 200, response.json()
    assert response.json()["row_count"] == 200
    assert response.json()["bootstrap"]["excluded_rows"] == 5
    y_true = np.array([o["outcome"] for o in outcomes])
    y_pred = np.array([i["prediction"] for i in items])
    groups = pd.Series([i["sensitive"]["group"] for i in items], name="group")
    expected = MetricFrame(metrics=METRICS, y_true=y_true, y_pred=y_pred, sensitive_features=groups)
    for group in response.json()["by_group"]:
        for name in METRICS:
            assert abs(group[name] - expected.by_group.loc[group["group"]["group"], name]) < TOLERANCE
