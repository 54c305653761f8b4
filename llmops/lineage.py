"""LLMOps in the lineage graph: prompt version -> LLM call, and data version -> LLM call for the
retrieved documents a call was given (registered with governance.lineage in LlmopsConfig.ready)."""

from __future__ import annotations

from collections import Counter

from governance.lineage import DECISIONS_PER_NODE
from llmops.models import LLMCall, PromptVersion, RetrievedDocument
from registry.lineage import Edge, LineageNode, lineage_node

CALLS_PER_NODE = DECISIONS_PER_NODE  # the newest calls of a prompt version or data version


def _retrieved(pairs) -> list[Edge]:
    """data_version -> llm_call edges, with how many of the call's documents came from that version."""
    counts = Counter(pairs)
    return [
        ("data_version", dv, "llm_call", call, "retrieved_from", {"documents": n}) for (dv, call), n in counts.items()
    ]


class LLMLineage:
    kinds = ("prompt_version", "llm_call")
    models = {"prompt_version": PromptVersion, "llm_call": LLMCall}

    def upstream(self, kind: str, pks: set[int]) -> list[Edge]:
        if kind != "llm_call":
            return []
        prompts = [
            ("prompt_version", pv, "llm_call", call, "prompted_by", {})
            for call, pv in LLMCall.objects.filter(pk__in=pks, prompt_version__isnull=False).values_list(
                "pk", "prompt_version_id"
            )
        ]
        documents = RetrievedDocument.objects.filter(call_id__in=pks, data_version__isnull=False)
        return prompts + _retrieved(documents.values_list("data_version_id", "call_id"))

    def downstream(self, kind: str, pks: set[int]) -> list[Edge]:
        if kind == "prompt_version":
            return [
                ("prompt_version", pv, "llm_call", call, "prompted_by", {})
                for pv in pks
                for call in LLMCall.objects.filter(prompt_version_id=pv)
                .order_by("-id")
                .values_list("pk", flat=True)[:CALLS_PER_NODE]
            ]
        if kind == "data_version":
            edges: list[Edge] = []
            for dv in pks:
                calls = list(
                    RetrievedDocument.objects.filter(data_version_id=dv)
                    .order_by("-call_id")
                    .values_list("call_id", flat=True)
                    .distinct()[:CALLS_PER_NODE]
                )
                documents = RetrievedDocument.objects.filter(data_version_id=dv, call_id__in=calls)
                edges += _retrieved(documents.values_list("data_version_id", "call_id"))
            return edges
        return []

    def load_nodes(self, by_kind: dict[str, set[int]]) -> list[LineageNode]:
        nodes: list[LineageNode] = []
        if pks := by_kind.get("prompt_version"):
            for pv in PromptVersion.objects.filter(pk__in=pks).select_related("template").prefetch_related("labels"):
                attrs = {
                    "prompt": pv.template_id,
                    "prompt_name": pv.template.name,
                    "version": pv.version,
                    "model": pv.model,
                    "content_sha256": pv.content_sha256,
                    "labels": sorted(label.name for label in pv.labels.all()),
                }
                nodes.append(lineage_node("prompt_version", pv.pk, str(pv), attrs))
        if pks := by_kind.get("llm_call"):
            fields = ("id", "client_call_id", "provider", "model", "prompt_version_id", "status", "cost", "cost_status")
            for call in LLMCall.objects.filter(pk__in=pks).only(*fields, "occurred_at", "erased_at"):
                attrs = {
                    "provider": call.provider,
                    "model": call.model,
                    "prompt_version": call.prompt_version_id,
                    "status": call.status,
                    "cost": None if call.cost is None else str(call.cost),
                    "cost_status": call.cost_status,
                    "occurred_at": call.occurred_at.isoformat(),
                    "erased": call.erased_at is not None,
                }
                nodes.append(lineage_node("llm_call", call.pk, call.client_call_id, attrs))
        return nodes
