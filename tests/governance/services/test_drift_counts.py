"""Drift counts kept as decisions arrive (governance/services/drift_counts.py): per hour they equal a summary of the
logged decisions, through duplicates and erasures, and a report that sums them equals the Python path, which
reads every decision."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from django.db import connection

from governance.models import Decision, DriftHour
from governance.queries.drift import window_features, window_summary
from governance.services import decisions_ingest
from governance.services.drift_counts import HOUR, NOT_A_NUMBER, hour_counts, hours_covering
from governance.services.erasure import erasure_request_create, erasure_request_execute, erasure_request_trace
from governance.statistics.drift import compare_feature, summarise
from registry import services
from registry.actors import Actor
from registry.models import Role
from registry.profiles import OTHER, bin_counts, dataframe_profile
from tests import factories as f
from tests.governance.services.test_drift import rounding_neighbours

SYSTEM = Actor.system()
START = datetime(2026, 5, 1, tzinfo=UTC)
EVERYTHING = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


@pytest.fixture
def world(db):
    rng = np.random.default_rng(5)
    train = pd.DataFrame(
        {
            "income": rng.lognormal(10, 0.5, 2000).round(2),
            "age": rng.integers(18, 90, 2000),
            "colour": rng.choice(["red", "green", "blue"], 2000),
        }
    )
    return make_world(train)


def make_world(train: pd.DataFrame) -> SimpleNamespace:
    """A model version trained on a data version profiled from `train`, and an ingest key."""
    project = services.project_create(actor=SYSTEM, slug="drift-counts", name="Drift counts")
    dataset = services.dataset_create(actor=SYSTEM, project=project, name="applications", contains_personal_data=False)
    data_version = services.data_version_register(
        actor=SYSTEM,
        dataset=dataset,
        version="train",
        content_sha256="1" * 64,
        row_count=len(train),
        schema={name: str(dtype) for name, dtype in train.dtypes.items()},
        profile=dataframe_profile(train),
        storage_uri="s3://bench/train.parquet",
    )
    run = services.run_register(
        actor=SYSTEM, project=project, name="run", inputs=[{"data_version": data_version, "role": "train"}]
    )
    model = services.model_create(actor=SYSTEM, project=project, name="credit")
    version = services.model_version_register(
        actor=SYSTEM, model=model, run=run, artifact_uri="file:///model.pkl", artifact_sha256="0" * 64
    )
    key, _ = services.api_key_create(actor=SYSTEM, project=project, role=Role.INGEST, name="ingest")
    return SimpleNamespace(
        project=project, version=version, columns=data_version.profile["columns"], ingest=Actor.for_key(key)
    )


def decisions(version, count: int, *, first: int = 0, seed: int = 0) -> list[dict]:
    """Decisions 7 minutes apart from START, with values of every kind: numbers, numbers written as strings,
    booleans, missing and null values, categories the training data never had."""
    rng = np.random.default_rng(seed)
    items = []
    for i in range(first, first + count):
        features = {
            "income": [round(float(rng.lognormal(10.2, 0.5)), 2), "n/a", None, 12_000, True][i % 7 % 5],
            "age": int(rng.integers(18, 90)),
            "colour": ["red", "green", "blue", "purple", True, 3, 1.5][i % 7],
        }
        if i % 11 == 0:
            del features["age"]
        items.append(
            {
                "model_version": version.pk,
                "request_id": f"r{i}",
                "subject_id": f"person-{i % 40}",
                "features": features,
                "prediction": "approve",
                "occurred_at": (START + timedelta(minutes=7 * i)).isoformat(),
            }
        )
    return items


def python_path(version, columns, start, end):
    rows, values = window_features(version.pk, start, end, list(columns))
    return rows, {name: summarise(columns[name], values[name]) for name in columns}


def assert_same(summary, expected, columns):
    rows, window = summary
    expected_rows, expected_window = expected
    assert rows == expected_rows
    for name in columns:
        got, want = window[name], expected_window[name]
        assert (got.present, got.numbers, got.bins, got.counts) == (want.present, want.numbers, want.bins, want.counts)


def hours_logged(version) -> dict:
    logged: dict = {}
    for occurred_at in Decision.objects.filter(model_version=version, erased_at__isnull=True).values_list(
        "occurred_at", flat=True
    ):
        hour = occurred_at.replace(minute=0, second=0, microsecond=0)
        logged[hour] = logged.get(hour, 0) + 1
    return logged


def summed(columns, hours) -> dict:
    """Every hour's counts added up, as summaries of the whole log."""
    total = {name: {} for name in columns}
    for row in hours:
        for name, keyed in row.counts.items():
            for key, count in keyed.items():
                total[name][key] = total[name].get(key, 0) + count
    return total


@pytest.mark.sqlite
def test_ingest_counts_each_hour_once(world):
    items = decisions(world.version, 300)
    assert decisions_ingest(actor=world.ingest, items=items).accepted == 300
    rows = list(DriftHour.objects.filter(model_version=world.version))
    assert {row.hour: row.decisions for row in rows} == hours_logged(world.version)
    assert len(rows) == 35  # 300 decisions 7 minutes apart: 34 h 53 min
    # a retried batch, and a batch half new: only the new decisions are counted
    assert decisions_ingest(actor=world.ingest, items=items[:100]).duplicates == 100
    again = decisions_ingest(actor=world.ingest, items=items[250:] + decisions(world.version, 50, first=300, seed=1))
    assert (again.accepted, again.duplicates) == (50, 50)
    rows = list(DriftHour.objects.filter(model_version=world.version))
    assert {row.hour: row.decisions for row in rows} == hours_logged(world.version)
    # the hours sum to a summary of every decision (the Python path reads them all)
    _, expected = python_path(world.version, world.columns, *EVERYTHING)
    for name, keyed in summed(world.columns, rows).items():
        want = expected[name]
        if world.columns[name]["kind"] == "numeric":
            bins = [keyed.get(str(i), 0) for i in range(len(want.bins))]
            assert (bins, sum(keyed.values()) - keyed.get(NOT_A_NUMBER, 0)) == (want.bins, want.numbers), name
        else:
            assert keyed == want.counts, name
        assert sum(keyed.values()) == want.present, name
    assert summed(world.columns, rows)["colour"]["True"] > 0 and "1.5" in summed(world.columns, rows)["colour"]


@pytest.mark.sqlite
def test_hour_counts_bin_json_numbers_as_bin_counts_does():
    edges = [-1.0, 0.0931, 0.1, 25.0, 16855.481000000003, 2.0**53, 1e17]
    values = [json.loads(format(v, "f")) for edge in edges[1:-1] for v in rounding_neighbours(edge)]
    values += [-5, 1e300, -1e300, 10**400, -(10**400)]  # beyond the edges, beyond float's range
    hours = hour_counts(
        {"x": {"kind": "numeric", "bin_edges": edges}},
        [(START + timedelta(minutes=i), {"x": v}) for i, v in enumerate(values)],
    )
    counts = hours[START].counts["x"]
    floats = [float(v) if abs(v) < 10**400 else float("inf") * (1 if v > 0 else -1) for v in values]
    expected = bin_counts(np.array(floats), edges)
    assert [counts.get(str(i), 0) for i in range(len(edges) - 1)] == expected.tolist()
    assert hours[START].decisions == len(values)


def test_a_report_sums_the_hours_and_reads_only_its_edges(world):
    decisions_ingest(actor=world.ingest, items=decisions(world.version, 400))
    start, end = START + timedelta(minutes=100), START + timedelta(minutes=7 * 390 + 3)
    hours, ranges = hours_covering(world.version.pk, start, end)
    first, last = START + timedelta(hours=2), START + timedelta(hours=45)
    assert ranges == [(start, first), (last, end)]
    assert [row.hour for row in hours] == [first + timedelta(hours=h) for h in range(43)]
    assert_same(
        window_summary(world.version.pk, start, end, world.columns),
        python_path(world.version, world.columns, start, end),
        world.columns,
    )
    # a window within one hour has no hour to sum
    inside = (START + timedelta(minutes=61), START + timedelta(minutes=119))
    assert hours_covering(world.version.pk, *inside) == ([], [inside])
    assert_same(
        window_summary(world.version.pk, *inside, world.columns),
        python_path(world.version, world.columns, *inside),
        world.columns,
    )


def test_hours_the_counts_miss_are_read_from_the_log(world):
    decisions_ingest(actor=world.ingest, items=decisions(world.version, 400))
    # decisions written without the service (as before the counts were kept) disagree with their hour
    for i in range(3):
        f.DecisionFactory(
            model_version=world.version,
            project=world.project,
            features={"income": 50_000.0 + i, "colour": "teal"},
            occurred_at=START + timedelta(hours=10, minutes=5 * i),
        )
    hours, ranges = hours_covering(world.version.pk, *EVERYTHING)
    ten = START + timedelta(hours=10)
    assert ranges == [(ten, ten + timedelta(hours=1))]  # the window's bounds are whole hours
    assert ten not in {row.hour for row in hours}
    expected = python_path(world.version, world.columns, *EVERYTHING)
    assert expected[1]["colour"].counts["teal"] == 3
    assert_same(window_summary(world.version.pk, *EVERYTHING, world.columns), expected, world.columns)


def test_an_erasure_takes_its_decisions_out_of_the_counts(world):
    decisions_ingest(actor=world.ingest, items=decisions(world.version, 400))
    before = {row.hour: row.decisions for row in DriftHour.objects.filter(model_version=world.version)}
    request = erasure_request_create(actor=SYSTEM, project=world.project, subject_id="person-3", reference="T")
    erasure_request_execute(actor=SYSTEM, request=erasure_request_trace(actor=SYSTEM, request=request))
    assert Decision.objects.filter(model_version=world.version, erased_at__isnull=False).count() == 10
    after = {row.hour: row.decisions for row in DriftHour.objects.filter(model_version=world.version)}
    assert sum(before.values()) - sum(after.values()) == 10
    assert after == {hour: after[hour] for hour in before} and after == {
        hour: hours_logged(world.version).get(hour, 0) for hour in before
    }
    assert all(row.logged == row.decisions for row in DriftHour.objects.filter(model_version=world.version))
    hours, ranges = hours_covering(world.version.pk, *EVERYTHING)
    assert (ranges, len(hours)) == ([], len(before))  # nothing is read from the decisions
    assert_same(
        window_summary(world.version.pk, *EVERYTHING, world.columns),
        python_path(world.version, world.columns, *EVERYTHING),
        world.columns,
    )


def test_the_log_counts_its_decisions_whatever_writes_them(world):
    """PostgreSQL's triggers keep `logged`: inserts, erasures and deletions by any path; recording outcomes
    leaves it as it is."""
    decisions_ingest(actor=world.ingest, items=decisions(world.version, 20))
    hour = START + timedelta(hours=1)

    def logged():
        return DriftHour.objects.get(model_version=world.version, hour=hour).logged

    assert logged() == 9 == DriftHour.objects.get(model_version=world.version, hour=hour).decisions
    f.DecisionFactory(model_version=world.version, project=world.project, occurred_at=hour + timedelta(minutes=59))
    assert logged() == 10
    in_hour = Decision.objects.filter(model_version=world.version, occurred_at__gte=hour, occurred_at__lt=hour + HOUR)
    in_hour.update(outcome="approve")
    assert logged() == 10
    in_hour.filter(request_id__in=["r9", "r10"]).update(erased_at=START)
    assert logged() == 8
    in_hour.filter(request_id="r11").delete()
    assert logged() == 7
    in_hour.filter(request_id="r12").update(occurred_at=START)  # moved to another hour
    assert logged() == 6 and DriftHour.objects.get(model_version=world.version, hour=START).logged == 10
    with connection.cursor() as cursor:  # a truncated log takes its hours with it
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred checks pending in the test's transaction
        cursor.execute("TRUNCATE governance_decision")
    assert not DriftHour.objects.exists()


def test_a_feature_of_many_values_keeps_its_hours_within_the_profile(db):
    """A categorical feature whose profile folds its rarer values into OTHER: the hours fold unknown values
    the same way (at most the profile's categories an hour), and the report's figures are the Python path's."""
    train = pd.DataFrame({"code": [f"c{i % 300}" for i in range(3000)], "amount": np.arange(3000) % 97})
    world = make_world(train)
    known = world.columns["code"]["frequencies"]
    assert OTHER in known and len(known) == 101
    items = [
        {
            "model_version": world.version.pk,
            "request_id": f"r{i}",
            "features": {"code": f"c{i * 7 % 500}", "amount": i % 89},  # c300-c499 never seen in training
            "prediction": "approve",
            "occurred_at": (START + timedelta(minutes=i)).isoformat(),
        }
        for i in range(1500)
    ]
    decisions_ingest(actor=world.ingest, items=items)
    hours = list(DriftHour.objects.filter(model_version=world.version))
    assert len(hours) == 25 and all(set(row.counts["code"]) <= set(known) for row in hours)
    start, end = START + timedelta(minutes=30), START + timedelta(minutes=1490)
    _, window = window_summary(world.version.pk, start, end, world.columns)
    _, expected = python_path(world.version, world.columns, start, end)
    for name, reference in world.columns.items():
        got = compare_feature(reference, window[name], max_psi=0.2)
        assert got == compare_feature(reference, expected[name], max_psi=0.2), name
    code = compare_feature(world.columns["code"], window["code"], max_psi=0.2)
    assert code["window_frequencies"][code["categories"].index(OTHER)] > 0 and code["new_categories"] == []
