"""The registration hook through which later apps (LLM calls, retrieved documents) add what they hold
about a data subject to an erasure's trace and redaction, without governance importing them.

An app registers a contributor in its AppConfig.ready():

    from governance.subject_data import register_subject_data
    register_subject_data(MyContributor())

`trace` answers a JSON-ready description of what the app holds about the subject (counts, ids);
`redact` clears it inside the erasure's transaction and answers what it did (counts). Neither
may put the subject key or any personal value into its answer. Both answers are stored with the request;
`trace_rows` and `redaction_rows` read them back as the rows a person reads on the request's pages and its
report (what kind of record, how many, what erasure does to it), so governance draws one table for every app.
A contributor without them, or an answer whose app is gone, is read generically (`generic_rows`).
An optional `access_rows(project_id=, subject_key=)` answers a subject access report's rows more cheaply than
a trace (counts only); an optional `processing(project_id=)` answers the app's lines of a project's record of
processing activities (governance.queries.processing: activity, risk tier, use, where, sensitive attributes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, TypedDict

from registry.actors import Actor


class SubjectDataRow(TypedDict):
    """One kind of record an app holds about the subject: `record` names it as a person reads it ("LLM calls
    about the subject"), `count` how many (None where the answer holds no count), `note` what erasure does to it
    or did ("input and output cleared; tokens and cost kept"), "" when there is nothing to say."""

    record: str
    count: int | None
    note: str


class SubjectDataContributor(Protocol):
    name: str
    label: str  # the app as a person reads it: "LLM calls and retrieved documents"

    def trace(self, *, project_id: int, subject_key: str) -> dict: ...

    def redact(self, *, actor: Actor, project_id: int, subject_key: str, at: datetime) -> dict: ...

    def trace_rows(self, section: dict) -> list[SubjectDataRow]: ...

    def redaction_rows(self, done: dict) -> list[SubjectDataRow]: ...


_contributors: dict[str, SubjectDataContributor] = {}


def register_subject_data(contributor: SubjectDataContributor) -> SubjectDataContributor:
    _contributors[contributor.name] = contributor
    return contributor


def unregister_subject_data(name: str) -> None:
    _contributors.pop(name, None)


def subject_data_contributors() -> list[SubjectDataContributor]:
    return [_contributors[name] for name in sorted(_contributors)]


def subject_data_contributor(name: str) -> SubjectDataContributor | None:
    return _contributors.get(name)


def generic_rows(section: object, prefix: str = "") -> list[SubjectDataRow]:
    """An answer read without its app: each count under its key (one level of grouping kept in the name:
    `{"llm_calls": {"count": 3}}` -> "llm calls", 3), text values as notes; id lists and flags are left out,
    since the pages say how many, not which."""
    if not isinstance(section, dict):
        return [{"record": prefix or "records", "count": None, "note": str(section)}]
    if isinstance(section.get("count"), int) and not isinstance(section.get("count"), bool):
        return [{"record": prefix or "records", "count": section["count"], "note": ""}]
    rows: list[SubjectDataRow] = []
    for key, value in section.items():
        name = f"{prefix} {key}".strip().replace("_", " ")
        if isinstance(value, dict):
            rows.extend(generic_rows(value, name))
        elif isinstance(value, int) and not isinstance(value, bool):
            rows.append({"record": name, "count": value, "note": ""})
        elif isinstance(value, str) and value:
            rows.append({"record": name, "count": None, "note": value})
    return rows
