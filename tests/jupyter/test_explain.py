"""The client's explanation helper (issue 16 item 3): SHAP values computed by `shap` for the demo's production
model (fairlearn's ExponentiatedGradient over scikit-learn pipelines) explain its logged score exactly (base value
plus attributions), cite the reason codes of the features that held the decision back, and round-trip through the
decision ingest unchanged."""

from __future__ import annotations

from urllib.parse import urlparse
from urllib.request import url2pathname

import joblib
import pandas as pd
import pytest
from governance_jupyter.explain import attach_explanations, model_score, shap_explanations

from governance.demo import DEMO_PROJECT, FEATURES, demo_load
from governance.models import Decision, Policy
from registry.models import ModelVersion, Project, Stage

pytestmark = pytest.mark.django_db

CODES = {"checks": "R02", "employed": "R03", "citizen": "R04"}


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.ARTIFACT_ROOT = tmp_path / "artifacts"
    demo_load()
    return ModelVersion.objects.get(project__slug=DEMO_PROJECT, model__name="arrests-release", stage=Stage.PRODUCTION)


def test_shap_values_of_the_demo_model_explain_its_score_and_round_trip(demo, make_client):
    model = joblib.load(url2pathname(urlparse(demo.artifact_uri).path))
    logged = list(Decision.objects.filter(model_version=demo).order_by("id")[:6])
    X = pd.DataFrame([d.features for d in logged])[list(FEATURES)]
    explanations = shap_explanations(model, X, background=X, reason_codes=CODES)

    scores = model_score(model)(X)
    for explanation, decision, score in zip(explanations, logged, scores, strict=True):
        assert set(explanation["attributions"]) == set(FEATURES)
        total = explanation["base_value"] + sum(explanation["attributions"].values())
        assert total == pytest.approx(score, abs=1e-9) and score == pytest.approx(decision.score, abs=1e-9)
        held_back = [n for n, v in sorted(explanation["attributions"].items(), key=lambda kv: kv[1]) if v < 0]
        assert explanation["reason_codes"] == [CODES[n] for n in held_back if n in CODES][:3]
        assert explanation["library"] == "shap" and explanation["method"] == "permutation"

    project = Project.objects.get(slug=DEMO_PROJECT)
    Policy.objects.filter(project=project).update(reason_codes={code: f"reason {code}" for code in CODES.values()})
    items = attach_explanations(
        [
            {
                "model_version": demo.pk,
                "request_id": f"explained-{position}",
                "features": decision.features,
                "prediction": decision.prediction,
                "score": decision.score,
                "occurred_at": decision.occurred_at.isoformat(),
            }
            for position, decision in enumerate(logged)
        ],
        explanations,
    )
    ingest = make_client("ingest", project)
    response = ingest.post("/api/v1/decisions/bulk/", {"decisions": items}, format="json")
    assert response.status_code == 200, response.content
    stored = {d.request_id: d.explanation for d in Decision.objects.filter(request_id__startswith="explained-")}
    assert [stored[f"explained-{i}"] for i in range(len(logged))] == explanations  # unchanged, float for float
    verified = make_client("risk_analyst", project).get("/api/v1/decisions/verify/", {"model_version": demo.pk})
    assert verified.json()["ok"]


def test_the_helper_refuses_what_it_cannot_name():
    with pytest.raises(TypeError, match="DataFrame"):
        shap_explanations(object(), [[1, 2]])
    with pytest.raises(ValueError, match="2 decisions but 1 explanations"):
        attach_explanations([{}, {}], [{}])
