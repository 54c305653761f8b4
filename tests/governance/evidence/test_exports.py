"""Machine-readable exports of a model version (issue 16 item 2): the demo's production version as a CycloneDX
ML-BOM, validated against the CycloneDX 1.6 schema by cyclonedx-python-lib's own validator, and as a Hugging
Face-style model card whose YAML front matter parses and names the data versions; both over REST, read as
any record of the project is (a key of another project gets a 404)."""

from __future__ import annotations

import json

import pytest
import yaml
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from governance.demo import DEMO_PROJECT, demo_load
from governance.evidence.bom import model_version_bom
from governance.evidence.model_card import model_version_card
from registry.models import AuditEvent, DataVersion, ModelVersion, Project, Stage

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.ARTIFACT_ROOT = tmp_path / "artifacts"
    demo_load()
    return ModelVersion.objects.select_related("model", "run").get(
        project__slug=DEMO_PROJECT, model__name="arrests-release", stage=Stage.PRODUCTION
    )


def front_matter(text: str) -> dict:
    assert text.startswith("---\n")
    head, _, _ = text[4:].partition("\n---\n")
    return yaml.safe_load(head)


def test_the_bom_is_valid_cyclonedx_and_holds_the_model_its_data_and_packages(demo):
    document = model_version_bom(model_version=demo)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(document)) is None
    assert document["bomFormat"] == "CycloneDX" and document["specVersion"] == "1.6"

    model = document["metadata"]["component"]
    assert model["type"] == "machine-learning-model"
    assert (model["name"], model["version"]) == ("arrests-release", str(demo.version))
    assert model["hashes"] == [{"alg": "SHA-256", "content": demo.artifact_sha256}]
    properties = {(p["name"], p["value"]) for p in model["properties"]}
    assert ("governance:stage", "production") in properties and ("governance:risk_tier", "high") in properties

    data = {c["bom-ref"]: c for c in document["components"] if c["type"] == "data"}
    versions = DataVersion.objects.filter(project=demo.project)
    assert set(data) == {f"data-version:{dv.pk}" for dv in versions}  # the raw table upstream too
    for dv in versions:
        assert data[f"data-version:{dv.pk}"]["hashes"] == [{"alg": "SHA-256", "content": dv.content_sha256}]
    packages = {c["name"]: c for c in document["components"] if c["type"] == "library"}
    assert packages["scikit-learn"]["purl"] == f"pkg:pypi/scikit-learn@{demo.run.environment['scikit-learn']}"

    depends = {d["ref"]: set(d.get("dependsOn", [])) for d in document["dependencies"]}
    trained_on = {f"data-version:{dv.pk}" for dv in versions if dv.version in ("train", "test")}
    assert trained_on <= depends[f"model-version:{demo.pk}"]
    raw = versions.get(version="2002-raw")
    assert all(depends[ref] == {f"data-version:{raw.pk}"} for ref in trained_on)

    card = model["modelCard"]
    assert {d["ref"] for d in card["modelParameters"]["datasets"]} == trained_on
    assert card["considerations"]["useCases"] == [demo.intended_use]
    assert card["considerations"]["technicalLimitations"] == [demo.limitations]
    assert {m["type"] for m in card["quantitativeAnalysis"]["performanceMetrics"]} >= {"accuracy", "roc_auc"}
    assert any("colour=Black" == f["groupAtRisk"] for f in card["considerations"]["fairnessAssessments"])

    # every audit event it cites is in the trail with that hash
    cited = [p["value"].split() for p in model["properties"] if p["name"] == "governance:audit"]
    assert cited and all(AuditEvent.objects.filter(seq=int(seq), hash=digest).exists() for seq, _, digest in cited)


def test_a_version_without_a_card_or_data_still_exports_a_valid_bom(chain):
    chain.run.environment = {"python": "3.11.7", "not a package!": "1", "numpy": "2.4.6"}
    chain.run.save()
    document = model_version_bom(model_version=chain.version)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(document)) is None
    assert [c["name"] for c in document["components"] if c["type"] == "library"] == ["numpy"]
    assert "considerations" not in document["metadata"]["component"]["modelCard"]


def test_the_model_card_parses_and_names_the_data_versions(demo):
    text = model_version_card(model_version=demo)
    meta = front_matter(text)
    assert meta["library_name"] == "sklearn"
    assert meta["datasets"] == ["arrests"]
    named = {(dv["version"], dv["content_sha256"]) for dv in meta["governance"]["data_versions"]}
    assert named == set(DataVersion.objects.filter(project=demo.project).values_list("version", "content_sha256"))
    results = meta["model-index"][0]["results"]
    assert {m["type"]: m["value"] for m in results[0]["metrics"]}["accuracy"] == demo.metrics["accuracy"]
    body = text.split("\n---\n", 1)[1]
    for heading in ("## Intended use", "## Limitations", "## Training data", "## Evaluation", "## Fairness"):
        assert heading in body
    assert demo.intended_use in body and demo.limitations in body
    assert "| arrests | train | train | 3,658 | yes |" in body


def test_both_over_rest_for_the_projects_readers_only(demo, make_client, other_project):
    reader = make_client("risk_analyst", Project.objects.get(slug=DEMO_PROJECT))
    response = reader.get(f"/api/v1/model-versions/{demo.pk}/bom/")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.cyclonedx+json")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(response.content.decode()) is None
    card = reader.get(f"/api/v1/model-versions/{demo.pk}/model-card/")
    assert card.status_code == 200 and card["Content-Type"].startswith("text/markdown")
    assert front_matter(card.content.decode())["governance"]["model_version"] == demo.pk

    stranger = make_client("risk_analyst", other_project)
    assert stranger.get(f"/api/v1/model-versions/{demo.pk}/bom/").status_code == 404
    assert stranger.get(f"/api/v1/model-versions/{demo.pk}/model-card/").status_code == 404
    missing = reader.get("/api/v1/model-versions/999999/bom/")
    assert missing.status_code == 404 and missing.json()["error"]["code"]
