"""Fixtures of the JupyterLab extension's tests: a live service (pytest-django's live_server, real
PostgreSQL), an API key for it, a clean client environment, pytest-jupyter's server with the extension.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

# pytest-jupyter's server fixtures and hooks for this folder only: `pytest_plugins` may only be set in the
# top-level conftest (pytest refuses it here), and these fixtures (HOME and Jupyter paths moved to tmp dirs,
# an event loop per test) belong to these tests alone.
from pytest_jupyter.jupyter_server import *  # noqa: E402,F403
from traitlets.config import Config

from registry import services
from registry.actors import Actor

GOVERNANCE_ENV = (
    "GOVERNANCE_URL",
    "GOVERNANCE_API_KEY",
    "GOVERNANCE_API_KEY_FILE",
    "GOVERNANCE_PROJECT",
    "GOVERNANCE_ARTIFACT_DIR",
    "JPY_SESSION_NAME",
)


@pytest.fixture(autouse=True)
def clean_governance_env(monkeypatch, tmp_path):
    """No developer configuration leaks in: no GOVERNANCE_* variables, no ~/.config file."""
    for name in GOVERNANCE_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOVERNANCE_CONFIG", str(tmp_path / "no-such-config.json"))


@pytest.fixture(scope="session")
def live_server(django_db_setup, live_server):
    """pytest-django's live server, started after the test database is set up (so it stops before the
    database is dropped: otherwise its open connection makes PostgreSQL refuse to drop the database)."""
    return live_server


@pytest.fixture
def raw_key(project):
    """A data_scientist key of project acme (the raw `gk_...` string)."""
    _, raw = services.api_key_create(actor=Actor.system(), project=project, role="data_scientist", name="notebook")
    return raw


@pytest.fixture
def service(live_server, raw_key, monkeypatch, tmp_path):
    """The client's environment pointing at the live service; artifacts under tmp_path."""
    monkeypatch.setenv("GOVERNANCE_URL", live_server.url)
    monkeypatch.setenv("GOVERNANCE_API_KEY", raw_key)
    monkeypatch.setenv("GOVERNANCE_ARTIFACT_DIR", str(tmp_path / "artifacts"))
    return live_server


@pytest.fixture
def git_repo(tmp_path, monkeypatch):
    """An empty git repository (tmp_path/repo) that is also the working directory."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "test@example.invalid")
    git(repo, "config", "user.name", "Test")
    git(repo, "config", "commit.gpgsign", "false")
    monkeypatch.chdir(repo)
    return repo


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def arrests():
    """scikit-lego's real arrests data set with a stable row id column."""
    from sklego.datasets import load_arrests

    frame = load_arrests(as_frame=True)
    frame.insert(0, "arrest_id", [f"arrest-{i:05d}" for i in range(len(frame))])
    return frame


@pytest.fixture
def jp_server_config():
    return Config(
        {
            "ServerApp": {"jpserver_extensions": {"governance_jupyter": True}},
            "Governance": {"timeout": 5.0},
        }
    )
