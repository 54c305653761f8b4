"""governance.presenters.policies on its own: a policy's recent changes from the audit trail, as data (the field's
HTML is tested in tests/governance/admin/test_policies.py)."""

from __future__ import annotations

from datetime import UTC

from django.urls import reverse

from governance.presenters.policies import RECENT, policy_history
from governance.services.policies import policy_for_project, policy_update
from registry.actors import Actor
from registry.models import AuditEvent
from tests.governance.presenters.helpers import no_html

LABELS = {"min_group_size": "Minimum group size", "max_psi": "Maximum PSI"}
ORDER = ["min_group_size", "max_psi"]


def test_the_defaults_have_no_history(project):
    policy = policy_for_project(actor=Actor.system(), project_id=project.pk)  # policy.created, not a change
    history = policy_history(policy, labels=LABELS, order=ORDER)
    assert history == {
        "changes": [],
        "audit_trail_url": reverse("admin:registry_auditevent_changelist")
        + f"?target_type__exact=governance.policy&q={policy.pk}",
    }


def test_changes_newest_first_in_the_forms_order_with_labels(project):
    policy = policy_for_project(actor=Actor.system(), project_id=project.pk)
    policy = policy_update(actor=Actor.system(), policy=policy, changes={"max_psi": 0.25, "min_group_size": 50})
    policy = policy_update(actor=Actor.system(), policy=policy, changes={"max_performance_drop": 0.1})
    history = policy_history(policy, labels=LABELS, order=ORDER)
    no_html(history)
    newest, first = history["changes"]
    assert first["changes"] == "Minimum group size: 30 → 50; Maximum PSI: 0.2 → 0.25"
    assert newest["changes"] == "max_performance_drop: 0.05 → 0.1"  # a field the form does not label, by name
    events = AuditEvent.objects.filter(event_type="policy.changed").order_by("-seq")
    assert [c["when"] for c in history["changes"]] == [
        e.occurred_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") for e in events
    ]
    assert [c["actor"] for c in history["changes"]] == [e.actor_name for e in events]


def test_only_the_recent_changes(project):
    policy = policy_for_project(actor=Actor.system(), project_id=project.pk)
    for size in range(31, 31 + RECENT + 2):
        policy = policy_update(actor=Actor.system(), policy=policy, changes={"min_group_size": size})
    changes = policy_history(policy, labels=LABELS, order=ORDER)["changes"]
    assert len(changes) == RECENT
    assert changes[0]["changes"] == f"Minimum group size: {30 + RECENT + 1} → {30 + RECENT + 2}"
