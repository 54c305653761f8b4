"""A model version as a Hugging Face-style model card: markdown with YAML front matter (`library_name`, `tags`,
`datasets`, a `model-index` with the version's metrics), then the card's sections written from the records:
intended use, limitations, training data (each data version with its content hash), training procedure,
evaluation, fairness, and governance (stage, deployments, the audit events that recorded them).

The front matter also carries a `governance` map (project, model version, artifact sha256, the data versions
with their hashes): what a reader of the card alone needs to find the records it was written from."""

from __future__ import annotations

from datetime import UTC, datetime

import yaml

from governance.evidence.bom import latest_audits, upstream_data
from governance.evidence.citations import audit_citations, target_key
from registry.models import Deployment, ModelVersion

MEDIA_TYPE = "text/markdown; charset=utf-8"


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _number(value: object) -> object:
    if isinstance(value, list):
        value = value[-1] if value else None
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _library(framework: str) -> str | None:
    """The Hugging Face library id for a framework as recorded ("scikit-learn 1.9.1", "fairlearn ... over
    scikit-learn ..."): the library the estimator runs on."""
    text = framework.lower()
    for name, library in (
        ("scikit-learn", "sklearn"),
        ("sklearn", "sklearn"),
        ("xgboost", "xgboost"),
        ("lightgbm", "lightgbm"),
        ("pytorch", "pytorch"),
        ("torch", "pytorch"),
        ("tensorflow", "tf-keras"),
        ("keras", "keras"),
        ("transformers", "transformers"),
    ):
        if name in text:
            return library
    return text.split()[0] if text.split() else None


def model_version_card(*, model_version: ModelVersion, now: datetime | None = None) -> str:
    version = ModelVersion.objects.select_related("model__project", "run").get(pk=model_version.pk)
    run = version.run
    data_versions, roles, parents = upstream_data(version)
    audits = latest_audits(version)
    deployments = list(Deployment.objects.filter(model_version=version).order_by("started_at", "id"))
    citations = audit_citations([version, *audits, *deployments])
    metrics = {name: _number(value) for name, value in sorted(version.metrics.items())}
    metrics = {name: value for name, value in metrics.items() if value is not None}
    training = [dv for dv in data_versions if roles.get(dv.pk)]

    front = {
        "library_name": _library(version.framework),
        "tags": ["governance", f"risk-tier-{version.model.risk_tier}", f"stage-{version.stage}"],
        "datasets": sorted({dv.dataset.name for dv in training}),
        "model-index": [
            {
                "name": f"{version.model.name} v{version.version}",
                "results": [
                    {
                        "task": {"type": "tabular-classification"},
                        "dataset": {"name": dv.dataset.name, "type": dv.dataset.name, "revision": dv.version},
                        "metrics": [{"type": name, "name": name, "value": value} for name, value in metrics.items()],
                    }
                    for dv in training
                    if "test" in roles.get(dv.pk, [])
                ]
                or [{"task": {"type": "tabular-classification"}, "metrics": []}],
            }
        ],
        "governance": {
            "project": version.model.project.slug,
            "model": version.model.name,
            "model_version": version.pk,
            "version": version.version,
            "framework": version.framework,
            "artifact_sha256": version.artifact_sha256,
            "generated_at": (now or datetime.now(UTC)).isoformat(),
            "data_versions": [
                {
                    "id": dv.pk,
                    "dataset": dv.dataset.name,
                    "version": dv.version,
                    "content_sha256": dv.content_sha256,
                    "used_as": sorted(roles.get(dv.pk, [])) or ["upstream"],
                    "derived_from": sorted(parents.get(dv.pk, [])),
                }
                for dv in data_versions
            ],
        },
    }
    if front["library_name"] is None:
        del front["library_name"]

    lines = ["---", yaml.safe_dump(front, sort_keys=False, allow_unicode=True).rstrip(), "---", ""]
    lines += [f"# {version.model.name} v{version.version}", ""]
    if version.model.description:
        lines += [version.model.description, ""]
    lines += ["## Intended use", "", version.intended_use.strip() or "_Not recorded._", ""]
    lines += ["## Limitations", "", version.limitations.strip() or "_Not recorded._", ""]
    lines += ["## Training data", ""]
    if data_versions:
        lines += [
            "| dataset | version | used as | rows | personal data | content sha256 |",
            "|---|---|---|---:|---|---|",
        ]
        for dv in data_versions:
            used = ", ".join(sorted(roles.get(dv.pk, []))) or "upstream"
            rows = "" if dv.row_count is None else f"{dv.row_count:,}"
            personal = "yes" if dv.dataset.contains_personal_data else "no"
            lines.append(
                f"| {_cell(dv.dataset.name)} | {_cell(dv.version)} | {used} | {rows} | {personal}"
                f" | `{dv.content_sha256}` |"
            )
    else:
        lines.append("_The training run recorded no data versions._")
    lines += ["", "## Training procedure", ""]
    lines.append(f"- Run: {_cell(run.name)} (id {run.pk}, {run.source})")
    if run.git_commit:
        lines.append(f"- Code: commit `{run.git_commit}`" + (f" on {run.git_branch}" if run.git_branch else ""))
    for name, value in sorted(run.params.items()):
        lines.append(f"- Parameter `{name}` = `{_cell(value)}`")
    if run.environment:
        lines.append("- Environment: " + ", ".join(f"{k} {v}" for k, v in sorted(run.environment.items())))
    lines += ["", "## Evaluation", ""]
    if metrics:
        lines += ["| metric | value |", "|---|---:|"] + [f"| {name} | {value:g} |" for name, value in metrics.items()]
    else:
        lines.append("_No metrics recorded._")
    lines += ["", "## Fairness", ""]
    if audits:
        for audit in audits:
            verdict = "passed" if audit.passed else "failed"
            lines.append(
                f"- Audit {audit.pk} by {', '.join(audit.sensitive_features)}: {verdict} over {audit.row_count:,}"
                f" decisions with outcomes"
                + "".join(
                    f"; {name} {value:g}"
                    for name, value in sorted((audit.disparities or {}).items())
                    if isinstance(value, float)
                )
            )
    else:
        lines.append("_No fairness audit of this version._")
    lines += ["", "## Governance", "", f"- Stage: {version.stage}; risk tier: {version.model.risk_tier}"]
    for deployment in deployments:
        lines.append(
            f"- Deployed to {deployment.environment} ({deployment.strategy}) from {deployment.started_at:%Y-%m-%d}"
            + (f" until {deployment.ended_at:%Y-%m-%d}" if deployment.ended_at else "")
        )
    lines += ["", "Recorded by the audit trail (seq, event, hash):", ""]
    for record in [version, *audits, *deployments]:
        for c in citations.get(target_key(record), []):
            lines.append(f"- {c['seq']} `{c['event_type']}` `{c['hash']}`")
    return "\n".join(lines) + "\n"
