"""Git state and notebook-path capture, in a temporary repository and against a real Jupyter server."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from governance_jupyter.context import environment, git_info, kernel_id_from_connection_file, notebook_path

from tests.jupyter.conftest import git

# -- git ------------------------------------------------------------------------------------------


def test_git_outside_a_repository(tmp_path):
    assert git_info(tmp_path).as_dict() == {"commit": "", "branch": "", "dirty": None, "root": ""}


def test_git_commit_branch_and_dirty_flag(git_repo):
    info = git_info()  # the working directory (a kernel's is its notebook's directory)
    assert (info.commit, info.branch, info.dirty) == ("", "main", False)  # no commit yet
    notebook = git_repo / "analysis" / "train.ipynb"
    notebook.parent.mkdir()
    notebook.write_text("{}")
    assert git_info().dirty is True  # an untracked file
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-q", "-m", "first")
    head = git(git_repo, "rev-parse", "HEAD")
    info = git_info(notebook)  # a file: its directory's repository
    assert (info.commit, info.branch, info.dirty, info.root) == (head, "main", False, str(git_repo))
    notebook.write_text('{"cells": []}')
    assert git_info(notebook.parent).dirty is True  # a tracked change
    git(git_repo, "commit", "-q", "-am", "second")
    git(git_repo, "checkout", "-q", "-b", "experiment")
    info = git_info()
    assert (info.branch, info.dirty) == ("experiment", False) and info.commit != head
    git(git_repo, "checkout", "-q", "--detach", head)
    assert (git_info().branch, git_info().commit) == ("HEAD", head)


def test_git_dirty_flag_ignores_the_artifact_directory(git_repo):
    (git_repo / "nb.ipynb").write_text("{}")
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-q", "-m", "first")
    (git_repo / "governance-artifacts").mkdir()
    (git_repo / "governance-artifacts" / "model.joblib").write_bytes(b"x")
    assert git_info().dirty is True
    assert git_info(ignore=(git_repo / "governance-artifacts",)).dirty is False
    assert git_info(ignore=("/elsewhere",)).dirty is True
    git(git_repo, "mv", "nb.ipynb", "renamed.ipynb")  # a rename entry carries two paths
    assert git_info(ignore=(git_repo / "governance-artifacts",)).dirty is True


def test_git_without_the_git_binary(git_repo, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert git_info().commit == "" and git_info().dirty is None


# -- environment ----------------------------------------------------------------------------------


def test_environment_names_python_and_the_model_packages():
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklego.preprocessing import ColumnSelector

    env = environment(make_pipeline(ColumnSelector(["a"]), RandomForestClassifier()))
    import platform

    import numpy
    import pandas
    import sklearn
    import sklego  # noqa: F401

    assert env["python"] == platform.python_version()
    assert env["scikit-learn"] == sklearn.__version__
    assert env["pandas"] == pandas.__version__ and env["numpy"] == numpy.__version__
    assert "scikit-lego" in env  # the estimator's own top module


# -- notebook path --------------------------------------------------------------------------------


def test_kernel_id_from_connection_file():
    assert kernel_id_from_connection_file("/run/kernel-0c1d2e3f-aaaa-bbbb-cccc-0123456789ab.json") == (
        "0c1d2e3f-aaaa-bbbb-cccc-0123456789ab"
    )
    assert kernel_id_from_connection_file("/tmp/other.json") is None
    assert kernel_id_from_connection_file(None) is None


def test_notebook_path_from_jpy_session_name(monkeypatch):
    monkeypatch.setenv("JPY_SESSION_NAME", "projects/credit/train.ipynb")
    assert notebook_path(connection_file="/run/kernel-abc.json") == "projects/credit/train.ipynb"


def test_no_notebook_path_outside_a_kernel(tmp_path):
    assert notebook_path(connection_file=None, runtime_dir=tmp_path) is None


async def test_notebook_path_from_the_sessions_api(
    jp_fetch, jp_serverapp, jp_http_port, jp_base_url, jp_root_dir, tmp_path, git_repo
):
    """A real Jupyter server with a real kernel: the path is found through jpserver-*.json + /api/sessions."""
    (jp_root_dir / "work").mkdir()
    (jp_root_dir / "work" / "credit.ipynb").write_text(
        json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    response = await jp_fetch(
        "api",
        "sessions",
        method="POST",
        body=json.dumps({"path": "work/credit.ipynb", "type": "notebook", "kernel": {"name": "python3"}}),
    )
    session = json.loads(response.body)
    kernel_id = session["kernel"]["id"]
    try:
        runtime = tmp_path / "scanned-runtime"
        runtime.mkdir()
        token = jp_serverapp.identity_provider.token
        (runtime / "jpserver-999999.json").write_text(
            json.dumps({"url": "http://127.0.0.1:9/", "token": "stale"})  # a dead server is skipped
        )
        (runtime / "jpserver-4242.json").write_text(
            json.dumps(
                {"url": f"http://localhost:{jp_http_port}{jp_base_url}", "base_url": jp_base_url, "token": token}
            )
        )
        os.utime(runtime / "jpserver-999999.json", (0, 0))
        found = await asyncio.to_thread(
            notebook_path, connection_file=f"/somewhere/kernel-{kernel_id}.json", runtime_dir=runtime
        )
        assert found == "work/credit.ipynb"
        other = await asyncio.to_thread(
            notebook_path, connection_file="/somewhere/kernel-00000000-0000.json", runtime_dir=runtime
        )
        assert other is None
    finally:
        await jp_fetch("api", "sessions", session["id"], method="DELETE")


@pytest.mark.parametrize("bad", ["not json", json.dumps(["a list"]), json.dumps({"no": "url"})])
def test_broken_server_files_are_skipped(tmp_path, bad):
    (tmp_path / "jpserver-1.json").write_text(bad)
    assert notebook_path(connection_file="/x/kernel-abc.json", runtime_dir=tmp_path) is None


async def _run_in_kernel(connection_file: str, code: str) -> str:
    """Execute code in a running kernel (the server keeps serving on this event loop meanwhile)."""
    from jupyter_client import AsyncKernelClient

    client = AsyncKernelClient(connection_file=connection_file)
    client.load_connection_file()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=30)
        out: list[str] = []
        reply = await client.execute_interactive(
            code,
            timeout=30,
            output_hook=lambda msg: out.append(msg["content"].get("text", "")) if msg["msg_type"] == "stream" else None,
        )
        assert reply["content"]["status"] == "ok", reply["content"]
        return "".join(out).strip()
    finally:
        client.stop_channels()


async def test_notebook_path_inside_a_real_kernel(jp_fetch, jp_serverapp, jp_http_port, jp_base_url, jp_root_dir):
    """Inside the kernel, without JPY_SESSION_NAME: ipykernel's connection file names the kernel, the
    runtime dir's jpserver-*.json names the server, and the sessions API gives the notebook's path."""
    (jp_root_dir / "nb.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    response = await jp_fetch(
        "api",
        "sessions",
        method="POST",
        body=json.dumps({"path": "nb.ipynb", "type": "notebook", "kernel": {"name": "python3"}}),
    )
    session = json.loads(response.body)
    try:
        info = {
            "url": f"http://localhost:{jp_http_port}{jp_base_url}",
            "token": jp_serverapp.identity_provider.token,
            "base_url": jp_base_url,
        }
        (Path(jp_serverapp.runtime_dir) / "jpserver-4242.json").write_text(json.dumps(info))
        kernel = jp_serverapp.kernel_manager.get_kernel(session["kernel"]["id"])
        code = (
            "import os\n"
            "print('session:', os.environ.pop('JPY_SESSION_NAME', None))\n"
            "from governance_jupyter.context import notebook_path\n"
            "print('found:', notebook_path())\n"
        )
        out = await _run_in_kernel(kernel.connection_file, code)
        assert out.splitlines() == ["session: nb.ipynb", "found: nb.ipynb"]
    finally:
        await jp_fetch("api", "sessions", session["id"], method="DELETE")
