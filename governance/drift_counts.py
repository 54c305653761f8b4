"""Drift counts: per model version and UTC hour, how many decisions have each bin or value of each feature.

A drift report compares a window's features with the training data's profile through counts: per numeric
feature how many of its values fall in each of the profile's bins, per categorical feature how many decisions
have each value (`governance.drift.compare_feature`). Those counts are kept as decisions arrive, by the hour
(`DriftHour`): `decisions_ingest` adds a batch's counts in the batch's transaction, an erasure takes its
decisions' counts out in its own. A report on PostgreSQL then sums the hours its window covers (744 rows for
a month) instead of reading every decision's features, and summarises from the decisions themselves only what
the hours do not cover: the partial hours at the window's edges, and any hour whose counts do not cover
exactly the decisions in the log. The log's own count per hour (`DriftHour.logged`) is kept by triggers on
the decision table (migration 0007), so it counts decisions however they are written; the service's count
(`DriftHour.decisions`) counts those whose features were counted. A decision is counted once, when it is
inserted (a duplicate is not), and taken out once, when it is erased, so the two agree exactly when every
decision of the hour was counted: decisions logged before the counts were kept, or written or erased by a
path that does not keep them, make their hours disagree, and those hours are read from the decisions.

The keys are those of the Python path (`governance.drift.summarise`), computed on the values as the database
gives them back (the ingest stores `jsonb_normalise`d features), so the sums equal a summary of the decisions.
The reference profile of a model version cannot change (a data version and a run's inputs are immutable), so
the bins counted at ingest are the bins of every later report.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from governance.models import DriftHour
from registry.models import DataVersion, ModelVersion, RunInput
from registry.profiles import PROFILE_FORMAT

NOT_A_NUMBER = "x"  # a numeric feature's key for a value that is not a number
HOUR = timedelta(hours=1)


@dataclass
class HourCounts:
    decisions: int = 0
    counts: dict[str, dict] = field(default_factory=dict)  # {feature: {key: count}}


def reference_data_version(model_version: ModelVersion) -> DataVersion | None:
    """The version's training data version that carries a profile, if any (the first by id)."""
    candidates = DataVersion.objects.filter(
        run_links__run_id=model_version.run_id, run_links__role=RunInput.Role.TRAIN, profile__isnull=False
    ).order_by("pk")
    for candidate in candidates:
        if isinstance(candidate.profile, dict) and candidate.profile.get("format") == PROFILE_FORMAT:
            return candidate
    return None


def number(value: object) -> float | None:
    """A JSON number as the float Python reads it (an integer beyond float's range as an infinity, as numpy
    would take it were it a float), or None for anything else (booleans included)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def hour_counts(columns: dict, decisions: Iterable[tuple[datetime, dict]]) -> dict[datetime, HourCounts]:
    """The counts of (occurred_at in UTC, features) by hour: numeric values by the profile's bins as
    `registry.profiles.bin_counts` bins them (values equal to an inner edge in the bin above it, values beyond
    the edges in the first or last bin), other values of a numeric feature under NOT_A_NUMBER, categorical
    values by str(value). Keys with no decisions are left out."""
    plan = [
        (name, [float(e) for e in ref["bin_edges"][1:-1]] if ref["kind"] == "numeric" else None)
        for name, ref in columns.items()
    ]
    hours: dict[datetime, HourCounts] = {}
    for occurred_at, features in decisions:
        hour = occurred_at.replace(minute=0, second=0, microsecond=0)
        entry = hours.get(hour)
        if entry is None:
            entry = hours[hour] = HourCounts(counts={name: {} for name in columns})
        entry.decisions += 1
        counts = entry.counts
        for name, inner in plan:
            value = features.get(name)
            if value is None:
                continue
            if inner is None:
                key = str(value)
            else:
                as_float = number(value)
                key = NOT_A_NUMBER if as_float is None else bisect_right(inner, as_float)
            feature = counts[name]
            feature[key] = feature.get(key, 0) + 1
    for entry in hours.values():  # bin indexes as JSON object keys
        entry.counts = {name: {str(k): c for k, c in keyed.items()} for name, keyed in entry.counts.items() if keyed}
    return hours


def decisions_counted(
    versions: dict[int, ModelVersion], decisions: Iterable[tuple[int, datetime, dict]], *, sign: int = 1
) -> None:
    """Add (sign 1) or take out (sign -1) the counts of decisions (model version id, occurred_at in UTC,
    features as stored), in the caller's transaction. Versions without a profiled training data version
    have nothing to count. Rows are locked in (model version, hour) order, so concurrent batches cannot
    deadlock on them."""
    by_version: dict[int, list[tuple[datetime, dict]]] = {}
    for mv_id, occurred_at, features in decisions:
        by_version.setdefault(mv_id, []).append((occurred_at, features))
    for mv_id in sorted(by_version):
        reference = reference_data_version(versions[mv_id])
        if reference is not None:
            hours_apply(mv_id, hour_counts(reference.profile["columns"], by_version[mv_id]), sign=sign)


def hours_apply(model_version_id: int, hours: dict[datetime, HourCounts], *, sign: int) -> None:
    """Add or take out one version's counts by hour. Taking out never creates an hour: an hour with no row
    counted none of its decisions, and the report summarises it from the decisions."""
    if not hours:
        return
    if sign > 0:
        DriftHour.objects.bulk_create(
            [DriftHour(model_version_id=model_version_id, hour=hour) for hour in sorted(hours)], ignore_conflicts=True
        )
    rows = list(
        DriftHour.objects.select_for_update()
        .filter(model_version_id=model_version_id, hour__in=list(hours))
        .order_by("hour")
    )
    for row in rows:
        entry = hours[row.hour]
        row.decisions += sign * entry.decisions
        for name, keyed in entry.counts.items():
            stored = row.counts.setdefault(name, {})
            for key, count in keyed.items():
                total = stored.get(key, 0) + sign * count
                if total:
                    stored[key] = total
                else:  # a category no decision has left must not show as a new one
                    stored.pop(key, None)
            if not stored:
                del row.counts[name]
    DriftHour.objects.bulk_update(rows, ["decisions", "counts"])


def hours_covering(
    model_version_id: int, start: datetime, end: datetime
) -> tuple[list[DriftHour], list[tuple[datetime, datetime]]]:
    """The `DriftHour` rows a window [start, end) can take its counts from, and the ranges of the window to
    summarise from the decisions instead: the partial hours at its edges and every hour whose decisions in the
    log (`logged`, kept by PostgreSQL's triggers) are not the decisions its counts cover (decisions logged
    before the counts were kept, or written or erased by a path that does not keep them). PostgreSQL only:
    elsewhere nothing keeps `logged`. One query, so one snapshot: a batch writes both numbers in its own
    transaction."""
    first = _hour_ceiling(start)
    last = end.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if first >= last:
        return [], [(start, end)]
    kept: list[DriftHour] = []
    ranges: list[tuple[datetime, datetime]] = [(start, first)] if start < first else []

    def read(begin: datetime, until: datetime) -> None:
        if ranges and ranges[-1][1] == begin:
            ranges[-1] = (ranges[-1][0], until)
        else:
            ranges.append((begin, until))

    hours = DriftHour.objects.filter(model_version_id=model_version_id, hour__gte=first, hour__lt=last)
    for row in hours.order_by("hour"):
        if row.logged == row.decisions:
            kept.append(row)
        elif row.logged:  # an hour with no decision in the log has nothing to read
            read(row.hour, row.hour + HOUR)
    if last < end:
        read(last, end)
    return kept, ranges


def _hour_ceiling(moment: datetime) -> datetime:
    floor = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return floor if floor == moment else floor + HOUR
