"""Decision ingest over REST against a raw COPY of the same rows into the same table.

    .venv/bin/python bench/ingest.py [--rows 200000] [--batch 5000] [--workers 2] [--clients 2]

1. Drops and recreates the database `governance_bench` on the server of --database-url, migrates it and
   creates a project, model, run, model version, deployment and an `ingest` API key through the services.
2. REST: starts gunicorn (--workers) on a free loopback port and posts the rows in batches of --batch from
   --clients threads (one requests.Session each). Bodies are serialised before the clock starts; the clock
   runs from the first post to the last response.
3. COPY: truncates the decision table and COPYs the same rows (subject ids HMACed as the service does, JSON
   columns as JSON text) straight into it with psycopg, in one transaction; the clock covers the COPY and
   the commit.

Prints rows/s of both, their ratio (the goal is REST >= 0.5 of COPY) and the batch latency p50/p95.
The bench process itself never imports Django: setup runs in subprocesses with the service's settings.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import requests
from common import (  # noqa: E402 (bench/ is the script's folder)
    checkpoint,
    free_port,
    percentile,
    recreate_database,
    start_gunicorn,
    stop,
    venv_bin,
    wait_until_answering,
    with_database,
)
from psycopg import sql

from governance.columns import COPY_COLUMNS  # what the service COPYs (common puts the repository on sys.path)

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "governance_bench"
TABLE = "governance_decision"
KEY_ID = "k1"
REQUEST_TIMEOUT = 60  # seconds, per batch; gunicorn restarts a worker stuck longer

PURPOSES = ("car", "home", "education", "business", "holiday", "debt")
EMPLOYMENT = ("employed", "self_employed", "unemployed", "retired", "student")
AGE_BANDS = ("18-25", "26-35", "36-50", "51-65", "65+")

SETUP = """
import json

import numpy as np
import pandas as pd

from registry import services
from registry.actors import Actor
from registry.models import Role
from registry.profiles import dataframe_profile

actor = Actor.system()
project = services.project_create(actor=actor, slug="bench", name="Ingest benchmark")
# a profiled training data version, so that the ingest keeps the drift counts of its features, as it does for
# every model version trained on one (governance/services/drift_counts.py)
rng = np.random.default_rng(0)
train = pd.DataFrame({
    "age": rng.integers(18, 90, 20_000),
    "income": np.round(rng.lognormal(10.5, 0.6, 20_000), 2),
    "loan_amount": np.round(rng.uniform(500, 50_000, 20_000), 2),
    "term_months": rng.choice((12, 24, 36, 48, 60), 20_000),
    "purpose": rng.choice(@PURPOSES@, 20_000),
    "employment": rng.choice(@EMPLOYMENT@, 20_000),
})
dataset = services.dataset_create(actor=actor, project=project, name="applications", contains_personal_data=False)
data_version = services.data_version_register(
    actor=actor, dataset=dataset, version="train", content_sha256="1" * 64, row_count=len(train),
    schema={name: str(dtype) for name, dtype in train.dtypes.items()}, profile=dataframe_profile(train),
    storage_uri="s3://bench/train.parquet",
)
run = services.run_register(
    actor=actor, project=project, name="bench run", metrics={"auc": 0.8},
    inputs=[{"data_version": data_version, "role": "train"}],
)
model = services.model_create(actor=actor, project=project, name="credit")
version = services.model_version_register(
    actor=actor, model=model, run=run, artifact_uri="file:///bench/model.pkl", artifact_sha256="0" * 64
)
deployment = services.deployment_create(actor=actor, model_version=version, environment="staging")
key, raw = services.api_key_create(actor=Actor.system(), project=project, role=Role.INGEST, name="bench ingest")
print(json.dumps({"project": project.pk, "model_version": version.pk, "deployment": deployment.pk,
                  "key_pk": key.pk, "key": raw}))
""".replace("@PURPOSES@", repr(PURPOSES)).replace("@EMPLOYMENT@", repr(EMPLOYMENT))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--clients", type=int, default=2, help="concurrent posting threads")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres",
        help="any database on the server; the bench creates and uses its own database on it",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.rows < 1 or not 1 <= args.batch <= 10_000 or args.workers < 1 or args.clients < 1:
        parser.error("--rows, --workers, --clients must be >= 1 and --batch between 1 and 10000")
    return args


def run_django(env: dict[str, str], *argv: str) -> str:
    done = subprocess.run(
        [venv_bin("python"), *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def make_items(rows: int, model_version: int, deployment: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    items = []
    for i in range(rows):
        score = round(rng.random(), 6)
        occurred = start + timedelta(milliseconds=i * 37 + rng.randrange(37))
        items.append(
            {
                "model_version": model_version,
                "deployment": deployment,
                "request_id": f"req-{seed}-{i:08d}",
                "subject_id": f"customer-{rng.randrange(10**9):09d}",
                "features": {
                    "age": rng.randrange(18, 90),
                    "income": round(rng.lognormvariate(10.5, 0.6), 2),
                    "loan_amount": round(rng.uniform(500, 50_000), 2),
                    "term_months": rng.choice((12, 24, 36, 48, 60)),
                    "purpose": rng.choice(PURPOSES),
                    "employment": rng.choice(EMPLOYMENT),
                },
                "sensitive": {"sex": rng.choice(("F", "M")), "age_band": rng.choice(AGE_BANDS)},
                "prediction": "approve" if score >= 0.5 else "decline",
                "score": score,
                "occurred_at": occurred.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            }
        )
    return items


def _warm(session: Callable[[], requests.Session], url: str) -> None:
    response = session().post(url, data=b'{"decisions": []}', timeout=30)
    if response.status_code != 400:
        raise RuntimeError(f"warm-up: expected HTTP 400 for an empty batch, got {response.status_code}")


def post_all(
    base: str, key: str, bodies: list[bytes], clients: int, batch_sizes: list[int]
) -> tuple[float, list[float]]:
    url = f"{base}/api/v1/decisions/bulk/"
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    local = threading.local()

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers.update(headers)
        return local.session

    def post(index: int) -> float:
        started = time.perf_counter()
        response = session().post(url, data=bodies[index], timeout=REQUEST_TIMEOUT)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"batch {index}: HTTP {response.status_code}: {response.text[:500]}")
        result = response.json()
        if result != {"accepted": batch_sizes[index], "duplicates": 0}:
            raise RuntimeError(f"batch {index}: unexpected result {result}")
        return elapsed

    pool = ThreadPoolExecutor(max_workers=clients)
    try:
        # Warm up every connection and worker (URLconf, first DB connection) without writing a row:
        # an empty batch is rejected with 400 after authentication.
        for future in [pool.submit(_warm, session, url) for _ in range(clients * 4)]:
            future.result()
        started = time.perf_counter()
        latencies = list(pool.map(post, range(len(bodies))))
        wall = time.perf_counter() - started
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)  # fail fast: no further batches are sent
        raise
    pool.shutdown()
    return wall, latencies


def count_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(TABLE))).fetchone()[0]


def copy_rows(items: list[dict], setup: dict, hmac_key: str) -> list[tuple]:
    """The rows the service writes for these items, built before the COPY clock starts."""
    base = hmac.new(hmac_key.encode(), digestmod=hashlib.sha256)
    now = datetime.now(UTC)
    rows = []
    batch = uuid.uuid4()
    for index, item in enumerate(items):
        if index % 5000 == 0:
            batch = uuid.uuid4()  # one per request of the REST phase
        # the commitment the service computes: sha256(salt || canonical row); here of the JSON row,
        # which has the same size (the baseline measures the database's work, not the hashing)
        salt = secrets.token_hex(16)
        digest = hashlib.sha256((salt + json.dumps(item, sort_keys=True)).encode()).hexdigest()
        skeleton = [item["model_version"], item["deployment"], item["request_id"], item["prediction"]]
        skeleton_digest = hashlib.sha256(json.dumps([*skeleton, item["score"], item["occurred_at"]]).encode())
        mac = base.copy()
        mac.update(str(item["subject_id"]).strip().encode())
        rows.append(
            (
                setup["project"],
                item["model_version"],
                item["deployment"],
                item["request_id"],
                mac.hexdigest(),
                KEY_ID,
                json.dumps(item["features"]),
                json.dumps(item["sensitive"]),
                json.dumps(item["prediction"]),
                item["score"],
                datetime.fromisoformat(item["occurred_at"]),
                now,
                setup["key_pk"],
                None,
                salt,
                digest,
                batch,
                skeleton_digest.hexdigest(),
                None,  # erased_at
                None,  # explanation
            )
        )
    return rows


def copy_baseline(url: str, rows: list[tuple]) -> float:
    with psycopg.connect(url) as conn:
        conn.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(TABLE)))
        conn.commit()
        checkpoint(url)
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(TABLE), sql.SQL(", ").join(map(sql.Identifier, COPY_COLUMNS))
        )
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        return time.perf_counter() - started


def main() -> None:
    args = parse_args()
    bench_url = with_database(args.database_url, BENCH_DB)
    hmac_key = secrets.token_hex(32)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": bench_url,
        "DJANGO_SECRET_KEY": secrets.token_hex(32),
        "DJANGO_DEBUG": "false",
        "SUBJECT_HMAC_KEY": hmac_key,
        "SUBJECT_HMAC_KEY_ID": KEY_ID,
        "LOG_LEVEL": "WARNING",
    }

    recreate_database(args.database_url, BENCH_DB)
    run_django(env, "manage.py", "migrate", "--noinput")
    setup = json.loads(run_django(env, "-c", "import django; django.setup()\n" + SETUP).strip().splitlines()[-1])

    items = make_items(args.rows, setup["model_version"], setup["deployment"], args.seed)
    batches = [items[start : start + args.batch] for start in range(0, len(items), args.batch)]
    bodies = [json.dumps({"decisions": batch}).encode() for batch in batches]
    batch_sizes = [len(batch) for batch in batches]

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        log = Path(tmp) / "gunicorn.log"
        server = None
        try:
            server = start_gunicorn(env, args.workers, port, log, timeout=REQUEST_TIMEOUT)
            wait_until_answering(base, "/api/v1/decisions/", server, log)
            checkpoint(bench_url)
            rest_seconds, latencies = post_all(base, setup["key"], bodies, args.clients, batch_sizes)
        except BaseException:
            if log.exists():
                sys.stderr.write(log.read_text(errors="replace")[-4000:])
            raise
        finally:
            stop(server)
    rest_count = count_rows(bench_url)
    if rest_count != args.rows:
        raise SystemExit(f"REST: expected {args.rows} rows in {TABLE}, found {rest_count}")

    rows = copy_rows(items, setup, hmac_key)
    copy_seconds = copy_baseline(bench_url, rows)
    copy_count = count_rows(bench_url)
    if copy_count != args.rows:
        raise SystemExit(f"COPY: expected {args.rows} rows in {TABLE}, found {copy_count}")

    rest_rate = args.rows / rest_seconds
    copy_rate = args.rows / copy_seconds
    body_mb = sum(map(len, bodies)) / 1e6
    print(
        f"decision ingest: {args.rows} rows, batches of {args.batch} ({len(bodies)} requests, {body_mb:.1f} MB JSON), "
        f"gunicorn -w {args.workers}, {args.clients} clients, {os.cpu_count()} CPUs"
    )
    print(f"REST  {rest_seconds:8.2f} s  {rest_rate:10,.0f} rows/s")
    print(f"COPY  {copy_seconds:8.2f} s  {copy_rate:10,.0f} rows/s")
    print(f"ratio REST/COPY  {rest_rate / copy_rate:.2f}  (goal >= 0.50)")
    print(
        f"batch latency  p50 {percentile(latencies, 50) * 1000:.0f} ms  p95 {percentile(latencies, 95) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
