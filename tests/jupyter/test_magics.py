"""`%governance` magics and the sidebar's kernel functions, in a real IPython shell, against a live service."""

from __future__ import annotations

import json

import pytest
from governance_jupyter import RUN_MIME
from governance_jupyter import kernel as sidebar
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from sklearn.linear_model import LogisticRegression

from registry.models import DataVersion, ModelVersion, Run

FEATURES = ["year", "age", "checks"]


@pytest.fixture
def shell(arrests):
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "governance_jupyter")
    frame = arrests[["arrest_id", *FEATURES, "released"]].iloc[:600].reset_index(drop=True)
    shell.user_ns.update(
        train_df=frame,
        clf=LogisticRegression(max_iter=300).fit(frame[FEATURES], frame["released"]),
        untrained=LogisticRegression(),
        _hidden=frame,
        features=FEATURES,
        n=3,
    )
    yield shell
    shell.run_line_magic("reset", "-f")


def run(shell, cell: str):
    """Run a cell as the notebook would; return (result, captured output)."""
    with capture_output(display=True) as captured:
        result = shell.run_cell(cell, store_history=False)
    return result, captured


def records(captured) -> list[dict]:
    return [o.data[RUN_MIME] for o in captured.outputs if RUN_MIME in o.data]


def test_status_says_who_and_where(shell, service, project):
    result, out = run(shell, "%governance status")
    assert result.success
    assert out.stdout.strip() == f"connected to {service.url} as data_scientist of project acme"


def test_status_says_what_is_wrong(shell, monkeypatch, db):
    result, out = run(shell, "%governance status")
    assert result.success and out.stdout.startswith("governance client not configured")
    monkeypatch.setenv("GOVERNANCE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("GOVERNANCE_API_KEY", "gk_abc_secret")
    result, out = run(shell, "%governance status")
    assert out.stdout.startswith("cannot reach the governance service at http://127.0.0.1:9")
    assert "gk_abc_secret" not in out.stdout


def test_status_with_a_refused_key(shell, live_server, monkeypatch, db):
    monkeypatch.setenv("GOVERNANCE_URL", live_server.url)
    monkeypatch.setenv("GOVERNANCE_API_KEY", "gk_abc_revoked")
    _, out = run(shell, "%governance status")
    assert out.stdout.startswith(f"the governance service at {live_server.url} refused the API key (HTTP 401)")
    assert "gk_abc_revoked" not in out.stdout


def test_register_run_line_magic(shell, service, project, monkeypatch):
    monkeypatch.setenv("JPY_SESSION_NAME", "work/credit.ipynb")
    result, out = run(
        shell,
        "%governance register-run --model clf --data train_df --subject-column arrest_id --target released "
        '--metrics "{\\"accuracy\\": 0.74, \\"auc\\": 0.7}" --legal-basis "public task"',
    )
    assert result.success, out.stderr
    [record] = records(out)
    run_row = Run.objects.get(pk=record["run_id"])
    assert run_row.metrics == {"accuracy": 0.74, "auc": 0.7}
    assert run_row.notebook_path == "work/credit.ipynb" == record["notebook_path"]
    assert run_row.params["estimator"] == "sklearn.linear_model._logistic.LogisticRegression"
    mv = ModelVersion.objects.get(pk=record["model_version_id"])
    assert (mv.model.name, mv.version, record["model"], record["version"]) == ("clf", 1, "clf", 1)
    dv = DataVersion.objects.get(pk=record["data_version_id"])
    assert dv.dataset.name == "train_df" and dv.subjects.count() == 600
    assert set(record) == {
        "run_id",
        "run_name",
        "model_version_id",
        "model",
        "version",
        "data_version_id",
        "notebook_path",
        "git_commit",
    }
    [bundle] = [o.data for o in out.outputs if RUN_MIME in o.data]
    assert bundle["text/plain"].startswith(f"registered run {record['run_id']} (")


def test_register_run_cell_magic_runs_the_cell_first(shell, service, project):
    cell = (
        "%%governance register-run --model model --data train_df --target released --model-name credit "
        "--dataset credit-train --run-name 'cell run' --metrics scores\n"
        "model = LogisticRegression(max_iter=200).fit(train_df[features], train_df['released'])\n"
        "scores = {'accuracy': float(model.score(train_df[features], train_df['released']))}\n"
    )
    shell.user_ns["LogisticRegression"] = LogisticRegression
    result, out = run(shell, cell)
    assert result.success, out.stderr
    [record] = records(out)
    assert record["run_name"] == "cell run" and record["model"] == "credit"
    assert Run.objects.get(pk=record["run_id"]).metrics == shell.user_ns["scores"]
    assert DataVersion.objects.get(pk=record["data_version_id"]).dataset.name == "credit-train"


def test_a_failing_cell_registers_nothing(shell, service, project):
    result, out = run(shell, "%%governance register-run --model clf --data train_df\nraise RuntimeError('boom')\n")
    assert "nothing was registered" in out.stdout
    assert not Run.objects.exists()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("%governance register-run --data train_df", "--model"),
        ("%governance register-run --model nope --data train_df", "no variable 'nope'"),
        ("%governance register-run --model clf --data n", "not a pandas DataFrame"),
        ("%governance register-run --model n --data train_df", "not a scikit-learn estimator"),
        ("%governance register-run --model clf --data train_df --metrics '[1]'", "--metrics"),
        ("%governance register-run --model clf --data train_df --target nope", "no column 'nope'"),
        ("%governance frobnicate", "invalid choice"),
    ],
)
def test_usage_errors_are_clear(shell, service, project, line, message):
    result, out = run(shell, line)
    assert not result.success
    error = result.error_in_exec or result.error_before_exec
    assert message in str(error)
    assert not Run.objects.exists()


def test_a_new_personal_dataset_needs_a_legal_basis(shell, service, project):
    result, out = run(shell, "%governance register-run --model clf --data train_df --subject-column arrest_id")
    assert not result.success
    assert result.error_in_exec._render_traceback_() == [f"GovernanceError: {result.error_in_exec}"]
    assert str(result.error_in_exec).startswith("dataset 'train_df' is new and holds personal data")
    assert not DataVersion.objects.exists()


def test_a_refusal_shows_the_service_message(shell, service, project):
    line = "%governance register-run --model clf --data train_df --data-version v1"
    assert run(shell, line)[0].success
    shell.user_ns["train_df"] = shell.user_ns["train_df"].iloc[:100]  # other content under the same version
    result, out = run(shell, line)
    assert not result.success
    [rendered] = result.error_in_exec._render_traceback_()  # one line, no traceback
    assert rendered.startswith("ServiceRefused: the governance service refused (POST /api/v1/data-versions/): HTTP 409")
    assert "already registered" in rendered


def test_register_run_sets_the_model_card(shell, service, project):
    result, out = run(
        shell,
        "%governance register-run --model clf --data train_df --target released "
        "--intended-use 'release decisions, advisory' --limitations 'one county' --risk-tier high",
    )
    assert result.success, out.stderr
    [record] = records(out)
    mv = ModelVersion.objects.select_related("model").get(pk=record["model_version_id"])
    assert (mv.intended_use, mv.limitations, mv.model.risk_tier) == (
        "release decisions, advisory",
        "one county",
        "high",
    )


def test_card_magic_edits_the_card_and_is_audited(shell, service, project):
    from registry.models import AuditEvent

    assert run(shell, "%governance register-run --model clf --data train_df --target released")[0].success
    mv = ModelVersion.objects.get()
    assert mv.intended_use == ""  # registered from a notebook with an empty card
    result, out = run(
        shell, f"%governance card {mv.pk} --intended-use 'release advice' --limitations 'adults' --risk-tier high"
    )
    assert result.success, out.stderr
    saved = f"model card of version 1 (id {mv.pk}) saved: risk tier high, intended use set, limitations set"
    assert out.stdout.strip() == saved
    mv.refresh_from_db()
    assert (mv.intended_use, mv.limitations, mv.model.risk_tier) == ("release advice", "adults", "high")
    event = AuditEvent.objects.get(event_type="model_version.card_updated")
    assert event.actor_key_id is not None


def test_card_magic_refusals_are_clear(shell, service, project):
    assert run(shell, "%governance register-run --model clf --data train_df")[0].success
    mv = ModelVersion.objects.get()
    result, _ = run(shell, f"%governance card {mv.pk}")
    assert "give --intended-use, --limitations or --risk-tier" in str(result.error_in_exec)
    result, _ = run(shell, f"%governance card {mv.pk} --risk-tier extreme")
    assert "invalid choice" in str(result.error_in_exec or result.error_before_exec)
    ModelVersion.objects.filter(pk=mv.pk).update(stage="production")
    result, _ = run(shell, f"%governance card {mv.pk} --limitations 'after the fact'")
    [rendered] = result.error_in_exec._render_traceback_()
    assert "HTTP 409" in rendered and "frozen" in rendered
    assert ModelVersion.objects.get(pk=mv.pk).limitations == ""


def test_help(shell):
    _, out = run(shell, "%governance help")
    assert "%governance register-run --model VAR --data VAR" in out.stdout
    assert "%governance card VERSION_ID" in out.stdout


# -- the sidebar's kernel side --------------------------------------------------------------------


def test_list_candidates(shell, capsys):
    sidebar.list_candidates()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    payload = json.loads(lines[0])
    assert payload["dataframes"] == [{"name": "train_df", "rows": 600, "columns": ["arrest_id", *FEATURES, "released"]}]
    assert payload["estimators"] == [
        {"name": "clf", "class": "sklearn.linear_model._logistic.LogisticRegression"},
        {"name": "untrained", "class": "sklearn.linear_model._logistic.LogisticRegression"},
    ]


def test_register_from_sidebar(shell, service, project, capsys):
    options = {
        "model": "clf",
        "data": "train_df",
        "target": "released",
        "subject_column": "arrest_id",
        "dataset": "arrests-train",
        "model_name": "release",
        "metrics": {"accuracy": 0.7},
        "legal_basis": "public task",
    }
    with capture_output(display=True, stdout=False) as displayed:
        sidebar.register_from_sidebar(json.dumps(options))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    payload = json.loads(lines[0])
    assert payload["ok"] is True
    assert payload["run"]["metrics"] == {"accuracy": 0.7}
    assert payload["model_version"]["version"] == 1
    assert payload["data_version"]["subject_count"] == 600 and "profile" not in payload["data_version"]
    [record] = records(displayed)
    assert record["run_id"] == payload["run"]["id"] and record["model"] == "release"

    sidebar.register_from_sidebar(json.dumps({**options, "model": "missing"}))
    failed = json.loads(capsys.readouterr().out)
    assert failed == {"ok": False, "error": "no variable 'missing' in the notebook (--model)"}
    sidebar.register_from_sidebar("{not json")
    assert json.loads(capsys.readouterr().out)["ok"] is False
    with capture_output(display=True, stdout=False):  # a plain shell would print the display to stdout
        sidebar.register_from_sidebar(json.dumps({**options, "subject_column": None, "dataset": "other"}))
    assert json.loads(capsys.readouterr().out)["ok"] is True


def test_audit_magic_runs_a_fairness_audit_through_its_job(shell, live_server, project, monkeypatch):
    from governance_jupyter import JobFailed
    from governance_jupyter.magics import GovernanceMagics

    from registry import services
    from registry.actors import Actor
    from tests.jupyter.test_client import audited_version

    version = audited_version(project)
    _, key = services.api_key_create(actor=Actor.system(), project=project, role="risk_analyst", name="analyst")
    monkeypatch.setenv("GOVERNANCE_URL", live_server.url)
    monkeypatch.setenv("GOVERNANCE_API_KEY", key)
    result, out = run(shell, f"%governance audit {version.pk} --by sex --positive 1")
    assert result.success, out.stderr
    audit = GovernanceMagics.last_result
    assert out.stdout.startswith(
        f"fairness audit {audit['id']} of version {version.pk} by sex (exploratory): 80 decisions, "
    )
    result, _ = run(shell, f"%governance audit {version.pk} --by region --positive 1")
    assert isinstance(result.error_in_exec, JobFailed)
    assert "the decisions form one group only (region=north)" in result.error_in_exec.fields["sensitive_features"][0]
