"""Fixtures of the governance admin tests: the demo with real drift and performance reports."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from governance.demo import demo_load
from governance.models import Decision
from governance.services import decisions_ingest
from governance.services.drift import drift_report_run
from governance.services.performance import performance_report_run
from registry import services
from registry.actors import Actor
from registry.models import ModelVersion
from registry.subjects import subject_key
from tests import factories as f

START = datetime(2000, 1, 1, tzinfo=UTC)
END = datetime(2100, 1, 1, tzinfo=UTC)
SHIFTED_AT = datetime(2030, 6, 1, tzinfo=UTC)


@pytest.fixture
def demo(db):
    """The demo (real arrests data) with a stable drift report, a drifted one (a shifted window logged through
    the service: age + 25, everyone unemployed, as in test_drift.py) and a weekly performance report."""
    demo_load()
    version = ModelVersion.objects.get(model__name="arrests-release", stage="production")
    key, _ = services.api_key_create(actor=Actor.system(), project=version.project, role="ingest", name="serving")
    rows = list(Decision.objects.filter(model_version=version).values_list("features", flat=True)[:600])
    decisions_ingest(
        actor=Actor.for_key(key),
        items=[
            {
                "model_version": version.pk,
                "request_id": f"shifted-{i}",
                "features": {**features, "age": features["age"] + 25, "employed": "No"},
                "prediction": "No",
                "occurred_at": SHIFTED_AT.isoformat(),
            }
            for i, features in enumerate(rows)
        ],
    )
    actor = Actor.system()
    stable = drift_report_run(actor=actor, model_version=version, window_start=START, window_end=SHIFTED_AT)
    drifted = drift_report_run(
        actor=actor, model_version=version, window_start=datetime(2030, 1, 1, tzinfo=UTC), window_end=END
    )
    performance = performance_report_run(
        actor=actor, model_version=version, window_start=START, window_end=END, positive_label="Yes"
    )
    return {"version": version, "stable": stable, "drifted": drifted, "performance": performance}


@pytest.fixture
def decision(chain):
    return f.DecisionFactory(
        model_version=chain.version,
        deployment=chain.deployment,
        request_id="loan-2026-0001",
        subject_key=subject_key("customer-42"),
        subject_key_id="k1",
        prediction="approve",
        score=0.87,
        outcome="repaid",
        outcome_at=datetime(2026, 5, 1, tzinfo=UTC),
        sensitive={"sex": "F"},
    )
