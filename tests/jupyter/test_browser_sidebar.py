"""The Governance sidebar end to end, in headless Chromium.

The service runs as pytest-django's live server (real PostgreSQL), JupyterLab runs with the installed
extension in a fresh git repository holding a committed notebook, and Debian's chromium, driven by
Playwright, does what a data scientist does: run the notebook (a scikit-learn classifier trained on
scikit-learn's bundled breast cancer data set), open the Governance panel, register the run from its
form, and see the run in the panel. The service's REST API then shows the run with the notebook's path
and the repository's commit. The screenshots go to the test's temporary folder, or, with
SAVE_SCREENSHOTS=1, to docs/jupyter-sidebar*.png (so that `make test` leaves the tree as it was).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
import requests

from tests.browser import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "jupyter-sidebar.png"
NOTEBOOK = "breast_cancer.ipynb"
TAB = '.jp-SideBar li[data-id="governance-sidebar"]'
# The open notebook's kernel has started and is idle (running cells before that asks to select a kernel).
KERNEL_IDLE = """() => {
  const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = widget && widget.sessionContext && widget.sessionContext.session
    && widget.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle' && kernel.connectionStatus === 'connected';
}"""

CELLS = [
    nbformat.v4.new_markdown_cell(
        "# Breast cancer classifier\n\nA baseline on scikit-learn's Wisconsin diagnostic data set."
    ),
    nbformat.v4.new_code_cell(
        "from sklearn.datasets import load_breast_cancer\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "from sklearn.model_selection import train_test_split\n"
        "from sklearn.pipeline import make_pipeline\n"
        "from sklearn.preprocessing import StandardScaler\n"
        "\n"
        "cancer = load_breast_cancer(as_frame=True).frame\n"
        'cancer.insert(0, "patient_id", [f"patient-{i:04d}" for i in range(len(cancer))])\n'
        'train, test = train_test_split(cancer, test_size=0.25, random_state=0, stratify=cancer["target"])\n'
        'features = [c for c in cancer.columns if c not in ("patient_id", "target")]\n'
        "train.shape, test.shape"
    ),
    nbformat.v4.new_code_cell(
        "classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))\n"
        'classifier.fit(train[features], train["target"])\n'
        'accuracy = classifier.score(test[features], test["target"])\n'
        'print(f"accuracy={accuracy:.4f}")'
    ),
]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


MAGIC = (
    "%load_ext governance_jupyter\n"
    "%governance register-run --model classifier --data train --target target --subject-column patient_id"
    " --legal-basis consent --dataset breast_cancer --model-name cancer-screening --run-name from-magic"
)
# Runs code in the notebook's kernel, as a cell would (without adding one to the notebook).
MAGIC_JS = """code => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  kernel.requestExecute({ code, store_history: false });
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def notebook_repo(git_repo):
    """A git repository whose only commit holds the training notebook."""
    notebook = nbformat.v4.new_notebook(cells=CELLS)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, git_repo / NOTEBOOK)
    git(git_repo, "add", NOTEBOOK)
    git(git_repo, "commit", "-q", "-m", "Breast cancer baseline")
    return git_repo


def _labextension_installed() -> bool:
    return (Path(sys.prefix) / "share/jupyter/labextensions/governance-jupyter/package.json").exists()


@pytest.fixture
def jupyter_lab(notebook_repo, live_server, raw_key, tmp_path):
    """JupyterLab on a free loopback port, configured for the live service; stopped afterwards."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    if not _labextension_installed():
        pytest.fail("the governance-jupyter labextension is not installed: pip install ./jupyter_ext")
    port, token = free_port(), secrets.token_hex(16)
    settings = tmp_path / "lab-settings"
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    # No "get notified about Jupyter news?" toast, and no update check (this machine has no internet).
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    env = {
        **os.environ,
        "GOVERNANCE_URL": live_server.url,
        "GOVERNANCE_API_KEY": raw_key,
        "GOVERNANCE_ARTIFACT_DIR": str(tmp_path / "artifacts"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "lab-workspaces"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"),
        "IPYTHONDIR": str(tmp_path / "ipython"),
    }
    env.pop("JPY_SESSION_NAME", None)
    log = (tmp_path / "jupyter.log").open("w")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "jupyter-lab"),
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={notebook_repo}",
            "--ServerApp.open_browser=False",
            "--LabApp.expose_app_in_browser=True",
        ],
        cwd=notebook_repo,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its kernels too: the whole group is stopped at the end
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"jupyter lab exited with {process.returncode}:\n{(tmp_path / 'jupyter.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"jupyter lab did not start:\n{(tmp_path / 'jupyter.log').read_text()}")
            time.sleep(0.5)
        yield {"base": base, "token": token, "root": notebook_repo, "log": tmp_path / "jupyter.log"}
    finally:
        _stop(process)
        log.close()


def _widen_left_area(page, width: int) -> None:
    """Drag the left area's splitter, as a person gives a side panel more room."""
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle:not(.lm-mod-hidden)").first
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(width, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # jupyter shuts its kernels down on SIGTERM
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    try:
        os.killpg(process.pid, signal.SIGKILL)  # anything of its group still there (a stray kernel)
    except ProcessLookupError:
        pass


def test_register_a_run_from_the_sidebar(jupyter_lab, live_server, raw_key, project, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    base, token, repo = jupyter_lab["base"], jupyter_lab["token"], jupyter_lab["root"]
    head = git(repo, "rev-parse", "HEAD")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000}, device_scale_factor=1)
            page.set_default_timeout(60_000)
            page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}")

            # The notebook opens with its kernel; run every cell, as Run > Run All Cells does.
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
            page.wait_for_function(KERNEL_IDLE, timeout=120_000)
            page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
            output = page.locator(".jp-OutputArea-output", has_text="accuracy=")
            expect(output).to_be_visible(timeout=120_000)
            accuracy = float(output.inner_text().strip().split("=")[1])
            assert 0.9 < accuracy <= 1.0

            # The Governance panel: connected, this notebook, and the kernel's objects in the form.
            page.click(TAB)
            panel = page.locator("#governance-sidebar")
            _widen_left_area(page, 400)
            expect(panel.get_by_test_id("connection-status")).to_have_attribute("data-state", "connected")
            expect(panel.get_by_test_id("connection-status")).to_contain_text("Acme Bank")
            expect(panel.get_by_test_id("section-notebook")).to_contain_text(NOTEBOOK)
            expect(panel.get_by_test_id("notebook-runs-empty")).to_be_visible()
            form = panel.get_by_test_id("register-form")
            expect(form).to_be_visible()
            expect(form.get_by_test_id("register-model")).to_have_value("classifier")
            form.get_by_test_id("register-data").select_option("train")
            form.get_by_test_id("register-target").select_option("target")
            form.get_by_test_id("register-subject").select_option("patient_id")
            form.get_by_test_id("register-legal-basis").select_option("consent")
            form.get_by_test_id("register-dataset").fill("breast_cancer")
            form.get_by_test_id("register-model-name").fill("cancer-screening")
            form.get_by_test_id("register-run-name").fill("logreg-baseline")
            form.get_by_test_id("register-metrics").fill(json.dumps({"accuracy": accuracy}))
            form.get_by_test_id("register-submit").click()

            success = panel.get_by_test_id("register-success")
            expect(success).to_be_visible(timeout=120_000)
            expect(success).to_contain_text("cancer-screening v1")

            # The new run shows in "This notebook" and in the project's runs.
            run_item = panel.get_by_test_id("notebook-run")
            expect(run_item).to_have_count(1)
            expect(run_item).to_contain_text("logreg-baseline")
            expect(run_item).to_contain_text("cancer-screening v1")
            expect(run_item).to_contain_text(head[:8])
            expect(run_item).to_contain_text("finished")
            run_id = int(run_item.get_attribute("data-run-id"))
            panel.get_by_test_id("tab-runs").click()
            expect(panel.get_by_test_id("runs-item").first).to_contain_text("logreg-baseline")
            panel.get_by_test_id("tab-model-versions").click()
            expect(panel.get_by_test_id("model-versions-item").first).to_contain_text("cancer-screening")

            # The run is kept in the notebook's metadata, so it is saved with it.
            page.evaluate("() => { window.jupyterapp.commands.execute('docmanager:save'); }")
            page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000)
            saved = nbformat.read(repo / NOTEBOOK, as_version=4)
            assert [r["run_id"] for r in saved.metadata["governance"]["runs"]] == [run_id]

            page.mouse.move(0, 0)
            shots = SCREENSHOT.parent if os.environ.get("SAVE_SCREENSHOTS") == "1" else tmp_path
            page.screenshot(path=str(shots / SCREENSHOT.name))

            # The model version's page: lineage back to the data version, no audit or report yet.
            run_item.get_by_test_id("notebook-run-model").click()
            detail = panel.get_by_test_id("model-version-detail")
            expect(detail.get_by_test_id("lineage")).to_contain_text("breast_cancer")
            expect(detail.get_by_test_id("lineage")).to_contain_text("logreg-baseline")
            expect(detail.get_by_test_id("fairness-status")).to_have_attribute("data-state", "none")
            expect(detail.get_by_test_id("drift-status")).to_have_attribute("data-state", "none")
            page.screenshot(path=str(shots / "jupyter-sidebar-model-version.png"))

            # A run registered with the magic instead shows in "This notebook" too: the panel picks the
            # record the kernel publishes up from the notebook's kernel messages.
            detail.get_by_test_id("detail-back").click()
            page.evaluate(MAGIC_JS, MAGIC)
            expect(run_item).to_have_count(2)
            expect(run_item.first).to_contain_text("from-magic")
            expect(run_item.first).to_contain_text("cancer-screening v2")
            expect(panel.get_by_test_id("model-versions-item")).to_have_count(2)  # the registry followed

            # The same page in the dark theme: the panel uses JupyterLab's theme variables only.
            page.evaluate(
                "() => { window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'}); }"
            )
            page.wait_for_selector('body[data-jp-theme-light="false"]', state="attached")
            page.wait_for_timeout(500)  # the theme's stylesheet applies
            page.screenshot(path=str(shots / "jupyter-sidebar-dark.png"))
        except Exception:
            # What the panel showed, to tell a service, kernel or UI failure apart.
            page.screenshot(path=str(tmp_path / "failure.png"))
            print(f"screenshot: {tmp_path / 'failure.png'}\npanel:\n{page.locator('#governance-sidebar').inner_text()}")
            raise
        finally:
            browser.close()

    # The service has the run, with the notebook's path and the repository's commit.
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {raw_key}"
    run = api.get(f"{live_server.url}/api/v1/runs/{run_id}/", timeout=10).json()
    assert run["name"] == "logreg-baseline"
    assert run["notebook_path"].endswith(NOTEBOOK)
    assert run["git_commit"] == head
    assert run["source"] == "notebook"
    assert run["metrics"]["accuracy"] == pytest.approx(accuracy)
    versions = api.get(f"{live_server.url}/api/v1/model-versions/", params={"run": run_id}, timeout=10).json()
    assert versions["count"] == 1 and versions["results"][0]["version"] == 1
