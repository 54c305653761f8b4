"""The printable letter answering a subject access request: the report (governance.queries.access) as a person
reads it, dates in UTC, decisions and data in tables."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from governance.models import AccessRequest
from governance.presenters.common import utc
from governance.presenters.erasure import days_left_of


class LetterDecision(TypedDict):
    when: str
    reference: str
    decision: str
    final: str
    reviewed: str
    reasons: list[str]
    factors: list[str]


class Letter(TypedDict):
    reference: str
    received: str
    due: str
    clock: dict | None
    answered: str | None
    project: str
    decision_count: int
    decisions_listed: int
    decisions: list[LetterDecision]
    data: list[dict]
    other: list[dict]
    erasures: list[dict]
    how_to_contest: str
    retention: str


def _text(value: object) -> str:
    return "—" if value is None else str(value)


def access_letter(request: AccessRequest, report: dict, *, now: datetime) -> Letter:
    decisions = report["decisions"]
    return {
        "reference": request.reference,
        "received": utc(request.received_at),
        "due": utc(request.due_at),
        "clock": days_left_of(request.due_at, now) if request.status == AccessRequest.Status.OPEN else None,
        "answered": utc(request.answered_at) if request.answered_at else None,
        "project": report["project"],
        "decision_count": decisions["count"],
        "decisions_listed": decisions["listed"],
        "decisions": [
            {
                "when": utc(datetime.fromisoformat(item["occurred_at"])),
                "reference": item["reference"],
                "decision": _text(item["prediction"]),
                "final": _text(item["final_decision"]),
                "reviewed": item["review"] or "not reviewed by a person",
                "reasons": item["reasons"],
                "factors": item["main_factors"],
            }
            for item in decisions["items"]
        ],
        "data": [{**row, "registered": utc(datetime.fromisoformat(row["registered_at"]))} for row in report["data"]],
        "other": [{**row, "count": _text(row["count"])} for row in report["other"]],
        "erasures": [
            {
                **row,
                "received": utc(datetime.fromisoformat(row["received_at"])),
                "executed": utc(datetime.fromisoformat(row["executed_at"])) if row["executed_at"] else None,
            }
            for row in report["erasures"]
        ],
        "how_to_contest": report["how_to_contest"],
        "retention": report["retention"],
    }
