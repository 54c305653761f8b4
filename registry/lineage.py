"""The shapes of the lineage graph's nodes and edges, and the one way to build a node.

The graph itself (governance.lineage) walks registry records and the decisions; apps above it (llmops) add their
own kinds. Both build their nodes here, so every node reads the same (`<kind>:<pk>` ids) whichever app loads it.
"""

from __future__ import annotations

from typing import TypedDict


class LineageNode(TypedDict):
    id: str
    kind: str
    pk: int
    label: str
    attrs: dict


class LineageEdge(TypedDict):
    source: str
    target: str
    relation: str
    attrs: dict


# An edge as (source kind, source pk, target kind, target pk, relation, attrs); source is upstream.
Edge = tuple[str, int, str, int, str, dict]


def lineage_node(kind: str, pk: int, label: str, attrs: dict) -> LineageNode:
    """A node of the graph, with its `<kind>:<pk>` id."""
    return {"id": f"{kind}:{pk}", "kind": kind, "pk": pk, "label": label, "attrs": attrs}
