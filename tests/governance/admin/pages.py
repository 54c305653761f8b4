"""What the governance admin tests share: the decision pages' URLs and the rows of a changelist."""

from __future__ import annotations

from django.urls import reverse

from governance.models import Decision

DECISIONS = reverse("admin:governance_decision_changelist")


def decision_page(decision: Decision) -> str:
    return reverse("admin:governance_decision_change", args=[decision.pk])


def version_page(version) -> str:
    return reverse("admin:registry_modelversion_change", args=[version.pk])


def rows(response) -> list[Decision]:
    return list(response.context["cl"].result_list)
