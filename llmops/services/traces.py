"""Traces (OpenTelemetry spans, through interop/otlp): every span kept compactly, each LLM span recorded as an LLM
call through `calls_ingest` (so it is priced, its subject HMAC'd and suppressed, and idempotent like any call), the
documents of the retrieval spans that fed it and the prompt version it names attached.

The rules a trace follows here:

- A span is written once per (project, trace id, span id): a re-sent export adds nothing, also after an erasure
  renamed the call's client id. An LLM span is its call: one LLMCall row with the client call id
  `otlp:<trace id>:<span id>` and the span's place in the trace (the span_* fields); every other span is a
  TraceSpan row. A trace is both (llmops.selectors.trace_of_call).
- A retrieval span feeds the LLM spans of its trace that are its siblings starting no earlier than it, or its
  descendants; its documents become theirs: through calls_ingest when it arrives before or with them (the SDK
  exports a span when it ends, and a retrieval ends before the call it feeds starts), appended to the recorded
  calls' documents when it arrives after (call_documents_attach; not to an erased call). Either way once: a
  re-sent retrieval span is a duplicate, and adds nothing.
- A prompt template (name and version, or the template's text) links the call to our prompt version when one
  matches; an LLM span naming none takes the nearest PROMPT span before it in its trace (OpenInference LangChain).
- Messages arriving as log-record events (`span_messages_ingest`) are joined to their span by (trace id, span id).
  Each log record is known by its key (SpanMessages.key: its time and messages, and its place among equal records
  of its request), so a re-sent record adds nothing, while the same words in two records are two messages. If the
  call is recorded (and not erased), a new record's input messages are appended to its input when that input
  came from log records or is empty (in time order within a request, in arrival order across requests; a span's
  own input is left as it is), and the output is set if it has none. If the span has not arrived, they wait in
  SpanMessages and become the call's messages when it does (unless the span carried its own). The rows stay,
  emptied, while they name a call's input; every row is deleted OTLP_PENDING_MESSAGES_HOURS after it arrived.
  Both paths take a per-trace advisory lock, so a span and its events arriving at once in two requests cannot
  miss each other.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from llmops.events import LLMEvent
from llmops.models import LLMCall, PromptVersion, SpanMessages, TraceSettings, TraceSpan
from llmops.permissions import CALL_INGESTERS, TRACE_SETTERS
from llmops.services.calls import CallSpan, call_documents_attach, calls_ingest
from registry import bulk
from registry.actors import Actor
from registry.audit import audit_append
from registry.errors import Forbidden, ServiceError, field_error
from registry.locks import for_update
from registry.models import Project
from registry.subjects import redact_subject_id, suppression_lock

CALL_ID_PREFIX = "otlp:"
TRACE_LOCK_NAMESPACE = 0x4F544C50  # "OTLP": pg_advisory_xact_lock(namespace, hash of the trace id)
MAX_SPANS_PER_REQUEST = 20_000
_ITEM = re.compile(r"^calls\[(\d+)\]")


@dataclass
class SpanIn:
    """One span as the protocol adapter read it. `call` is a calls_ingest item (without client_call_id, trace_id
    and span_id, which this service sets) when the span is an LLM call; `documents` are calls_ingest document
    items when it is a retrieval; `prompt` names a prompt template (name, version, template text)."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    category: str
    kind: int
    start_time_unix_nano: int
    end_time_unix_nano: int
    status: str = TraceSpan.Status.UNSET
    status_message: str = ""
    service_name: str = ""
    scope_name: str = ""
    attributes: dict = field(default_factory=dict)
    call: dict | None = None
    documents: list[dict] = field(default_factory=list)
    prompt: dict | None = None


@dataclass
class MessagesIn:
    """The messages of one LLM span that arrived as a log-record event."""

    trace_id: str
    span_id: str
    time_unix_nano: int
    input: list[dict] = field(default_factory=list)
    output: str = ""


@dataclass(frozen=True)
class TracesIngestResult:
    spans: int  # spans written
    duplicates: int  # spans already recorded
    calls: int  # LLM calls written
    rejected: list[tuple[int, str]]  # (index of the span in the request, why)


class _StoredSpan(NamedTuple):
    """A span of the export's traces recorded before (a TraceSpan row, or an LLM call's row), as much as a new span
    of its trace asks of it: the attributes of retrievals and prompts only; a call's id and whether it is erased."""

    trace_id: str
    span_id: str
    parent_span_id: str
    category: str
    start_time_unix_nano: int
    attributes: dict
    call_id: int | None = None
    erased: bool = False


class _Waiting(NamedTuple):
    """A row of log-record messages waiting for its span (SpanMessages, not attached yet)."""

    pk: int
    trace_id: str
    span_id: str
    time_unix_nano: int
    input: list
    output: str


# What an export's traces hold already, in one statement: the TraceSpan rows, the calls with a span, and the
# log-record messages waiting for a span. One index probe per trace (tracespan_unique_span, llmcall_unique_span,
# spanmessages_waiting), whatever the planner's statistics say: an `= ANY(array)` lets a planner that thinks the
# tables small (just after a TRUNCATE, before autovacuum's analyze) scan every row of the project instead, 30-40
# ms a 512-span export (OFFSET 0 keeps each probe apart).
_STORED_SQL = """
SELECT 's', s.* FROM unnest(%(traces)s::varchar[]) AS t(trace_id) CROSS JOIN LATERAL (
    SELECT trace_id, span_id, parent_span_id, category, start_time_unix_nano,
        CASE WHEN category IN ('retrieval', 'prompt') THEN attributes END, NULL::bigint, NULL::text, FALSE
    FROM llmops_tracespan WHERE project_id = %(project)s AND trace_id = t.trace_id OFFSET 0
) s
UNION ALL
SELECT 'c', c.* FROM unnest(%(traces)s::varchar[]) AS t(trace_id) CROSS JOIN LATERAL (
    SELECT trace_id, span_id, span_parent_id, span_category, span_start_time_unix_nano, NULL::jsonb, id, NULL::text,
        erased_at IS NOT NULL
    FROM llmops_llmcall
    WHERE project_id = %(project)s AND trace_id = t.trace_id AND span_start_time_unix_nano IS NOT NULL OFFSET 0
) c
UNION ALL
SELECT 'm', m.* FROM unnest(%(traces)s::varchar[]) AS t(trace_id) CROSS JOIN LATERAL (
    SELECT trace_id, span_id, NULL::varchar, NULL::varchar, time_unix_nano, input, id, output, FALSE
    FROM llmops_spanmessages
    WHERE project_id = %(project)s AND trace_id = t.trace_id AND attached_at IS NULL OFFSET 0
) m
"""


def _check(actor: Actor, project: Project) -> None:
    if not actor.can(CALL_INGESTERS, project.pk):
        raise Forbidden(f"this key may not write traces to {project.slug}")


def _lock_traces(trace_ids: set[str]) -> None:
    if connection.vendor != "postgresql" or not trace_ids:
        return
    keys = sorted({zlib.crc32(t.encode()) - 2**31 for t in trace_ids})  # int4 keys, in one order for every locker
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, k) FROM unnest(%s::integer[]) WITH ORDINALITY AS t(k, n) ORDER BY n",
            [TRACE_LOCK_NAMESPACE, keys],
        )


def _version_number(value: object) -> int | None:
    text = str(value).strip().lower().removeprefix("v") if value is not None else ""
    return int(text) if text.isdigit() and len(text) < 10 else None


def _as_ours(template: str) -> str:
    """A template in the `{name}` style (LangChain, Traceloop) in ours (`{{name}}`); ours unchanged."""
    if "{{" in template:
        return template
    return re.sub(r"\{(\w+)\}", r"{{\1}}", template)


class _PromptMatcher:
    """Our prompt version a span's template names: by prompt name and version number, else by the template's
    text (the newest version with that text, or the one with the given number)."""

    def __init__(self, project: Project, refs: Sequence[dict]):
        names = {r["name"] for r in refs if r.get("name")}
        texts = {_as_ours(r["template"]) for r in refs if r.get("template")}
        self.by_name: dict[tuple[str, int], int] = {}
        self.by_text: dict[str, list[tuple[int, int]]] = {}
        if names:
            for name, version, pk in PromptVersion.objects.filter(
                project=project, template__name__in=names
            ).values_list("template__name", "version", "pk"):
                self.by_name[(name, version)] = pk
        if texts:
            rows = PromptVersion.objects.filter(project=project, text__in=texts).values_list("text", "version", "pk")
            for text, version, pk in rows.order_by("version"):
                self.by_text.setdefault(text, []).append((version, pk))

    def match(self, ref: dict | None) -> int | None:
        if not ref:
            return None
        number = _version_number(ref.get("version"))
        if ref.get("name") and number is not None and (ref["name"], number) in self.by_name:
            return self.by_name[(ref["name"], number)]
        if ref.get("template"):
            versions = self.by_text.get(_as_ours(ref["template"]), [])
            if number is not None:
                versions = [v for v in versions if v[0] == number]
            if versions:
                return versions[-1][1]
        return None


def _feeds(retrieval, llm, parents: dict[str, str]) -> bool:
    """Whether a retrieval span fed an LLM span of its trace: a sibling that started no later, or an ancestor."""
    if retrieval.parent_span_id == llm.parent_span_id and retrieval.start_time_unix_nano <= llm.start_time_unix_nano:
        return True
    seen, current = set(), llm.parent_span_id
    while current and current not in seen:
        if current == retrieval.span_id:
            return True
        seen.add(current)
        current = parents.get(current, "")
    return False


def _pending_messages(waiting: list[_Waiting], keys: set[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    """The waiting log-record messages of these spans, merged in time order: input messages, then the output;
    with the rows' ids, those that hold input messages apart (`with_input`)."""
    merged: dict[tuple[str, str], dict] = {}
    for row in sorted(waiting, key=lambda r: (r.time_unix_nano, r.pk)):
        key = (row.trace_id, row.span_id)
        if key not in keys:
            continue
        entry = merged.setdefault(key, {"input": [], "output": "", "ids": [], "with_input": []})
        entry["input"].extend(row.input or [])
        if row.output:
            entry["output"] = f"{entry['output']}\n{row.output}" if entry["output"] else row.output
        entry["ids"].append(row.pk)
        if row.input:
            entry["with_input"].append(row.pk)
    return merged


def traces_ingest(*, actor: Actor, project: Project, spans: Sequence[SpanIn]) -> TracesIngestResult:
    """Record the spans of one export: new spans only, LLM spans as calls; spans whose call calls_ingest refuses
    (a bad field, an erased subject the project refuses) are left out and reported, the others written. One audit
    event records the export, its calls (calls_ingest's summary) and the documents attached late."""
    _check(actor, project)
    if len(spans) > MAX_SPANS_PER_REQUEST:
        raise field_error("spans", f"at most {MAX_SPANS_PER_REQUEST} spans per request, got {len(spans)}")
    rejected: dict[int, str] = {}
    first: dict[tuple[str, str], int] = {}
    for index, span in enumerate(spans):
        first.setdefault((span.trace_id, span.span_id), index)
    unique = [(index, spans[index]) for index in sorted(first.values())]
    in_request_duplicates = len(spans) - len(unique)
    if not unique:
        return TracesIngestResult(spans=0, duplicates=in_request_duplicates, calls=0, rejected=[])
    trace_ids = {span.trace_id for _, span in unique}
    now = timezone.now()
    with transaction.atomic():
        _lock_traces(trace_ids)
        stored, waiting = _stored_spans(project, trace_ids)
        known = {(s.trace_id, s.span_id) for s in stored}
        new = [(index, span) for index, span in unique if (span.trace_id, span.span_id) not in known]
        duplicates = in_request_duplicates + len(unique) - len(new)
        by_trace: dict[str, list] = {}
        for span in [*stored, *(span for _, span in new)]:
            by_trace.setdefault(span.trace_id, []).append(span)
        llm = [(index, span) for index, span in new if span.call is not None]
        pending = _pending_messages(waiting, {(span.trace_id, span.span_id) for _, span in llm}) if waiting else {}
        refs = [span.prompt for _, span in new if span.prompt]
        refs += [s.attributes.get("prompt") for s in stored if s.category == TraceSpan.Category.PROMPT]
        prompts = _PromptMatcher(project, [r for r in refs if isinstance(r, dict)])
        items, call_spans, owners = [], [], []
        shapes = {trace_id: _TraceShape(spans) for trace_id, spans in by_trace.items()}
        for index, span in llm:
            items.append(_call_item(span, shapes[span.trace_id], pending, prompts))
            call_spans.append(_call_span(span))
            owners.append(index)
        summary = _ingest_calls(actor, project, items, call_spans, owners, rejected) if items else None
        calls = summary["accepted"] if summary else 0
        duplicates += len(llm) - calls - sum(1 for index, _ in llm if index in rejected)
        attached = _attach_late_documents(actor, project, new, shapes, rejected)
        keep = [(index, span) for index, span in new if index not in rejected]
        rows = [_row(project, span, actor, now) for _, span in keep if span.call is None]
        _insert_spans(rows)
        if pending:
            from_events = {  # the spans whose call took the waiting input messages (_call_item's rule)
                key
                for _, span in keep
                if (key := (span.trace_id, span.span_id)) in pending
                and span.call is not None
                and span.call.get("input") is None
                and pending[key]["input"]
            }
            _settle_pending(pending, {(s.trace_id, s.span_id) for _, s in keep}, from_events, now)
        written = len(rows) + calls
        if written or attached:
            audit_append(
                actor=actor,
                event_type=LLMEvent.TRACES_INGESTED,
                target=project,
                target_type="llmops.tracespan",
                target_repr=f"{written} trace spans",
                project_id=project.pk,
                after={
                    "spans": written,
                    "calls": calls,
                    "duplicates": duplicates,
                    "rejected": len(rejected),
                    "traces": len({span.trace_id for _, span in keep}),
                    "documents_attached": attached,
                    "llm_calls": summary,  # calls_ingest's record of the calls (ids, cost, documents)
                },
            )
    return TracesIngestResult(spans=written, duplicates=duplicates, calls=calls, rejected=sorted(rejected.items()))


def _attach_late_documents(actor, project, new: list, shapes: dict, rejected: dict[int, str]) -> int:
    """The documents of the export's new retrieval spans for the calls recorded before that they fed (the rule
    in this module's docstring); a retrieval whose documents are refused is itself rejected."""
    attachments, owners = [], []
    for index, span in new:
        if span.category != TraceSpan.Category.RETRIEVAL or not span.documents:
            continue
        trace = shapes[span.trace_id]
        for call in trace.stored_calls:
            if not call.erased and _feeds(span, call, trace.parents):
                attachments.append((call.call_id, [dict(doc) for doc in span.documents]))
                owners.append(index)
    if not attachments:
        return 0
    written, refused = call_documents_attach(actor=actor, project=project, attachments=attachments)
    for position, why in refused.items():
        rejected[owners[position]] = why
    return written


def _settle_pending(pending: dict, kept: set, from_events: set, now) -> None:
    """After the calls are written: the waiting rows whose input messages became a call's input stay, emptied and
    marked attached (their keys keep a re-sent record out, and tell a later one the input came from events); the
    other rows of the written spans are deleted (their output was used, or the span carried its own input)."""
    attached, used = [], []
    for key, entry in pending.items():
        if key not in kept:
            continue
        if key in from_events:
            attached += entry["with_input"]
            used += [pk for pk in entry["ids"] if pk not in entry["with_input"]]
        else:
            used += entry["ids"]
    if attached:
        SpanMessages.objects.filter(pk__in=attached).update(input=[], output="", attached_at=now)
    if used:
        SpanMessages.objects.filter(pk__in=used).delete()


def _stored_spans(project: Project, trace_ids: set[str]) -> tuple[list[_StoredSpan], list[_Waiting]]:
    """The spans of these traces recorded before (TraceSpan rows and calls with a span) and the log-record
    messages waiting for spans of them, in one statement."""
    if bulk.is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(_STORED_SQL, {"traces": sorted(trace_ids), "project": project.pk})
            rows = cursor.fetchall()
        loads = json.loads  # Django reads jsonb as text, for JSONField to parse
        stored, waiting = [], []
        for kind, trace_id, span_id, parent, category, start, attributes, pk, output, erased in rows:
            if kind == "m":
                waiting.append(_Waiting(pk, trace_id, span_id, start, loads(attributes) if attributes else [], output))
            else:
                found = loads(attributes) if attributes else {}
                stored.append(_StoredSpan(trace_id, span_id, parent, category, start, found, pk, erased))
        return stored, waiting
    fields = ("trace_id", "span_id", "parent_span_id", "category", "start_time_unix_nano", "attributes")
    spans = TraceSpan.objects.filter(project=project, trace_id__in=trace_ids).values_list(*fields)
    calls = LLMCall.objects.filter(project=project, trace_id__in=trace_ids, span_start_time_unix_nano__isnull=False)
    call_fields = ("trace_id", "span_id", "span_parent_id", "span_category", "span_start_time_unix_nano", "pk")
    stored = [
        *(_StoredSpan(*row[:5], row[5] or {}) for row in spans),
        *(
            _StoredSpan(*row[:5], {}, row[5], erased is not None)
            for *row, erased in calls.values_list(*call_fields, "erased_at")
        ),
    ]
    pending = SpanMessages.objects.filter(project=project, trace_id__in=trace_ids, attached_at__isnull=True)
    waiting_fields = ("pk", "trace_id", "span_id", "time_unix_nano", "input", "output")
    return stored, [_Waiting(*row) for row in pending.values_list(*waiting_fields)]


class _TraceShape:
    """What every LLM span of a trace asks of it, read once per trace (not once per span): each span's parent,
    the retrieval spans and the prompt spans."""

    def __init__(self, spans: list):
        self.parents = {s.span_id: s.parent_span_id for s in spans}
        self.retrievals = [s for s in spans if s.category == TraceSpan.Category.RETRIEVAL]
        self.prompts = [s for s in spans if s.category == TraceSpan.Category.PROMPT]
        self.stored_calls = [s for s in spans if isinstance(s, _StoredSpan) and s.call_id is not None]


def _call_item(span: SpanIn, trace: _TraceShape, pending: dict, prompts: _PromptMatcher) -> dict:
    item = dict(span.call or {})
    item.update(client_call_id=f"{CALL_ID_PREFIX}{span.trace_id}:{span.span_id}", trace_id=span.trace_id)
    item["span_id"] = span.span_id
    waiting = pending.get((span.trace_id, span.span_id))
    if waiting:
        subject = item.get("subject_id")  # the span's end user: the messages that waited for it lose the id too
        if item.get("input") is None and waiting["input"]:
            item["input"] = redact_subject_id(waiting["input"], subject) if subject is not None else waiting["input"]
        if not item.get("output") and waiting["output"]:
            item["output"] = redact_subject_id(waiting["output"], subject) if subject is not None else waiting["output"]
    documents = []
    for other in trace.retrievals:
        if other.span_id != span.span_id:
            if _feeds(other, span, trace.parents):
                found = other.documents if isinstance(other, SpanIn) else other.attributes.get("documents", [])
                documents.extend(found or [])
    if documents and "retrieved_documents" not in item:
        item["retrieved_documents"] = [{**doc, "rank": rank} for rank, doc in enumerate(documents)]
    ref = span.prompt
    if not ref:
        before = [s for s in trace.prompts if s.start_time_unix_nano <= span.start_time_unix_nano]
        if before:
            nearest = max(before, key=lambda s: s.start_time_unix_nano)
            ref = nearest.prompt if isinstance(nearest, SpanIn) else nearest.attributes.get("prompt")
    version = prompts.match(ref)
    if version is not None:
        item["prompt_version"] = version
    return item


def _call_span(span: SpanIn) -> CallSpan:
    attributes = {**span.attributes, "prompt": span.prompt} if span.prompt else span.attributes
    return CallSpan(
        parent_span_id=span.parent_span_id,
        name=span.name[:200],
        category=span.category,
        kind=span.kind,
        service_name=span.service_name[:200],
        scope_name=span.scope_name[:200],
        start_time_unix_nano=span.start_time_unix_nano,
        end_time_unix_nano=span.end_time_unix_nano,
        status=span.status,
        attributes=attributes,
    )


def _ingest_calls(
    actor, project, items: list[dict], spans: list[CallSpan], owners: list[int], rejected: dict[int, str]
) -> dict | None:
    """calls_ingest on the items (each with its span), leaving out those it names as wrong (and retrying the
    rest); answers its summary of the calls written (None when none was), for the export's audit event."""
    pending = list(range(len(items)))
    for _ in range(3):
        if not pending:
            return None
        try:
            result = calls_ingest(
                actor=actor,
                project=project,
                items=[items[i] for i in pending],
                spans=[spans[i] for i in pending],
                audited=False,
            )
            break
        except ServiceError as exc:
            bad: dict[int, list[str]] = {}
            for name, messages in exc.fields.items():
                match = _ITEM.match(name)
                if match is None:
                    raise
                bad.setdefault(int(match.group(1)), []).append(f"{name.split('.', 1)[-1]}: {'; '.join(messages)}")
            for position, problems in bad.items():
                rejected[owners[pending[position]]] = ", ".join(problems)
            pending = [i for position, i in enumerate(pending) if position not in bad]
    else:
        for i in pending:
            rejected[owners[i]] = "refused"
        return None
    return result.summary


SPAN_COLUMNS = (
    "project_id",
    "trace_id",
    "span_id",
    "parent_span_id",
    "name",
    "category",
    "kind",
    "service_name",
    "scope_name",
    "start_time_unix_nano",
    "end_time_unix_nano",
    "status",
    "status_message",
    "attributes",
    "created_at",
    "created_by_key_id",
)
_ATTRIBUTES = SPAN_COLUMNS.index("attributes")


def _insert_spans(rows: list[tuple]) -> None:
    """The new spans' rows (SPAN_COLUMNS; LLM spans are their calls' rows), a span already recorded skipped: COPY on
    PostgreSQL (as calls_ingest writes its calls: the ORM's bulk insert of a 512-span export took longer than the
    rest of the request)."""
    if not rows:
        return
    if bulk.is_postgresql():
        dumps = json.dumps
        bulk.copy_insert_ignore(
            table=TraceSpan._meta.db_table,
            columns=SPAN_COLUMNS,
            rows=[(*row[:_ATTRIBUTES], dumps(row[_ATTRIBUTES]), *row[_ATTRIBUTES + 1 :]) for row in rows],
            conflict=("project_id", "trace_id", "span_id"),
        )
        return
    objects = [TraceSpan(**dict(zip(SPAN_COLUMNS, row, strict=True))) for row in rows]
    TraceSpan.objects.bulk_create(objects, batch_size=1000, ignore_conflicts=True)


def _row(project: Project, span: SpanIn, actor: Actor, now) -> tuple:
    attributes = dict(span.attributes)
    if span.category == TraceSpan.Category.RETRIEVAL and span.documents:
        attributes["documents"] = [
            {k: v for k, v in doc.items() if k in ("document_id", "source", "chunk_sha256", "score")}
            for doc in span.documents
        ]
    if span.prompt:
        attributes["prompt"] = span.prompt
    return (
        project.pk,
        span.trace_id,
        span.span_id,
        span.parent_span_id,
        span.name[:200],
        span.category,
        span.kind,
        span.service_name[:200],
        span.scope_name[:200],
        span.start_time_unix_nano,
        span.end_time_unix_nano,
        span.status,
        span.status_message[:500],
        attributes,
        now,
        actor.api_key.pk if actor.api_key is not None else None,
    )


def _record_keys(messages: Sequence[MessagesIn]) -> list[str]:
    """Each log record's identity: a keyed hash (the server's secret, so the messages cannot be guessed back from
    it) of its span, time and messages, and of how many equal records came before it in the request: a re-sent
    record has the same key, two records that only look alike (the same words said twice) do not."""
    seen: dict[str, int] = {}
    keys = []
    for m in messages:
        identity = json.dumps([m.trace_id, m.span_id, m.time_unix_nano, m.input, m.output], sort_keys=True)
        occurrence = seen.get(identity, 0)
        seen[identity] = occurrence + 1
        keys.append(salted_hmac("llmops.span_messages", f"{identity}#{occurrence}").hexdigest())
    return keys


def span_messages_ingest(*, actor: Actor, project: Project, messages: Sequence[MessagesIn]) -> int:
    """Join log-record messages to their spans (the rule in this module's docstring); answers how many calls
    got their messages now."""
    _check(actor, project)
    if not messages:
        return 0
    now = timezone.now()
    keys = {(m.trace_id, m.span_id) for m in messages}
    attached = 0
    with transaction.atomic():
        _lock_traces({t for t, _ in keys})
        cutoff = now - timedelta(hours=settings.OTLP_PENDING_MESSAGES_HOURS)
        SpanMessages.objects.filter(project=project, received_at__lt=cutoff).delete()
        trace_ids, span_ids = {t for t, _ in keys}, {s for _, s in keys}
        known: set[tuple[str, str, str]] = set()  # the records of these spans seen before
        from_events: set[tuple[str, str]] = set()  # the spans whose call's input came from log records
        for t, s, key, attached_at in SpanMessages.objects.filter(
            project=project, trace_id__in=trace_ids, span_id__in=span_ids
        ).values_list("trace_id", "span_id", "key", "attached_at"):
            known.add((t, s, key))
            if attached_at is not None:
                from_events.add((t, s))
        fresh = [
            (key, m)
            for key, m in zip(_record_keys(messages), messages, strict=True)
            if (m.trace_id, m.span_id, key) not in known
        ]
        arrived = [
            *(
                (t, s, None)
                for t, s in TraceSpan.objects.filter(
                    project=project, trace_id__in=trace_ids, span_id__in=span_ids
                ).values_list("trace_id", "span_id")
            ),
            *LLMCall.objects.filter(
                project=project, trace_id__in=trace_ids, span_id__in=span_ids, span_start_time_unix_nano__isnull=False
            ).values_list("trace_id", "span_id", "id"),
        ]
        spans = {(t, s): call_id for t, s, call_id in arrived if (t, s) in keys}
        waiting = [(key, m) for key, m in fresh if (m.trace_id, m.span_id) not in spans]
        rows = [
            SpanMessages(
                project=project,
                trace_id=m.trace_id,
                span_id=m.span_id,
                key=key,
                time_unix_nano=m.time_unix_nano,
                input=m.input,
                output=m.output,
                received_at=now,
            )
            for key, m in waiting
        ]
        late: dict[int, dict] = {}
        for key, m in sorted(fresh, key=lambda pair: pair[1].time_unix_nano):
            call_id = spans.get((m.trace_id, m.span_id))
            if call_id is None:
                continue
            entry = late.setdefault(call_id, {"span": (m.trace_id, m.span_id), "input": [], "output": "", "keys": []})
            entry["input"].extend(m.input)
            if m.input:
                entry["keys"].append((key, m))
            if m.output:
                entry["output"] = f"{entry['output']}\n{m.output}" if entry["output"] else m.output
        if late:
            suppression_lock([project.pk])  # an erasure redacting these calls runs before or after, not between
            open_calls = LLMCall.objects.filter(pk__in=late, project=project, erased_at__isnull=True)
            for call in open_calls.only("pk", "input", "output"):
                entry = late[call.pk]
                changes = {}
                # input messages join an input that came from log records (or none): a span's own input stays
                if entry["input"] and (call.input is None or entry["span"] in from_events):
                    before = call.input if isinstance(call.input, list) else []
                    changes["input"] = [*before, *entry["input"]]
                    rows += [
                        SpanMessages(
                            project=project,
                            trace_id=m.trace_id,
                            span_id=m.span_id,
                            key=key,
                            time_unix_nano=m.time_unix_nano,
                            received_at=now,
                            attached_at=now,
                        )
                        for key, m in entry["keys"]
                    ]
                if not call.output and entry["output"]:
                    changes["output"] = entry["output"]
                if changes:
                    attached += LLMCall.objects.filter(pk=call.pk, erased_at__isnull=True).update(**changes)
            if attached:
                audit_append(
                    actor=actor,
                    event_type=LLMEvent.CALL_MESSAGES_ATTACHED,
                    target=project,
                    target_type="llmops.llmcall",
                    target_repr=f"messages of {attached} LLM calls",
                    project_id=project.pk,
                    after={"calls": attached, "ids": sorted(late)[:100]},
                )
        SpanMessages.objects.bulk_create(rows)
    return attached


def trace_settings_set(*, actor: Actor, project: Project, subject_attribute: str) -> TraceSettings:
    """Which span attribute names a call's end user in this project (beside the conventional ones)."""
    if not actor.can(TRACE_SETTERS, project.pk):
        raise Forbidden(f"this account may not change the trace settings of {project.slug}")
    name = subject_attribute.strip()
    if len(name) > 200 or (name and not re.fullmatch(r"[A-Za-z0-9_.:/-]+", name)):
        raise field_error("subject_attribute", "must be an attribute name (letters, digits, _ . : / -)")
    with transaction.atomic():
        current = for_update(TraceSettings.objects.filter(project=project)).first()
        before = {"subject_attribute": current.subject_attribute} if current else {}
        settings_row, _ = TraceSettings.objects.update_or_create(project=project, defaults={"subject_attribute": name})
        audit_append(
            actor=actor,
            event_type=LLMEvent.TRACE_SETTINGS_SET,
            target=settings_row,
            project_id=project.pk,
            before=before,
            after={"subject_attribute": name},
        )
    return settings_row
