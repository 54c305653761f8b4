"""The fairness audit's reads: the database counts a version's decisions (with outcomes, in a window) by
their sensitive attributes, the outcome and the prediction (each positive when equal to the positive label),
so that the statistics (`governance.statistics.fairness`) run on a few combinations instead of every row."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from django.db import connection
from django.db.models import Case, CharField, Count, F, Func, IntegerField, QuerySet, Value, When
from django.db.models.fields.json import KeyTextTransform

from governance.models import Basis, Decision
from governance.queries.reviews import with_final_decision
from governance.statistics.fairness import GroupCounts


def decision_group_counts(
    *,
    model_version_id: int,
    attributes: list[str],
    positive_label: object,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    basis: str = Basis.PREDICTION,
) -> GroupCounts:
    """Let the database count decisions by (attributes, outcome positive, decision positive): the decision is
    the model's prediction, or on basis final_decision the reviewer's where a review overrode it."""
    rows = with_final_decision(window_rows(model_version_id, window_start, window_end), basis, name="decided")
    names = {attribute: f"g{i}" for i, attribute in enumerate(attributes)}
    annotated = rows.annotate(
        **{alias: KeyTextTransform(attribute, "sensitive") for attribute, alias in names.items()},
        y_true=Case(When(outcome=positive_label, then=Value(1)), default=Value(0), output_field=IntegerField()),
        y_pred=Case(When(decided=positive_label, then=Value(1)), default=Value(0), output_field=IntegerField()),
    )
    # One pass: decisions lacking an attribute group under NULL and are counted apart here.
    combos = list(annotated.values(*names.values(), "y_true", "y_pred").annotate(weight=Count("id")).order_by())
    complete = [c for c in combos if all(c[alias] is not None for alias in names.values())]
    excluded = sum(c["weight"] for c in combos) - sum(c["weight"] for c in complete)
    frame = pd.DataFrame(complete, columns=[*names.values(), "y_true", "y_pred", "weight"])
    frame = frame.rename(columns={alias: attribute for attribute, alias in names.items()})
    return GroupCounts(frame=frame, attributes=list(attributes), excluded_rows=excluded)


def window_rows(
    model_version_id: int, window_start: datetime | None, window_end: datetime | None
) -> QuerySet[Decision]:
    rows = Decision.objects.filter(model_version_id=model_version_id, outcome__isnull=False, erased_at__isnull=True)
    if window_start is not None:
        rows = rows.filter(occurred_at__gte=window_start)
    if window_end is not None:
        rows = rows.filter(occurred_at__lt=window_end)
    return rows


def sensitive_keys(rows: QuerySet[Decision]) -> set[str]:
    if connection.vendor == "postgresql":
        keys = rows.annotate(
            key=Func(F("sensitive"), function="jsonb_object_keys", output_field=CharField())
        ).values_list("key", flat=True)
        return set(keys.order_by().distinct())
    found: set[str] = set()  # SQLite: no set-returning function in a select list; the slower way
    for sensitive in rows.values_list("sensitive", flat=True).iterator():
        if isinstance(sensitive, dict):
            found.update(sensitive)
    return found
