"""A window's summary for a drift report (`governance.statistics.drift.WindowFeature` per feature): on SQLite
Python reads every decision's features; on PostgreSQL the database summarises them.

On PostgreSQL the counts come from `DriftHour` (governance/services/drift_counts.py), kept by the hour as decisions
are logged and erased: a report sums the hours its window covers, and summarises the rest of the window (the
partial hours at its edges, and hours whose counts do not cover exactly the decisions in the log) from the
decisions, in one pass with GROUPING SETS (`_grouped_counts`): per numeric feature how many of its values
fall in each of the profile's bins (and how many are not numbers), per categorical feature how many decisions
have each value. Bins, counts, PSI and JS are therefore those of every decision in the window, as on SQLite,
where Python reads every decision's features. The database compares JSON numbers with the edges as numeric,
against thresholds (`numeric_threshold`) that make the comparison what Python's on floats is, and counts the
numerics' bins up to three features to a grouping set (joint counts, which `_read_counts` sums per
feature). The KS test and the window's mean need the values themselves: for a window of
at most 5,000 decisions all of them (the figures are then the Python path's), for a larger one those
of the 5,000 decisions with the smallest `hashint8(id)`, a pseudo-random sample that the same window
always gives. KS then compares two samples of at most 5,000 values (the profile's and the window's),
`window_mean` is the sample's mean, and the result says `ks_window_sample`: how many window values
KS compared. (A feature whose name PostgreSQL cannot take as a column name, empty or longer than 63
bytes, makes the whole window take the Python path.)
"""

from __future__ import annotations

import json
import math
import re
import struct
from datetime import datetime
from decimal import Decimal, localcontext

import numpy as np
from django.db import connection, transaction
from psycopg import sql

from governance.models import Decision
from governance.services import drift_counts
from governance.statistics.drift import WindowFeature, summarise
from registry.profiles import SAMPLE_SIZE

KS_SAMPLE_SIZE = SAMPLE_SIZE  # decisions of a larger window whose values the KS test compares


MAX_IDENTIFIER_BYTES = 63  # PostgreSQL truncates longer names, so such features are read in Python


NUMERIC_SCALE_MAX = 16383  # PostgreSQL's numeric holds no value with more digits after the decimal point


NUMERIC_STEP = f"1e-{NUMERIC_SCALE_MAX}"  # so no two numerics are closer than this


MAX_JOINT_KEYS = 2048  # numeric features binned in one grouping set: at most this many combinations of keys


def window_features(model_version_id: int, start: datetime, end: datetime, names: list[str]) -> tuple[int, dict]:
    """The window's feature values, by feature name (erased decisions left out)."""
    values: dict[str, list] = {name: [] for name in names}
    rows = 0
    queryset = Decision.objects.filter(
        model_version_id=model_version_id, occurred_at__gte=start, occurred_at__lt=end, erased_at__isnull=True
    ).values_list("features", flat=True)
    for features in queryset.iterator(chunk_size=10_000):
        rows += 1
        for name in names:
            value = features.get(name)
            if value is not None:
                values[name].append(value)
    return rows, values


def window_summary(
    model_version_id: int, start: datetime, end: datetime, columns: dict
) -> tuple[int, dict[str, WindowFeature]]:
    """The window's decisions (erased ones left out) and a WindowFeature per profiled feature."""
    names = list(columns)
    if connection.vendor == "postgresql" and all(0 < len(n.encode()) <= MAX_IDENTIFIER_BYTES for n in names):
        return _summary_postgresql(model_version_id, start, end, columns)
    rows, values = window_features(model_version_id, start, end, names)
    return rows, {name: summarise(columns[name], values[name]) for name in names}


def _window(alias: sql.Identifier, ranges: list[tuple[datetime, datetime]], params: dict) -> sql.Composed:
    """The version's decisions (erased ones left out) that occurred in any of the [start, end) ranges; the
    ranges' bounds go into `params`."""
    parts = []
    for i, (start, end) in enumerate(ranges):
        params[f"start{i}"], params[f"end{i}"] = start, end
        parts.append(
            sql.SQL("({d}.occurred_at >= {start} AND {d}.occurred_at < {end})").format(
                d=alias, start=sql.Placeholder(f"start{i}"), end=sql.Placeholder(f"end{i}")
            )
        )
    return sql.SQL("{d}.model_version_id = %(version)s AND {d}.erased_at IS NULL AND ({ranges})").format(
        d=alias, ranges=sql.SQL(" OR ").join(parts)
    )


def numeric_threshold(edge: float) -> tuple[str, bool]:
    """Where JSON numbers start to round to the edge or above as floats: the midpoint between the edge and
    the float below it, as exact decimal text, and whether only numbers above the midpoint do (else the
    midpoint too).

    Python reads a JSON number as the float nearest to it (a tie to the one with an even significand) and
    bins it by comparing that float with the edges (`registry.profiles.bin_counts`). A number rounds to the
    edge or above from that midpoint up: including the midpoint when the edge's significand is even,
    excluding it when it is odd. Comparing the numbers as numeric with these thresholds therefore bins them
    exactly as Python does, without converting each to float8 (numeric to text to float8 in PostgreSQL 15:
    the costliest step of the window query). Numbers beyond float8's range, which Python reads as infinities,
    fall in the first or last bin here too (the KS sample still reads its values as float8)."""
    below = math.nextafter(edge, -math.inf)
    with localcontext() as context:
        context.prec = 2_000  # exact: a float8, or a midpoint of two, has at most 768 significant digits
        low = Decimal(below) if math.isfinite(below) else -(Decimal(2) ** 1024)  # below the lowest float8
        midpoint = (low + Decimal(edge)) / 2
    return format(midpoint, "f"), bool(struct.unpack("<Q", struct.pack("<d", edge))[0] & 1)


def _thresholds(edges: list, name: str, params: dict) -> sql.Composed:
    """The numeric[] of the inner edges' thresholds, its elements as parameters `name`_j."""
    items = []
    for j, edge in enumerate(edges):
        params[f"{name}_{j}"], above = numeric_threshold(float(edge))
        item = sql.SQL("%({})s::numeric").format(sql.SQL(f"{name}_{j}"))
        # numerics are multiples of 10**-NUMERIC_SCALE_MAX, so "above the midpoint" is "at least the midpoint
        # plus that" (PostgreSQL adds it when it plans the query)
        items.append(sql.SQL("({} + {})").format(item, sql.SQL(NUMERIC_STEP)) if above else item)
    return sql.SQL("ARRAY[{}]::numeric[]").format(sql.SQL(", ").join(items))


def _joint_sets(numeric: list[str], columns: dict) -> list[list[int]]:
    """The numeric features' grouping sets (indexes into `numeric`): consecutive features, up to three to a
    set and as long as their keys (bins, not a number, missing) combine in at most MAX_JOINT_KEYS ways.
    Fewer sets are fewer hash lookups per decision, and a set's joint counts stay small."""
    sets: list[list[int]] = []
    combinations = 0
    for i, name in enumerate(numeric):
        keys = max(len(columns[name]["bin_edges"]) - 1, 1) + 2
        if sets and len(sets[-1]) < 3 and combinations * keys <= MAX_JOINT_KEYS:
            sets[-1].append(i)
            combinations *= keys
        else:
            sets.append([i])
            combinations = keys
    return sets


def _number(column: sql.Composable) -> sql.Composed:
    """The value as float8 when it is a JSON number, else NULL (the column is jsonb)."""
    return sql.SQL("CASE WHEN jsonb_typeof({c}) = 'number' THEN ({c})::float8 END").format(c=column)


def _summary_postgresql(
    model_version_id: int, start: datetime, end: datetime, columns: dict
) -> tuple[int, dict[str, WindowFeature]]:
    """The hours that `DriftHour` covers summed, the rest of the window summarised by the database, then the
    KS sample of the whole window."""
    numeric = [name for name, ref in columns.items() if ref["kind"] == "numeric"]
    categorical = [name for name in columns if name not in numeric]
    hours, ranges = drift_counts.hours_covering(model_version_id, start, end)
    record = _record(numeric, categorical)
    with transaction.atomic(), connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # the psycopg cursor, for sql.Composed
        # An expression-heavy scan: JIT compilation would cost more than it saves, and the planner, not
        # knowing that reading the features from jsonb costs microseconds a decision, would keep the scan
        # in one process rather than hand it to parallel workers.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL parallel_tuple_cost = 0.01")
        grouped = (
            _grouped_counts(cursor, model_version_id, ranges, columns, numeric, categorical, record) if ranges else []
        )
        rows, summaries = _read_counts(grouped, columns, numeric, categorical)
        for name in categorical:
            if any(_keyed_differently(key) for key in summaries[name].counts):
                summaries[name].counts = _categorical_counts(cursor, model_version_id, ranges, name)
        rows += _add_hours(summaries, hours, columns)
        sample = _ks_sample(cursor, model_version_id, start, end, numeric, record, rows) if numeric and rows else []

    sampled = rows > KS_SAMPLE_SIZE
    for i, name in enumerate(numeric):
        values = np.array([row[i] for row in sample if row[i] is not None], dtype=float)
        summaries[name].sample, summaries[name].sampled = values, sampled
        summaries[name].mean = float(values.mean()) if values.size else None
    return rows, summaries


def _record(numeric: list[str], categorical: list[str]) -> sql.Composed:
    """jsonb_to_record reads each feature once per decision: numerics as jsonb (their type decides),
    categoricals as text (a string as itself, anything else as its JSON text)."""
    return sql.SQL("jsonb_to_record({d}.features) AS {f}({columns})").format(
        d=sql.Identifier("d"),
        f=sql.Identifier("f"),
        columns=sql.SQL(", ").join(
            [sql.SQL("{} jsonb").format(sql.Identifier(n)) for n in numeric]
            + [sql.SQL("{} text").format(sql.Identifier(n)) for n in categorical]
        ),
    )


def _grouped_counts(
    cursor,
    model_version_id: int,
    ranges: list[tuple[datetime, datetime]],
    columns: dict,
    numeric: list[str],
    categorical: list[str],
    record: sql.Composed,
) -> list[tuple]:
    """One pass over the decisions in `ranges`: the grouping-sets rows that `_read_counts` reads."""
    d, f, table = sql.Identifier("d"), sql.Identifier("f"), sql.Identifier(Decision._meta.db_table)
    params: dict[str, object] = {"version": model_version_id}
    keys = []
    for i, name in enumerate(numeric):
        value = sql.SQL("{}.{}").format(f, sql.Identifier(name))
        thresholds = _thresholds(columns[name]["bin_edges"][1:-1], f"edges{i}", params)
        # the bin (as registry.profiles.bin_counts: values equal to an inner edge go to the bin above it),
        # -1 for a value that is not a number, NULL for none
        keys.append(
            sql.SQL(
                "CASE WHEN jsonb_typeof({v}) = 'number' THEN width_bucket(({v})::numeric, {t}) "
                "WHEN {v} IS NOT NULL THEN -1 END"
            ).format(v=value, t=thresholds)
        )
    keys += [sql.SQL("{}.{}").format(f, sql.Identifier(name)) for name in categorical]
    aliases = [sql.Identifier(f"k{i}") for i in range(len(keys))]
    sets = _joint_sets(numeric, columns) + [[len(numeric) + i] for i in range(len(categorical))]
    query = sql.SQL(
        "SELECT {groupings}, count(*) FROM (SELECT {keys} FROM {table} {d} CROSS JOIN LATERAL {record} "
        "WHERE {window}) {w} GROUP BY GROUPING SETS ((), {sets})"
    ).format(
        groupings=sql.SQL(", ").join([*aliases, *(sql.SQL("GROUPING({})").format(a) for a in aliases)]),
        keys=sql.SQL(", ").join(sql.SQL("{} AS {}").format(k, a) for k, a in zip(keys, aliases, strict=True)),
        table=table,
        d=d,
        record=record,
        window=_window(d, ranges, params),
        w=sql.Identifier("w"),
        sets=sql.SQL(", ").join(
            sql.SQL("({})").format(sql.SQL(", ").join(aliases[i] for i in members)) for members in sets
        ),
    )
    cursor.execute(query, params)
    return cursor.fetchall()


def _ks_sample(
    cursor, model_version_id: int, start: datetime, end: datetime, numeric: list[str], record: sql.Composed, rows: int
) -> list[tuple]:
    """The numeric values of the window's decisions with the smallest hashint8(id), at most KS_SAMPLE_SIZE of
    them (all of a smaller window); a cutoff on the hash spares sorting the whole window."""
    d, f, table = sql.Identifier("d"), sql.Identifier("f"), sql.Identifier(Decision._meta.db_table)
    params: dict[str, object] = {"version": model_version_id}
    query = sql.SQL(
        "SELECT {values} FROM (SELECT {d}.features FROM {table} {d} WHERE {window}{cutoff} "
        "ORDER BY hashint8({d}.id) LIMIT {limit}) {d} CROSS JOIN LATERAL {record}"
    )
    parts = {
        "values": sql.SQL(", ").join(_number(sql.SQL("{}.{}").format(f, sql.Identifier(n))) for n in numeric),
        "table": table,
        "d": d,
        "window": _window(d, [(start, end)], params),
        "limit": sql.Literal(KS_SAMPLE_SIZE),
        "record": record,
    }
    sample: list[tuple] = []
    if rows > KS_SAMPLE_SIZE:
        params["cutoff"] = -(2**31) + int(min(1.0, 2 * KS_SAMPLE_SIZE / rows) * 2**32)
        cutoff = sql.SQL(" AND hashint8({d}.id) < %(cutoff)s").format(d=d)
        cursor.execute(query.format(cutoff=cutoff, **parts), params)
        sample = cursor.fetchall()
    if len(sample) < min(rows, KS_SAMPLE_SIZE):
        cursor.execute(query.format(cutoff=sql.SQL(""), **parts), params)
        sample = cursor.fetchall()
    return sample


def _add_hours(summaries: dict[str, WindowFeature], hours: list, columns: dict) -> int:
    """Add the counts of `DriftHour` rows to the summaries; returns how many decisions they cover."""
    for hour in hours:
        for name, keyed in hour.counts.items():
            summary = summaries[name]
            numeric = columns[name]["kind"] == "numeric"
            for key, count in keyed.items():
                summary.present += count
                if not numeric:
                    summary.counts[key] = summary.counts.get(key, 0) + count
                elif key != drift_counts.NOT_A_NUMBER:
                    summary.numbers += count
                    summary.bins[int(key)] += count
    return sum(hour.decisions for hour in hours)


def _read_counts(
    grouped: list[tuple], columns: dict, numeric: list[str], categorical: list[str]
) -> tuple[int, dict[str, WindowFeature]]:
    """The decisions and per feature its WindowFeature (without the KS sample) from the grouping-sets rows:
    each row is the keys, their GROUPING() flags (0 for the keys its set groups by) and the count. A set
    groups by one feature or by several (joint counts): each feature appears in one set, so summing its
    set's rows by its key gives its own counts."""
    width = len(numeric) + len(categorical)
    rows = 0
    summaries = {name: WindowFeature() for name in columns}
    for name in numeric:
        summaries[name].bins = [0] * max(len(columns[name]["bin_edges"]) - 1, 1)  # as bin_counts counts them
    for row in grouped:
        grouped_by = [i for i in range(width) if row[width + i] == 0]
        count = row[2 * width]
        if not grouped_by:  # the () set: every decision
            rows = count
        for i in grouped_by:
            key = row[i]
            if key is None:  # the feature is missing or null
                continue
            if i < len(numeric):
                summary = summaries[numeric[i]]
                summary.present += count
                if key >= 0:
                    summary.numbers += count
                    summary.bins[key] += count
            else:
                summary = summaries[categorical[i - len(numeric)]]
                summary.present += count
                summary.counts[key] = summary.counts.get(key, 0) + count
    return rows, summaries


_JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def _keyed_differently(text: str) -> bool:
    """Whether a categorical value read as text might be a JSON value other than a string or an integer,
    whose key in Python (str of the value: True, 1.5, {'a': 1}) differs from its JSON text."""
    if text in ("true", "false") or text[:1] in ("{", "["):
        return True
    return bool(_JSON_NUMBER.fullmatch(text)) and str(json.loads(text)) != text


def _categorical_counts(
    cursor, model_version_id: int, ranges: list[tuple[datetime, datetime]], name: str
) -> dict[str, int]:
    """One categorical feature's counts keyed exactly as the Python path keys them (by each JSON value)."""
    d = sql.Identifier("d")
    params: dict[str, object] = {"version": model_version_id, "name": name}
    query = sql.SQL(
        "SELECT ({d}.features -> %(name)s)::text, count(*) FROM {table} {d} WHERE {window} GROUP BY 1"
    ).format(table=sql.Identifier(Decision._meta.db_table), d=d, window=_window(d, ranges, params))
    cursor.execute(query, params)
    counts: dict[str, int] = {}
    for text, count in cursor.fetchall():
        value = None if text is None else json.loads(text)
        if value is not None:
            counts[str(value)] = counts.get(str(value), 0) + count
    return counts
