"""The compliance officer's home (the admin index): one card per duty, each line linked to where it is handled.
The cards a person sees follow their roles (erasure requests and contests are a compliance officer's; the review
queue a reviewer's too); `project` narrows every card to one project the person may see."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from django.urls import reverse

from governance.models import Incident
from governance.permissions import (
    AUDITORS,
    CONTEST_OFFICERS,
    ERASURE_OFFICERS,
    INCIDENT_READERS,
    REVIEW_READERS,
)
from governance.presenters.common import Badge, badge, choice_badge, utc
from governance.presenters.erasure import DaysLeft, days_left_of
from governance.queries import home as q
from registry.actors import Actor
from registry.models import Project
from registry.permissions import ALL_HUMAN_ROLES
from registry.tones import Tone

EVERY_ROLE = ALL_HUMAN_ROLES | REVIEW_READERS


class Line(TypedDict):
    label: str
    url: str
    detail: str
    clock: DaysLeft | None
    badge: Badge | None


class Card(TypedDict):
    key: str
    title: str
    headline: str
    tone: str
    lines: list[Line]
    more_url: str
    empty: str


class HomePage(TypedDict):
    projects: list[dict]
    project: str
    cards: list[Card]


def _line(label, url, detail="", clock=None, badge_=None) -> Line:
    return Line(label=label, url=url, detail=detail, clock=clock, badge=badge_)


def _scope(actor: Actor, roles, project_id: int | None) -> set[int] | None | bool:
    """The projects a card covers: None for every project (a superuser, no project chosen), False when the person
    holds none of the card's roles there (the card is left out)."""
    ids = actor.project_ids(roles)
    if project_id is not None:
        if ids is not None and project_id not in ids:
            return False
        return {project_id}
    if ids is not None and not ids:
        return False
    return ids


def home_page(actor: Actor, *, project_slug: str | None, now: datetime) -> HomePage:
    visible = actor.project_ids(EVERY_ROLE)
    projects = Project.objects.order_by("slug")
    if visible is not None:
        projects = projects.filter(pk__in=visible)
    projects = list(projects.values("pk", "slug", "name"))
    chosen = next((p for p in projects if p["slug"] == project_slug), None)
    project_id = chosen["pk"] if chosen else None
    names = {p["pk"]: p["slug"] for p in projects}
    cards: list[Card] = []

    scope = _scope(actor, ERASURE_OFFICERS | CONTEST_OFFICERS, project_id)
    if scope is not False:
        due, total = q.requests_due(scope, now)
        lines = []
        for row in due:
            name = "erasurerequest" if row.kind == "erasure" else "contest"
            lines.append(
                _line(
                    row.reference,
                    reverse(f"admin:governance_{name}_change", args=[row.pk]),
                    f"{'erasure' if row.kind == 'erasure' else 'contest'} · {names.get(row.project_id, '')}",
                    days_left_of(row.due_at, now),
                )
            )
        overdue = sum(1 for row in due if row.due_at < now)
        cards.append(
            Card(
                key="requests",
                title="Subject requests due in 7 days",
                headline=f"{total} due" + (f", {overdue} overdue" if overdue else ""),
                tone=Tone.DANGER if overdue else (Tone.WARNING if total else Tone.SUCCESS),
                lines=lines,
                more_url=reverse("admin:governance_erasurerequest_changelist"),
                empty="Nothing due this week.",
            )
        )

    scope = _scope(actor, ALL_HUMAN_ROLES, project_id)
    if scope is not False:
        rows, total = q.open_obligations(scope)
        cards.append(
            Card(
                key="obligations",
                title="Open retraining obligations",
                headline=f"{total} open",
                tone=Tone.WARNING if total else Tone.SUCCESS,
                lines=[
                    _line(label, reverse("admin:registry_modelversion_change", args=[mv]), f"since {utc(opened)}")
                    for mv, label, opened in rows
                ],
                more_url="",
                empty="No model version waits for retraining.",
            )
        )

    scope = _scope(actor, AUDITORS | ALL_HUMAN_ROLES, project_id)
    if scope is not False:
        audits = q.production_audits(scope)
        failing = [a for a in audits if a.passed is not True]
        cards.append(
            Card(
                key="audits",
                title="Production versions: latest fairness audit",
                headline=f"{len(failing)} of {len(audits)} without a passing audit" if audits else "none in production",
                tone=Tone.DANGER if failing else Tone.SUCCESS,
                lines=[
                    _line(
                        f"{a.label} · {names.get(a.project_id, '')}",
                        reverse("admin:governance_fairnessaudit_change", args=[a.audit_id])
                        if a.audit_id
                        else reverse("admin:registry_modelversion_change", args=[a.model_version_id]),
                        f"audited {utc(a.audited_at)}" if a.audited_at else "never audited",
                        None,
                        badge("passed", Tone.SUCCESS)
                        if a.passed
                        else badge("failed" if a.audit_id else "no audit", Tone.DANGER),
                    )
                    for a in audits
                ],
                more_url=reverse("admin:governance_fairnessaudit_changelist"),
                empty="No version is in production.",
            )
        )

    scope = _scope(actor, ALL_HUMAN_ROLES, project_id)
    if scope is not False:
        newest, counts = q.recent_alerts(scope, now)
        cards.append(
            Card(
                key="alerts",
                title=f"Alerts of the last {q.ALERT_DAYS} days",
                headline=", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "none",
                tone=Tone.DANGER if counts else Tone.SUCCESS,
                lines=[
                    _line(
                        a.alert,
                        reverse("admin:registry_auditevent_change", args=[a.seq]),
                        f"{a.target} · {utc(a.occurred_at)}",
                    )
                    for a in newest
                ],
                more_url=reverse("admin:registry_auditevent_changelist") + "?event_type=alert.raised",
                empty="No drift, performance, budget or fairness alert.",
            )
        )

    scope = _scope(actor, REVIEW_READERS, project_id)
    if scope is not False:
        summary = q.review_queue(scope, now)
        lines = [
            _line(
                f"model version {r['model_version']}",
                reverse("admin:registry_modelversion_change", args=[r["model_version"]]),
                f"{r['overridden']} of {r['reviewed']} overridden ({(r['override_rate'] or 0):.0%}) in "
                f"{summary.window_days} days",
                None,
                badge(
                    {"low": "reviewers may be rubber-stamping", "high": "overridden too often"}[r["judgement"]],
                    Tone.DANGER,
                )
                if r["judgement"]
                else None,
            )
            for r in summary.override_rates
        ]
        oldest = f", oldest since {utc(summary.oldest_entered_at)}" if summary.oldest_entered_at else ""
        cards.append(
            Card(
                key="reviews",
                title="Review queue",
                headline=f"{summary.open} waiting ({summary.escalated} escalated, {summary.waiting_second} for four "
                f"eyes){oldest}",
                tone=Tone.WARNING if summary.open else Tone.SUCCESS,
                lines=lines,
                more_url=reverse("admin:governance_reviewitem_changelist") + "?open=yes",
                empty="No review closed in the window: no override rate yet.",
            )
        )

    scope = _scope(actor, INCIDENT_READERS, project_id)
    if scope is not False:
        incidents = q.open_incidents(scope)
        cards.append(
            Card(
                key="incidents",
                title="Open incidents",
                headline=f"{len(incidents)} open",
                tone=Tone.DANGER if incidents else Tone.SUCCESS,
                lines=[
                    _line(
                        incident.title,
                        reverse("admin:governance_incident_change", args=[incident.pk]),
                        incident.get_category_display(),
                        days_left_of(incident.due_at, now) if incident.status == Incident.Status.OPEN else None,
                        choice_badge(Incident.Status, incident.status),
                    )
                    for incident in incidents
                ],
                more_url=reverse("admin:governance_incident_changelist"),
                empty="No open incident.",
            )
        )

    if actor.is_superuser or actor.has_any_role(AUDITORS):
        run = q.last_verification()
        if run is None:
            line, tone, headline = [], Tone.WARNING, "never verified"
        else:
            head = f"head #{run.length} {run.head_hash[:12]}…" if actor.is_superuser else "the whole chain"
            headline = f"{'verified' if run.ok else 'BROKEN'} {utc(run.verified_at)} by {run.actor_name}"
            tone = Tone.SUCCESS if run.ok else Tone.DANGER
            line = [_line(head, reverse("admin:registry_auditevent_changelist"), run.reason)]
        cards.append(
            Card(
                key="chain",
                title="Audit trail: last verification",
                headline=headline,
                tone=tone,
                lines=line,
                more_url=reverse("admin:registry_auditevent_changelist"),
                empty="Verify it from the audit trail's page.",
            )
        )
    return HomePage(projects=projects, project=chosen["slug"] if chosen else "", cards=cards)
