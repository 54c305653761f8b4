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


@pytest.mark.django_db(transaction=True)  # pg_dump reads what is committed
def test_a_demo_subjects_access_report_gives_the_top_factors_and_nothing_of_theirs_survives_erasure(demo, make_client):
    import shutil
    import subprocess

    from django.db import connection
    from sklego.datasets import load_arrests

    from governance.services.erasure import erasure_request_create, erasure_request_execute, erasure_request_trace
    from registry.actors import Actor
    from registry.subjects import subject_key

    if connection.vendor != "postgresql":
        pytest.skip("pg_dump needs PostgreSQL")
    project = Project.objects.get(slug=DEMO_PROJECT)
    ids = {subject_key(raw): raw for raw in (f"arrest-{i:05d}" for i in range(len(load_arrests(as_frame=True))))}
    logged = list(Decision.objects.filter(model_version=demo).order_by("id")[:40])
    alice = logged[0]
    bob = next(d for d in logged[1:] if d.features != alice.features)
    model = joblib.load(url2pathname(urlparse(demo.artifact_uri).path))
    X = pd.DataFrame([alice.features, bob.features])[list(FEATURES)]
    # the background of 40 decisions: with only these two rows one's attributions would mirror the other's
    background = pd.DataFrame([d.features for d in logged])[list(FEATURES)]
    explanations = shap_explanations(model, X, background=background, reason_codes=CODES)
    Policy.objects.filter(project=project).update(
        reason_codes={"R02": "Many prior checks", "R03": "Not employed", "R04": "Not a citizen"}
    )
    items = attach_explanations(
        [
            {
                "model_version": demo.pk,
                "request_id": f"explained-{who}",
                "subject_id": ids[decision.subject_key],
                "features": decision.features,
                "prediction": decision.prediction,
                "score": decision.score,
                "occurred_at": decision.occurred_at.isoformat(),
            }
            for who, decision in (("alice", alice), ("bob", bob))
        ],
        explanations,
    )
    ingest = make_client("ingest", project)
    assert ingest.post("/api/v1/decisions/bulk/", {"decisions": items}, format="json").status_code == 200

    officer = make_client("compliance_officer", project)
    request = officer.post(
        "/api/v1/access-requests/",
        {"project": DEMO_PROJECT, "subject_id": ids[alice.subject_key], "reference": "SAR-DEMO"},
        format="json",
    ).json()
    report = officer.get(f"/api/v1/access-requests/{request['id']}/report/").json()
    mine = {d["reference"].rsplit(" / ", 1)[1]: d for d in report["decisions"]["items"]}
    assert {alice.request_id, "explained-alice"} <= set(mine)  # the demo's decisions about them and the explained one
    assert report["decisions"]["count"] == Decision.objects.filter(subject_key=alice.subject_key).count()
    explained = mine["explained-alice"]
    top = sorted(explanations[0]["attributions"].items(), key=lambda kv: -abs(kv[1]))[:3]
    assert [factor.split()[0] for factor in explained["main_factors"]] == [name for name, _ in top]
    assert explained["explained_by"] == "shap permutation"

    settings = connection.settings_dict

    def pg_dump() -> str:
        command = [shutil.which("pg_dump"), "--data-only", "-h", settings["HOST"] or "127.0.0.1"]
        command += ["-p", str(settings["PORT"] or 5432), "-U", settings["USER"] or "postgres", settings["NAME"]]
        return subprocess.run(command, capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"}).stdout

    def distinctive(explanation):  # a 0.0 is in any dump; a value like 0.0267345400023454 is theirs
        return {repr(v) for v in explanation["attributions"].values() if len(repr(v)) > 8}

    # the values only alice's explanation holds (bob's may share one where their features agree), and that the
    # dump shows before her erasure: what the erasure must take out
    before = pg_dump()
    theirs = {value for value in distinctive(explanations[0]) - distinctive(explanations[1]) if value in before}
    assert theirs and all(value in before for value in distinctive(explanations[1]))

    erasure = erasure_request_create(
        actor=Actor.system(), project=project, subject_id=ids[alice.subject_key], reference="GDPR-DEMO"
    )
    erasure_request_execute(actor=Actor.system(), request=erasure_request_trace(actor=Actor.system(), request=erasure))
    after = officer.get(f"/api/v1/access-requests/{request['id']}/report/").json()
    assert after["decisions"]["count"] == 0
    assert after["erasures"][0]["reference"] == "GDPR-DEMO"
    assert after["erasures"][0]["decisions_erased"] == report["decisions"]["count"]

    dump = pg_dump()
    assert all(value in dump for value in distinctive(explanations[1]))  # bob's are still there
    only_theirs = {value for value in theirs if before.count(value) == 1}  # in her row and nowhere else
    assert only_theirs
    left = {value: [line[:300] for line in dump.splitlines() if value in line][:2] for value in only_theirs}
    assert not {value: lines for value, lines in left.items() if lines}
