"""10,000,000 decisions over 12 monthly partitions: erasure trace, lineage, ingest, fairness, drift and retention,
each against its baseline in the same run (issue 17 item 4). Not part of `make bench`: it takes about half an hour.

    .venv/bin/python bench/scale.py [--decisions 10000000] [--subjects 1000000] [--samples 100]

1. Drops and recreates `governance_bench_scale` on the server of --database-url, migrates it and runs
   `django.setup()` in this process (settings from the environment, as bench/erasure.py).
2. Lineage through the registry services, as bench/erasure.py builds it: a project, a personal-data dataset with
   20 data versions (5 monthly raw snapshots of 80 % of the --subjects, each with a cleaned child and train/test
   splits of that; every train split profiled), a run and a model version per snapshot; the first version is
   deployed and makes every decision. The subject indexes are written set-based (INSERT ... SELECT from a table
   of the subjects' HMAC keys): through `subjects_index` 12 million rows would take minutes.
3. Decisions: --decisions over the 12 months 2025-12 .. 2026-11, decision i about subject i * 7919 mod
   --subjects (so each subject has decisions in most months), with outcomes. The oldest month goes through
   bench/common.copy_load exactly as `decisions_ingest` writes it (valid salts, commitments and skeleton
   commitments, one `decisions.ingested` audit event per batch, drift counts): retention's seal checks those
   against the audit trail, and the drift report reads those counts. The other 11 months are one
   `INSERT ... SELECT generate_series` each (random features, sensitive attributes, outcomes and predictions
   drawn in SQL; placeholder commitments and no batch: `decisions/verify` would name them, nothing measured
   here reads them). VACUUM ANALYZE.
4. Measures, each against its baseline:
   - erasure: `subject_trace` and `erasure_request_trace` for --samples subjects (p50/p99; target p50 < 10 ms)
     against the plain indexed lookup of the subject's decision ids; `lineage_graph` upstream of one decision
     (target < 20 ms) against the decision's row by primary key;
   - fairness: POST /api/v1/fairness-audits/ (sex x age_band) over one month and over all months, against
     fairlearn's MetricFrame on the same rows in memory (read before its clock starts; target >= 10x, figures
     identical), as bench/fairness.py;
   - drift: POST /api/v1/drift-reports/ over the oldest month, against Evidently's DataDriftPreset (evidently
     EVIDENTLY_VERSION from PyPI, in its own venv, --peer-venv) on the same window and the profiled training data
     as reference: its time with the default tests, and with KS and Jensen-Shannon, whose statistics are compared
     with the service's and with scipy's on the same values;
   - ingest: --ingest-rows decisions through POST /api/v1/decisions/bulk/ (gunicorn, as bench/ingest.py) into the
     partitioned log of 10,000,000 rows, against one COPY of as many other rows into the same table (target
     REST/COPY >= 0.8);
   - retention: the policy's maximum set so that exactly the oldest month has expired, `retention_apply` seals
     and drops it (target < 1 s), the log's size before and after.

Prints every figure with its target; a missed target is said, not failed on; a wrong figure fails the bench.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import requests
from common import (  # noqa: E402 (bench/ is the script's folder)
    checkpoint,
    copy_load,
    decision_row,
    free_port,
    migrate,
    percentile,
    recreate_database,
    runs,
    start_gunicorn,
    stop,
    table_size,
    vacuum_analyze,
    wait_until_answering,
    with_database,
)
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "governance_bench_scale"
TABLE = "governance_decision"
KEY_ID = "k1"
EVIDENTLY_VERSION = "0.7.23"
PEER_PANDAS = "2.3.3"  # evidently 0.7.23 imports a name pandas 3 no longer has
PEER_VENV = ROOT / "var" / "bench" / "evidently-venv"
REQUEST_TIMEOUT = 900
FIRST_MONTH = datetime(2025, 12, 1, tzinfo=UTC)
MONTHS = 12
SNAPSHOTS = 5  # x (raw, cleaned, train, test) = 20 data versions
WINDOW = 0.8
MULTIPLIER = 7919
POSITIVE, NEGATIVE = "approve", "decline"
ATTRIBUTES = ["sex", "age_band"]
TRACE_GOAL_MS, LINEAGE_GOAL_MS, INGEST_GOAL, FAIRNESS_GOAL, DROP_GOAL_S = 10, 20, 0.8, 10, 1.0
TOLERANCE = 1e-12

NUMERIC = ("age", "income", "loan_amount", "term_months")
CATEGORICAL = ("purpose", "employment")
PURPOSES = ("car", "home", "education", "business", "holiday", "debt")
EMPLOYMENT = ("employed", "self_employed", "unemployed", "retired", "student")
AGE_BANDS = ("18-34", "35-54", "55+")
# per (sex F/M, age band): P(outcome positive), P(prediction positive | outcome positive), P(... | negative)
BASE_RATE = ((0.52, 0.61, 0.57), (0.55, 0.66, 0.60))
TRUE_POSITIVE = ((0.78, 0.86, 0.83), (0.84, 0.88, 0.85))
FALSE_POSITIVE = ((0.14, 0.18, 0.16), (0.19, 0.21, 0.17))
SEX_F = 0.49
INCOME_SHIFT = 1.25  # the decisions' incomes against the training data's: drift to find

_LOAD: dict = {}  # what the forked loaders read (copy-on-write)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--decisions", type=int, default=10_000_000)
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=100, help="subjects traced")
    parser.add_argument(
        "--lineage-samples", type=int, default=5, help="decisions whose lineage is read (each counts the version's)"
    )
    parser.add_argument("--train-rows", type=int, default=100_000, help="rows of each profiled training split")
    parser.add_argument("--ingest-rows", type=int, default=200_000)
    parser.add_argument("--ingest-batch", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers, and COPY loaders")
    parser.add_argument("--clients", type=int, default=2, help="REST ingest client threads")
    parser.add_argument("--repeats", type=int, default=3, help="timed audits and reports through the service")
    parser.add_argument("--peer-venv", type=Path, default=PEER_VENV, help=f"the venv of evidently=={EVIDENTLY_VERSION}")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres",
        help="any database on the server; the bench creates and uses its own database on it",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.decisions < MONTHS * 10_000 or args.subjects < 1000 or args.subjects > args.decisions:
        parser.error("--decisions must be >= 120000 and >= --subjects >= 1000")
    return args


def month_start(index: int) -> datetime:
    from registry.partitions import add_months

    month = add_months(FIRST_MONTH.date(), index)
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def multiplier(subjects: int) -> int:
    m = MULTIPLIER
    while math.gcd(m, subjects) != 1:
        m += 2
    return m


def subject_id(number: int) -> str:
    return f"customer-{number:07d}"


# -- setup ------------------------------------------------------------------------------------------------------


def training_frame(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, rows),
            "income": np.round(rng.lognormal(10.5, 0.6, rows), 2),
            "loan_amount": np.round(rng.uniform(500, 50_000, rows), 2),
            "term_months": rng.choice((12, 24, 36, 48, 60), rows),
            "purpose": np.asarray(PURPOSES, dtype=object)[rng.integers(0, len(PURPOSES), rows)],
            "employment": np.asarray(EMPLOYMENT, dtype=object)[rng.integers(0, len(EMPLOYMENT), rows)],
        }
    )


def subject_table(url: str, subjects: int) -> list[str]:
    """Every subject's HMAC key, in Python (as the service computes it) and in a helper table for the SQL."""
    from registry.subjects import subject_key

    keys = [subject_key(subject_id(n)) for n in range(subjects)]
    with psycopg.connect(url) as conn:
        conn.execute("CREATE UNLOGGED TABLE bench_subject (n integer PRIMARY KEY, key varchar(64) NOT NULL)")
        with conn.cursor() as cursor, cursor.copy("COPY bench_subject (n, key) FROM STDIN") as copy:
            for n, key in enumerate(keys):
                copy.write_row((n, key))
        conn.execute("ANALYZE bench_subject")
    return keys


# the subjects of each data version, as SQL over bench_subject: a raw snapshot is a window of WINDOW of them,
# cleaning drops one in 29, the test split is about a fifth of the cleaned rows
def _members(kind: str, snapshot: int, subjects: int) -> str:
    size = int(subjects * WINDOW)
    step = (subjects - size) // (SNAPSHOTS - 1)
    where = f"n >= {snapshot * step} AND n < {snapshot * step + size}"
    if kind != "raw":
        where += f" AND mod(n, 29) <> {snapshot}"
    test = f"(hashint4(n + {snapshot * 10_000_019}) & 1023) < 205"
    if kind == "train":
        where += f" AND NOT {test}"
    elif kind == "test":
        where += f" AND {test}"
    return where


def build_lineage(url: str, subjects: int, train: pd.DataFrame) -> dict:
    from registry import services
    from registry.actors import Actor
    from registry.models import Role
    from registry.profiles import dataframe_profile

    system = Actor.system()
    project = services.project_create(actor=system, slug="bench-scale", name="Scale benchmark")
    ingest_key, ingest_raw = services.api_key_create(actor=system, project=project, role=Role.INGEST, name="ingest")
    officer_key, officer_raw = services.api_key_create(
        actor=system, project=project, role=Role.COMPLIANCE_OFFICER, name="officer"
    )
    _, analyst_raw = services.api_key_create(actor=system, project=project, role=Role.RISK_ANALYST, name="analyst")
    dataset = services.dataset_create(
        actor=system,
        project=project,
        name="loan-applications",
        contains_personal_data=True,
        legal_basis="contract (Art. 6(1)(b))",
    )
    model = services.model_create(actor=system, project=project, name="credit-default")
    profile = dataframe_profile(train)
    schema = {name: str(dtype) for name, dtype in train.dtypes.items()}
    index_rows, data_versions, versions = 0, [], []

    with psycopg.connect(url) as conn:

        def register(kind: str, snapshot: int, parents: tuple = (), transformation: str = ""):
            nonlocal index_rows
            where = _members(kind, snapshot, subjects)
            (count,) = conn.execute(f"SELECT count(*) FROM bench_subject WHERE {where}").fetchone()
            name = f"{month_start(snapshot):%Y-%m}-{kind}"
            data_version = services.data_version_register(
                actor=system,
                dataset=dataset,
                version=name,
                content_sha256=uuid.uuid5(uuid.NAMESPACE_URL, name).hex * 2,
                row_count=count,
                schema=schema,
                storage_uri=f"s3://bench/loan-applications/{name}.parquet",
                profile=profile if kind == "train" else None,
                parents=parents,
                transformation=transformation,
            )
            conn.execute(
                "INSERT INTO registry_subjectindex (data_version_id, subject_key, key_id) "
                f"SELECT %s, key, %s FROM bench_subject WHERE {where}",
                [data_version.pk, KEY_ID],
            )
            conn.commit()
            index_rows += count
            data_versions.append(data_version.pk)
            return data_version

        for snapshot in range(SNAPSHOTS):
            raw = register("raw", snapshot)
            cleaned = register("cleaned", snapshot, (raw,), "drop duplicates and incomplete rows")
            split = register("train", snapshot, (cleaned,), "stratified 80/20 split, train")
            test = register("test", snapshot, (cleaned,), "stratified 80/20 split, test")
            run = services.run_register(
                actor=system,
                project=project,
                name=f"gbm {month_start(snapshot):%Y-%m}",
                metrics={"auc": 0.78 + snapshot / 200},
                inputs=[{"data_version": split, "role": "train"}, {"data_version": test, "role": "test"}],
            )
            versions.append(
                services.model_version_register(
                    actor=system,
                    model=model,
                    run=run,
                    artifact_uri=f"s3://bench/models/credit-default/{snapshot + 1}/model.pkl",
                    artifact_sha256=uuid.uuid5(uuid.NAMESPACE_URL, str(snapshot)).hex * 2,
                    framework="lightgbm",
                )
            )
    deployment = services.deployment_create(
        actor=system,
        model_version=versions[0],
        environment="staging",
        started_at=FIRST_MONTH - timedelta(days=1),
        backfill=True,
    )
    return {
        "project": project.pk,
        "model_version": versions[0].pk,
        "deployment": deployment.pk,
        "ingest_key": ingest_key.pk,
        "ingest": ingest_raw,
        "officer_key": officer_key.pk,
        "officer": officer_raw,
        "analyst": analyst_raw,
        "profile": profile,
        "data_versions": len(data_versions),
        "index_rows": index_rows,
    }


def _columns(rows: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One batch of decisions as columns, drawn as the SQL of the other months draws them."""
    age = rng.integers(18, 90, rows)
    sex = (rng.random(rows) >= SEX_F).astype(np.int64)
    band = np.where(age < 35, 0, np.where(age < 55, 1, 2))
    y_true = rng.random(rows) < np.asarray(BASE_RATE)[sex, band]
    rate = np.where(y_true, np.asarray(TRUE_POSITIVE)[sex, band], np.asarray(FALSE_POSITIVE)[sex, band])
    y_pred = rng.random(rows) < rate
    u = rng.random(rows)
    return {
        "age": age,
        "income": np.round(rng.lognormal(10.5, 0.6, rows) * INCOME_SHIFT, 2),
        "loan_amount": np.round(rng.uniform(500, 50_000, rows), 2),
        "term_months": rng.choice((12, 24, 36, 48, 60), rows),
        "purpose": np.asarray(PURPOSES, dtype=object)[rng.integers(0, len(PURPOSES), rows)],
        "employment": np.asarray(EMPLOYMENT, dtype=object)[rng.integers(0, len(EMPLOYMENT), rows)],
        "sex": np.asarray(("F", "M"), dtype=object)[sex],
        "age_band": np.asarray(AGE_BANDS, dtype=object)[band],
        "y_true": y_true,
        "y_pred": y_pred,
        "score": np.round(np.where(y_pred, 0.5 + u / 2, u / 2), 6),
    }


def _rows(start: int, stop: int, batch: uuid.UUID) -> tuple[list[tuple], list[tuple]]:
    """The rows decisions_ingest would write for decisions start..stop of the oldest month (with outcomes)."""
    from governance.integrity import jsonb_normalise

    setup, keys, m = _LOAD["setup"], _LOAD["keys"], _LOAD["multiplier"]
    part = {name: values.tolist() for name, values in _columns(stop - start, np.random.default_rng(start)).items()}
    mv, deployment, project, key_pk = setup["model_version"], setup["deployment"], setup["project"], setup["ingest_key"]
    first, spacing, now = _LOAD["first"], _LOAD["spacing"], _LOAD["now"]
    rows, inserted = [], []
    for offset in range(stop - start):
        i = start + offset
        features = jsonb_normalise({name: part[name][offset] for name in NUMERIC + CATEGORICAL})
        occurred_at = first + spacing * i
        row, digest = decision_row(
            project=project,
            model_version=mv,
            deployment=deployment,
            request_id=f"req-{i:08d}",
            subject_key=keys[i * m % len(keys)],
            key_id=KEY_ID,
            features=features,
            sensitive={"sex": part["sex"][offset], "age_band": part["age_band"][offset]},
            prediction=POSITIVE if part["y_pred"][offset] else NEGATIVE,
            score=part["score"][offset],
            occurred_at=occurred_at,
            created_at=now,
            key_pk=key_pk,
            batch=batch,
        )
        outcome = POSITIVE if part["y_true"][offset] else NEGATIVE
        rows.append(row + (json.dumps(outcome), occurred_at + timedelta(days=60)))
        inserted.append((mv, digest, project, row[-3]))
    return rows, inserted


MONTH_SQL = """
WITH drawn AS (
    SELECT i, %(start)s::timestamptz + (i - %(first)s) * %(spacing_us)s * interval '1 microsecond' AS at,
           18 + floor(random() * 72)::int AS age, (random() >= %(sex_f)s)::int AS sx,
           random() AS u_true, random() AS u_pred, random() AS u_score,
           1 - random() AS u_income1, random() AS u_income2,
           random() AS u_loan, random() AS u_term, random() AS u_purpose, random() AS u_employment
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i
), banded AS (
    SELECT *, CASE WHEN age < 35 THEN 1 WHEN age < 55 THEN 2 ELSE 3 END AS bd FROM drawn
), decided AS (
    SELECT *, u_true < (%(base)s::float8[])[sx + 1][bd] AS truth FROM banded
), predicted AS (
    SELECT *, u_pred < CASE WHEN truth THEN (%(tp)s::float8[])[sx + 1][bd] ELSE (%(fp)s::float8[])[sx + 1][bd] END
           AS pred FROM decided
)
INSERT INTO governance_decision (
    project_id, model_version_id, deployment_id, request_id, subject_key, subject_key_id, features, sensitive,
    prediction, score, occurred_at, outcome, outcome_at, salt, commitment, skeleton_commitment, batch_id,
    created_at, created_by_key_id
)
SELECT %(project)s, %(mv)s, %(deployment)s, 'req-' || lpad(p.i::text, 8, '0'), s.key, %(key_id)s,
       jsonb_build_object(
           'age', p.age,
           'income', round((exp(10.5 + 0.6 * sqrt(-2 * ln(p.u_income1)) * cos(2 * pi() * p.u_income2))
                            * %(shift)s)::numeric, 2),
           'loan_amount', round((500 + p.u_loan * 49500)::numeric, 2),
           'term_months', (ARRAY[12, 24, 36, 48, 60])[1 + floor(p.u_term * 5)::int],
           'purpose', (%(purposes)s::text[])[1 + floor(p.u_purpose * %(n_purposes)s)::int],
           'employment', (%(employment)s::text[])[1 + floor(p.u_employment * %(n_employment)s)::int]
       ),
       jsonb_build_object('sex', CASE p.sx WHEN 0 THEN 'F' ELSE 'M' END, 'age_band', (%(bands)s::text[])[p.bd]),
       to_jsonb(CASE WHEN p.pred THEN %(positive)s ELSE %(negative)s END),
       round((CASE WHEN p.pred THEN 0.5 + p.u_score / 2 ELSE p.u_score / 2 END)::numeric, 6)::float8,
       p.at,
       to_jsonb(CASE WHEN p.truth THEN %(positive)s ELSE %(negative)s END),
       p.at + interval '60 days',
       md5(p.i::text), encode(sha256(convert_to('bench ' || p.i::text, 'UTF8')), 'hex'), '', NULL,
       now(), %(key)s
FROM predicted p JOIN bench_subject s ON s.n = (p.i * %(multiplier)s) %% %(subjects)s
"""


def load_decisions(url: str, setup: dict, keys: list[str], per_month: int, loaders: int) -> tuple[float, float]:
    """The oldest month through copy_load, the others set-based; answers both durations."""
    from registry import partitions

    for index in range(MONTHS):
        partitions.ensure(TABLE, {(setup["project"], month_start(index).date())})
    started = time.perf_counter()
    _LOAD.update(
        setup=setup,
        keys=keys,
        multiplier=multiplier(len(keys)),
        first=month_start(0),
        spacing=(month_start(1) - month_start(0)) / per_month,
        now=datetime.now(UTC),
    )
    try:
        copy_load(
            build_rows=_rows,
            total=per_month,
            batch=10_000,
            loaders=loaders,
            ingest_key=setup["ingest_key"],
            extra_columns=("outcome", "outcome_at"),
        )
    finally:
        _LOAD.clear()
    copied = time.perf_counter()

    def month(index: int) -> None:
        spacing = (month_start(index + 1) - month_start(index)) / per_month
        with psycopg.connect(url) as conn:
            conn.execute("SELECT setseed(%s)", [index / MONTHS])
            conn.execute(
                MONTH_SQL,
                {
                    "start": month_start(index),
                    "first": index * per_month,
                    "last": (index + 1) * per_month - 1,
                    "spacing_us": spacing // timedelta(microseconds=1),
                    "sex_f": SEX_F,
                    "base": [list(r) for r in BASE_RATE],
                    "tp": [list(r) for r in TRUE_POSITIVE],
                    "fp": [list(r) for r in FALSE_POSITIVE],
                    "shift": INCOME_SHIFT,
                    "purposes": list(PURPOSES),
                    "n_purposes": len(PURPOSES),
                    "employment": list(EMPLOYMENT),
                    "n_employment": len(EMPLOYMENT),
                    "bands": list(AGE_BANDS),
                    "positive": POSITIVE,
                    "negative": NEGATIVE,
                    "project": setup["project"],
                    "mv": setup["model_version"],
                    "deployment": setup["deployment"],
                    "key_id": KEY_ID,
                    "key": setup["ingest_key"],
                    "multiplier": multiplier(len(keys)),
                    "subjects": len(keys),
                },
            )

    # a month a statement, --workers sessions at once
    with ThreadPoolExecutor(max_workers=loaders) as pool:
        list(pool.map(month, range(1, MONTHS)))
    return copied - started, time.perf_counter() - copied


def count_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(TABLE))).fetchone()[0]


def read_csv(url: str, query: str, params: list) -> pd.DataFrame:
    """A query's rows into a DataFrame through COPY ... TO STDOUT (CSV), before any clock starts."""
    buffer = io.BytesIO()
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        statement = sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER)").format(
            sql.SQL(psycopg.ClientCursor(conn).mogrify(query, params))
        )
        with cursor.copy(statement) as copy:
            for chunk in copy:
                buffer.write(chunk)
    buffer.seek(0)
    return pd.read_csv(buffer, keep_default_na=False)


# -- measures ----------------------------------------------------------------------------------------------------


def erasure_and_lineage(setup: dict, subjects: int, samples: int, lineage_samples: int, seed: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from governance.lineage import lineage_graph, lineage_upstream_edges
    from governance.models import Decision
    from governance.selectors import subject_trace
    from governance.services.erasure import erasure_request_create, erasure_request_trace
    from registry.actors import Actor
    from registry.models import ApiKey

    officer = Actor.for_key(ApiKey.objects.get(pk=setup["officer_key"]))
    rng = random.Random(seed)
    times: dict[str, list[float]] = {"lookup": [], "subject_trace": [], "erasure_request_trace": [], "lineage": []}
    times["decision_by_pk"], times["edges"] = [], []
    found, traced = [], []
    from governance.models import ErasureRequest  # noqa: F401 (the request's model, created by the service)
    from registry.models import Project

    project = Project.objects.get(pk=setup["project"])
    numbers = rng.sample(range(subjects), samples + 1)
    for position, number in enumerate(numbers):
        request = erasure_request_create(
            actor=officer, project=project, subject_id=subject_id(number), reference=f"BENCH-{position:04d}"
        )
        started = time.perf_counter()
        ids = list(
            Decision.objects.filter(project_id=project.pk, subject_key=request.subject_key)
            .order_by("id")
            .values_list("id", flat=True)
        )
        lookup = time.perf_counter() - started
        started = time.perf_counter()
        trace = subject_trace(project_id=project.pk, subject_key=request.subject_key)
        traced_in = time.perf_counter() - started
        started = time.perf_counter()
        erasure_request_trace(actor=officer, request=request)
        request_traced = time.perf_counter() - started
        if position == 0:  # warm-up
            continue
        times["lookup"].append(lookup)
        times["subject_trace"].append(traced_in)
        times["erasure_request_trace"].append(request_traced)
        found.append(len(ids))
        traced.append((trace["decisions"]["count"], len(trace["data_versions"]), len(trace["model_versions"])))
        if trace["decisions"]["ids"] != ids:
            raise SystemExit(f"subject {number}: the trace's decisions differ from the lookup's")
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM governance_decision")
        low, high = cursor.fetchone()
    nodes = []
    for position in range(lineage_samples + 1):
        pk = rng.randint(low, high)
        started = time.perf_counter()
        row = Decision.objects.filter(pk=pk).values("id", "model_version_id", "deployment_id").first()
        by_pk = time.perf_counter() - started
        started = time.perf_counter()
        graph = lineage_graph(kind="decision", pk=pk, direction="upstream")
        took = time.perf_counter() - started
        started = time.perf_counter()
        lineage_upstream_edges(kind="decision", pk=pk)  # the same walk without loading the nodes
        edges_only = time.perf_counter() - started
        if row is None:
            raise SystemExit(f"decision {pk} not found")
        if position:
            times["decision_by_pk"].append(by_pk)
            times["lineage"].append(took)
            times["edges"].append(edges_only)
            nodes.append((len(graph["nodes"]), len(graph["edges"])))
    round_trips = []
    with connection.cursor() as cursor:
        for _ in range(200):
            started = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            round_trips.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as queries:
        subject_trace(project_id=project.pk, subject_key=request.subject_key)
    statements = {"subject_trace": len(queries)}
    with CaptureQueriesContext(connection) as queries:
        lineage_graph(kind="decision", pk=pk, direction="upstream")
    statements["lineage"] = len(queries)
    slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:2]
    return {
        "times": times,
        "found": found,
        "traced": traced,
        "nodes": nodes,
        "round_trip": statistics.median(round_trips),
        "statements": statements,
        "slowest": [(float(q["time"]), q["sql"][:90]) for q in slowest],
    }


def fairness_baseline(url: str, setup: dict, window: tuple[datetime, datetime] | None):
    """The audited rows in memory (read before the clock), then fairlearn on them, as bench/fairness.py."""
    from fairness import fairlearn_alone

    where = "model_version_id = %s AND outcome IS NOT NULL AND erased_at IS NULL"
    params: list = [setup["model_version"]]
    if window:
        where += " AND occurred_at >= %s AND occurred_at < %s"
        params += list(window)
    frame = read_csv(
        url,
        "SELECT sensitive->>'sex' AS sex, sensitive->>'age_band' AS age_band, "
        f"(outcome = '\"{POSITIVE}\"'::jsonb)::int AS y_true, (prediction = '\"{POSITIVE}\"'::jsonb)::int AS y_pred "
        f"FROM {TABLE} WHERE {where}",
        params,
    )
    sensitive = frame[ATTRIBUTES].astype(object)
    y_true, y_pred = frame["y_true"].to_numpy(np.int64), frame["y_pred"].to_numpy(np.int64)
    del frame
    framed, compared, figures = fairlearn_alone(y_true, y_pred, sensitive)
    return framed + compared, figures, sensitive


def audit_over_http(session: requests.Session, base: str, setup: dict, window) -> tuple[float, dict]:
    body = {"model_version": setup["model_version"], "sensitive_features": ATTRIBUTES, "positive_label": POSITIVE}
    if window:
        body.update(window_start=window[0].isoformat(), window_end=window[1].isoformat())
    started = time.perf_counter()
    response = session.post(f"{base}/api/v1/fairness-audits/", json=body, timeout=REQUEST_TIMEOUT)
    elapsed = time.perf_counter() - started
    if response.status_code != 201:
        raise RuntimeError(f"audit: HTTP {response.status_code}: {response.text[:500]}")
    return elapsed, response.json()


def drift_over_http(session: requests.Session, base: str, setup: dict, window) -> tuple[float, dict]:
    body = {
        "model_version": setup["model_version"],
        "window_start": window[0].isoformat(),
        "window_end": window[1].isoformat(),
    }
    started = time.perf_counter()
    response = session.post(f"{base}/api/v1/drift-reports/", json=body, timeout=REQUEST_TIMEOUT)
    elapsed = time.perf_counter() - started
    if response.status_code != 201:
        raise RuntimeError(f"drift report: HTTP {response.status_code}: {response.text[:500]}")
    return elapsed, response.json()


EVIDENTLY = r"""
import json, sys, time
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset

cfg = json.loads(sys.argv[1])
reference = pd.read_csv(cfg["reference"], keep_default_na=False)
current = pd.read_csv(cfg["current"], keep_default_na=False)
definition = DataDefinition(numerical_columns=cfg["numeric"], categorical_columns=cfg["categorical"])
out = {"rows": [len(reference), len(current)]}
for name, options in (("default", {}), ("ks_js", {"num_method": "ks", "cat_method": "jensenshannon"})):
    times = []
    for _ in range(cfg["repeats"]):
        started = time.perf_counter()
        ref = Dataset.from_pandas(reference, data_definition=definition)
        cur = Dataset.from_pandas(current, data_definition=definition)
        snapshot = Report([DataDriftPreset(**options)]).run(current_data=cur, reference_data=ref)
        result = snapshot.dict()
        times.append(time.perf_counter() - started)
    values = {}
    for metric in result["metrics"]:
        config = metric.get("config", {})
        column = config.get("column")
        if column is not None and config.get("type", "").endswith("ValueDrift"):
            values[column] = {"method": config.get("method"), "value": metric["value"]}
    out[name] = {"times": times, "columns": values}
print(json.dumps(out))
"""


def peer_venv(path: Path) -> Path:
    """Evidently's venv, made (or remade) unless it already holds evidently==EVIDENTLY_VERSION."""
    python = path / "bin" / "python"
    probe = "from importlib.metadata import version; print(version('evidently'), version('pandas'))"
    if python.exists():
        done = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=120, check=False)
        if done.returncode == 0 and done.stdout.split() == [EVIDENTLY_VERSION, PEER_PANDAS]:
            return path
        shutil.rmtree(path)
    print(f"making {path} (pip install evidently=={EVIDENTLY_VERSION} pandas=={PEER_PANDAS}) ...", flush=True)
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(path)], env=env, check=True, timeout=300)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", f"evidently=={EVIDENTLY_VERSION}", f"pandas=={PEER_PANDAS}"],
        env=env,
        check=True,
        timeout=1800,
    )
    return path


def evidently(venv: Path, url: str, setup: dict, train: pd.DataFrame, window, repeats: int, tmp: Path) -> dict:
    current = read_csv(
        url,
        "SELECT "
        + ", ".join(
            f"(features->>'{name}')::float8 AS {name}" if name in NUMERIC else f"features->>'{name}' AS {name}"
            for name in NUMERIC + CATEGORICAL
        )
        + f" FROM {TABLE} WHERE model_version_id = %s AND occurred_at >= %s AND occurred_at < %s AND erased_at IS NULL",
        [setup["model_version"], *window],
    )
    train.to_csv(tmp / "reference.csv", index=False)
    current.to_csv(tmp / "current.csv", index=False)
    cfg = {
        "reference": str(tmp / "reference.csv"),
        "current": str(tmp / "current.csv"),
        "numeric": list(NUMERIC),
        "categorical": list(CATEGORICAL),
        "repeats": repeats,
    }
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", EVIDENTLY, json.dumps(cfg)],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"evidently failed:\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["current"] = current
    return result


def rest_against_copy(base: str, setup: dict, hmac_key: str, rows: int, batch: int, clients: int, url: str) -> dict:
    """REST ingest into the partitioned log, then one COPY of as many other rows into the same table."""
    import ingest

    items = ingest.make_items(rows, setup["model_version"], setup["deployment"], 1)
    batches = [items[start : start + batch] for start in range(0, len(items), batch)]
    bodies = [json.dumps({"decisions": b}).encode() for b in batches]
    before = count_rows(url)
    checkpoint(url)
    rest_seconds, latencies = ingest.post_all(base, setup["ingest"], bodies, clients, [len(b) for b in batches])
    if count_rows(url) != before + rows:
        raise SystemExit(f"REST: expected {before + rows} rows, found {count_rows(url)}")
    others = ingest.make_items(rows, setup["model_version"], setup["deployment"], 2)  # other request ids
    copy_rows = ingest.copy_rows(others, {"project": setup["project"], "key_pk": setup["ingest_key"]}, hmac_key)
    from governance.columns import COPY_COLUMNS

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(TABLE), sql.SQL(", ").join(map(sql.Identifier, COPY_COLUMNS))
    )
    checkpoint(url)
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cursor, cursor.copy(statement) as copy:
            for row in copy_rows:
                copy.write_row(row)
        copy_seconds = time.perf_counter() - started
    if count_rows(url) != before + 2 * rows:
        raise SystemExit(f"COPY: expected {before + 2 * rows} rows, found {count_rows(url)}")
    return {"rest": rest_seconds, "copy": copy_seconds, "latencies": latencies, "before": before}


def retention(setup: dict) -> dict:
    """The policy's maximum set so that exactly the oldest month has expired; then retention_apply, timed."""
    from governance.services import policies
    from governance.services.retention import expired, month_seal, retention_apply
    from registry import partitions
    from registry.actors import Actor

    now = datetime.now(UTC)
    oldest = month_start(0).date()
    second = month_start(1).date()
    fitting = [
        m for m in range(6, 400) if expired(oldest, maximum=m, now=now) and not expired(second, maximum=m, now=now)
    ]
    if not fitting:
        raise SystemExit(f"no maximum of six months or more makes exactly {oldest:%Y-%m} expire at {now:%Y-%m-%d}")
    maximum = fitting[0]
    system = Actor.system()
    policy = policies.policy_for_project(actor=system, project_id=setup["project"])
    policies.policy_update(actor=system, policy=policy, changes={"retention_max_months": maximum})
    started = time.perf_counter()
    month_seal(setup["project"], oldest)  # what the seal reads and hashes, alone (read-only)
    seal_alone = time.perf_counter() - started
    months_before = len(partitions.partitions(TABLE, project_id=setup["project"]))
    started = time.perf_counter()
    done = retention_apply(actor=system, now=now, project_ids=[setup["project"]])
    took = time.perf_counter() - started
    return {
        "maximum": maximum,
        "seconds": took,
        "seal_alone": seal_alone,
        "done": [outcome.as_dict() for outcome in done],
        "months": (months_before, len(partitions.partitions(TABLE, project_id=setup["project"]))),
    }


def ms(values: list[float]) -> str:
    data = [v * 1000 for v in values]
    return f"p50 {percentile(data, 50):6.1f}  p99 {percentile(data, 99):6.1f}  max {max(data):6.1f} ms"


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def main() -> None:
    args = parse_args()
    bench_url = with_database(args.database_url, BENCH_DB)
    hmac_key = secrets.token_hex(32)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": bench_url,
            "DJANGO_SECRET_KEY": secrets.token_hex(32),
            "DJANGO_DEBUG": "false",
            "SUBJECT_HMAC_KEY": hmac_key,
            "SUBJECT_HMAC_KEY_ID": KEY_ID,
            "LOG_LEVEL": "WARNING",
        }
    )
    started = time.perf_counter()
    venv = peer_venv(args.peer_venv)
    recreate_database(args.database_url, BENCH_DB)
    migrate(dict(os.environ))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    stamp = {"migrated": time.perf_counter()}
    per_month = args.decisions // MONTHS
    total = per_month * MONTHS
    keys = subject_table(bench_url, args.subjects)
    train = training_frame(args.train_rows, np.random.default_rng(args.seed))
    setup = build_lineage(bench_url, args.subjects, train)
    stamp["lineage"] = time.perf_counter()
    copied, inserted = load_decisions(bench_url, setup, keys, per_month, args.workers)
    del keys
    stamp["loaded"] = time.perf_counter()
    if count_rows(bench_url) != total:
        raise SystemExit(f"load: expected {total} decisions, found {count_rows(bench_url)}")
    vacuum_analyze(
        bench_url,
        (TABLE, "registry_subjectindex", "registry_dataversion", "registry_auditevent", "governance_drifthour"),
    )
    stamp["analyzed"] = time.perf_counter()
    print(
        f"scale: {total:,} decisions over {MONTHS} monthly partitions ({per_month:,} a month), {args.subjects:,} "
        f"subjects, {setup['data_versions']} data versions ({setup['index_rows']:,} subject index rows), "
        f"{os.cpu_count()} CPUs"
    )
    print(
        f"setup  database + migrate + evidently venv {stamp['migrated'] - started:.0f} s, lineage + subject "
        f"indexes {stamp['lineage'] - stamp['migrated']:.0f} s, load {stamp['loaded'] - stamp['lineage']:.0f} s "
        f"(oldest month through copy_load {copied:.0f} s = {per_month / copied:,.0f} rows/s; the other "
        f"{MONTHS - 1} set-based {inserted:.0f} s = {(total - per_month) / inserted:,.0f} rows/s), ANALYZE "
        f"{stamp['analyzed'] - stamp['loaded']:.0f} s"
    )
    with psycopg.connect(bench_url) as conn:
        (index_size,) = conn.execute("SELECT pg_total_relation_size('registry_subjectindex')").fetchone()
    print(f"tables  {table_size(bench_url, TABLE)}; registry_subjectindex {index_size / 2**20:,.0f} MB", flush=True)

    # erasure trace and lineage
    found = erasure_and_lineage(setup, args.subjects, args.samples, args.lineage_samples, args.seed)
    times = found["times"]
    trace_p50 = percentile([t * 1000 for t in times["subject_trace"]], 50)
    request_p50 = percentile([t * 1000 for t in times["erasure_request_trace"]], 50)
    lineage_p50 = percentile([t * 1000 for t in times["lineage"]], 50)
    decisions = [c for c, _, _ in found["traced"]]
    print(
        f"erasure trace, {args.samples} subjects ({min(decisions)}-{max(decisions)} decisions each, median "
        f"{statistics.median(decisions):.0f}; {statistics.median(d for _, d, _ in found['traced']):.0f} data versions, "
        f"{statistics.median(m for _, _, m in found['traced']):.0f} model versions traced)"
    )
    print(
        f"  round trip SELECT 1 {found['round_trip'] * 1000:.2f} ms (median of 200); statements: subject_trace "
        f"{found['statements']['subject_trace']}, lineage_graph {found['statements']['lineage']}"
    )
    print(f"  baseline: the subject's decision ids by index  {ms(times['lookup'])}")
    print(
        f"  subject_trace                                 {ms(times['subject_trace'])}   target p50 < "
        f"{TRACE_GOAL_MS} ms: {verdict(trace_p50 < TRACE_GOAL_MS)}"
    )
    print(
        f"  erasure_request_trace (stored, audited)       {ms(times['erasure_request_trace'])}   target p50 < "
        f"{TRACE_GOAL_MS} ms: {verdict(request_p50 < TRACE_GOAL_MS)}"
    )
    print(
        f"lineage upstream of one decision, {args.lineage_samples} decisions "
        f"({statistics.median(n for n, _ in found['nodes']):.0f} nodes, "
        f"{statistics.median(e for _, e in found['nodes']):.0f} edges)"
    )
    print(f"  baseline: the decision's row by primary key   {ms(times['decision_by_pk'])}")
    print(
        f"  lineage_graph(direction=upstream)             {ms(times['lineage'])}   target p50 < "
        f"{LINEAGE_GOAL_MS} ms: {verdict(lineage_p50 < LINEAGE_GOAL_MS)}"
    )
    print(f"  lineage_upstream_edges (the walk, no nodes)   {ms(times['edges'])}")
    print(
        "  slowest statements of one lineage_graph: "
        + "; ".join(f"{seconds * 1000:.0f} ms {text}..." for seconds, text in found["slowest"]),
        flush=True,
    )

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    wrong = []
    month = (month_start(1), month_start(2))
    drift_window = (month_start(0), month_start(1))
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        log = Path(tmp) / "gunicorn.log"
        server = None
        try:
            server = start_gunicorn(dict(os.environ), args.workers, port, log, timeout=REQUEST_TIMEOUT)
            wait_until_answering(base, "/api/v1/fairness-audits/", server, log)
            officer, analyst = requests.Session(), requests.Session()
            officer.headers["Authorization"] = f"Bearer {setup['officer']}"
            analyst.headers["Authorization"] = f"Bearer {setup['analyst']}"
            for _ in range(args.workers * 4):
                for session, path in ((officer, "fairness-audits"), (analyst, "drift-reports")):
                    response = session.get(f"{base}/api/v1/{path}/", timeout=60)
                    if response.status_code != 200:
                        raise RuntimeError(f"warm-up: HTTP {response.status_code}: {response.text[:300]}")

            # fairness: one month, then all months
            from fairness import compare

            for label, window, repeats in (("one month", month, args.repeats), ("all months", None, 1)):
                audit_over_http(officer, base, setup, window)  # warm-up (and the plan cached), not timed
                timed = [audit_over_http(officer, base, setup, window) for _ in range(repeats)]
                service = statistics.median(t for t, _ in timed)
                baseline, figures, sensitive = fairness_baseline(bench_url, setup, window)
                largest, compared, wrong_counts = compare(timed[-1][1], figures, sensitive, ATTRIBUTES)
                if largest >= TOLERANCE or wrong_counts:
                    wrong.append(f"fairness {label}")
                ratio = baseline / service
                print(f"fairness audit sex x age_band, {label}: {len(sensitive):,} decisions with outcomes")
                print(
                    f"  service   POST fairness-audits/ -> 201, stored   median {service:7.2f} s "
                    f"(runs {runs([t for t, _ in timed])})"
                )
                print(f"  fairlearn MetricFrame + 3 disparities on the rows in memory   {baseline:7.2f} s")
                print(
                    f"  ratio fairlearn/service {ratio:.1f}   target >= {FAIRNESS_GOAL}: "
                    f"{verdict(ratio >= FAIRNESS_GOAL)}; {compared} figures, max abs difference {largest:.1e}, "
                    f"group counts {'equal' if not wrong_counts else 'DIFFERENT'}",
                    flush=True,
                )
                del sensitive, figures

            # drift over the oldest month, against Evidently on the same window and reference
            drift_over_http(analyst, base, setup, drift_window)  # warm-up
            timed = [drift_over_http(analyst, base, setup, drift_window) for _ in range(args.repeats)]
            service = statistics.median(t for t, _ in timed)
            report = timed[-1][1]
            peer = evidently(venv, bench_url, setup, train, drift_window, max(1, args.repeats // 2), Path(tmp))
            print(
                f"drift report over {drift_window[0]:%Y-%m} ({report['row_count']:,} decisions, {len(NUMERIC)} numeric "
                f"and {len(CATEGORICAL)} categorical features) against the profile of {args.train_rows:,} training "
                f"rows; drifted: {', '.join(report['drifted_features']) or 'none'}"
            )
            print(
                f"  service   POST drift-reports/ -> 201, stored   median {service:7.2f} s "
                f"(runs {runs([t for t, _ in timed])})"
            )
            for name in ("default", "ks_js"):
                print(
                    f"  Evidently {EVIDENTLY_VERSION} DataDriftPreset ({name}) on the same rows in memory  "
                    f"median {statistics.median(peer[name]['times']):7.2f} s (runs {runs(peer[name]['times'])}); "
                    f"ratio Evidently/service {statistics.median(peer[name]['times']) / service:.1f}"
                )
            print(
                "  per feature: service (profile sample against the window's sample) | Evidently | scipy on "
                "Evidently's values"
            )
            from scipy.spatial.distance import jensenshannon
            from scipy.stats import ks_2samp

            current = peer.pop("current")
            for name in NUMERIC:
                ours = report["features"][name]
                theirs = peer["ks_js"]["columns"].get(name, {})
                scipy_ks = ks_2samp(train[name].to_numpy(float), current[name].to_numpy(float))
                print(
                    f"    {name:12} KS {ours['ks_statistic']:.4f} p {ours['ks_pvalue']:.1e} (sample "
                    f"{ours.get('ks_window_sample', 'all')}) | Evidently KS p-value "
                    f"{theirs.get('value', float('nan')):.1e}"
                    f" | scipy KS {scipy_ks.statistic:.4f} p {scipy_ks.pvalue:.1e}; "
                    f"Evidently default {peer['default']['columns'].get(name, {}).get('method')} "
                    f"{peer['default']['columns'].get(name, {}).get('value', float('nan')):.4f}; service PSI "
                    f"{ours['psi']:.4f}"
                )
                evidently_p = theirs.get("value")
                if evidently_p is not None and abs(evidently_p - scipy_ks.pvalue) > 1e-9 * max(1.0, scipy_ks.pvalue):
                    wrong.append(f"Evidently's KS p-value of {name} is not scipy's on its values")
            for name in CATEGORICAL:
                ours = report["features"][name]
                theirs = peer["ks_js"]["columns"].get(name, {})
                categories = sorted(set(train[name]) | set(current[name]))
                reference = train[name].value_counts().reindex(categories, fill_value=0).to_numpy(float)
                window = current[name].value_counts().reindex(categories, fill_value=0).to_numpy(float)
                js = float(jensenshannon(reference / reference.sum(), window / window.sum()))
                print(
                    f"    {name:12} JS distance {ours['js_distance']:.6f} (every decision, base 2; x sqrt(ln 2) = "
                    f"{ours['js_distance'] * math.sqrt(math.log(2)):.6f}) | Evidently "
                    f"{theirs.get('value', float('nan')):.6f} | scipy {js:.6f} on the same counts; service PSI "
                    f"{ours['psi']:.4f}"
                )
            del current

            # REST ingest into the partitioned log against COPY into the same table
            done = rest_against_copy(
                base, setup, hmac_key, args.ingest_rows, args.ingest_batch, args.clients, bench_url
            )
        except BaseException:
            if log.exists():
                sys.stderr.write(log.read_text(errors="replace")[-4000:])
            raise
        finally:
            stop(server)
    rest_rate, copy_rate = args.ingest_rows / done["rest"], args.ingest_rows / done["copy"]
    print(
        f"ingest: {args.ingest_rows:,} decisions into 2026-03 of the log of {done['before']:,}, batches of "
        f"{args.ingest_batch:,}, gunicorn -w {args.workers}, {args.clients} clients"
    )
    print(
        f"  REST  POST decisions/bulk/   {done['rest']:7.2f} s  {rest_rate:9,.0f} rows/s   batch p50 "
        f"{percentile(done['latencies'], 50) * 1000:.0f} ms  p95 {percentile(done['latencies'], 95) * 1000:.0f} ms"
    )
    print(f"  COPY  same table, one transaction   {done['copy']:7.2f} s  {copy_rate:9,.0f} rows/s")
    print(
        f"  ratio REST/COPY {rest_rate / copy_rate:.2f}   target >= {INGEST_GOAL}: "
        f"{verdict(rest_rate / copy_rate >= INGEST_GOAL)}",
        flush=True,
    )

    size_before = table_size(bench_url, TABLE)
    dropped = retention(setup)
    size_after = table_size(bench_url, TABLE)
    sealed = [d for d in dropped["done"] if d["action"] == "sealed"]
    if [d["month"] for d in dropped["done"]] != [f"{month_start(0):%Y-%m}"] or len(sealed) != 1:
        wrong.append(f"retention did {dropped['done']}")
    print(
        f"retention: maximum {dropped['maximum']} months, retention_apply sealed and dropped "
        f"{', '.join(d['month'] + ' (' + format(d['decisions'], ',') + ' decisions)' for d in sealed) or 'nothing'}; "
        f"month partitions {dropped['months'][0]} -> {dropped['months'][1]}"
    )
    print(
        f"  retention_apply {dropped['seconds']:.2f} s (of which the seal's reading and hashing alone, measured "
        f"before: {dropped['seal_alone']:.2f} s)   target < {DROP_GOAL_S:g} s: "
        f"{verdict(dropped['seconds'] < DROP_GOAL_S)}"
    )
    print(f"  before {size_before}")
    print(f"  after  {size_after}")
    print(f"total {time.perf_counter() - started:.0f} s")
    if wrong:
        raise SystemExit("wrong figures: " + "; ".join(wrong))


if __name__ == "__main__":
    main()
