"""The registration hook through which later apps (LLM calls, retrieved documents) add what they hold
about a data subject to an erasure's trace and redaction, without governance importing them.

An app registers a contributor in its AppConfig.ready():

    from governance.subject_data import register_subject_data
    register_subject_data(MyContributor())

`trace` answers a JSON-ready description of what the app holds about the subject (counts, ids);
`redact` clears it inside the erasure's transaction and answers what it did (counts). Neither
may put the subject key or any personal value into its answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from registry.actors import Actor


class SubjectDataContributor(Protocol):
    name: str

    def trace(self, *, project_id: int, subject_key: str) -> dict: ...

    def redact(self, *, actor: Actor, project_id: int, subject_key: str, at: datetime) -> dict: ...


_contributors: dict[str, SubjectDataContributor] = {}


def register_subject_data(contributor: SubjectDataContributor) -> SubjectDataContributor:
    _contributors[contributor.name] = contributor
    return contributor


def unregister_subject_data(name: str) -> None:
    _contributors.pop(name, None)


def subject_data_contributors() -> list[SubjectDataContributor]:
    return [_contributors[name] for name in sorted(_contributors)]
