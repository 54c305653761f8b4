"""Admin of what MLflow clients write: experiments with their runs, a run's metric history drawn per key (steps on
the x axis), logged models with their files, and aliases with their history. The presenter of the charts is
tested directly: one query however long the history, long histories thinned with their spikes kept, NaN counted."""

from __future__ import annotations

import math
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registry import services
from registry.metric_charts import metric_history
from registry.models import Experiment, LoggedModel, ModelAliasMove, Run
from tests import factories as f
from tests.helpers import staff_client
from tests.interop.mlflow.test_authorization import SYSTEM, _world
from tests.registry.admin.pages import url


@pytest.fixture
def world(db, settings, tmp_path, project):
    settings.ARTIFACT_ROOT = tmp_path / "artifacts"
    return _world(project)


def _points(key: str, values: list[float | None]) -> list[dict]:
    return [
        {
            "key": key,
            "value": v,
            "step": i,
            "timestamp": 1000 + i,
            "model_ref": "",
            "dataset_name": "",
            "dataset_digest": "",
        }
        for i, v in enumerate(values)
    ]


def _run(project, **points) -> Run:
    experiment = services.experiment_default(actor=SYSTEM, project=project)
    run = services.run_start(
        actor=SYSTEM,
        project=project,
        experiment=experiment,
        name="charted",
        run_uuid=uuid.uuid4().hex,
        started_at=timezone.now(),
    )
    metrics = [p for key, values in points.items() for p in _points(key, values)]
    return services.run_log(actor=SYSTEM, run=run, metrics=metrics) or Run.objects.get(pk=run.pk)


def test_metric_history_draws_every_key_in_one_query(project):
    run = _run(project, loss=[1.0, 0.5, 0.25], acc=[0.5, 0.75, 0.9, 0.95])
    run.refresh_from_db()
    with CaptureQueriesContext(connection) as queries:
        charts = metric_history(run)
    assert len(queries) == 1
    assert [c["key"] for c in charts] == ["acc", "loss"]
    acc = charts[0]
    assert (acc["points"], acc["drawn"], acc["not_a_number"], acc["latest"]) == (4, 4, 0, 0.95)
    assert acc["svg"].startswith("<svg") and "<path" in acc["svg"]
    assert "acc by step" in acc["svg"]


def test_a_long_history_is_thinned_and_keeps_its_spike(project):
    values = [0.5] * 5000
    values[3217] = 9.0  # one spike in a flat line
    run = _run(project, loss=values)
    run.refresh_from_db()
    (chart,) = metric_history(run, max_points=400)
    assert chart["points"] == 5000
    assert chart["drawn"] <= 400
    assert ">9<" in chart["svg"]  # the axis reaches the spike: it was kept


def test_nan_points_are_counted_not_drawn(project):
    run = _run(project, loss=[None, 1.0, None, 0.5])
    run.refresh_from_db()
    (chart,) = metric_history(run)
    assert (chart["points"], chart["drawn"], chart["not_a_number"]) == (4, 2, 2)
    only_nan = _run(project, gap=[None])
    only_nan.refresh_from_db()
    (empty,) = metric_history(only_nan)
    assert empty["drawn"] == 0 and "no finite values" in empty["svg"]
    assert not any(math.isnan(c["latest"] or 0) for c in metric_history(run))


def test_the_pages_of_mlflow_records_render_for_a_superuser(admin_client, world):
    pages = {
        url(Experiment, "changelist"): [world.experiment.name],
        url(Experiment, "change", world.experiment.pk): [world.run.name],
        url(Run, "change", world.run.pk): [world.run.run_uuid, "metric-chart", "loss by step", "notes.txt"],
        url(LoggedModel, "changelist"): [world.logged.model_id],
        url(LoggedModel, "change", world.logged.pk): ["MLmodel", world.logged.artifact_sha256[:12]],
        url(ModelAliasMove, "changelist"): ["challenger"],
        url(type(world.model), "change", world.model.pk): ["challenger", "lias history"],
    }
    for page, expected in pages.items():
        response = admin_client.get(page)
        assert response.status_code == 200, page
        body = response.content.decode()
        for text in expected:
            assert text in body, (page, text)


def test_a_scoped_officer_sees_the_mlflow_records_of_their_project_only(world, other_project, settings):
    other = _world(other_project)
    client = staff_client("olga", "compliance_officer", world.project)
    for model, mine, theirs, shown in [
        (Experiment, world.experiment, other.experiment, "name"),
        (LoggedModel, world.logged, other.logged, "model_id"),
        (
            ModelAliasMove,
            ModelAliasMove.objects.get(model=world.model),
            ModelAliasMove.objects.get(model=other.model),
            "model",
        ),
    ]:
        assert client.get(url(model, "change", mine.pk)).status_code == 200
        assert client.get(url(model, "change", theirs.pk)).status_code in (302, 404)
        listing = client.get(url(model, "changelist")).content.decode()
        assert str(getattr(mine, shown)) in listing
        assert str(getattr(theirs, shown)) not in listing
    assert other.run.run_uuid not in client.get(url(Run, "changelist")).content.decode()


def test_the_run_page_does_a_bounded_number_of_queries(admin_client, project, settings, tmp_path):
    settings.ARTIFACT_ROOT = tmp_path / "artifacts"
    few = _run(project, a=[1.0, 2.0])
    many = _run(project, **{f"m{i}": [float(j) for j in range(50)] for i in range(12)})
    counts = []
    for run in (few, many):
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url(Run, "change", run.pk)).status_code == 200
        counts.append(len(queries))
    assert counts[1] == counts[0], counts


def test_experiment_list_counts_runs(admin_client, project):
    _run(project, a=[1.0])
    _run(project, a=[1.0])
    f.ProjectFactory(slug="empty")
    body = admin_client.get(url(Experiment, "changelist")).content.decode()
    assert "Default" in body
    assert '<td class="field-run_count">2</td>' in body
