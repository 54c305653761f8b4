"""LLM call ingest: validated whole, idempotent on the client's call id, tokens from the provider's
usage (mapped onto the canonical categories) or counted with tiktoken, priced at the call's own time."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import NamedTuple

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from llmops import tokens as tk
from llmops.events import LLMEvent
from llmops.models import LLMCall, PromptLabelMove, PromptTemplate, PromptVersion, RetrievedDocument
from llmops.permissions import CALL_INGESTERS
from llmops.services.budgets import budgets_check
from llmops.services.pricing import PriceBook, cost_of
from llmops.usage import FORMATS, UsageError, usage_normalise
from registry import bulk
from registry.actors import Actor
from registry.audit import audit_append
from registry.errors import field_error
from registry.models import DataVersion, Project
from registry.services import suppressed_keys
from registry.subjects import InvalidSubjectId, current_key_id, mentions_subject_id, subject_key, suppression_lock
from registry.validation import BulkErrors, check_items, is_finite_number, is_int, parse_timestamp

MAX_CALLS_PER_REQUEST = 5_000
MAX_DOCUMENTS_PER_CALL = 200
CALL_FIELDS = frozenset(
    {
        "client_call_id",
        "prompt_version",
        "prompt",
        "provider",
        "model",
        "input",
        "output",
        "usage",
        "usage_format",
        "latency_ms",
        "status",
        "error",
        "subject_id",
        "tags",
        "trace_id",
        "span_id",
        "occurred_at",
        "retrieved_documents",
    }
)
DOCUMENT_FIELDS = frozenset(
    {"document_id", "source", "chunk_sha256", "chunk_text", "score", "rank", "data_version", "subject_id"}
)
HEX = re.compile(r"^[0-9a-f]+$")
ERASED_DOCUMENT_ID = "[erased]"
COPY_COLUMNS = (
    "project_id",
    "client_call_id",
    "prompt_version_id",
    "provider",
    "model",
    "input",
    "output",
    "input_uncached",
    "input_cache_read",
    "input_cache_write",
    "output_tokens",
    "output_reasoning",
    "token_source",
    "latency_ms",
    "status",
    "error",
    "subject_key",
    "subject_key_id",
    "tags",
    "trace_id",
    "span_id",
    "occurred_at",
    "cost",
    "cost_status",
    "price_id",
    "erased_at",
    "created_at",
    "created_by_key_id",
)
SPAN_COPY_COLUMNS = (
    "span_parent_id",
    "span_name",
    "span_category",
    "span_kind",
    "span_service_name",
    "span_scope_name",
    "span_start_time_unix_nano",
    "span_end_time_unix_nano",
    "span_status",
    "span_attributes",
)


class CallSpan(NamedTuple):
    """Where a call recorded from an OpenTelemetry LLM span sits in its trace (llmops.services.traces): stored on
    the call's own row (the span_* fields, in SPAN_COPY_COLUMNS' order), so a call and its span are one write."""

    parent_span_id: str
    name: str
    category: str
    kind: int
    service_name: str
    scope_name: str
    start_time_unix_nano: int
    end_time_unix_nano: int
    status: str
    attributes: dict


@dataclass
class _Call:
    index: int
    client_call_id: str
    prompt_version_id: int | None
    provider: str
    model: str
    input: object
    output: str
    tokens: dict[str, int]
    token_source: str
    latency_ms: float | None
    status: str
    error: str
    subject_key: str | None
    tags: list[str]
    trace_id: str
    span_id: str
    occurred_at: datetime
    documents: list[dict] = field(default_factory=list)
    cost: Decimal | None = None
    price_id: int | None = None
    erased: bool = False
    span: CallSpan | None = None


@dataclass(frozen=True)
class CallsIngestResult:
    accepted: int
    duplicates: int
    unpriced: int
    counted: int  # calls whose tokens the service counted (no provider usage)
    cost: Decimal
    subjects_stripped: int = 0
    summary: dict | None = None  # what the batch's audit event records (None when nothing was written)


def _project_for(actor: Actor, slug: object) -> Project:
    if slug is None:
        project = actor.default_project(CALL_INGESTERS)
        if project is None:
            raise field_error("project", "is required (your key or account reaches several projects)")
        return project
    project = Project.objects.filter(slug=slug).first() if isinstance(slug, str) else None
    if project is None or not actor.can(CALL_INGESTERS, project.pk):
        raise field_error("project", f"project {slug!r} does not exist")
    return project


class _Prompts:
    """Resolves each call's prompt (a version id, or a prompt name and label at the call's time)."""

    def __init__(self, project: Project, items: Sequence[object]):
        ids = {v for i in items if isinstance(i, dict) and is_int(v := i.get("prompt_version"))}
        self.versions = dict(PromptVersion.objects.filter(project=project, pk__in=ids).values_list("pk", "template_id"))
        names = {p.get("name") for i in items if isinstance(i, dict) and isinstance(p := i.get("prompt"), dict)} - {
            None
        }
        self.templates = dict(PromptTemplate.objects.filter(project=project, name__in=names).values_list("name", "pk"))
        self.moves: dict[tuple[int, str], list[tuple[datetime, int]]] = {}
        for move in PromptLabelMove.objects.filter(template_id__in=self.templates.values()).order_by("moved_at", "id"):
            self.moves.setdefault((move.template_id, move.name), []).append((move.moved_at, move.to_version_id))

    def resolve(self, item: dict, at: datetime | None, errors: BulkErrors, index: int) -> int | None:
        version_id, prompt = item.get("prompt_version"), item.get("prompt")
        if version_id is not None and prompt is not None:
            errors.add(index, "prompt", "give prompt_version or prompt, not both")
            return None
        if version_id is not None:
            if not is_int(version_id) or version_id not in self.versions:
                errors.add(index, "prompt_version", f"prompt version {version_id} does not exist")
                return None
            return version_id
        if prompt is None:
            return None
        if not isinstance(prompt, dict) or set(prompt) != {"name", "label"}:
            errors.add(index, "prompt", 'must be {"name": ..., "label": ...}')
            return None
        template_id = self.templates.get(prompt["name"])
        if template_id is None:
            errors.add(index, "prompt.name", f"prompt {prompt['name']!r} does not exist")
            return None
        history = self.moves.get((template_id, prompt["label"]), [])
        if not history:
            errors.add(index, "prompt.label", f"prompt {prompt['name']!r} has no label {prompt['label']!r}")
            return None
        if at is None:
            return None
        in_force = [version for moved_at, version in history if moved_at <= at]
        if not in_force:
            errors.add(index, "prompt.label", f"label {prompt['label']!r} did not exist yet at {at.isoformat()}")
            return None
        return in_force[-1]


def _check_input(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return None
    if not isinstance(value, list):
        return "must be a text or a list of chat messages"
    for message in value:
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            return 'each message must be an object with a "role"'
        if not isinstance(message.get("content", ""), (str, list, type(None))):
            return "a message's content must be a string or a list of parts"
    return None


def _message_texts(value: object) -> object:
    """Chat messages with list-of-parts contents flattened to their text, for counting."""
    if not isinstance(value, list):
        return value
    flat = []
    for message in value:
        content = message.get("content")
        if isinstance(content, list):
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        flat.append({"role": message["role"], "content": content or ""})
    return flat


def _documents(
    item: dict, index: int, errors: BulkErrors, project: Project, data_versions: set[int], call_subject: object
) -> list[dict]:
    documents = item.get("retrieved_documents")
    if documents is None:
        return []
    if not isinstance(documents, list) or len(documents) > MAX_DOCUMENTS_PER_CALL:
        errors.add(index, "retrieved_documents", f"must be a list of at most {MAX_DOCUMENTS_PER_CALL} documents")
        return []
    parsed = []
    for position, doc in enumerate(documents):
        name = f"retrieved_documents[{position}]"
        if not isinstance(doc, dict):
            errors.add(index, name, "must be an object")
            continue
        for unknown in sorted(doc.keys() - DOCUMENT_FIELDS):
            errors.add(index, f"{name}.{unknown}", "is not a known field")
        document_id = doc.get("document_id")
        if not isinstance(document_id, str) or not document_id or len(document_id) > 300:
            errors.add(index, f"{name}.document_id", "is required (a string of at most 300 characters)")
        chunk = doc.get("chunk_sha256", "")
        if doc.get("chunk_text") is not None:
            if chunk:
                errors.add(index, f"{name}.chunk_text", "give chunk_text or chunk_sha256, not both")
            elif not isinstance(doc["chunk_text"], str):
                errors.add(index, f"{name}.chunk_text", "must be a string")
            else:  # the text is hashed here and never stored
                chunk = hashlib.sha256(doc["chunk_text"].encode()).hexdigest()
        elif chunk and (not isinstance(chunk, str) or len(chunk) != 64 or not HEX.match(chunk)):
            errors.add(index, f"{name}.chunk_sha256", "must be 64 lowercase hex digits")
        score, rank = doc.get("score"), doc.get("rank")
        if score is not None and not is_finite_number(score):
            errors.add(index, f"{name}.score", "must be a finite number")
        if rank is not None and (not is_int(rank) or rank < 0):
            errors.add(index, f"{name}.rank", "must be a non-negative integer")
        dv = doc.get("data_version")
        if dv is not None and (not is_int(dv) or dv not in data_versions):
            errors.add(index, f"{name}.data_version", f"data version {dv} does not exist in {project.slug}")
        key = None
        if doc.get("subject_id") is not None:
            try:
                key = subject_key(doc["subject_id"])
            except InvalidSubjectId as exc:
                errors.add(index, f"{name}.subject_id", str(exc))
        source = doc.get("source", "")
        if not isinstance(source, str) or len(source) > 500:
            errors.add(index, f"{name}.source", "must be a string of at most 500 characters")
        for raw in {doc.get("subject_id"), call_subject} - {None}:
            for text_field in ("document_id", "source"):
                if mentions_subject_id(doc.get(text_field), raw):
                    errors.add(index, f"{name}.{text_field}", "must not contain the subject id")
        parsed.append(
            {
                "document_id": document_id,
                "source": source if isinstance(source, str) else "",
                "chunk_sha256": chunk if isinstance(chunk, str) else "",
                "score": None if score is None else float(score),
                "rank": rank,
                "data_version_id": dv,
                "subject_key": key,
            }
        )
    return parsed


def _tokens(item: dict, model: str, input_value: object, output: str, index: int, errors: BulkErrors):
    usage = item.get("usage")
    if usage is not None:
        fmt = item.get("usage_format")
        if fmt is not None and fmt not in FORMATS:
            errors.add(index, "usage_format", f"must be one of {', '.join(FORMATS)}")
            return None, ""
        try:
            return usage_normalise(usage, fmt), tk.SOURCE_PROVIDER
        except UsageError as exc:
            errors.add(index, "usage", str(exc))
            return None, ""
    counted_in, source = tk.count_tokens(_message_texts(input_value), model)
    counted_out, _ = tk.count_text(output, model)
    tokens = {"input_uncached": counted_in, "input_cache_read": 0, "input_cache_write": 0}
    return {**tokens, "output": counted_out, "output_reasoning": 0}, source


def _parse(item: object, index: int, errors: BulkErrors, project: Project, prompts: _Prompts, dvs: set[int]):
    if not isinstance(item, dict):
        errors.add(index, None, "must be an object")
        return None
    before = errors.count
    for name in sorted(item.keys() - CALL_FIELDS):
        errors.add(index, name, "is not a known field")
    call_id = item.get("client_call_id")
    if not isinstance(call_id, str) or not call_id.strip() or len(call_id) > 200:
        errors.add(index, "client_call_id", "is required (a non-empty string of at most 200 characters)")
    for name, limit in (("provider", 64), ("model", 200)):
        if not isinstance(item.get(name), str) or not item[name].strip() or len(item[name]) > limit:
            errors.add(index, name, f"is required (a non-empty string of at most {limit} characters)")
    occurred_at = None
    try:
        occurred_at = parse_timestamp(item.get("occurred_at")) if item.get("occurred_at") is not None else None
        if occurred_at is None:
            errors.add(index, "occurred_at", "is required")
    except ValueError as exc:
        errors.add(index, "occurred_at", str(exc))
    version_id = prompts.resolve(item, occurred_at, errors, index)
    if (problem := _check_input(item.get("input"))) is not None:
        errors.add(index, "input", problem)
    output = item.get("output", "")
    if output is None:
        output = ""
    if not isinstance(output, str):
        errors.add(index, "output", "must be a string")
    status = item.get("status", LLMCall.Status.OK)
    if status not in LLMCall.Status.values:
        errors.add(index, "status", f"must be one of {', '.join(LLMCall.Status.values)}")
    error = item.get("error", "") or ""
    if not isinstance(error, str):
        errors.add(index, "error", "must be a string")
    latency = item.get("latency_ms")
    if latency is not None and (not is_finite_number(latency) or latency < 0):
        errors.add(index, "latency_ms", "must be a non-negative number")
    tags = item.get("tags", []) or []
    if not isinstance(tags, list) or not all(isinstance(t, str) and 0 < len(t) <= 100 for t in tags):
        errors.add(index, "tags", "must be a list of non-empty strings of at most 100 characters")
    ids = {}
    for name, limit in (("trace_id", 64), ("span_id", 32)):
        value = item.get(name, "") or ""
        if value and (not isinstance(value, str) or len(value) > limit or not HEX.match(value)):
            errors.add(index, name, f"must be lowercase hex of at most {limit} digits (W3C trace context)")
        ids[name] = value if isinstance(value, str) else ""
    key = None
    raw_subject = item.get("subject_id")
    if raw_subject is not None:
        try:
            key = subject_key(raw_subject)
        except InvalidSubjectId as exc:
            errors.add(index, "subject_id", str(exc))
        # ids and tags outlive an erasure's redaction of the texts: they must not repeat the subject id
        if mentions_subject_id(call_id, raw_subject):
            errors.add(index, "client_call_id", "must not contain the subject id")
        if isinstance(tags, list) and any(mentions_subject_id(tag, raw_subject) for tag in tags):
            errors.add(index, "tags", "must not contain the subject id")
    documents = _documents(item, index, errors, project, dvs, raw_subject)
    if errors.count != before:
        return None
    tokens, source = _tokens(item, item["model"], item.get("input"), output, index, errors)
    if tokens is None:
        return None
    return _Call(
        index=index,
        client_call_id=call_id,
        prompt_version_id=version_id,
        provider=item["provider"],
        model=item["model"],
        input=item.get("input"),
        output=output,
        tokens=tokens,
        token_source=source,
        latency_ms=None if latency is None else float(latency),
        status=status,
        error=error,
        subject_key=key,
        tags=sorted(set(tags)),
        trace_id=ids["trace_id"],
        span_id=ids["span_id"],
        occurred_at=occurred_at.astimezone(UTC),
        documents=documents,
    )


def _suppress(project: Project, calls: list[_Call], errors: BulkErrors) -> int:
    """Calls by or about a subject erased from the project: refused, or kept without the subject and its
    texts (input, output, error, tags; a document about the subject loses its id, source and chunk hash), as
    the project says. Takes the project's suppression lock first: call inside the insert's transaction.
    Returns how many calls were stripped."""
    keys = {c.subject_key for c in calls if c.subject_key}
    keys.update(d["subject_key"] for c in calls for d in c.documents if d["subject_key"])
    if not keys:
        return 0
    suppression_lock([project.pk])
    erased = suppressed_keys(project_id=project.pk, keys=sorted(keys))
    if not erased:
        return 0
    strip = project.erased_subject_ingest == Project.ErasedSubjectIngest.STRIP
    stripped = 0
    for call in calls:
        about = [position for position, d in enumerate(call.documents) if d["subject_key"] in erased]
        if call.subject_key not in erased and not about:
            continue
        if not strip:
            if call.subject_key in erased:
                errors.add(call.index, "subject_id", "this subject was erased from the project; the call is refused")
            for position in about:
                errors.add(
                    call.index,
                    f"retrieved_documents[{position}].subject_id",
                    "this subject was erased from the project; the call is refused",
                )
            continue
        if call.subject_key in erased:
            call.subject_key, call.input, call.output, call.error, call.tags = None, None, "", "", []
            call.erased = True
        for position in about:
            call.documents[position].update(
                document_id=ERASED_DOCUMENT_ID, source="", chunk_sha256="", subject_key=None, erased=True
            )
        stripped += 1
    return stripped


def calls_ingest(
    *,
    actor: Actor,
    project_slug: object = None,
    items: Sequence[object],
    spans: Sequence[CallSpan | None] | None = None,
    project: Project | None = None,
    audited: bool = True,
) -> CallsIngestResult:
    """Validate a whole batch of LLM calls, then store those not yet recorded, with their documents. `spans`
    (from traces_ingest, one per item) are the items' OpenTelemetry spans, stored on the calls' rows. A service
    that has the project already passes it (else `project_slug`, or the actor's one project); one that records the
    batch in an audit event of its own, in the same transaction, passes `audited=False` and writes the result's
    `summary` into it (traces_ingest: one event per export)."""
    if project is None:
        project = _project_for(actor, project_slug)
    elif not actor.can(CALL_INGESTERS, project.pk):
        raise field_error("project", f"project {project.slug!r} does not exist")
    items = check_items(items, "calls", MAX_CALLS_PER_REQUEST)
    if spans is not None and len(spans) != len(items):
        raise ValueError("calls_ingest: one span (or None) per item")
    errors = BulkErrors("calls")
    prompts = _Prompts(project, items)
    dv_ids = {
        d.get("data_version")
        for i in items
        if isinstance(i, dict) and isinstance(i.get("retrieved_documents"), list)
        for d in i["retrieved_documents"]
        if isinstance(d, dict) and is_int(d.get("data_version"))
    }
    dvs = set(DataVersion.objects.filter(project=project, pk__in=dv_ids).values_list("pk", flat=True))
    calls: list[_Call] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        call = _parse(item, index, errors, project, prompts, dvs)
        if call is None:
            continue
        first = seen.setdefault(call.client_call_id, index)
        if first != index:
            errors.add(index, "client_call_id", f"repeats the client_call_id of calls[{first}]")
            continue
        if spans is not None:
            call.span = spans[index]
        calls.append(call)
    errors.raise_if_any()

    book = PriceBook({c.provider for c in calls})
    for call in calls:
        price = book.price_for(call.provider, call.model, call.occurred_at)
        if price is not None:
            call.cost, call.price_id = cost_of(call.tokens, price), price.pk
    now = timezone.now()
    with transaction.atomic():
        # the suppression check and the insert under the lock erasure execution takes exclusively
        stripped = _suppress(project, calls, errors)
        errors.raise_if_any()
        inserted = _insert(project, calls, actor, now)
        new = [c for c in calls if c.client_call_id in inserted]
        documents = [_document(inserted[c.client_call_id], project, doc, now) for c in new for doc in c.documents]
        RetrievedDocument.objects.bulk_create(documents, batch_size=2000)
        cost = sum((c.cost for c in new if c.cost is not None), Decimal(0))
        unpriced = sum(1 for c in new if c.cost is None)
        counted = sum(1 for c in new if c.token_source != tk.SOURCE_PROVIDER)
        summary = None
        if new:
            summary = {
                "accepted": len(new),
                "duplicates": len(calls) - len(new),
                "unpriced": unpriced,
                "counted_by_service": counted,
                "documents": len(documents),
                "cost": cost,
                "first_id": min(inserted.values()),
                "last_id": max(inserted.values()),
            }
            if audited:
                audit_append(
                    actor=actor,
                    event_type=LLMEvent.CALLS_INGESTED,
                    target=project,
                    target_type="llmops.llmcall",
                    target_repr=f"{len(new)} LLM calls",
                    project_id=project.pk,
                    after=summary,
                )
            budgets_check(actor=actor, project=project, at=[c.occurred_at for c in new])
    return CallsIngestResult(
        accepted=len(new),
        duplicates=len(calls) - len(new),
        unpriced=unpriced,
        counted=counted,
        cost=cost,
        subjects_stripped=stripped,
        summary=summary,
    )


def call_documents_attach(
    *, actor: Actor, project: Project, attachments: Sequence[tuple[int, list[dict]]]
) -> tuple[int, dict[int, str]]:
    """Retrieved documents for calls already recorded (traces_ingest: a retrieval span that arrives after the
    call it fed). Each attachment is (call id, document items as calls_ingest takes them), validated by the same
    checks (`retrieved_documents`); an attachment with a bad document is refused whole and named by its position.
    The others are appended after the call's own documents (ranks following theirs), under the suppression lock,
    except to calls of another project or erased meanwhile: nothing is added to an erased record. Runs inside the
    caller's transaction, whose audit event records it. Answers (documents written, {position: why refused})."""
    if not actor.can(CALL_INGESTERS, project.pk):
        raise field_error("project", f"project {project.slug!r} does not exist")
    errors = BulkErrors("attachments")
    parsed: list[tuple[int, list[dict]]] = []
    refused: dict[int, str] = {}
    for position, (call_id, documents) in enumerate(attachments):
        before = errors.count
        found = _documents({"retrieved_documents": documents}, position, errors, project, set(), None)
        if errors.count != before:
            refused[position] = "refused"
        else:
            parsed.append((call_id, found))
    for name, messages in errors.fields.items():
        position = int(name.split("]", 1)[0].rsplit("[", 1)[1])
        refused[position] = f"{name.split('.', 1)[-1]}: {'; '.join(messages)}"
    if not parsed:
        return 0, refused
    now = timezone.now()
    with transaction.atomic():
        suppression_lock([project.pk])  # an erasure redacting these calls runs before or after, not between
        calls = LLMCall.objects.filter(pk__in={c for c, _ in parsed}, project=project, erased_at__isnull=True)
        ranks = dict(calls.annotate(n=Count("documents")).values_list("pk", "n"))
        rows = []
        for call_id, documents in parsed:
            if call_id not in ranks:
                continue
            for doc in documents:
                rows.append(_document(call_id, project, {**doc, "rank": ranks[call_id]}, now))
                ranks[call_id] += 1
        RetrievedDocument.objects.bulk_create(rows, batch_size=2000)
    return len(rows), refused


def _document(call_id: int, project: Project, doc: dict, now: datetime) -> RetrievedDocument:
    fields = dict(doc)
    erased = fields.pop("erased", False)
    return RetrievedDocument(call_id=call_id, project=project, erased_at=now if erased else None, **fields)


def _insert(project: Project, calls: list[_Call], actor: Actor, now: datetime) -> dict[str, int]:
    """Insert the calls not yet recorded; answers client_call_id -> id of those inserted."""
    key_id = current_key_id()
    key_pk = actor.api_key.pk if actor.api_key is not None else None

    def values(c: _Call) -> tuple:
        return (
            project.pk,
            c.client_call_id,
            c.prompt_version_id,
            c.provider,
            c.model,
            c.input,
            c.output,
            c.tokens["input_uncached"],
            c.tokens["input_cache_read"],
            c.tokens["input_cache_write"],
            c.tokens["output"],
            c.tokens["output_reasoning"],
            c.token_source,
            c.latency_ms,
            c.status,
            c.error,
            c.subject_key,
            key_id if c.subject_key else "",
            c.tags,
            c.trace_id,
            c.span_id,
            c.occurred_at,
            c.cost,
            LLMCall.CostStatus.UNPRICED if c.cost is None else LLMCall.CostStatus.PRICED,
            c.price_id,
            now if c.erased else None,
            now,
            key_pk,
        )

    with_spans = any(c.span is not None for c in calls)  # else the span_* columns stay null, and out of the COPY
    columns = (*COPY_COLUMNS, *SPAN_COPY_COLUMNS) if with_spans else COPY_COLUMNS
    no_span = (None,) * len(SPAN_COPY_COLUMNS)
    if bulk.is_postgresql():
        dumps = json.dumps
        rows = []
        for c in calls:
            row = list(values(c))
            row[5] = None if c.input is None else dumps(c.input)
            row[18] = dumps(c.tags)
            if with_spans:
                span = c.span
                row.extend(no_span if span is None else (*span[:-1], dumps(span.attributes)))
            rows.append(row)
        returned = bulk.copy_insert_ignore(
            table=LLMCall._meta.db_table,
            columns=columns,
            rows=rows,
            conflict=("project_id", "client_call_id"),
            returning=("client_call_id", "id"),
        )
        return dict(returned)
    existing = set(
        LLMCall.objects.filter(project=project, client_call_id__in=[c.client_call_id for c in calls]).values_list(
            "client_call_id", flat=True
        )
    )
    objects = [
        LLMCall(**dict(zip(columns, (*values(c), *(c.span or no_span)) if with_spans else values(c), strict=True)))
        for c in calls
        if c.client_call_id not in existing
    ]
    created = LLMCall.objects.bulk_create(objects, batch_size=500)
    return {obj.client_call_id: obj.pk for obj in created}
