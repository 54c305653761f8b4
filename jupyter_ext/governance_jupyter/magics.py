"""IPython magics: `%load_ext governance_jupyter`, then

    %governance status
    %governance card 12 --intended-use "loan pre-screening" --limitations "adults only" --risk-tier high
    %governance audit 12 --by sex,age_band --positive approve     # a fairness audit: its job followed
    %governance register-run --model clf --data train_df --subject-column id --target y --metrics '{"auc": 0.81}'

    %%governance register-run --model clf --data train_df --target y --metrics metrics
    clf.fit(train_df[features], train_df["y"])          # the cell runs first; registration only if it succeeds
    metrics = {"auc": roc_auc_score(...)}

`--metrics` is a JSON (or Python literal) object, or the name of a dict in the notebook. The run id and
model version go to the notebook's metadata (`governance.runs`) through a display_data of MIME type
`application/vnd.governance.run+json`, which the JupyterLab extension stores.
"""

from __future__ import annotations

import argparse
import ast
import json
import shlex
from collections.abc import Mapping
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.display import publish_display_data

from .client import GovernanceClient
from .errors import GovernanceError, NotConfigured, ServiceRefused, ServiceUnreachable
from .register import RUN_MIME, register_training, summary
from .status import connected, not_configured, refused, unreachable

USAGE = """\
%governance status
%governance register-run --model VAR --data VAR [--target COL] [--subject-column COL] [--metrics JSON|VAR]
                         [--dataset NAME] [--model-name NAME] [--run-name NAME] [--data-version NAME]
                         [--role train|validation|test] [--legal-basis TEXT] [--project SLUG]
                         [--intended-use TEXT] [--limitations TEXT] [--risk-tier minimal|limited|high]
%%governance register-run ...   (cell form: runs the cell, then registers)
%governance card VERSION_ID [--intended-use TEXT] [--limitations TEXT] [--risk-tier minimal|limited|high]
                            (the model card, editable until the version has been in production)
%governance audit VERSION_ID --by ATTR[,ATTR] --positive LABEL [--start ISO] [--end ISO]
                            (a fairness audit, run as a background job of the service and followed to its result)"""
RISK_TIERS = ["minimal", "limited", "high"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would exit the kernel
        raise UsageError(f"{message}\n{USAGE}")

    def exit(self, status: int = 0, message: str | None = None) -> None:
        raise UsageError(message or USAGE)


def _parser() -> _Parser:
    parser = _Parser(prog="%governance", add_help=False)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    sub.add_parser("status", add_help=False)
    sub.add_parser("help", add_help=False)
    reg = sub.add_parser("register-run", add_help=False)
    reg.add_argument("--model", required=True, help="the estimator's variable name")
    reg.add_argument("--data", required=True, help="the training DataFrame's variable name")
    reg.add_argument("--target", default=None)
    reg.add_argument("--subject-column", default=None)
    reg.add_argument("--metrics", default=None)
    reg.add_argument("--dataset", default=None, help="dataset name (default: the DataFrame's variable name)")
    reg.add_argument("--model-name", default=None, help="model name (default: the estimator's variable name)")
    reg.add_argument("--run-name", default=None)
    reg.add_argument("--data-version", default=None, help="version name (default: from the content hash)")
    reg.add_argument("--role", default="train", choices=["train", "validation", "test"])
    reg.add_argument("--legal-basis", default="", help="needed when a new dataset holds personal data")
    reg.add_argument("--project", default=None)
    _card_arguments(reg)
    audit = sub.add_parser("audit", add_help=False)
    audit.add_argument("version", type=int, help="the model version's id")
    audit.add_argument("--by", required=True, help="sensitive attributes, comma separated (an intersection)")
    audit.add_argument("--positive", required=True, help="the positive label (JSON for a number or boolean)")
    audit.add_argument("--start", default=None, help="window start, ISO 8601")
    audit.add_argument("--end", default=None, help="window end, ISO 8601")
    card = sub.add_parser("card", add_help=False)
    card.add_argument("version", type=int, help="the model version's id")
    _card_arguments(card)
    return parser


def _card_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--intended-use", default=None, help="what the model is for, and for whom")
    parser.add_argument("--limitations", default=None, help="where it must not be used")
    parser.add_argument("--risk-tier", default=None, choices=RISK_TIERS, help="the model's (every version's)")


def parse_metrics(text: str | None, namespace: Mapping[str, Any]) -> dict[str, Any]:
    if text is None or not text.strip():
        return {}
    text = text.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except ValueError:
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError) as exc:
                raise UsageError(f"--metrics is neither JSON nor a Python dict literal: {exc}") from None
    elif text.isidentifier():
        if text not in namespace:
            raise UsageError(f"--metrics: no variable {text!r} in the notebook")
        value = namespace[text]
    else:
        raise UsageError("--metrics must be a JSON object or the name of a dict variable")
    if not isinstance(value, Mapping):
        raise UsageError(f"--metrics must be an object (name -> number), got {type(value).__name__}")
    return dict(value)


def status_message(client_factory: Any = GovernanceClient) -> dict[str, Any]:
    """The same status the server extension reports, computed from the kernel's own configuration."""
    try:
        client = client_factory()
    except NotConfigured as exc:
        return dict(not_configured("", str(exc)))
    with client:
        try:
            return dict(connected(client.url, client.whoami(), client.settings.project))
        except ServiceUnreachable as exc:
            return dict(unreachable(client.url, exc.reason))
        except ServiceRefused as exc:
            return dict(refused(client.url, exc.status, exc.message))


def publish_record(record: dict[str, Any], url: str) -> None:
    publish_display_data({RUN_MIME: record, "text/plain": summary(record, url)})  # type: ignore[arg-type]


def register_from_namespace(
    namespace: Mapping[str, Any],
    *,
    model: str,
    data: str,
    target: str | None = None,
    subject_column: str | None = None,
    metrics: Mapping[str, Any] | None = None,
    dataset: str | None = None,
    model_name: str | None = None,
    run_name: str | None = None,
    data_version: str | None = None,
    role: str = "train",
    legal_basis: str = "",
    intended_use: str | None = None,
    limitations: str | None = None,
    risk_tier: str | None = None,
    project: str | None = None,
    client: GovernanceClient | None = None,
) -> dict[str, Any]:
    """Look the variables up, register data version -> run -> model version, publish the run record."""
    import pandas as pd

    if model not in namespace:
        raise GovernanceError(f"no variable {model!r} in the notebook (--model)")
    if data not in namespace:
        raise GovernanceError(f"no variable {data!r} in the notebook (--data)")
    estimator, frame = namespace[model], namespace[data]
    if not isinstance(frame, pd.DataFrame):
        raise GovernanceError(f"{data!r} is a {type(frame).__name__}, not a pandas DataFrame (--data)")
    if not hasattr(estimator, "get_params"):
        raise GovernanceError(f"{model!r} is a {type(estimator).__name__}, not a scikit-learn estimator (--model)")
    own = client is None
    client = client or GovernanceClient(project=project)
    try:
        result = register_training(
            estimator,
            frame,
            target=target,
            subject_column=subject_column,
            dataset=dataset or data,
            model=model_name or model,
            metrics=metrics,
            run_name=run_name,
            data_version=data_version,
            role=role,
            legal_basis=legal_basis,
            intended_use=intended_use or "",
            limitations=limitations or "",
            risk_tier=risk_tier or None,
            project=project,
            client=client,
        )
        publish_record(dict(result["record"]), client.url)
    finally:
        if own:
            client.close()
    return result


def card_edit(
    version_id: int,
    *,
    intended_use: str | None = None,
    limitations: str | None = None,
    risk_tier: str | None = None,
    client: GovernanceClient | None = None,
) -> dict[str, Any]:
    """`%governance card`: edit the version's model card and say what it is now."""
    if intended_use is None and limitations is None and risk_tier is None:
        raise UsageError(f"give --intended-use, --limitations or --risk-tier\n{USAGE}")
    own = client is None
    client = client or GovernanceClient()
    try:
        version = client.model_version_card(
            version_id, intended_use=intended_use, limitations=limitations, risk_tier=risk_tier
        )
    finally:
        if own:
            client.close()
    print(
        f"model card of version {version['version']} (id {version['id']}) saved: risk tier {version['risk_tier']}, "
        f"intended use {'set' if version['intended_use'].strip() else 'empty'}, "
        f"limitations {'set' if version['limitations'].strip() else 'empty'}"
    )
    return version


def parse_label(text: str) -> Any:
    """A positive label as typed: a JSON number, boolean or string (`1`, `true`, `"1"`), else the text itself."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, (str, int, float, bool)) else text


def audit_run(
    version_id: int,
    *,
    by: str,
    positive: str,
    start: str | None = None,
    end: str | None = None,
    client: GovernanceClient | None = None,
) -> dict[str, Any]:
    """`%governance audit`: run a fairness audit (the service's background job, followed) and say how it came out."""
    features = [name.strip() for name in by.split(",") if name.strip()]
    if not features:
        raise UsageError(f"--by names at least one attribute\n{USAGE}")
    own = client is None
    client = client or GovernanceClient()
    try:
        audit = client.fairness_audit(version_id, features, parse_label(positive), window_start=start, window_end=end)
    finally:
        if own:
            client.close()
    verdict = "passed" if audit["passed"] else "failed: " + "; ".join(c["message"] for c in audit["failed_checks"])
    kind = " (exploratory)" if audit.get("exploratory") else ""
    print(
        f"fairness audit {audit['id']} of version {version_id} by {', '.join(features)}{kind}: "
        f"{audit['row_count']:,} decisions, {verdict}"
    )
    return audit


@magics_class
class GovernanceMagics(Magics):
    last_result: dict[str, Any] | None = None

    @no_var_expand
    @line_cell_magic
    def governance(self, line: str, cell: str | None = None) -> None:
        """Governance service: `%governance status`, `%governance register-run ...` (see `%governance help`)."""
        try:
            argv = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"cannot parse the magic's arguments: {exc}") from None
        args = _parser().parse_args(argv)
        if args.command in (None, "help"):
            print(USAGE)
            return None
        if args.command == "status":
            if cell is not None:
                raise UsageError("%governance status takes no cell")
            print(status_message()["message"])
            return None
        if args.command == "audit":
            if cell is not None:
                raise UsageError("%governance audit takes no cell")
            GovernanceMagics.last_result = audit_run(
                args.version, by=args.by, positive=args.positive, start=args.start, end=args.end
            )
            return None
        if args.command == "card":
            if cell is not None:
                raise UsageError("%governance card takes no cell")
            GovernanceMagics.last_result = card_edit(
                args.version, intended_use=args.intended_use, limitations=args.limitations, risk_tier=args.risk_tier
            )
            return None
        namespace = self.shell.user_ns
        if cell is not None:
            outcome = self.shell.run_cell(cell, store_history=False)
            if not outcome.success:
                print("governance: the cell failed; nothing was registered")
                return None
        result = register_from_namespace(
            namespace,
            model=args.model,
            data=args.data,
            target=args.target,
            subject_column=args.subject_column,
            metrics=parse_metrics(args.metrics, namespace),
            dataset=args.dataset,
            model_name=args.model_name,
            run_name=args.run_name,
            data_version=args.data_version,
            role=args.role,
            legal_basis=args.legal_basis,
            intended_use=args.intended_use,
            limitations=args.limitations,
            risk_tier=args.risk_tier,
            project=args.project,
        )
        GovernanceMagics.last_result = result
        return None
