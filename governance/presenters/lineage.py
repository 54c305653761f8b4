"""What the model version page's Lineage section shows: the data versions the version was trained on (and what
they were derived from), its run, its deployments and how many decisions it made."""

from __future__ import annotations

from collections import defaultdict
from typing import TypedDict

from django.urls import reverse
from django.utils import timezone

from governance.lineage import lineage_graph
from governance.presenters.common import Badge, Hash, choice_badge, short_hash, utc
from registry.models import ModelVersion, RunInput, Stage

ROLE_ORDER = {role: index for index, role in enumerate(RunInput.Role.values)}


class ParentLink(TypedDict):
    label: str
    url: str
    transformation: str


class PipelineStep(TypedDict):
    label: str  # the job's name
    url: str  # the pipeline run in admin
    status: str


class LineageDataVersion(TypedDict):
    url: str
    dataset_url: str
    dataset: str
    version: str
    roles: list[str]  # how the run used it (train, validation, test); empty upstream
    hash: Hash
    rows: str
    status: str
    personal_data: bool
    parents: list[ParentLink]
    written_by: list[PipelineStep]  # the pipeline runs (OpenLineage) that wrote it


class LineageRun(TypedDict):
    name: str
    status: str
    source: str
    git_branch: str
    git_dirty: bool
    notebook_path: str


class LineageDeployment(TypedDict):
    url: str
    environment: str
    strategy: str
    traffic: str
    started_at: str
    ended_at: str | None
    live: bool


class Lineage(TypedDict):
    data_versions: list[LineageDataVersion]
    run: LineageRun
    run_url: str
    run_created: str
    run_commit: Hash | None
    run_params: list[tuple[str, object]]
    run_metrics: list[tuple[str, object]]
    deployments: list[LineageDeployment]
    live_count: int
    decision_count: int
    decision_count_display: str
    decisions_url: str
    stage: Badge


def decisions_url(version: ModelVersion) -> str:
    """The decision log filtered to the version (its model chosen too, so the version filter lists it)."""
    query = f"?model_version__model__id__exact={version.model_id}&model_version__id__exact={version.pk}"
    return reverse("admin:governance_decision_changelist") + query


def model_version_lineage(version: ModelVersion) -> Lineage:
    """What the Lineage section shows: the upstream graph (data versions, run) from governance.lineage,
    the version's deployments and its decision count."""
    graph = lineage_graph(kind="model_version", pk=version.pk, direction="upstream")
    nodes = {node["id"]: node for node in graph["nodes"]}
    parents: dict[str, list[tuple[dict, str]]] = defaultdict(list)
    roles: dict[str, list[str]] = defaultdict(list)
    writers: dict[str, list[dict]] = defaultdict(list)
    training_run = f"run:{version.run_id}"
    for edge in graph["edges"]:
        if edge["relation"] == "derived_from":
            parents[edge["target"]].append((nodes[edge["source"]], edge["attrs"].get("transformation", "")))
        elif edge["relation"] == "input" and edge["target"] == training_run:  # not a pipeline step's inputs
            roles[edge["source"]].append(edge["attrs"].get("role", ""))
        elif edge["relation"] == "output":
            writers[edge["target"]].append(nodes[edge["source"]])

    # Distance from the run: its inputs are 0, what they were derived from 1, and so on.
    depth: dict[str, int] = {node_id: 0 for node_id in roles}
    frontier = list(roles)
    while frontier:
        child = frontier.pop(0)
        for parent, _ in parents.get(child, []):
            if parent["id"] not in depth:
                depth[parent["id"]] = depth[child] + 1
                frontier.append(parent["id"])

    ordered: list[tuple[tuple, LineageDataVersion]] = []
    for node in graph["nodes"]:
        if node["kind"] != "data_version":
            continue
        attrs = node["attrs"]
        node_roles = sorted(roles.get(node["id"], []), key=lambda role: ROLE_ORDER.get(role, 99))
        order = (
            depth.get(node["id"], 99),
            ROLE_ORDER.get(node_roles[0], 99) if node_roles else 0,
            node["label"],
        )
        ordered.append(
            (
                order,
                {
                    "url": reverse("admin:registry_dataversion_change", args=[node["pk"]]),
                    "dataset_url": reverse("admin:registry_dataset_change", args=[attrs["dataset"]]),
                    "dataset": attrs["dataset_name"],
                    "version": attrs["version"],
                    "roles": node_roles,
                    "hash": short_hash(attrs["content_sha256"]),
                    "rows": "—" if attrs["row_count"] is None else f"{attrs['row_count']:,}",
                    "status": str(attrs["status"]),
                    "personal_data": attrs["contains_personal_data"],
                    "parents": [
                        {
                            "label": parent["label"],
                            "url": reverse("admin:registry_dataversion_change", args=[parent["pk"]]),
                            "transformation": transformation,
                        }
                        for parent, transformation in sorted(parents.get(node["id"], []), key=lambda p: p[0]["label"])
                    ],
                    "written_by": [
                        {
                            "label": run["attrs"]["job"] or run["label"],
                            "url": reverse("admin:registry_run_change", args=[run["pk"]]),
                            "status": run["attrs"]["status"],
                        }
                        for run in sorted(writers.get(node["id"], []), key=lambda r: r["label"])
                    ],
                },
            )
        )
    # The run's inputs first (train, validation, test), then what they were derived from, nearest first.
    data_versions = [dv for _, dv in sorted(ordered, key=lambda pair: pair[0])]

    run = version.run
    now = timezone.now()
    deployments = [
        {
            "url": reverse("admin:registry_deployment_change", args=[dep.pk]),
            "environment": dep.environment,
            "strategy": dep.get_strategy_display(),
            "traffic": f"{dep.traffic_percent.normalize():f}%",
            "started_at": utc(dep.started_at),
            "ended_at": utc(dep.ended_at) if dep.ended_at else None,
            "live": dep.started_at <= now and (dep.ended_at is None or dep.ended_at > now),
        }
        for dep in version.deployments.order_by("-started_at")
    ]
    root = nodes[graph["root"]]
    return {
        "data_versions": data_versions,
        "run": {
            "name": run.name,
            "status": str(run.status),
            "source": str(run.source),
            "git_branch": run.git_branch,
            "git_dirty": run.git_dirty,
            "notebook_path": run.notebook_path,
        },
        "run_url": reverse("admin:registry_run_change", args=[run.pk]),
        "run_created": utc(run.created_at),
        "run_commit": short_hash(run.git_commit, 10) if run.git_commit else None,
        "run_params": sorted(run.params.items()) if isinstance(run.params, dict) else [],
        "run_metrics": sorted(run.metrics.items()) if isinstance(run.metrics, dict) else [],
        "deployments": deployments,
        "live_count": sum(1 for dep in deployments if dep["live"]),
        "decision_count": root["attrs"]["decision_count"],
        "decision_count_display": f"{root['attrs']['decision_count']:,}",
        "decisions_url": decisions_url(version),
        "stage": choice_badge(Stage, version.stage),
    }
