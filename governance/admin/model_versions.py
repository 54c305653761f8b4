"""The registry's model version page registered again with a Lineage section: the lineage graph reaches
decisions, and the registry imports nothing from governance."""

from __future__ import annotations

from collections import defaultdict

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.urls import reverse
from django.utils import timezone

from governance.admin.decisions import decisions_url
from governance.lineage import lineage_graph
from registry.admin.kit import (
    choice_badge,
    short_hash,
    when,
)
from registry.admin.models import ModelVersionAdmin
from registry.models import ModelVersion, RunInput, Stage

ROLE_ORDER = {role: index for index, role in enumerate(RunInput.Role.values)}


def model_version_lineage(version: ModelVersion) -> dict:
    """What the Lineage section shows: the upstream graph (data versions, run) from governance.lineage,
    the version's deployments and its decision count."""
    graph = lineage_graph(kind="model_version", pk=version.pk, direction="upstream")
    nodes = {node["id"]: node for node in graph["nodes"]}
    parents: dict[str, list[tuple[dict, str]]] = defaultdict(list)
    roles: dict[str, list[str]] = defaultdict(list)
    for edge in graph["edges"]:
        if edge["relation"] == "derived_from":
            parents[edge["target"]].append((nodes[edge["source"]], edge["attrs"].get("transformation", "")))
        elif edge["relation"] == "input":
            roles[edge["source"]].append(edge["attrs"].get("role", ""))

    # Distance from the run: its inputs are 0, what they were derived from 1, and so on.
    depth: dict[str, int] = {node_id: 0 for node_id in roles}
    frontier = list(roles)
    while frontier:
        child = frontier.pop(0)
        for parent, _ in parents.get(child, []):
            if parent["id"] not in depth:
                depth[parent["id"]] = depth[child] + 1
                frontier.append(parent["id"])

    data_versions = []
    for node in graph["nodes"]:
        if node["kind"] != "data_version":
            continue
        attrs = node["attrs"]
        node_roles = sorted(roles.get(node["id"], []), key=lambda role: ROLE_ORDER.get(role, 99))
        data_versions.append(
            {
                "order": (
                    depth.get(node["id"], 99),
                    ROLE_ORDER.get(node_roles[0], 99) if node_roles else 0,
                    node["label"],
                ),
                "url": reverse("admin:registry_dataversion_change", args=[node["pk"]]),
                "dataset_url": reverse("admin:registry_dataset_change", args=[attrs["dataset"]]),
                "dataset": attrs["dataset_name"],
                "version": attrs["version"],
                "roles": node_roles,
                "hash": short_hash(attrs["content_sha256"]),
                "rows": f"{attrs['row_count']:,}",
                "status": attrs["status"],
                "personal_data": attrs["contains_personal_data"],
                "parents": [
                    {
                        "label": parent["label"],
                        "url": reverse("admin:registry_dataversion_change", args=[parent["pk"]]),
                        "transformation": transformation,
                    }
                    for parent, transformation in sorted(parents.get(node["id"], []), key=lambda p: p[0]["label"])
                ],
            }
        )
    # The run's inputs first (train, validation, test), then what they were derived from, nearest first.
    data_versions.sort(key=lambda dv: dv["order"])

    run = version.run
    now = timezone.now()
    deployments = [
        {
            "url": reverse("admin:registry_deployment_change", args=[dep.pk]),
            "environment": dep.environment,
            "strategy": dep.get_strategy_display(),
            "traffic": f"{dep.traffic_percent.normalize():f}%",
            "started_at": when(dep.started_at),
            "ended_at": when(dep.ended_at) if dep.ended_at else None,
            "live": dep.started_at <= now and (dep.ended_at is None or dep.ended_at > now),
        }
        for dep in version.deployments.order_by("-started_at")
    ]
    root = nodes[graph["root"]]
    return {
        "data_versions": data_versions,
        "run": run,
        "run_url": reverse("admin:registry_run_change", args=[run.pk]),
        "run_created": when(run.created_at),
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


admin.site.unregister(ModelVersion)


@admin.register(ModelVersion)
class ModelVersionLineageAdmin(ModelVersionAdmin):
    change_form_template = "admin/governance/modelversion_change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        version = self.get_object(request, unquote(object_id))
        if version is not None and self.has_view_or_change_permission(request, version):
            extra["lineage"] = model_version_lineage(version)
        return super().change_view(request, object_id, form_url, extra)
