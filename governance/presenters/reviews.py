"""What the review pages show: a queued decision (what the model decided, on what, why it waits), its reviews,
and the verdicts the person looking at it may give now, each with its key."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TypedDict

from governance.models import Decision, Review, ReviewItem
from governance.permissions import REVIEW_RESOLVERS, REVIEWERS
from governance.presenters.common import Badge, choice_badge, utc
from registry.actors import Actor
from registry.admin.kit import EMPTY


class VerdictButton(TypedDict):
    verdict: str
    label: str
    key: str  # the keyboard shortcut
    needs_final: bool
    tone: str


class ReviewRow(TypedDict):
    verdict: str
    final_decision: str
    reason: str
    reviewer: str
    source: str
    when: str


class ReviewPage(TypedDict):
    status: Badge
    reasons: list[str]
    priority: int
    waiting: str
    prediction: str
    score: str
    outcome: str
    features: list[tuple[str, str]]
    erased: bool
    occurred: str
    final_decision: str
    reviews: list[ReviewRow]
    buttons: list[VerdictButton]
    closed_note: str


BUTTONS = {
    Review.Verdict.CONFIRMED: VerdictButton(
        verdict="confirmed", label="Confirm", key="c", needs_final=False, tone="success"
    ),
    Review.Verdict.OVERRIDDEN: VerdictButton(
        verdict="overridden", label="Override", key="o", needs_final=True, tone="warning"
    ),
    Review.Verdict.ESCALATED: VerdictButton(
        verdict="escalated", label="Escalate", key="e", needs_final=False, tone="danger"
    ),
    Review.Verdict.OVERRIDE_AGREED: VerdictButton(
        verdict="override_agreed", label="Agree with the override", key="a", needs_final=False, tone="success"
    ),
    Review.Verdict.OVERRIDE_REFUSED: VerdictButton(
        verdict="override_refused", label="Refuse the override", key="r", needs_final=False, tone="danger"
    ),
}
REASON_LABELS = dict(ReviewItem.Reason.choices)


def _value(value: object) -> str:
    if value is None:
        return EMPTY
    return value if isinstance(value, str) else json.dumps(value)


def waiting(since: datetime, now: datetime) -> str:
    hours = max(0, int((now - since).total_seconds() // 3600))
    if hours < 48:
        return f"{hours} h"
    return f"{hours // 24} days"


def buttons_for(item: ReviewItem, actor: Actor) -> list[VerdictButton]:
    """The verdicts this person may give the item now."""
    if not actor.can(REVIEWERS, item.project_id) or actor.person_id is None:
        return []
    V = Review.Verdict
    if item.status == ReviewItem.Status.PENDING:
        return [BUTTONS[V.CONFIRMED], BUTTONS[V.OVERRIDDEN], BUTTONS[V.ESCALATED]]
    if item.status == ReviewItem.Status.SECOND:
        return [BUTTONS[V.OVERRIDE_AGREED], BUTTONS[V.OVERRIDE_REFUSED]]
    if item.status == ReviewItem.Status.ESCALATED and actor.can(REVIEW_RESOLVERS, item.project_id):
        return [BUTTONS[V.CONFIRMED], BUTTONS[V.OVERRIDDEN]]
    return []


def review_page(item: ReviewItem, decision: Decision | None, reviews: list[Review], actor: Actor, now) -> ReviewPage:
    closed_note = ""
    if item.status == ReviewItem.Status.ESCALATED and not actor.can(REVIEW_RESOLVERS, item.project_id):
        closed_note = "Escalated: a compliance officer decides it."
    elif not item.is_open:
        closed_note = f"Reviewed: {item.get_status_display().lower()} on {utc(item.closed_at)}."
    features = sorted((decision.features or {}).items()) if decision is not None else []
    return ReviewPage(
        status=choice_badge(ReviewItem.Status, item.status),
        reasons=[REASON_LABELS.get(reason, reason) for reason in item.reasons],
        priority=item.priority,
        waiting=waiting(item.entered_at, now),
        prediction=_value(decision.prediction) if decision is not None else EMPTY,
        score=EMPTY if decision is None or decision.score is None else f"{decision.score:.3f}",
        outcome=_value(decision.outcome) if decision is not None else EMPTY,
        features=[(name, _value(value)) for name, value in features],
        erased=decision is not None and decision.erased_at is not None,
        occurred=utc(item.decision_occurred_at),
        final_decision=_value(item.final_decision),
        reviews=[
            ReviewRow(
                verdict=review.get_verdict_display(),
                final_decision=_value(review.final_decision),
                reason=review.reason,
                reviewer=review.reviewer,
                source=review.get_source_display(),
                when=utc(review.reviewed_at),
            )
            for review in reviews
        ],
        buttons=buttons_for(item, actor),
        closed_note=closed_note,
    )
