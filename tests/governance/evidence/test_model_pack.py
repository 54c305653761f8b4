"""The technical documentation pack of a model across its versions (issue 16 item 1, "and for a model across its
versions") for the demo's model: the model and every version in order, each version through the version pack's
section builders, the change log across versions (transitions, approvals, alias moves, which version replaced
which), every statement citing records that exist with audit events whose hashes are the chain's; stored with its
sha256 in the trail; a second pack after a new version lists exactly that version as the change. Also: the override
rate cites the reviews it counts, and the evaluations of the project's LLM components reach the validation section
through llmops's contributor (governance imports no llmops).

Attacked: a pack naming both a version and a model (refused by the database), a data scientist generating one."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from governance.demo import DEMO_PROJECT, demo_load
from governance.evidence.pack import SECTIONS, model_pack_build, pack_build
from governance.models import EvidencePack
from governance.services.evidence import pack_sha256
from registry import services
from registry.actors import Actor
from registry.audit import audit_chain_verify
from registry.models import AuditEvent, Model, ModelVersion, Project, Stage
from tests.governance.evidence.test_pack import cited_records_exist
from tests.helpers import staff_client

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.ARTIFACT_ROOT = tmp_path / "artifacts"
    demo_load()
    return Model.objects.get(project__slug=DEMO_PROJECT, name="arrests-release")


def statements(pack: dict) -> dict[str, dict]:
    return {st["key"]: {**st, "section": s["id"]} for s in pack["sections"] for st in s["statements"]}


def test_the_model_pack_cites_what_exists_and_a_new_version_is_exactly_the_change(demo, make_client):
    project = Project.objects.get(slug=DEMO_PROJECT)
    analyst = make_client("risk_analyst", project)
    response = analyst.post(f"/api/v1/models/{demo.pk}/evidence-packs/")
    assert response.status_code == 201, response.content
    first = response.json()
    assert (first["model"], first["model_version"]) == (demo.pk, None)
    pack = first["content"]
    assert [s["id"] for s in pack["sections"]] == [section_id for section_id, _ in SECTIONS]
    assert all(section["statements"] for section in pack["sections"])
    assert [v["version"] for v in pack["versions"]] == [1, 2]
    assert cited_records_exist(pack) > 20
    by_key = statements(pack)
    assert "2 versions: v1 (staging, registered" in by_key["model"]["text"]
    for n in (1, 2):  # each version through the version pack's builders, tagged and prefixed
        assert {f"v{n}:identity", f"v{n}:training_run", f"v{n}:intended_use"} <= by_key.keys()
        assert by_key[f"v{n}:identity"]["version"] == n and by_key[f"v{n}:identity"]["section"] == "description"
    assert by_key["v2:fairness_audit:colour"]["section"] == "validation"
    assert (
        any(key.startswith("v1:incident:") for key in by_key) and by_key["v2:results:none"]["section"] == "monitoring"
    )
    changes = next(s for s in pack["sections"] if s["id"] == "changes")["statements"]
    assert [st["at"] for st in changes] == sorted(st["at"] for st in changes)  # across versions, oldest first
    assert {st.get("version") for st in changes} >= {1, 2}
    rate = by_key["v2:override_rate"]  # the demo's contest: overridden, and the second person agreed
    assert {c["record"].split(":")[0] for c in rate["cites"]} == {"governance.review"} and len(rate["cites"]) == 2
    assert all(c["audit"] and c["audit"][0]["event_type"] == "review.recorded" for c in rate["cites"])
    assert audit_chain_verify().ok
    stored = EvidencePack.objects.get(pk=first["id"])
    assert stored.sha256 == pack_sha256(stored.content) == first["sha256"]
    event = AuditEvent.objects.get(event_type="evidence_pack.generated", target_id=str(stored.pk))
    assert event.after == {
        "model": demo.pk,
        "sha256": stored.sha256,
        "previous": None,
        "added": len(by_key),
        "removed": 0,
        "changed": 0,
    }

    v2 = ModelVersion.objects.get(model=demo, version=2)
    v3 = services.model_version_register(
        actor=Actor.system(),
        model=demo,
        run=v2.run,
        artifact_uri="file:///demo/v3.joblib",
        artifact_sha256="ab" * 32,
        framework=v2.framework,
        intended_use="Demonstration only.",
        limitations="A retrain of v2.",
    )
    second = analyst.post(f"/api/v1/models/{demo.pk}/evidence-packs/").json()
    assert second["previous"] == first["id"]
    changes = second["changes"]
    assert changes["removed"] == []
    assert [(c["section"], c["key"]) for c in changes["changed"]] == [("description", "model")]
    assert "v3 (none" in changes["changed"][0]["after"]
    added = {c["key"] for c in changes["added"]}
    assert added and all(key.startswith("v3:") for key in added), added
    assert {"v3:identity", "v3:training_run", "v3:fairness_audit:none", "v3:results:none"} <= added
    assert statements(second["content"])["v3:identity"]["text"].startswith(f"arrests-release version {v3.version} ")

    listed = analyst.get(f"/api/v1/models/{demo.pk}/evidence-packs/").json()
    assert [p["id"] for p in listed["results"]] == [second["id"], first["id"]]
    assert analyst.get(f"/api/v1/evidence-packs/?model={demo.pk}").json()["count"] == 2
    assert analyst.get(f"/api/v1/evidence-packs/{second['id']}/").json()["sha256"] == second["sha256"]


def test_a_version_pack_and_a_model_pack_are_apart_and_no_pack_names_both(demo, make_client):
    project = Project.objects.get(slug=DEMO_PROJECT)
    version = ModelVersion.objects.get(model=demo, stage=Stage.PRODUCTION)
    officer = make_client("compliance_officer", project)
    of_version = officer.post(f"/api/v1/model-versions/{version.pk}/evidence-packs/").json()
    of_model = officer.post(f"/api/v1/models/{demo.pk}/evidence-packs/").json()
    assert of_model["previous"] is None and of_version["model"] is None  # two chains, one per subject
    assert make_client("data_scientist", project).post(f"/api/v1/models/{demo.pk}/evidence-packs/").status_code == 403
    stored = EvidencePack.objects.get(pk=of_model["id"])
    with pytest.raises(IntegrityError), transaction.atomic():
        EvidencePack.objects.create(
            project=project,
            model=demo,
            model_version=version,
            generated_at=stored.generated_at,
            content={},
            sha256="0" * 64,
        )


def test_the_model_pack_is_generated_and_read_in_admin_and_prints(demo, make_client):
    project = Project.objects.get(slug=DEMO_PROJECT)
    officer = staff_client("olga", "compliance_officer", project)
    page = officer.get(reverse("admin:registry_model_change", args=[demo.pk])).content.decode()
    assert "Generate a documentation pack of the model now" in page and "none yet" in page
    generated = officer.post(reverse("admin:governance_evidencepack_generate_model", args=[demo.pk]))
    pack = EvidencePack.objects.get(model=demo)
    assert generated.status_code == 302 and generated["Location"] == reverse(
        "admin:governance_evidencepack_change", args=[pack.pk]
    )
    body = officer.get(generated["Location"]).content.decode()
    for _, title in SECTIONS:
        assert title in body
    assert "Version 1 (staging)" in body and "Version 2 (production)" in body and "The model" in body
    assert "Across versions, oldest first" in body and "This is the model's first pack" in body
    assert reverse("admin:registry_model_change", args=[demo.pk]) in body
    page = officer.get(reverse("admin:registry_model_change", args=[demo.pk])).content.decode()
    assert reverse("admin:governance_evidencepack_change", args=[pack.pk]) in page
    changelist = officer.get(reverse("admin:governance_evidencepack_changelist")).content.decode()
    assert "arrests-release, all versions" in changelist

    scientist = staff_client("dora", "data_scientist", project)
    page = scientist.get(reverse("admin:registry_model_change", args=[demo.pk])).content.decode()
    assert "Generate a documentation pack of the model now" not in page
    assert scientist.post(reverse("admin:governance_evidencepack_generate_model", args=[demo.pk])).status_code == 403

    analyst = make_client("risk_analyst", project)
    pdf = analyst.get(f"/api/v1/evidence-packs/{pack.pk}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_the_change_log_says_which_version_replaced_which_and_where_each_alias_moved(chain):
    from django.utils import timezone

    from tests import factories as f
    from tests.helpers import make_promotable

    system = Actor.system()
    v1 = chain.version
    v2 = f.ModelVersionFactory(model=chain.model, run=chain.run, version=2)
    for version in (v1, v2):
        make_promotable(version)
    services.model_version_transition(actor=system, model_version=v1, to_stage=Stage.PRODUCTION, reason="first")
    services.model_alias_set(actor=system, model=chain.model, name="candidate", model_version=v1)
    services.model_version_transition(actor=system, model_version=v2, to_stage=Stage.PRODUCTION, reason="better")
    services.model_alias_set(actor=system, model=chain.model, name="candidate", model_version=v2)
    services.deployment_create(actor=system, model_version=v2, environment="production")  # ends v1's there

    pack = model_pack_build(model=chain.model, now=timezone.now())
    changes = next(s for s in pack["sections"] if s["id"] == "changes")["statements"]
    told = [(st.get("version"), st["text"].split("UTC: ")[1]) for st in changes]
    assert (None, "v2 replaced v1 in production.") in told
    assert (None, "v2 replaced v1 in production (direct).") in told
    assert [text for _, text in told if text.startswith("alias")] == [
        "alias candidate moved onto v1.",
        "alias candidate moved from v1 onto v2.",
    ]
    assert (1, "production → archived (replaced in production by v2); 0 gate checks recorded.") in told
    replaced = next(st for st in changes if st["key"].startswith("replaced:production:"))
    assert [len(cite["audit"]) for cite in replaced["cites"]] == [1, 1]  # each side's transition event
    moves = [st for st in changes if st["key"].startswith("alias_move:")]
    assert [len(cite["audit"]) for st in moves for cite in st["cites"]] == [1, 1]  # each its own alias event
    assert [st["at"] for st in changes] == sorted(st["at"] for st in changes)
    assert cited_records_exist(pack)


@pytest.fixture
def llm_evaluated(chain):
    """The chain's project also holds an LLM component: a prompt version evaluated twice over one dataset (the
    latest run is the one stated) with the local provider."""
    from llmops.providers import LocalProvider
    from llmops.services import evaluation, prompts

    system = Actor.system()
    template = prompts.prompt_create(actor=system, project=chain.project, name="answer")
    version = prompts.prompt_version_create(
        actor=system,
        template=template,
        kind="text",
        text="Answer from the context: {{question}} {{context}}",
        variables=["question", "context"],
        model="gpt-4o",
        labels=["production"],
    )
    dataset = evaluation.evaluation_dataset_create(
        actor=system,
        project=chain.project,
        name="golden",
        items=[
            {"variables": {"question": "Fee?", "context": "The fee is 25 euros."}, "expected": "The fee is 25 euros."},
            {"variables": {"question": "Days?", "context": "It takes two days."}, "expected": "It takes two days."},
        ],
    )
    evaluators = [{"name": "exact", "kind": "exact_match"}, {"name": "grounded", "kind": "groundedness"}]
    runs = [
        evaluation.evaluation_run(
            actor=system, version=version, dataset=dataset, evaluators=evaluators, provider=LocalProvider()
        )
        for _ in range(2)
    ]
    chain.llm = {"version": version, "dataset": dataset, "run": runs[-1]}
    return chain


def test_the_llm_components_evaluations_are_in_the_validation_section_with_citations(llm_evaluated):
    from django.utils import timezone

    chain = llm_evaluated
    run = chain.llm["run"]
    for pack in (
        pack_build(model_version=chain.version, now=timezone.now()),
        model_pack_build(model=chain.model, now=timezone.now()),
    ):
        stated = statements(pack)["llm_evaluation:answer:v1:golden"]
        assert stated["section"] == "validation"
        text = stated["text"]
        assert f"run {run.pk} " in text and "labels production" in text and "dataset golden (2 items)" in text
        assert "with local gpt-4o" in text and "exact (exact_match): pass rate" in text and "grounded" in text
        assert chain.llm["version"].content_sha256[:12] in text
        cited = {c["record"]: c["audit"] for c in stated["cites"]}
        assert set(cited) == {
            f"llmops.evaluationrun:{run.pk}",
            f"llmops.promptversion:{chain.llm['version'].pk}",
            f"llmops.evaluationdataset:{chain.llm['dataset'].pk}",
        }
        assert [e["event_type"] for e in cited[f"llmops.evaluationrun:{run.pk}"]] == ["llm.evaluation_run"]
        assert cited_records_exist(pack)
        assert sum(1 for key in statements(pack) if key.startswith("llm_evaluation:")) == 1  # the latest run only


def test_governance_reaches_llmops_only_through_the_registered_contributor():
    from pathlib import Path

    root = Path(__file__).resolve().parents[3] / "governance"
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "from llmops" in path.read_text() or "import llmops" in path.read_text()
    ]
    assert offenders == []


def test_a_model_pack_lists_each_versions_latest_reports_and_says_how_many_it_left_out(chain):
    from datetime import UTC, datetime

    from django.utils import timezone

    from governance.evidence.pack import MODEL_PACK_REPORTS
    from governance.models import DriftReport

    for day in range(1, MODEL_PACK_REPORTS + 3):
        DriftReport.objects.create(
            project=chain.project,
            model_version=chain.version,
            reference_data_version=chain.train,
            window_start=datetime(2026, 3, day, tzinfo=UTC),
            window_end=datetime(2026, 3, day + 1, tzinfo=UTC),
            row_count=10,
            features={},
            drifted=False,
            policy={},
        )
    model_pack = statements(model_pack_build(model=chain.model, now=timezone.now()))
    listed = [key for key in model_pack if key.startswith("v1:drift_report:")]
    assert len(listed) == MODEL_PACK_REPORTS
    assert model_pack["v1:reports:older"]["text"] == (
        "Older reports not listed here: 2 drift reports (the version's own pack lists the latest 12 of each)."
    )
    version_pack = statements(pack_build(model_version=chain.version, now=timezone.now()))
    assert sum(key.startswith("drift_report:") for key in version_pack) == MODEL_PACK_REPORTS + 2
    assert "reports:older" not in version_pack
