"""The registration hook through which later apps add statements to a documentation pack (llmops: the evaluations
of the project's LLM components in the validation section), without governance importing them.

An app registers a contributor in its AppConfig.ready():

    from governance.evidence.contributors import register_evidence
    register_evidence(MyContributor())

`statements(project_id=, now=)` answers the app's statements about the project as it stood at `now`, each in a
section of governance.evidence.pack.SECTIONS, with a stable `key` (what a later pack compares), its `text`, and
the `records` it rests on; the pack cites each record with the audit-chain events that recorded it, as it does its
own. A statement names no subject and no personal value.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, TypedDict

from django.db.models import Model


class EvidenceStatement(TypedDict):
    section: str
    key: str
    text: str
    records: list[Model]


class EvidenceContributor(Protocol):
    name: str

    def statements(self, *, project_id: int, now: datetime) -> list[EvidenceStatement]: ...


_contributors: dict[str, EvidenceContributor] = {}


def register_evidence(contributor: EvidenceContributor) -> EvidenceContributor:
    _contributors[contributor.name] = contributor
    return contributor


def unregister_evidence(name: str) -> None:
    _contributors.pop(name, None)


def evidence_contributors() -> list[EvidenceContributor]:
    return [_contributors[name] for name in sorted(_contributors)]


def contributed_statements(*, project_id: int, now: datetime) -> list[EvidenceStatement]:
    return [
        st for contributor in evidence_contributors() for st in contributor.statements(project_id=project_id, now=now)
    ]
