"""The stock `mlflow` client against a live test server on the test database (PostgreSQL in `make test`)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from registry import services
from registry.actors import Actor
from tests import factories as f


@pytest.fixture
def mlflow_project(transactional_db):
    return f.ProjectFactory(slug="mlteam", name="ML team")


def _key(project, role: str) -> str:
    return services.api_key_create(actor=Actor.system(), project=project, role=role, name=f"mlflow {role}")[1]


@pytest.fixture
def tracking(live_server, mlflow_project, settings, tmp_path, monkeypatch):
    """mlflow pointed at the live server with a data scientist's key (MLFLOW_TRACKING_TOKEN), and what a test
    needs to switch keys: `tracking.use(role)` or `tracking.use_raw(key)`."""
    import mlflow
    import mlflow.sklearn

    settings.ARTIFACT_ROOT = tmp_path / "artifacts"
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # a 5xx fails the test at once instead of in minutes
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD", raising=False)
    keys: dict[str, str] = {}

    def use(role: str, project=None) -> str:
        project = project or mlflow_project
        name = f"{project.slug}:{role}"
        if name not in keys:
            keys[name] = _key(project, role)
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", keys[name])
        return keys[name]

    def use_raw(raw: str) -> None:
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", raw)

    use("data_scientist")
    mlflow.set_tracking_uri(live_server.url)
    mlflow.set_experiment(experiment_id="0")  # the client remembers the last test's experiment otherwise
    yield SimpleNamespace(url=live_server.url, project=mlflow_project, use=use, use_raw=use_raw, keys=keys)
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.sklearn.autolog(disable=True)


@pytest.fixture
def iris():
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    return frame.drop(columns="target"), frame["target"]
