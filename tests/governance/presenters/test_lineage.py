"""governance.presenters.lineage on its own: the model version page's Lineage section as data (the page's HTML is
tested in tests/governance/admin/test_model_versions.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.urls import reverse
from django.utils import timezone

from governance.presenters.lineage import decisions_url, model_version_lineage
from registry.models import RunInput, Stage
from registry.tones import tone_of
from tests import factories as f
from tests.governance.presenters.helpers import no_html


def test_training_data_run_deployments_and_decisions(chain):
    chain.run.git_commit = "0123456789abcdef"
    chain.run.git_branch = "main"
    chain.run.notebook_path = "notebooks/credit.ipynb"
    chain.run.save()
    test_split = f.DataVersionFactory(dataset=chain.raw.dataset, version="test")
    RunInput.objects.create(run=chain.run, data_version=test_split, role="test")
    ended = f.DeploymentFactory(
        model_version=chain.version,
        environment="staging",
        started_at=datetime(2025, 12, 1, tzinfo=UTC),
        ended_at=datetime(2025, 12, 20, 9, 30, tzinfo=UTC),
    )
    for index in range(2):
        f.DecisionFactory(model_version=chain.version, request_id=f"d{index}")
    lineage = model_version_lineage(chain.version)
    no_html(lineage)

    # The run's inputs first, train before test, then upstream
    assert [(dv["dataset"], dv["version"], dv["roles"]) for dv in lineage["data_versions"]] == [
        (chain.train.dataset.name, "train", ["train"]),
        (test_split.dataset.name, "test", ["test"]),
        (chain.raw.dataset.name, "raw", []),
    ]
    train = lineage["data_versions"][0]
    assert train["url"] == reverse("admin:registry_dataversion_change", args=[chain.train.pk])
    assert train["dataset_url"] == reverse("admin:registry_dataset_change", args=[chain.train.dataset_id])
    assert train["hash"] == {"full": chain.train.content_sha256, "short": chain.train.content_sha256[:12]}
    assert train["rows"] == f"{chain.train.row_count:,}"
    assert (train["status"], train["personal_data"]) == (chain.train.status, chain.train.dataset.contains_personal_data)
    assert train["parents"] == [
        {
            "label": str(chain.raw),
            "url": reverse("admin:registry_dataversion_change", args=[chain.raw.pk]),
            "transformation": "70% split",
        }
    ]
    assert lineage["data_versions"][2]["parents"] == []

    assert lineage["run"] == {
        "name": chain.run.name,
        "status": chain.run.status,
        "source": chain.run.source,
        "git_branch": "main",
        "git_dirty": chain.run.git_dirty,
        "notebook_path": "notebooks/credit.ipynb",
    }
    assert lineage["run_url"] == reverse("admin:registry_run_change", args=[chain.run.pk])
    assert lineage["run_created"] == chain.run.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    assert lineage["run_commit"] == {"full": "0123456789abcdef", "short": "0123456789"}
    assert lineage["run_params"] == sorted(chain.run.params.items())
    assert lineage["run_metrics"] == sorted(chain.run.metrics.items())

    live, old = lineage["deployments"]  # the latest start first
    assert live["url"] == reverse("admin:registry_deployment_change", args=[chain.deployment.pk])
    assert (live["environment"], live["live"], live["ended_at"]) == ("production", True, None)
    assert live["strategy"] == chain.deployment.get_strategy_display()
    chain.deployment.refresh_from_db()  # the factory leaves an int; the database gives a Decimal
    assert live["traffic"] == f"{chain.deployment.traffic_percent.normalize():f}%" == "100%"
    assert live["started_at"] == chain.deployment.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    assert (old["environment"], old["live"]) == ("staging", False)
    assert (old["started_at"], old["ended_at"]) == ("2025-12-01 00:00 UTC", "2025-12-20 09:30 UTC")
    assert ended.pk and lineage["live_count"] == 1

    assert (lineage["decision_count"], lineage["decision_count_display"]) == (2, "2")
    assert lineage["decisions_url"] == decisions_url(chain.version)
    assert lineage["decisions_url"] == (
        reverse("admin:governance_decision_changelist")
        + f"?model_version__model__id__exact={chain.model.pk}&model_version__id__exact={chain.version.pk}"
    )
    assert lineage["stage"] == {"text": chain.version.stage, "tone": tone_of(Stage, chain.version.stage).value}


def test_a_version_whose_run_recorded_nothing_and_was_never_deployed(project):
    version = f.ModelVersionFactory(model__project=project, run__git_commit="", run__notebook_path="")
    lineage = model_version_lineage(version)
    assert lineage["data_versions"] == []
    assert lineage["run_commit"] is None
    assert lineage["run"]["notebook_path"] == ""
    assert (lineage["deployments"], lineage["live_count"]) == ([], 0)
    assert (lineage["decision_count"], lineage["decision_count_display"]) == (0, "0")


def test_a_deployment_not_started_yet_is_not_live(chain):
    f.DeploymentFactory(
        model_version=chain.version, environment="canary", started_at=timezone.now() + timedelta(days=1)
    )
    canary = next(d for d in model_version_lineage(chain.version)["deployments"] if d["environment"] == "canary")
    assert (canary["live"], canary["ended_at"]) == (False, None)
