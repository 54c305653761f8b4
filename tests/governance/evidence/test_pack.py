"""The technical documentation pack (AI Act Art. 11, Annex IV; issue 16 item 1) for the demo's production version:
every section present, every statement citing records that exist and audit events whose hashes are the chain's,
the pack stored with its sha256 in the trail; a second pack after a new fairness audit lists exactly that change.

Attacked: an insider editing a stored pack by SQL (refused by PostgreSQL), a data scientist generating one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection
from django.db.utils import DatabaseError

from governance.demo import DEMO_PROJECT, POSITIVE, demo_load
from governance.evidence.pack import SECTIONS
from governance.models import EvidencePack
from governance.services.evidence import pack_sha256
from governance.services.fairness import fairness_audit_run
from registry.actors import Actor
from registry.audit import audit_chain_verify
from registry.models import AuditEvent, ModelVersion, Project, Stage

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.ARTIFACT_ROOT = tmp_path / "artifacts"
    demo_load()
    return ModelVersion.objects.get(project__slug=DEMO_PROJECT, model__name="arrests-release", stage=Stage.PRODUCTION)


def cited_records_exist(pack: dict) -> int:
    cites = 0
    for section in pack["sections"]:
        for statement in section["statements"]:
            for cite in statement["cites"]:
                label, pk = cite["record"].split(":")
                assert apps.get_model(label).objects.filter(pk=pk).exists(), cite
                for event in cite["audit"]:
                    assert AuditEvent.objects.filter(seq=event["seq"], hash=event["hash"]).exists(), event
                    cites += 1
    return cites


def test_the_demo_pack_cites_what_exists_and_a_new_audit_is_exactly_the_change(demo, make_client):
    project = Project.objects.get(slug=DEMO_PROJECT)
    analyst = make_client("risk_analyst", project)
    response = analyst.post(f"/api/v1/model-versions/{demo.pk}/evidence-packs/")
    assert response.status_code == 201, response.content
    first = response.json()
    pack = first["content"]
    assert [s["id"] for s in pack["sections"]] == [section_id for section_id, _ in SECTIONS]
    assert all(section["statements"] for section in pack["sections"]), [s["id"] for s in pack["sections"]]
    assert cited_records_exist(pack) > 10
    keys = {st["key"] for s in pack["sections"] for st in s["statements"]}
    assert {"identity", "intended_use", "training_run", "fairness_audit:colour", "policy"} <= keys
    assert any(key.startswith("data_version:") for key in keys) and any(key.startswith("transition:") for key in keys)
    assert audit_chain_verify().ok
    stored = EvidencePack.objects.get(pk=first["id"])
    assert stored.sha256 == pack_sha256(stored.content) == first["sha256"]
    event = AuditEvent.objects.get(event_type="evidence_pack.generated", target_id=str(stored.pk))
    assert event.after["sha256"] == stored.sha256 and event.after["previous"] is None

    fairness_audit_run(actor=Actor.system(), model_version=demo, sensitive_features=["colour"], positive_label=POSITIVE)
    second = analyst.post(f"/api/v1/model-versions/{demo.pk}/evidence-packs/").json()
    assert second["previous"] == first["id"]
    changes = second["changes"]
    assert changes["added"] == [] and changes["removed"] == []
    assert [(c["section"], c["key"]) for c in changes["changed"]] == [("validation", "fairness_audit:colour")]
    assert analyst.get(f"/api/v1/evidence-packs/{second['id']}/").json()["sha256"] == second["sha256"]


def test_no_one_edits_a_pack_and_a_data_scientist_generates_none(demo, make_client):
    project = Project.objects.get(slug=DEMO_PROJECT)
    scientist = make_client("data_scientist", project)
    assert scientist.post(f"/api/v1/model-versions/{demo.pk}/evidence-packs/").status_code == 403
    pack = make_client("compliance_officer", project).post(f"/api/v1/model-versions/{demo.pk}/evidence-packs/")
    assert pack.status_code == 201
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"), connection.cursor() as cursor:
            cursor.execute("UPDATE governance_evidencepack SET content = '{}'::jsonb")


def test_a_pack_is_generated_and_read_in_admin(demo):
    from django.urls import reverse

    from tests.helpers import staff_client

    project = Project.objects.get(slug=DEMO_PROJECT)
    officer = staff_client("olga", "compliance_officer", project)
    page = officer.get(reverse("admin:registry_modelversion_change", args=[demo.pk])).content.decode()
    assert "Generate a documentation pack now" in page and "CycloneDX ML-BOM" in page
    generated = officer.post(reverse("admin:governance_evidencepack_generate", args=[demo.pk]))
    pack = EvidencePack.objects.get()
    assert generated.status_code == 302 and generated["Location"] == reverse(
        "admin:governance_evidencepack_change", args=[pack.pk]
    )
    body = officer.get(generated["Location"]).content.decode()
    for _, title in SECTIONS:
        assert title in body
    assert pack.sha256 in body and "This is the version's first pack" in body
    scientist = staff_client("dora", "data_scientist", project)
    page = scientist.get(reverse("admin:registry_modelversion_change", args=[demo.pk])).content.decode()
    assert "Generate a documentation pack now" not in page
    assert scientist.post(reverse("admin:governance_evidencepack_generate", args=[demo.pk])).status_code == 403


def test_the_pack_prints_to_pdf_and_its_pages_render(demo, make_client, tmp_path, monkeypatch):
    import shutil
    import subprocess

    project = Project.objects.get(slug=DEMO_PROJECT)
    analyst = make_client("risk_analyst", project)
    pack = analyst.post(f"/api/v1/model-versions/{demo.pk}/evidence-packs/").json()
    response = analyst.get(f"/api/v1/evidence-packs/{pack['id']}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    pdf = tmp_path / "pack.pdf"
    pdf.write_bytes(response.content)
    out = tmp_path / "page"
    subprocess.run([shutil.which("pdftoppm"), "-png", "-r", "60", "-f", "1", "-l", "2", str(pdf), str(out)], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 2 and all(page.stat().st_size > 5000 for page in pages)
    if os.environ.get("SAVE_SCREENSHOTS") == "1":  # the first page, for docs/
        shutil.copy(pages[0], Path(__file__).resolve().parents[3] / "docs" / "evidence-pack-pdf-page1.png")

    monkeypatch.setenv("CHROMIUM", "no-such-chromium")
    missing = analyst.get(f"/api/v1/evidence-packs/{pack['id']}/pdf/")
    assert missing.status_code == 503 and "Chromium" in missing.json()["error"]["message"]
