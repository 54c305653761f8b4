"""Drift report over 1,000,000 decisions with 10 features, through the service against the same computation in numpy.

    .venv/bin/python bench/drift.py [--rows 1000000] [--train-rows 100000] [--repeats 5] [--baseline-repeats 5]

1. Drops and recreates the database `governance_bench_drift` on the server of --database-url and migrates it (a
   `manage.py` subprocess); then this process runs `django.setup()` with the service's settings from the
   environment, as bench/erasure.py does.
2. Setup (not timed, durations printed), through the registry services: a project, a dataset and its training data
   version whose profile is `registry.profiles.dataframe_profile` of a --train-rows DataFrame (6 numeric and 4
   categorical features, seeded), a run trained on it, a model version and deployment, an `ingest` and a
   `risk_analyst` API key. Then --rows decisions with the same 10 features, drawn from the same distributions except
   for three shifts (income x 1.25, credit_score - 30, other purpose shares) and a new channel ("app"), written with
   COPY from forked processes, batch by batch, as `decisions_ingest` writes them (salt, commitment, batch id, one
   `decisions.ingested` audit event per batch holding the batch hash); VACUUM ANALYZE.
3. Service: POST /api/v1/drift-reports/ over the whole window to gunicorn (--workers) on a free loopback port; the
   clock runs from the request to the report read through its 202's job (computed, stored, recorded).
   One untimed report first, then the median of --repeats. In process, not timed against the goal: the medians of
   3 runs of `window_summary` and `compare_feature`, and one run of the Python path (`window_features`: every
   decision's features read into Python, as on SQLite and as PostgreSQL did before `window_summary`).
4. Baseline: the same computation on the same values already in memory (numpy arrays for the numeric features,
   object arrays of strings for the categorical ones): per numeric feature the profile's bins
   (`registry.profiles.bin_counts`), PSI, Jensen-Shannon, `scipy.stats.ks_2samp` against the profile's sample and the
   mean; per categorical feature `value_counts`, PSI and Jensen-Shannon; the median of --baseline-repeats.
5. Every figure of the stored report against the baseline's: bins, categories and counts must be equal, PSI and JS
   within 1e-12. KS (statistic and p-value) and the mean within 1e-12 (the mean relative) of the same computation on
   the values KS compared: on PostgreSQL, for a window of more than 5,000 decisions, those of the 5,000 decisions
   with the smallest hashint8(id) (governance/queries/drift.py), whose request ids the bench reads to take their
   values from memory; the KS statistics of that sample and of the whole window are printed side by side.

Prints the setup times, the service's median against the goal (under 2 s), the in-memory median and the ratio
service/in-memory, and the differences. A figure that differs fails the bench; a missed time goal does not.
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import requests
from common import (  # noqa: E402 (bench/ is the script's folder)
    copy_load,
    decision_row,
    followed_job,
    free_port,
    migrate,
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
BENCH_DB = "governance_bench_drift"
TABLE = "governance_decision"
KEY_ID = "k1"
REQUEST_TIMEOUT = 300  # seconds, per report; gunicorn restarts a worker stuck longer
GOAL_SECONDS = 2.0
TOLERANCE = 1e-12
WINDOW_START = datetime(2026, 3, 1, tzinfo=UTC)
WINDOW_END = datetime(2026, 4, 1, tzinfo=UTC)
# The reports timed: the month, whose bounds are whole hours, and the month less 20 minutes at each end (bounds
# within hours, whose decisions the service reads from the log)
WINDOWS = {
    "month": (WINDOW_START, WINDOW_END),
    "unaligned": (
        WINDOW_START + timedelta(minutes=20, microseconds=500_000),
        WINDOW_END - timedelta(minutes=19, seconds=59, microseconds=750_000),
    ),
}

NUMERIC = ("age", "income", "loan_amount", "term_months", "credit_score", "debt_ratio")
CATEGORICAL = ("purpose", "employment", "region", "channel")
PURPOSES = ("car", "home", "education", "business", "holiday", "debt")
PURPOSE_SHARES = (0.25, 0.2, 0.1, 0.15, 0.1, 0.2)
PURPOSE_SHARES_SHIFTED = (0.15, 0.3, 0.1, 0.1, 0.1, 0.25)
EMPLOYMENT = ("employed", "self_employed", "unemployed", "retired", "student")
EMPLOYMENT_SHARES = (0.6, 0.12, 0.08, 0.12, 0.08)
REGIONS = ("north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west")
CHANNELS = ("web", "branch", "phone")
CHANNEL_SHARES = (0.5, 0.3, 0.2)
CHANNELS_SHIFTED = ("web", "branch", "phone", "app")  # "app" is not in the training data
CHANNEL_SHARES_SHIFTED = (0.45, 0.27, 0.18, 0.1)

# What the forked loaders read; set in the parent before they start (copy-on-write).
_LOAD: dict = {}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="decisions in the window")
    parser.add_argument("--train-rows", type=int, default=100_000, help="rows of the profiled training data")
    parser.add_argument("--repeats", type=int, default=5, help="timed reports through the service")
    parser.add_argument("--baseline-repeats", type=int, default=5, help="timed runs of the in-memory computation")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--load-batch", type=int, default=10_000, help="decisions per COPY batch of the setup")
    parser.add_argument("--loaders", type=int, default=2, help="processes loading the decisions")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres",
        help="any database on the server; the bench creates and uses its own database on it",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.rows < 1000 or args.train_rows < 1000:
        parser.error("--rows and --train-rows must be >= 1000")
    if args.repeats < 1 or args.baseline_repeats < 1 or args.workers < 1 or args.loaders < 1:
        parser.error("--repeats, --baseline-repeats, --workers and --loaders must be >= 1")
    if not 1 <= args.load_batch <= 10_000:
        parser.error("--load-batch must be between 1 and 10000")
    return args


def generate(rows: int, rng: np.random.Generator, *, shifted: bool) -> dict[str, np.ndarray]:
    """The 10 features as columns: ints and floats (rounded as a client would log them), strings."""
    channels, channel_shares = (CHANNELS_SHIFTED, CHANNEL_SHARES_SHIFTED) if shifted else (CHANNELS, CHANNEL_SHARES)
    income = rng.lognormal(10.5, 0.6, rows) * (1.25 if shifted else 1.0)
    credit = rng.normal(680, 60, rows) - (30 if shifted else 0)
    return {
        "age": rng.integers(18, 90, rows),
        "income": np.round(income, 2),
        "loan_amount": np.round(rng.uniform(500, 50_000, rows), 2),
        "term_months": rng.choice((12, 24, 36, 48, 60), rows),
        "credit_score": np.clip(np.round(credit), 300, 850).astype(np.int64),
        "debt_ratio": np.round(rng.beta(2, 5, rows), 4),
        "purpose": np.asarray(PURPOSES, dtype=object)[
            rng.choice(len(PURPOSES), rows, p=PURPOSE_SHARES_SHIFTED if shifted else PURPOSE_SHARES)
        ],
        "employment": np.asarray(EMPLOYMENT, dtype=object)[rng.choice(len(EMPLOYMENT), rows, p=EMPLOYMENT_SHARES)],
        "region": np.asarray(REGIONS, dtype=object)[rng.integers(0, len(REGIONS), rows)],
        "channel": np.asarray(channels, dtype=object)[rng.choice(len(channels), rows, p=channel_shares)],
    }


def setup_registry(train: pd.DataFrame) -> dict:
    from registry import services
    from registry.actors import Actor
    from registry.models import Role
    from registry.profiles import dataframe_profile

    system = Actor.system()
    project = services.project_create(actor=system, slug="bench-drift", name="Drift benchmark")
    dataset = services.dataset_create(actor=system, project=project, name="applications", contains_personal_data=False)
    data_version = services.data_version_register(
        actor=system,
        dataset=dataset,
        version="2026-02-train",
        content_sha256="1" * 64,
        row_count=len(train),
        schema={name: str(dtype) for name, dtype in train.dtypes.items()},
        profile=dataframe_profile(train),
        storage_uri="s3://bench/applications/2026-02-train.parquet",
    )
    run = services.run_register(
        actor=system,
        project=project,
        name="gbm 2026-02",
        metrics={"auc": 0.8},
        inputs=[{"data_version": data_version, "role": "train"}],
    )
    model = services.model_create(actor=system, project=project, name="credit")
    version = services.model_version_register(
        actor=system, model=model, run=run, artifact_uri="file:///bench/model.pkl", artifact_sha256="0" * 64
    )
    deployment = services.deployment_create(
        actor=system, model_version=version, environment="staging"
    )  # pre-production: no gate
    ingest_key, _ = services.api_key_create(actor=system, project=project, role=Role.INGEST, name="bench ingest")
    _, analyst = services.api_key_create(actor=system, project=project, role=Role.RISK_ANALYST, name="bench analyst")
    return {
        "project": project.pk,
        "model_version": version.pk,
        "deployment": deployment.pk,
        "ingest_key": ingest_key.pk,
        "analyst": analyst,
        "profile": data_version.profile,
    }


def _rows(start: int, stop: int, batch: uuid.UUID) -> tuple[list[tuple], list[tuple]]:
    """The rows decisions_ingest would write for decisions start..stop, and (model version, commitment, project)
    of each, as its audit event needs them."""
    from governance.integrity import jsonb_normalise
    from registry.subjects import current_key_id, subject_key

    columns, setup = _LOAD["columns"], _LOAD["setup"]
    part = {name: values[start:stop].tolist() for name, values in columns.items()}
    names = list(columns)
    mv, deployment, project, key_pk = (
        setup["model_version"],
        setup["deployment"],
        setup["project"],
        setup["ingest_key"],
    )
    first, spacing, now, key_id = _LOAD["first"], _LOAD["spacing"], _LOAD["now"], current_key_id()
    rng = np.random.default_rng(start)
    scores = np.round(rng.random(stop - start), 6).tolist()
    rows, inserted = [], []
    for offset in range(stop - start):
        i = start + offset
        request_id = f"req-{i:08d}"
        key = subject_key(f"customer-{i * 7919 % 400_000:06d}")
        features = jsonb_normalise({name: part[name][offset] for name in names})
        sensitive = {"sex": "F" if i % 2 else "M"}
        score = scores[offset]
        prediction = "approve" if score >= 0.5 else "decline"
        occurred_at = first + spacing * i
        row, digest = decision_row(
            project=project,
            model_version=mv,
            deployment=deployment,
            request_id=request_id,
            subject_key=key,
            key_id=key_id,
            features=features,
            sensitive=sensitive,
            prediction=prediction,
            score=score,
            occurred_at=occurred_at,
            created_at=now,
            key_pk=key_pk,
            batch=batch,
        )
        rows.append(row)
        inserted.append((mv, digest, project, row[-3]))  # row[-3]: the skeleton commitment
    return rows, inserted


def load(columns: dict[str, np.ndarray], setup: dict, total: int, batch: int, loaders: int) -> None:
    _LOAD.update(
        columns=columns,
        setup=setup,
        total=total,
        batch=batch,
        first=WINDOW_START,
        spacing=(WINDOW_END - WINDOW_START) / total,
        now=datetime.now(UTC),
    )
    try:
        copy_load(
            build_rows=_rows,
            total=total,
            batch=batch,
            loaders=loaders,
            ingest_key=setup["ingest_key"],
            extra_columns=(),
        )
    finally:
        _LOAD.clear()


def count_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(TABLE))).fetchone()[0]


def report_over_http(
    session: requests.Session, base: str, model_version: int, window: tuple[datetime, datetime]
) -> tuple[float, dict]:
    started = time.perf_counter()
    response = session.post(
        f"{base}/api/v1/drift-reports/",
        json={
            "model_version": model_version,
            "window_start": window[0].isoformat(),
            "window_end": window[1].isoformat(),
        },
        timeout=REQUEST_TIMEOUT,
    )
    try:  # 202 with the job (run in process: no broker), then the record it made; the clock runs to the record
        record = followed_job(session, base, response)
    except RuntimeError as exc:
        raise RuntimeError(f"drift report: {exc}") from None
    return time.perf_counter() - started, record


def in_memory(profile: dict, numeric: dict[str, np.ndarray], categorical: dict[str, np.ndarray]) -> dict:
    """The report's figures computed on the values in memory: the baseline."""
    from scipy.stats import ks_2samp

    from governance.statistics.drift import js_distance, psi
    from registry.profiles import OTHER, bin_counts

    out = {}
    for name, values in numeric.items():
        reference = profile["columns"][name]
        counts = bin_counts(values, reference["bin_edges"])
        ks = ks_2samp(np.asarray(reference["sample"], dtype=float), values)
        out[name] = {
            "window_count": int(values.size),
            "window_bins": counts.tolist(),
            "psi": psi(reference["bin_counts"], counts),
            "js_distance": js_distance(reference["bin_counts"], counts),
            "ks_statistic": float(ks.statistic),
            "ks_pvalue": float(ks.pvalue),
            "window_mean": float(values.mean()),
        }
    for name, values in categorical.items():
        known = profile["columns"][name]["frequencies"]
        window: dict[str, int] = {}
        for value, count in pd.Series(values).value_counts().items():
            key = value if value in known else (OTHER if OTHER in known else value)
            window[key] = window.get(key, 0) + int(count)
        categories = sorted(set(known) | set(window))
        reference = [known.get(c, 0) for c in categories]
        frequencies = [window.get(c, 0) for c in categories]
        out[name] = {
            "window_count": int(values.size),
            "categories": categories,
            "window_frequencies": frequencies,
            "psi": psi(reference, frequencies),
            "js_distance": js_distance(reference, frequencies),
        }
    return out


EXACT = ("window_count", "window_bins", "categories", "window_frequencies")  # over every decision, must be equal
WHOLE = ("psi", "js_distance")  # over every decision, within TOLERANCE
SAMPLED = ("ks_statistic", "ks_pvalue", "window_mean")  # over the values KS compares, within TOLERANCE


def in_window(total: int, window: tuple[datetime, datetime]) -> np.ndarray:
    """Which of the decisions (by index) occurred in the window: decision i at WINDOW_START + i * spacing."""
    microsecond = timedelta(microseconds=1)
    offsets = np.arange(total, dtype=np.int64) * (((WINDOW_END - WINDOW_START) / total) // microsecond)
    return (offsets >= (window[0] - WINDOW_START) // microsecond) & (
        offsets < (window[1] - WINDOW_START) // microsecond
    )


def ks_sample(
    url: str, model_version: int, profile: dict, numeric: dict[str, np.ndarray], size: int, window: tuple
) -> dict:
    """KS and the mean as the service computes them for a window of more than `size` decisions: on the values of
    the `size` decisions with the smallest hashint8(id) (their request ids read here, their values from memory)."""
    from scipy.stats import ks_2samp

    with psycopg.connect(url) as conn:
        request_ids = conn.execute(
            sql.SQL(
                "SELECT request_id FROM {} WHERE model_version_id = %s AND occurred_at >= %s AND occurred_at < %s "
                "AND erased_at IS NULL ORDER BY hashint8(id) LIMIT %s"
            ).format(sql.Identifier(TABLE)),
            [model_version, window[0], window[1], size],
        ).fetchall()
    index = np.array([int(request_id.removeprefix("req-")) for (request_id,) in request_ids])
    out = {}
    for name, values in numeric.items():
        sample = values[index]
        ks = ks_2samp(np.asarray(profile["columns"][name]["sample"], dtype=float), sample)
        out[name] = {"ks_statistic": float(ks.statistic), "ks_pvalue": float(ks.pvalue), "window_mean": sample.mean()}
    return out


def compare(body: dict, whole: dict, sampled: dict) -> tuple[dict[str, float], list[str], list[str]]:
    """Largest absolute difference of each figure over the features (KS and the mean against the same sample
    when the service sampled), the exact figures that differ, and the KS of the sample against the whole's."""
    largest = dict.fromkeys(WHOLE + SAMPLED, 0.0)  # window_mean relative
    different, against_whole = [], []
    if set(body["features"]) != set(whole):
        different.append(f"features {sorted(body['features'])}")
    for name, want in whole.items():
        got = body["features"].get(name, {})
        on_sample = "ks_window_sample" in got
        for figure in WHOLE + SAMPLED:
            if figure in want:
                value = got.get(figure)
                expected = sampled[name][figure] if on_sample and figure in SAMPLED else want[figure]
                gap = math.inf if value is None else abs(value - expected)
                if figure == "window_mean":  # relative: summed in another order, a mean may differ in its last bit
                    gap /= max(abs(expected), 1.0)
                largest[figure] = max(largest[figure], gap)
        different += [f"{name}.{figure}" for figure in EXACT if figure in want and got.get(figure) != want[figure]]
        if on_sample:
            against_whole.append(
                f"{name} {got['ks_statistic']:.4f} / {want['ks_statistic']:.4f} (p {got['ks_pvalue']:.1e} / "
                f"{want['ks_pvalue']:.1e})"
            )
    return largest, different, against_whole


def in_process(model_version: int, repeats: int) -> tuple[float, float]:
    """Where the service's time goes: medians of summarising the window and of comparing it with the profile."""
    from governance.queries.drift import window_summary
    from governance.services.drift import reference_data_version
    from governance.statistics.drift import compare_feature
    from registry.models import ModelVersion

    version = ModelVersion.objects.get(pk=model_version)
    columns = reference_data_version(version).profile["columns"]
    reading, comparing = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        _, window = window_summary(version.pk, WINDOW_START, WINDOW_END, columns)
        read = time.perf_counter()
        for name in columns:
            compare_feature(columns[name], window[name], max_psi=0.2)
        reading.append(read - started)
        comparing.append(time.perf_counter() - read)
    return statistics.median(reading), statistics.median(comparing)


def python_path(model_version: int) -> float:
    """One run of the Python path (what SQLite runs, and PostgreSQL ran before window_summary): every decision's
    features read into Python, then summarised per feature."""
    from governance.queries.drift import window_features
    from governance.services.drift import reference_data_version
    from governance.statistics.drift import compare_feature, summarise
    from registry.models import ModelVersion

    version = ModelVersion.objects.get(pk=model_version)
    columns = reference_data_version(version).profile["columns"]
    started = time.perf_counter()
    _, values = window_features(version.pk, WINDOW_START, WINDOW_END, list(columns))
    for name in columns:
        compare_feature(columns[name], summarise(columns[name], values[name]), max_psi=0.2)
    return time.perf_counter() - started


def main() -> None:
    args = parse_args()
    bench_url = with_database(args.database_url, BENCH_DB)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": bench_url,
            "DJANGO_SECRET_KEY": secrets.token_hex(32),
            "DJANGO_DEBUG": "false",
            "SUBJECT_HMAC_KEY": secrets.token_hex(32),
            "SUBJECT_HMAC_KEY_ID": KEY_ID,
            "LOG_LEVEL": "WARNING",
            "CELERY_BROKER_URL": "",  # jobs in process: the 202 carries the finished job (README, "Background jobs")
        }
    )
    bench_started = time.perf_counter()
    recreate_database(args.database_url, BENCH_DB)
    migrate(dict(os.environ))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from governance.queries.drift import KS_SAMPLE_SIZE

    migrated = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    train = pd.DataFrame(generate(args.train_rows, rng, shifted=False))
    setup = setup_registry(train)
    del train
    columns = generate(args.rows, rng, shifted=True)
    numeric = {name: columns[name].astype(float) for name in NUMERIC}
    categorical = {name: columns[name] for name in CATEGORICAL}
    generated = time.perf_counter()
    load(columns, setup, args.rows, args.load_batch, args.loaders)
    loaded = time.perf_counter()
    if count_rows(bench_url) != args.rows:
        raise SystemExit(f"load: expected {args.rows} decisions, found {count_rows(bench_url)}")
    vacuum_analyze(bench_url, (TABLE, "registry_auditevent"))
    analyzed = time.perf_counter()
    batches = math.ceil(args.rows / args.load_batch)

    print(
        f"drift report: {args.rows:,} decisions with {len(NUMERIC)} numeric and {len(CATEGORICAL)} categorical "
        f"features against the profile of {args.train_rows:,} training rows, gunicorn -w {args.workers}, "
        f"{os.cpu_count()} CPUs"
    )
    print(
        f"setup  database + migrate {migrated - bench_started:.1f} s, registry + profile + rows generated "
        f"{generated - migrated:.1f} s, load {loaded - generated:.1f} s ({args.rows / (loaded - generated):,.0f} "
        f"rows/s: COPY with salts, commitments and {batches} batch audit events, {args.loaders} processes), "
        f"VACUUM ANALYZE {analyzed - loaded:.1f} s"
    )
    print(f"table  {table_size(bench_url, TABLE)}")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="bench-drift-") as tmp:
        log = Path(tmp) / "gunicorn.log"
        server = None
        try:
            server = start_gunicorn(dict(os.environ), args.workers, port, log, timeout=REQUEST_TIMEOUT)
            wait_until_answering(base, "/api/v1/drift-reports/", server, log)
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {setup['analyst']}"
            for _ in range(args.workers * 4):  # every worker loads the URLconf and connects
                response = session.get(f"{base}/api/v1/drift-reports/", timeout=30)
                if response.status_code != 200:
                    raise RuntimeError(f"warm-up: HTTP {response.status_code}: {response.text[:500]}")
            timed = {}
            for name, window in WINDOWS.items():
                report_over_http(session, base, setup["model_version"], window)  # warm-up, not timed
                timed[name] = [
                    report_over_http(session, base, setup["model_version"], window) for _ in range(args.repeats)
                ]
        except BaseException:
            if log.exists():
                sys.stderr.write(log.read_text(errors="replace")[-4000:])
            raise
        finally:
            stop(server)
    reading, comparing = in_process(setup["model_version"], 3)
    python_seconds = python_path(setup["model_version"])
    baseline, expected = [], {}
    for _ in range(args.baseline_repeats):
        started = time.perf_counter()
        expected = in_memory(setup["profile"], numeric, categorical)
        baseline.append(time.perf_counter() - started)
    in_memory_median = statistics.median(baseline)
    print(
        f"in memory (numpy, pandas, scipy) on the month's values   median {in_memory_median:6.2f} s   "
        f"(runs {runs(baseline)})"
    )
    print(
        f"in process, the month: window_summary {reading * 1000:.0f} ms, compare_feature x "
        f"{len(NUMERIC) + len(CATEGORICAL)} {comparing * 1000:.0f} ms (medians of 3); the Python path "
        f"(window_features, summarise, compare_feature), one run: {python_seconds:.2f} s"
    )
    wrong = False
    for name, window in WINDOWS.items():
        service_times, body = [t for t, _ in timed[name]], timed[name][-1][1]
        if name != "month":
            mask = in_window(args.rows, window)
            expected = in_memory(
                setup["profile"],
                {n: values[mask] for n, values in numeric.items()},
                {n: values[mask] for n, values in categorical.items()},
            )
        samples = {f.get("ks_window_sample") for f in body["features"].values()} - {None}
        sampled = (
            ks_sample(bench_url, setup["model_version"], setup["profile"], numeric, KS_SAMPLE_SIZE, window)
            if samples
            else {}
        )
        largest, different, against_whole = compare(body, expected, sampled)
        wrong = wrong or bool(different) or any(gap >= TOLERANCE for gap in largest.values())
        service = statistics.median(service_times)
        print(
            f"{name} [{window[0]:%Y-%m-%d %H:%M:%S.%f}, {window[1]:%Y-%m-%d %H:%M:%S.%f}): report over "
            f"{body['row_count']:,} decisions; drifted: {', '.join(body['drifted_features']) or 'none'}"
        )
        print(
            f"  service   POST /api/v1/drift-reports/ -> 202, stored   median {service:6.2f} s   "
            f"(runs {runs(service_times)})   goal < {GOAL_SECONDS:g} s: {'met' if service < GOAL_SECONDS else 'MISSED'}"
        )
        print(f"  ratio service/in-memory (the month's) {service / in_memory_median:.1f}")
        print(
            f"  figures over every decision: bins, categories and counts "
            f"{'equal' if not different else 'DIFFERENT: ' + ', '.join(different)}; max abs difference "
            + ", ".join(f"{figure} {largest[figure]:.1e}" for figure in WHOLE)
        )
        if sampled:
            print(
                f"  KS and mean on the service's sample of {KS_SAMPLE_SIZE:,} decisions "
                f"({min(samples):,}-{max(samples):,} values a feature), against ks_2samp and numpy on the same "
                "values: max abs difference " + ", ".join(f"{figure} {largest[figure]:.1e}" for figure in SAMPLED)
            )
            print(f"  KS statistic, sample / whole window in memory: {'; '.join(against_whole)}")
        else:
            print(
                "  KS and mean over every decision: max abs difference "
                + ", ".join(f"{figure} {largest[figure]:.1e}" for figure in SAMPLED)
            )
    print(f"total {time.perf_counter() - bench_started:.0f} s")
    if wrong:  # a wrong figure fails the bench
        raise SystemExit("the service's figures differ from the in-memory computation's")


if __name__ == "__main__":
    main()
