"""Data drift against the training data's profile: PSI and JS equal an independent numpy computation,
KS equals scipy.stats.ks_2samp, on the real arrests data of the demo."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from decimal import Decimal, localcontext

import numpy as np
import pandas as pd
import pytest
from django.db import connection
from scipy.stats import ks_2samp

from governance.demo import FEATURES, demo_load
from governance.models import Decision, DriftReport
from governance.queries.drift import NUMERIC_SCALE_MAX, numeric_threshold, window_features, window_summary
from governance.statistics.drift import summarise
from registry.models import DataVersion, ModelVersion
from registry.profiles import OTHER, SAMPLE_SIZE, dataframe_profile
from tests import factories as f
from tests.helpers import followed


def numpy_psi(reference: list[int], window: list[int]) -> float:
    total_r, total_w = sum(reference), sum(window)
    value = 0.0
    for r, w in zip(reference, window, strict=True):
        e, a = max(r / total_r, 1e-4), max(w / total_w, 1e-4)
        value += (a - e) * math.log(a / e)
    return value


def numpy_js(reference: list[int], window: list[int]) -> float:
    p = np.array(reference, dtype=float) / sum(reference)
    q = np.array(window, dtype=float) / sum(window)
    m = (p + q) / 2

    def kl(x, y):
        mask = x > 0
        return float(np.sum(x[mask] * np.log2(x[mask] / y[mask])))

    return math.sqrt((kl(p, m) + kl(q, m)) / 2)


def test_profile_format():
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {
            "age": rng.normal(40, 10, 12_000),
            "colour": rng.choice(["a", "b", "c"], 12_000),
            "flag": rng.choice([True, False], 12_000),
            "many": [f"v{i}" for i in range(12_000)],
        }
    )
    df.loc[:9, "age"] = np.nan
    profile = dataframe_profile(df)
    age = profile["columns"]["age"]
    assert profile["format"] == "gov-profile-v1" and profile["row_count"] == 12_000
    assert (age["kind"], age["count"], age["missing"]) == ("numeric", 11_990, 10)
    assert sum(age["bin_counts"]) == 11_990 and len(age["bin_counts"]) == len(age["bin_edges"]) - 1 == 10
    assert all(abs(c - 1199) <= 2 for c in age["bin_counts"])  # quantile bins hold about a tenth each
    assert len(age["sample"]) == SAMPLE_SIZE and set(age["sample"]) <= set(df["age"].dropna())
    assert profile["columns"]["colour"]["kind"] == "categorical"
    assert sum(profile["columns"]["colour"]["frequencies"].values()) == 12_000
    assert profile["columns"]["flag"]["kind"] == "categorical"
    many = profile["columns"]["many"]["frequencies"]
    assert len(many) == 101 and many[OTHER] == 12_000 - 100


@pytest.fixture
def demo(db):
    demo_load()
    version = ModelVersion.objects.get(model__name="arrests-release", stage="production")
    return version


@pytest.fixture
def analyst(make_client, demo):
    return make_client("risk_analyst", demo.project)


def report(client, version, start="2000-01-01T00:00:00Z", end="2100-01-01T00:00:00Z"):
    """The report made (its job followed), or the refusal."""
    return followed(
        client,
        client.post(
            "/api/v1/drift-reports/",
            {"model_version": version.pk, "window_start": start, "window_end": end},
            format="json",
        ),
    )


def test_the_test_split_has_not_drifted_and_every_figure_matches(demo, analyst):
    response = report(analyst, demo)
    assert response.status_code == 200, response.json()
    body = response.json()
    reference = DataVersion.objects.get(pk=body["reference_data_version"])
    assert reference.version == "train"
    assert body["row_count"] == Decision.objects.filter(model_version=demo).count()
    assert body["drifted"] is False, body["drifted_features"]
    assert set(body["features"]) == set(FEATURES)
    window = pd.DataFrame(list(Decision.objects.filter(model_version=demo).values_list("features", flat=True)))
    for name, result in body["features"].items():
        profile = reference.profile["columns"][name]
        if result["kind"] == "numeric":
            edges = profile["bin_edges"]
            counts, _ = np.histogram(window[name], bins=[-np.inf, *edges[1:-1], np.inf])
            assert result["window_bins"] == counts.tolist(), name
            assert abs(result["psi"] - numpy_psi(profile["bin_counts"], counts.tolist())) < 1e-12, name
            assert abs(result["js_distance"] - numpy_js(profile["bin_counts"], counts.tolist())) < 1e-12, name
            ks = ks_2samp(profile["sample"], window[name].astype(float))
            assert result["ks_statistic"] == pytest.approx(ks.statistic, abs=1e-15)
            assert result["ks_pvalue"] == pytest.approx(ks.pvalue, rel=1e-12)
        else:
            categories = result["categories"]
            observed = window[name].astype(str).value_counts()
            assert result["window_frequencies"] == [int(observed.get(c, 0)) for c in categories]
            expected = [profile["frequencies"].get(c, 0) for c in categories]
            assert abs(result["psi"] - numpy_psi(expected, result["window_frequencies"])) < 1e-12
            assert abs(result["js_distance"] - numpy_js(expected, result["window_frequencies"])) < 1e-12
        assert result["psi"] < 0.2


def test_a_shifted_window_drifts(demo, analyst, make_client):
    ingest = make_client("ingest", demo.project)
    rows = list(Decision.objects.filter(model_version=demo).values_list("features", flat=True)[:600])
    shifted = [
        {
            "model_version": demo.pk,
            "request_id": f"shifted-{i}",
            "features": {**features, "age": features["age"] + 25, "employed": "No"},
            "prediction": "No",
            "occurred_at": "2030-06-01T00:00:00Z",
        }
        for i, features in enumerate(rows)
    ]
    assert ingest.post("/api/v1/decisions/bulk/", {"decisions": shifted}, format="json").status_code == 200
    body = report(analyst, demo, start="2030-01-01T00:00:00Z").json()
    assert body["row_count"] == 600
    assert body["drifted"] is True
    assert set(body["drifted_features"]) >= {"age", "employed"}
    assert "year" not in body["drifted_features"]
    assert body["features"]["age"]["ks_pvalue"] < 1e-10


def test_clear_errors(demo, analyst, chain, make_client):
    empty = report(analyst, demo, start="1990-01-01T00:00:00Z", end="1991-01-01T00:00:00Z")
    assert empty.status_code == 400
    assert "no decisions" in empty.json()["error"]["fields"]["window_start"][0]
    backwards = report(analyst, demo, start="2030-01-02T00:00:00Z", end="2030-01-01T00:00:00Z")
    assert backwards.json()["error"]["fields"] == {"window_end": ["must be after window_start"]}
    f.DecisionFactory(model_version=chain.version)
    no_profile = report(make_client("risk_analyst", chain.project), chain.version)
    assert no_profile.status_code == 400
    assert "has no profile" in no_profile.json()["error"]["fields"]["model_version"][0]
    assert DriftReport.objects.count() == 0


def test_run_monitoring_reports_on_every_production_version(demo):
    from io import StringIO

    from django.core.management import call_command

    from governance.models import FairnessAudit, PerformanceReport

    out = StringIO()
    call_command("run_monitoring", "--drift-days", "40", "--performance-days", "40", stdout=out)
    text = out.getvalue()
    assert "[1/1] demo/arrests-release v2" in text
    assert DriftReport.objects.filter(model_version=demo).count() == 1
    assert PerformanceReport.objects.filter(model_version=demo).count() == 1
    assert FairnessAudit.objects.filter(model_version=demo).count() == 2  # the demo's, and this one
    assert "1 production versions checked" in text


def rounding_neighbours(edge: float) -> list[Decimal]:
    """Decimals around where numbers start to round to the edge, and to the float above it: each midpoint,
    the numerics either side of it, and the three floats themselves."""
    below, above = math.nextafter(edge, -math.inf), math.nextafter(edge, math.inf)
    step = Decimal(1).scaleb(-NUMERIC_SCALE_MAX)
    values = [Decimal(below), Decimal(edge), Decimal(above)]
    with localcontext() as context:
        context.prec = 2 * NUMERIC_SCALE_MAX
        for low, high in ((below, edge), (edge, above)):
            midpoint = (Decimal(low) + Decimal(high)) / 2
            values += [midpoint - step, midpoint, midpoint + step]
    return values


@pytest.mark.sqlite
def test_numeric_thresholds_split_numbers_as_their_floats_do():
    edges = [0.1, 0.0931, 25.0, 16855.481000000003, -2.5, 0.0, -0.0, 5e-324, 2.0**53, 2.0**53 + 2, 1e300]
    edges += [-1.7976931348623157e308, 1.7976931348623157e308]  # below the lowest float8: minus infinity
    step = Decimal(1).scaleb(-NUMERIC_SCALE_MAX)
    for edge in edges:
        midpoint, above = numeric_threshold(edge)
        with localcontext() as context:
            context.prec = 2 * NUMERIC_SCALE_MAX
            threshold = Decimal(midpoint) + (step if above else 0)
            for value in rounding_neighbours(edge):
                assert (value >= threshold) == (float(value) >= edge), (edge, value)


@pytest.mark.sqlite
@pytest.mark.django_db
def test_the_window_bins_json_numbers_as_python_reads_them():
    """Numbers that round to a bin's edge or to the float next to it, written as exact JSON numbers: the
    window's bins (PostgreSQL: compared as numeric with the thresholds) equal Python's (floats)."""
    x_edges = [0.0931, 0.1, 25.0, 16855.481000000003, 2.0**53, 2.0**53 + 2]
    y_edges = [-2.5, 0.5, 7.0]
    x_values = [v for edge in x_edges for v in rounding_neighbours(edge)]
    x_values += [Decimal(9007199254740993), Decimal(9007199254740995)]  # ties between floats above 2**53
    others = ["12", True, None, {"a": 1}, [1, 2]]  # not numbers: present, not binned
    decision = f.DecisionFactory()
    texts = []
    for i, x in enumerate([*x_values, *others, "missing"]):
        features = {"y": [-2.5, 0.5, 7.0, 3, "7"][i % 5], "c": ["a", "b", True][i % 3]}
        if x != "missing":
            features["x"] = "@x@" if isinstance(x, Decimal) else x
        texts.append(json.dumps(features).replace('"@x@"', format(x, "f") if isinstance(x, Decimal) else ""))
    rows = [f.DecisionFactory(model_version=decision.model_version) for _ in texts[1:]] + [decision]
    with connection.cursor() as cursor:
        for row, text in zip(rows, texts, strict=True):
            cursor.execute("UPDATE governance_decision SET features = %s WHERE id = %s", [text, row.pk])
    columns = {
        "x": {"kind": "numeric", "bin_edges": [-1.0, *x_edges, 1e17]},
        "y": {"kind": "numeric", "bin_edges": [-10.0, *y_edges, 10.0]},
        "c": {"kind": "categorical"},
    }
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
    count, window = window_summary(decision.model_version_id, start, end, columns)
    python_count, values = window_features(decision.model_version_id, start, end, list(columns))
    assert count == python_count == len(texts)
    for name, reference in columns.items():
        expected = summarise(reference, values[name])
        assert (window[name].present, window[name].numbers) == (expected.present, expected.numbers), name
        assert (window[name].bins, window[name].counts) == (expected.bins, expected.counts), name
        assert sorted(window[name].sample.tolist()) == sorted(expected.sample.tolist()), name
    assert window["x"].numbers == len(x_values) and sum(window["x"].bins) == len(x_values)
