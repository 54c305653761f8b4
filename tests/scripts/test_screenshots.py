"""scripts/screenshots.py seeds its stories through the services; these run its seed functions against the test
database (no browser, no server), so a service that starts refusing the story (the promotion gate did) fails
here rather than when someone next retakes the docs screenshots."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from governance.models import ErasureRequest, FairnessAudit, ModelVersionApproval
from registry.models import ModelVersion, Stage, StageTransition

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "screenshots.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("screenshots", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.sqlite  # the script seeds a SQLite database
@pytest.mark.django_db
def test_the_admin_and_erasure_stories_pass_the_gate():
    screenshots = _script()
    v2 = ModelVersion.objects.get(pk=screenshots.seed_story())
    executed = screenshots.seed_erasures()

    v1 = ModelVersion.objects.get(model=v2.model, version=1)
    assert (v1.stage, v2.stage) == (Stage.ARCHIVED, Stage.PRODUCTION)
    for version in (v1, v2):
        promotion = StageTransition.objects.get(model_version=version, to_stage=Stage.PRODUCTION)
        assert promotion.checks and all(check["passed"] for check in promotion.checks)
        audit = FairnessAudit.objects.get(model_version=version)
        assert audit.passed and not audit.exploratory and audit.sensitive_features == screenshots.AUDITED
        approvers = ModelVersionApproval.objects.filter(model_version=version).values_list(
            "created_by_user__username", flat=True
        )
        assert sorted(approvers) == sorted(screenshots.OFFICERS)
    assert ErasureRequest.objects.get(pk=executed).status == ErasureRequest.Status.EXECUTED
    assert ErasureRequest.objects.count() == 8


@pytest.mark.sqlite
@pytest.mark.django_db
def test_the_llm_story_seeds():
    ids = _script().seed_llm()
    assert set(ids) >= {"project", "template", "run_a", "run_b", "call", "unpriced_call"}


@pytest.mark.sqlite
@pytest.mark.django_db
def test_the_interop_story_seeds(settings, tmp_path):
    from registry.models import Run, RunOutput

    settings.ARTIFACT_ROOT = tmp_path / "artifacts"
    ids = _script().seed_interop()
    assert Run.objects.get(pk=ids["run"]).metric_points.count() == 900
    pipeline = Run.objects.get(pk=ids["pipeline_run"])
    assert (pipeline.source, pipeline.status) == ("openlineage", "finished")
    assert RunOutput.objects.get(run=pipeline).data_version_id == ids["table"]
