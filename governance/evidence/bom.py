"""A model version as a CycloneDX 1.6 ML-BOM, built from the records with `cyclonedx-python-lib`.

Components: the model version (type machine-learning-model: its artifact's sha256, its stage, risk tier, training
run and code commit, the audit events that registered and moved it), every data version upstream of it (type
data: content sha256, rows, personal data, how it was used or derived, through the lineage graph so pipeline
inputs are there too) and the training environment's packages (type library, with a PyPI purl). Dependencies:
the model on its training data and packages, each data version on those it was derived from.

The library has no model of CycloneDX's `modelCard` yet, so the card (datasets, performance metrics, fairness
assessments from the audits, intended use and limitations) is added to the serialised component; the whole
document is then valid against the library's bundled 1.6 schema (tested with its JsonStrictValidator).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from cyclonedx.model import HashAlgorithm, HashType, Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from governance.evidence.citations import audit_citations, target_key
from governance.lineage import lineage_upstream_edges
from governance.models import Basis, FairnessAudit
from registry.models import DataVersion, Deployment, ModelVersion, Run

SCHEMA_VERSION = "1.6"
MEDIA_TYPE = "application/vnd.cyclonedx+json; version=1.6"
PREFIX = "governance"  # properties' namespace
NOT_PACKAGES = {"python", "platform", "implementation"}  # run.environment keys that are not distributions
PACKAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _ref(kind: str, pk: int) -> str:
    return f"{kind}:{pk}"


def _props(**values: object) -> list[Property]:
    return [
        Property(name=f"{PREFIX}:{name}", value=str(value))
        for name, value in values.items()
        if value is not None and value != ""
    ]


def _cited(citations: dict, record) -> list[Property]:
    """The audit events that recorded `record`, as properties: `governance:audit` = "<seq> <event type> <hash>"."""
    return [
        Property(name=f"{PREFIX}:audit", value=f"{c['seq']} {c['event_type']} {c['hash']}")
        for c in citations.get(target_key(record), [])
    ]


def _sha256(value: str) -> list[HashType]:
    return [HashType(alg=HashAlgorithm.SHA_256, content=value)] if re.fullmatch(r"[0-9a-f]{64}", value or "") else []


def upstream_data(version: ModelVersion) -> tuple[list[DataVersion], dict[int, list[str]], dict[int, set[int]]]:
    """The data versions upstream of `version` (training inputs, what they were derived from, pipelines' inputs),
    how the training run used each, and each one's parents."""
    edges = lineage_upstream_edges(kind="model_version", pk=version.pk)
    pks = {pk for edge in edges for kind, pk in ((edge[0], edge[1]), (edge[2], edge[3])) if kind == "data_version"}
    roles: dict[int, list[str]] = {}
    parents: dict[int, set[int]] = {}
    for source_kind, source_pk, target_kind, target_pk, relation, attrs in edges:
        if relation == "derived_from" and source_kind == target_kind == "data_version":
            parents.setdefault(target_pk, set()).add(source_pk)
        elif (
            relation == "input"
            and (target_kind, target_pk) == ("run", version.run_id)
            and source_kind == "data_version"
        ):
            roles.setdefault(source_pk, []).append(attrs.get("role", ""))
    versions = list(DataVersion.objects.filter(pk__in=pks).select_related("dataset").order_by("dataset__name", "id"))
    return versions, roles, parents


def _model_card(version: ModelVersion, data_refs: list[str], audits: list[FairnessAudit]) -> dict:
    metrics = [
        {"type": name, "value": str(value[-1] if isinstance(value, list) and value else value)}
        for name, value in sorted(version.metrics.items())
        if isinstance(value, (int, float)) or (isinstance(value, list) and value)
    ]
    assessments = []
    for audit in audits:
        by = ", ".join(audit.sensitive_features)
        for metric, value in sorted((audit.disparities or {}).items()):
            if isinstance(value, (int, float)):
                metrics.append({"type": f"{metric} (fairness audit {audit.pk})", "value": f"{value:g}", "slice": by})
        verdict = (
            "passed" if audit.passed else "failed: " + "; ".join(c.get("message", "") for c in audit.failed_checks)
        )
        for group in audit.by_group or []:
            name = ", ".join(f"{k}={v}" for k, v in sorted((group.get("group") or {}).items())) or str(group)
            rate = group.get("selection_rate")
            assessments.append(
                {
                    "groupAtRisk": name,
                    "harms": (
                        f"selection rate {rate:g} over {group.get('count', '?')} decisions"
                        if isinstance(rate, (int, float))
                        else "see the fairness audit"
                    )
                    + f" (audit {audit.pk} by {by}, {audit.row_count} decisions with outcomes, {verdict})",
                }
            )
    considerations: dict = {}
    if version.intended_use.strip():
        considerations["useCases"] = [version.intended_use.strip()]
    if version.limitations.strip():
        considerations["technicalLimitations"] = [version.limitations.strip()]
    if assessments:
        considerations["fairnessAssessments"] = assessments
    card: dict = {"modelParameters": {"datasets": [{"ref": ref} for ref in data_refs]}}
    if metrics:
        card["quantitativeAnalysis"] = {"performanceMetrics": metrics}
    if considerations:
        card["considerations"] = considerations
    return card


def latest_audits(version: ModelVersion) -> list[FairnessAudit]:
    """The latest audit of each set of sensitive attributes on the model's predictions."""
    latest: dict[tuple, FairnessAudit] = {}
    for audit in FairnessAudit.objects.filter(model_version=version, basis=Basis.PREDICTION).order_by(
        "created_at", "id"
    ):
        latest[tuple(audit.sensitive_features)] = audit
    return [latest[key] for key in sorted(latest)]


def model_version_bom(*, model_version: ModelVersion, now: datetime | None = None) -> dict:
    """The ML-BOM of `model_version` as a JSON-ready dict (CycloneDX 1.6)."""
    version = ModelVersion.objects.select_related("model__project", "run").get(pk=model_version.pk)
    run: Run = version.run
    data_versions, roles, parents = upstream_data(version)
    audits = latest_audits(version)
    deployments = list(Deployment.objects.filter(model_version=version).order_by("started_at", "id"))
    citations = audit_citations([version, run, *data_versions, *audits, *deployments])

    bom = Bom()
    bom.metadata.timestamp = now or datetime.now(UTC)
    model_ref = _ref("model-version", version.pk)
    model = Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        bom_ref=model_ref,
        name=version.model.name,
        version=str(version.version),
        description=version.model.description or None,
        hashes=_sha256(version.artifact_sha256),
        properties=[
            *_props(
                project=version.model.project.slug,
                model_version=version.pk,
                stage=version.stage,
                risk_tier=version.model.risk_tier,
                framework=version.framework,
                artifact_uri=version.artifact_uri,
                training_run=f"{run.pk} {run.name}",
                git_commit=run.git_commit,
                git_branch=run.git_branch,
                python=run.environment.get("python"),
                platform=run.environment.get("platform"),
            ),
            *[
                Property(
                    name=f"{PREFIX}:deployment", value=f"{d.environment} {d.strategy} from {d.started_at:%Y-%m-%d}"
                )
                for d in deployments
            ],
            *_cited(citations, version),
            *_cited(citations, run),
        ],
    )
    bom.metadata.component = model

    by_pk = {
        dv.pk: Component(
            type=ComponentType.DATA,
            bom_ref=_ref("data-version", dv.pk),
            name=dv.dataset.name,
            version=dv.version,
            hashes=_sha256(dv.content_sha256),
            properties=[
                *_props(
                    data_version=dv.pk,
                    used_as=", ".join(sorted(roles.get(dv.pk, []))) or "upstream",
                    rows=dv.row_count,
                    status=dv.status,
                    personal_data=str(dv.dataset.contains_personal_data).lower(),
                    storage_uri=dv.storage_uri,
                ),
                *_cited(citations, dv),
            ],
        )
        for dv in data_versions
    }

    packages = []
    for name, value in sorted((run.environment or {}).items()):
        if name in NOT_PACKAGES or not isinstance(value, str) or not PACKAGE_NAME.match(name):
            continue
        packages.append(
            Component(
                type=ComponentType.LIBRARY,
                bom_ref=_ref("package", len(packages)) + f":{name}",
                name=name,
                version=value,
                purl=PackageURL(type="pypi", name=name.lower(), version=value),
            )
        )
    for component in [*by_pk.values(), *packages]:
        bom.components.add(component)
    trained_on = [by_pk[pk] for pk in sorted(roles) if pk in by_pk]
    bom.register_dependency(model, [*trained_on, *packages])
    for child, above in sorted(parents.items()):
        if child in by_pk:
            bom.register_dependency(by_pk[child], [by_pk[pk] for pk in sorted(above) if pk in by_pk])

    document = json.loads(JsonV1Dot6(bom).output_as_string())
    card = _model_card(version, [_ref("data-version", pk) for pk in sorted(roles) if pk in by_pk], audits)
    document["metadata"]["component"]["modelCard"] = card
    return document
