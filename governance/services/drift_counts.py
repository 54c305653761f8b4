"""Drift counts: per model version and UTC hour, how many decisions have each bin or value of each feature.

A drift report compares a window's features with the training data's profile through counts: per numeric
feature how many of its values fall in each of the profile's bins, per categorical feature how many decisions
have each value (`governance.statistics.drift.compare_feature`). Those counts are kept as decisions arrive, by the hour
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

The keys are those of the Python path (`governance.statistics.drift.summarise`), computed on the values as the database
gives them back (the ingest stores `jsonb_normalise`d features), so the sums equal a summary of the decisions.
The reference profile of a model version cannot change (a data version and a run's inputs are immutable), so
the bins counted at ingest are the bins of every later report.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from django.db.models import F
from django.db.models.fields.json import KT

from governance.models import DriftHour
from registry.locks import for_update
from registry.models import DataVersion, ModelVersion, RunInput
from registry.profiles import OTHER, PROFILE_FORMAT, bin_counts

NOT_A_NUMBER = "x"  # a numeric feature's key for a value that is not a number
HOUR = timedelta(hours=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class HourCounts:
    decisions: int = 0
    counts: dict[str, dict] = field(default_factory=dict)  # {feature: {key: count}}


def reference_data_versions(model_version_ids: Iterable[int]) -> dict[int, DataVersion]:
    """Per model version its training data version that carries a profile (the first by id), for those that
    have one: one query for them all, and one for the profiles chosen."""
    candidates = (
        DataVersion.objects.filter(
            run_links__run__model_versions__pk__in=set(model_version_ids),
            run_links__role=RunInput.Role.TRAIN,
            profile__isnull=False,
        )
        .annotate(model_version=F("run_links__run__model_versions__pk"), profile_format=KT("profile__format"))
        .order_by("pk")
        .values_list("model_version", "pk", "profile_format")
    )
    chosen: dict[int, int] = {}
    for model_version, pk, profile_format in candidates:
        if profile_format == PROFILE_FORMAT:
            chosen.setdefault(model_version, pk)
    found = DataVersion.objects.in_bulk(set(chosen.values()))
    return {model_version: found[pk] for model_version, pk in chosen.items()}


def reference_data_version(model_version: ModelVersion) -> DataVersion | None:
    """The version's training data version that carries a profile, if any (the first by id)."""
    return reference_data_versions([model_version.pk]).get(model_version.pk)


def hour_counts(columns: dict, decisions: Iterable[tuple[datetime, dict]]) -> dict[datetime, HourCounts]:
    """The counts of (occurred_at in UTC, features) by hour, as `governance.statistics.drift.summarise` counts a window:
    a numeric feature's numbers by the profile's bins (`registry.profiles.bin_counts`: values equal to an inner
    edge in the bin above it, values beyond the edges in the first or last bin), its other values under
    NOT_A_NUMBER; a categorical feature's values by str(value), those the profile does not list folded into its
    OTHER category when it has one (as `compare_feature` folds them, so an hour holds at most the profile's
    categories for a feature of many values). Missing and null values are not counted, nor keys that no
    decision has."""
    by_hour: dict[int, list[dict]] = {}  # by the hour's number since the epoch
    for occurred_at, features in decisions:
        hour = (occurred_at - EPOCH) // HOUR
        group = by_hour.get(hour)
        if group is None:
            group = by_hour[hour] = []
        group.append(features)
    hours = {}
    for hour, group in by_hour.items():
        counts: dict[str, dict] = {}
        for name, reference in columns.items():
            values = [features.get(name) for features in group]
            present = [value for value in values if value is not None]
            if reference["kind"] == "numeric":
                numbers = [v for v in present if isinstance(v, (int, float)) and not isinstance(v, bool)]
                bins = bin_counts(_floats(numbers), reference["bin_edges"]) if numbers else []
                keyed = {str(i): int(c) for i, c in enumerate(bins) if c}
                if len(numbers) < len(present):
                    keyed[NOT_A_NUMBER] = len(present) - len(numbers)
            else:
                keyed = dict(Counter(map(str, present)))
                known = reference.get("frequencies", {})
                if OTHER in known:  # as compare_feature folds them: an hour's keys stay within the profile's
                    for key in [k for k in keyed if k not in known]:
                        keyed[OTHER] = keyed.get(OTHER, 0) + keyed.pop(key)
            if keyed:
                counts[name] = keyed
        hours[EPOCH + hour * HOUR] = HourCounts(decisions=len(group), counts=counts)
    return hours


def _floats(numbers: list) -> np.ndarray:
    """JSON numbers as the floats Python reads them; an integer beyond float's range as an infinity (numpy
    refuses it), as PostgreSQL's path bins it."""
    try:
        return np.array(numbers, dtype=float)
    except OverflowError:
        return np.array([_float(v) for v in numbers], dtype=float)


def _float(number: int | float) -> float:
    try:
        return float(number)
    except OverflowError:
        return math.inf if number > 0 else -math.inf


def decisions_counted(decisions: Iterable[tuple[int, datetime, dict]], *, sign: int = 1) -> None:
    """Add (sign 1) or take out (sign -1) the counts of decisions (model version id, occurred_at in UTC,
    features as stored), in the caller's transaction. Versions without a profiled training data version
    have nothing to count. Rows are locked in (model version, hour) order, so concurrent batches cannot
    deadlock on them."""
    by_version: dict[int, list[tuple[datetime, dict]]] = {}
    for mv_id, occurred_at, features in decisions:
        by_version.setdefault(mv_id, []).append((occurred_at, features))
    references = reference_data_versions(by_version) if by_version else {}
    for mv_id in sorted(references):
        hours_apply(mv_id, hour_counts(references[mv_id].profile["columns"], by_version[mv_id]), sign=sign)


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
        for_update(DriftHour.objects).filter(model_version_id=model_version_id, hour__in=list(hours)).order_by("hour")
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
