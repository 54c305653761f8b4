"""Lineage graph: data version -> run -> model version -> deployment -> decision.

`lineage_graph` walks upstream, downstream or both from one node, one query per kind and level,
and answers `{"nodes": [...], "edges": [...]}`. Node ids read `<kind>:<pk>`.

Later apps add their own kinds (llmops: prompt versions and LLM calls, linked to the data versions
their retrieved documents came from) through `register_lineage`, in their AppConfig.ready(), so that
governance never imports them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Protocol

from django.db.models import Count

from governance.models import Decision
from registry.lineage import Edge, LineageEdge, LineageNode, lineage_node
from registry.models import DataVersion, DataVersionParent, Deployment, ModelVersion, Run, RunInput, RunOutput

KINDS = ["data_version", "run", "model_version", "deployment", "decision"]  # extended by register_lineage
DIRECTIONS = ("upstream", "downstream", "both")
MAX_DEPTH = 20
DECISIONS_PER_NODE = 100


class LineageExtension(Protocol):
    """What an app adds to the graph: its kinds, their models (each with a project_id), the edges into and
    out of any kind's nodes, and its own nodes."""

    kinds: tuple[str, ...]
    models: dict

    def upstream(self, kind: str, pks: set[int]) -> list[Edge]: ...

    def downstream(self, kind: str, pks: set[int]) -> list[Edge]: ...

    def load_nodes(self, by_kind: dict[str, set[int]]) -> list[LineageNode]: ...


_extensions: list[LineageExtension] = []


def register_lineage(extension: LineageExtension) -> LineageExtension:
    if extension not in _extensions:
        _extensions.append(extension)
        KINDS.extend(kind for kind in extension.kinds if kind not in KINDS)
        NODE_MODELS.update(extension.models)
    return extension


def _upstream(kind: str, pks: set[int]) -> list[Edge]:
    return _core_upstream(kind, pks) + [e for ext in _extensions for e in ext.upstream(kind, pks)]


def _downstream(kind: str, pks: set[int]) -> list[Edge]:
    return _core_downstream(kind, pks) + [e for ext in _extensions for e in ext.downstream(kind, pks)]


def _core_upstream(kind: str, pks: set[int]) -> list[Edge]:
    if kind == "data_version":
        derived = [
            ("data_version", p, "data_version", c, "derived_from", {"transformation": t})
            for c, p, t in DataVersionParent.objects.filter(child_id__in=pks).values_list(
                "child_id", "parent_id", "transformation"
            )
        ]
        written = [
            ("run", run, "data_version", dv, "output", {})
            for run, dv in RunOutput.objects.filter(data_version_id__in=pks).values_list("run_id", "data_version_id")
        ]
        return derived + written
    if kind == "run":
        return [
            ("data_version", dv, "run", run, "input", {"role": role})
            for run, dv, role in RunInput.objects.filter(run_id__in=pks).values_list(
                "run_id", "data_version_id", "role"
            )
        ]
    if kind == "model_version":
        return [
            ("run", run, "model_version", mv, "produced", {})
            for mv, run in ModelVersion.objects.filter(pk__in=pks).values_list("pk", "run_id")
        ]
    if kind == "deployment":
        return [
            ("model_version", mv, "deployment", dep, "deployed", {})
            for dep, mv in Deployment.objects.filter(pk__in=pks).values_list("pk", "model_version_id")
        ]
    if kind == "decision":
        edges: list[Edge] = []
        for dec, mv, dep in Decision.objects.filter(pk__in=pks).values_list("pk", "model_version_id", "deployment_id"):
            if dep is not None:
                edges.append(("deployment", dep, "decision", dec, "decided", {}))
            edges.append(("model_version", mv, "decision", dec, "made_by", {}))
        return edges
    return []


def _core_downstream(kind: str, pks: set[int]) -> list[Edge]:
    if kind == "data_version":
        derived = [
            ("data_version", p, "data_version", c, "derived_from", {"transformation": t})
            for c, p, t in DataVersionParent.objects.filter(parent_id__in=pks).values_list(
                "child_id", "parent_id", "transformation"
            )
        ]
        used = [
            ("data_version", dv, "run", run, "input", {"role": role})
            for run, dv, role in RunInput.objects.filter(data_version_id__in=pks).values_list(
                "run_id", "data_version_id", "role"
            )
        ]
        return derived + used
    if kind == "run":
        produced = [
            ("run", run, "model_version", mv, "produced", {})
            for mv, run in ModelVersion.objects.filter(run_id__in=pks).values_list("pk", "run_id")
        ]
        written = [
            ("run", run, "data_version", dv, "output", {})
            for run, dv in RunOutput.objects.filter(run_id__in=pks).values_list("run_id", "data_version_id")
        ]
        return produced + written
    if kind == "model_version":
        deployed = [
            ("model_version", mv, "deployment", dep, "deployed", {})
            for dep, mv in Deployment.objects.filter(model_version_id__in=pks).values_list("pk", "model_version_id")
        ]
        # Decisions made without a deployment hang off the version; the others off their deployment.
        decided = [
            ("model_version", mv, "decision", dec, "made_by", {})
            for mv in pks
            for dec in Decision.objects.filter(model_version_id=mv, deployment__isnull=True)
            .order_by("-id")
            .values_list("pk", flat=True)[:DECISIONS_PER_NODE]
        ]
        return deployed + decided
    if kind == "deployment":
        return [
            ("deployment", dep, "decision", dec, "decided", {})
            for dep in pks
            for dec in Decision.objects.filter(deployment_id=dep)
            .order_by("-id")
            .values_list("pk", flat=True)[:DECISIONS_PER_NODE]
        ]
    return []


def _walk(start: tuple[str, int], depth: int, step: Callable[[str, set[int]], list[Edge]], upstream: bool):
    seen: set[tuple[str, int]] = {start}
    edges: list[Edge] = []
    frontier = {start}
    for _ in range(depth):
        by_kind: dict[str, set[int]] = defaultdict(set)
        for kind, pk in frontier:
            by_kind[kind].add(pk)
        frontier = set()
        for kind, pks in by_kind.items():
            for edge in step(kind, pks):
                edges.append(edge)
                node = (edge[0], edge[1]) if upstream else (edge[2], edge[3])
                if node not in seen:
                    seen.add(node)
                    frontier.add(node)
        if not frontier:
            break
    return seen, edges


def _load_nodes(keys: Iterable[tuple[str, int]]) -> list[LineageNode]:
    by_kind: dict[str, set[int]] = defaultdict(set)
    for kind, pk in keys:
        by_kind[kind].add(pk)
    nodes: list[LineageNode] = []
    if pks := by_kind.get("data_version"):
        for dv in DataVersion.objects.filter(pk__in=pks).select_related("dataset").defer("profile", "schema"):
            nodes.append(
                lineage_node(
                    "data_version",
                    dv.pk,
                    str(dv),
                    {
                        "dataset": dv.dataset_id,
                        "dataset_name": dv.dataset.name,
                        "version": dv.version,
                        "content_sha256": dv.content_sha256,
                        "row_count": dv.row_count,
                        "status": dv.status,
                        "contains_personal_data": dv.dataset.contains_personal_data,
                    },
                )
            )
    if pks := by_kind.get("run"):
        for run in Run.objects.filter(pk__in=pks).select_related("pipeline__job"):
            pipeline = run.pipeline if hasattr(run, "pipeline") else None  # an OpenLineage job's run
            nodes.append(
                lineage_node(
                    "run",
                    run.pk,
                    str(run),
                    {
                        "name": run.name,
                        "source": run.source,
                        "job": str(pipeline.job) if pipeline else None,
                        "git_commit": run.git_commit,
                        "notebook_path": run.notebook_path,
                        "status": run.status,
                        "metrics": run.metrics,
                        "created_at": run.created_at.isoformat(),
                    },
                )
            )
    if pks := by_kind.get("model_version"):
        versions = (
            ModelVersion.objects.filter(pk__in=pks).select_related("model").annotate(decision_count=Count("decisions"))
        )
        for mv in versions:
            nodes.append(
                lineage_node(
                    "model_version",
                    mv.pk,
                    str(mv),
                    {
                        "model": mv.model_id,
                        "model_name": mv.model.name,
                        "version": mv.version,
                        "stage": mv.stage,
                        "artifact_sha256": mv.artifact_sha256,
                        "decision_count": mv.decision_count,
                    },
                )
            )
    if pks := by_kind.get("deployment"):
        for dep in Deployment.objects.filter(pk__in=pks).annotate(decision_count=Count("decisions")):
            nodes.append(
                lineage_node(
                    "deployment",
                    dep.pk,
                    f"{dep.environment} ({dep.strategy})",
                    {
                        "model_version": dep.model_version_id,
                        "environment": dep.environment,
                        "strategy": dep.strategy,
                        "traffic_percent": float(dep.traffic_percent),
                        "started_at": dep.started_at.isoformat(),
                        "ended_at": dep.ended_at.isoformat() if dep.ended_at else None,
                        "decision_count": dep.decision_count,
                    },
                )
            )
    if pks := by_kind.get("decision"):
        for dec in Decision.objects.filter(pk__in=pks).only(
            "id", "request_id", "model_version_id", "deployment_id", "prediction", "occurred_at", "erased_at"
        ):
            nodes.append(
                lineage_node(
                    "decision",
                    dec.pk,
                    dec.request_id,
                    {
                        "model_version": dec.model_version_id,
                        "deployment": dec.deployment_id,
                        "prediction": dec.prediction,
                        "occurred_at": dec.occurred_at.isoformat(),
                        "erased": dec.erased_at is not None,
                    },
                )
            )
    for extension in _extensions:
        nodes += extension.load_nodes(by_kind)
    order = {kind: i for i, kind in enumerate(KINDS)}
    nodes.sort(key=lambda n: (order[n["kind"]], n["pk"]))
    return nodes


def lineage_upstream_edges(*, kind: str, pk: int, depth: int = MAX_DEPTH) -> list[Edge]:
    """The upstream edges of one node, without loading the nodes (whose attributes count decisions): what a
    document built from the lineage needs when it reads the records itself."""
    _, edges = _walk((kind, pk), max(1, min(depth, MAX_DEPTH)), _upstream, upstream=True)
    return edges


def lineage_graph(*, kind: str, pk: int, direction: str = "both", depth: int = MAX_DEPTH) -> dict:
    """The lineage graph around one node. The caller has checked that the node exists and may be seen."""
    start = (kind, pk)
    depth = max(1, min(depth, MAX_DEPTH))
    keys: set[tuple[str, int]] = {start}
    edges: list[Edge] = []
    if direction in ("upstream", "both"):
        seen, found = _walk(start, depth, _upstream, upstream=True)
        keys |= seen
        edges += found
    if direction in ("downstream", "both"):
        seen, found = _walk(start, depth, _downstream, upstream=False)
        keys |= seen
        edges += found
    unique_edges = {(e[0], e[1], e[2], e[3], e[4]): e for e in edges}
    return {
        "root": f"{kind}:{pk}",
        "nodes": _load_nodes(keys),
        "edges": [
            LineageEdge(source=f"{e[0]}:{e[1]}", target=f"{e[2]}:{e[3]}", relation=e[4], attrs=e[5])
            for e in unique_edges.values()
        ],
    }


NODE_MODELS = {
    "data_version": DataVersion,
    "run": Run,
    "model_version": ModelVersion,
    "deployment": Deployment,
    "decision": Decision,
}


def node_project_id(kind: str, pk: int) -> int | None:
    """The project a node belongs to, or None when it does not exist."""
    return NODE_MODELS[kind].objects.filter(pk=pk).values_list("project_id", flat=True).first()
