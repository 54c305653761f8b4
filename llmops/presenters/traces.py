"""A call's trace as plain data for the waterfall on its admin page: every span of the trace in start order, its
depth in the tree, its offset and duration from the trace's first start, and whether it is this call's span."""

from __future__ import annotations

from typing import TypedDict

from django.urls import reverse

from llmops import selectors
from llmops.models import LLMCall
from llmops.selectors import TraceRow


class WaterfallRow(TypedDict):
    span_id: str
    name: str
    category: str
    depth: int
    offset_ms: float
    duration_ms: float
    status: str
    this_call: bool
    call_url: str  # the admin page of the call the span became ('' for other spans and for this call)


class Waterfall(TypedDict):
    trace_id: str
    total_ms: float
    rows: list[WaterfallRow]


MAX_ROWS = 200


def call_waterfall(call: LLMCall) -> Waterfall | None:
    spans = selectors.trace_of_call(call)[:MAX_ROWS]
    if not spans:
        return None
    by_id = {s.span_id: s for s in spans}
    start = min(s.start_time_unix_nano for s in spans)
    end = max(s.end_time_unix_nano for s in spans)

    def depth(span: TraceRow) -> int:
        level, seen, current = 0, set(), span.parent_span_id
        while current in by_id and current not in seen:
            seen.add(current)
            level += 1
            current = by_id[current].parent_span_id
        return level

    rows: list[WaterfallRow] = []
    for span in spans:
        this = span.span_id == call.span_id
        rows.append(
            WaterfallRow(
                span_id=span.span_id,
                name=span.name,
                category=span.category,
                depth=depth(span),
                offset_ms=(span.start_time_unix_nano - start) / 1e6,
                duration_ms=span.duration_ms,
                status=span.status,
                this_call=this,
                call_url=reverse("admin:llmops_llmcall_change", args=[span.call_id])
                if span.call_id and not this
                else "",
            )
        )
    return Waterfall(trace_id=call.trace_id, total_ms=max(0.0, (end - start) / 1e6), rows=rows)
