"""Erasure of one data subject among 1,000,000 decisions, and decision ingest with commitments against COPY.

    .venv/bin/python bench/erasure.py [--subjects 100000] [--per-subject 10] [--samples 20] [--workers 2]

1. Drops and recreates the database `governance_bench_erasure` on the server of --database-url and migrates
   it (a `manage.py` subprocess); then this process runs `django.setup()` with the service's settings from
   the environment and calls the services directly: it measures services, not HTTP.
2. Lineage, through the registry services: one project, a personal-data dataset with 20 data versions (5
   monthly raw snapshots, each with a cleaned child and train/test splits of that), a subject index on every
   version (`subjects_index`, at most 100,000 ids a call), a run and a model version per month trained on
   its split, each deployed in turn (direct, so each ends the one before).
3. Ingest with commitments: the first --slice decisions go through `decisions_ingest` in batches of --batch
   from --workers forked processes (one database session each, as gunicorn -w 2 in bench/ingest.py). The
   rows are then read back, the table truncated and the same rows COPYed into it with psycopg in one
   transaction (the baseline). Items and rows are built before each clock starts.
4. Load: the remaining decisions (--per-subject for each subject in all) through `decisions_ingest` in
   batches of --load-batch, then VACUUM ANALYZE.
5. Erasure, for --samples subjects present in every snapshot: `erasure_request_create` (not timed), then
   `subject_trace`, `erasure_request_trace` and `erasure_request_execute`, each timed. Before each sample
   the data versions are set back to `active` (not timed) so every execution marks them again.

Prints the setup times, both ingest rates and their ratio next to the spine's (bench/README.md), and
p50/p95/max of trace and execute against the goals (trace p50 < 50 ms, execute < 200 ms) with the work done.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import multiprocessing
import os
import random
import secrets
import statistics
import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from common import checkpoint, migrate, percentile, recreate_database, vacuum_analyze, with_database  # noqa: E402 (bench/ is the script's folder)
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "governance_bench_erasure"
TABLE = "governance_decision"
KEY_ID = "k1"
SNAPSHOTS = 5  # x (raw, cleaned, train, test) = 20 data versions
WINDOW = 0.8  # share of all subjects in one raw snapshot
TRACE_GOAL_MS = 50  # p50
EXECUTE_GOAL_MS = 200  # every execution
SPINE = "REST/COPY 0.95 and 0.98 (43,625 and 42,842 rows/s REST, no commitments; bench/README.md, 2026-11-26)"

PURPOSES = ("car", "home", "education", "business", "holiday", "debt")
EMPLOYMENT = ("employed", "self_employed", "unemployed", "retired", "student")
AGE_BANDS = ("18-25", "26-35", "36-50", "51-65", "65+")
SCHEMA = {
    "customer_id": "string",
    "age": "int64",
    "income": "float64",
    "loan_amount": "float64",
    "term_months": "int64",
    "purpose": "category",
    "employment": "category",
    "defaulted": "bool",
}

# The batches the forked ingest workers send; set in the parent before they start (copy-on-write).
_BATCHES: list[list[dict]] = []


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--per-subject", type=int, default=10, help="decisions per subject")
    parser.add_argument("--samples", type=int, default=20, help="subjects erased (timed)")
    parser.add_argument("--slice", type=int, default=200_000, help="decisions in the ingest-vs-COPY comparison")
    parser.add_argument("--batch", type=int, default=5_000, help="batch size of the ingest comparison")
    parser.add_argument("--load-batch", type=int, default=10_000, help="batch size of the rest of the load")
    parser.add_argument("--workers", type=int, default=2, help="ingest processes, one database session each")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres",
        help="any database on the server; the bench creates and uses its own database on it",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    total = args.subjects * args.per_subject
    if args.subjects < 100 or args.per_subject < 1 or args.workers < 1:
        parser.error("--subjects must be >= 100, --per-subject and --workers >= 1")
    if not 1 <= args.batch <= 10_000 or not 1 <= args.load_batch <= 10_000:
        parser.error("--batch and --load-batch must be between 1 and 10000")
    if not 1 <= args.slice <= total or not 1 <= args.samples <= int(args.subjects * (2 * WINDOW - 1)) - 1:
        parser.error("--slice must be between 1 and the number of decisions, --samples fewer than the subjects")
    return args


def subject_id(number: int) -> str:
    return f"customer-{number:06d}"


def snapshot_window(snapshot: int, subjects: int) -> range:
    """The subjects of raw snapshot `snapshot`: a window of WINDOW * subjects sliding by equal steps."""
    size = int(subjects * WINDOW)
    step = (subjects - size) // (SNAPSHOTS - 1)
    return range(snapshot * step, snapshot * step + size)


def in_test_split(number: int, snapshot: int) -> bool:
    return hashlib.blake2b(f"{snapshot}:{number}".encode(), digest_size=2).digest()[0] % 5 == 0


@dataclass
class Lineage:
    """What setup made (Django model instances and ids) that the decisions and the erasures need."""

    project: Any = None
    ingest_key: Any = None
    officer_key: Any = None
    versions: list[int] = field(default_factory=list)  # the model version of each snapshot
    deployments: list[int] = field(default_factory=list)  # its deployment
    starts: list[datetime] = field(default_factory=list)  # when that deployment started
    data_versions: int = 0
    index_rows: int = 0


def build_lineage(subjects: int) -> Lineage:
    from registry import services
    from registry.actors import Actor
    from registry.models import Role

    system = Actor.system()
    made = Lineage()
    made.project = services.project_create(actor=system, slug="bench-erasure", name="Erasure benchmark")
    key, _ = services.api_key_create(actor=system, project=made.project, role=Role.INGEST, name="bench ingest")
    made.ingest_key = key
    key, _ = services.api_key_create(
        actor=system, project=made.project, role=Role.COMPLIANCE_OFFICER, name="bench officer"
    )
    made.officer_key = key
    dataset = services.dataset_create(
        actor=system,
        project=made.project,
        name="loan-applications",
        contains_personal_data=True,
        legal_basis="contract (Art. 6(1)(b))",
    )
    model = services.model_create(actor=system, project=made.project, name="credit-default")
    first = datetime(2026, 2, 1, tzinfo=UTC)

    def register(version: str, numbers: list[int], parents: tuple = (), transformation: str = ""):
        data_version = services.data_version_register(
            actor=system,
            dataset=dataset,
            version=version,
            content_sha256=hashlib.sha256(version.encode()).hexdigest(),
            row_count=len(numbers),
            schema=SCHEMA,
            storage_uri=f"s3://bench/loan-applications/{version}.parquet",
            parents=parents,
            transformation=transformation,
        )
        for start in range(0, len(numbers), 100_000):
            result = services.subjects_index(
                actor=system,
                data_version=data_version,
                subject_ids=[subject_id(n) for n in numbers[start : start + 100_000]],
            )
            made.index_rows += result.indexed
        made.data_versions += 1
        return data_version

    for snapshot in range(SNAPSHOTS):
        month = f"2026-{snapshot + 1:02d}"
        raw_numbers = list(snapshot_window(snapshot, subjects))
        raw = register(f"{month}-raw", raw_numbers)
        cleaned_numbers = [n for n in raw_numbers if n % 29 != snapshot]
        cleaned = register(f"{month}-cleaned", cleaned_numbers, (raw,), "drop duplicates and incomplete rows")
        train = register(
            f"{month}-train",
            [n for n in cleaned_numbers if not in_test_split(n, snapshot)],
            (cleaned,),
            "stratified 80/20 split, train",
        )
        test = register(
            f"{month}-test",
            [n for n in cleaned_numbers if in_test_split(n, snapshot)],
            (cleaned,),
            "stratified 80/20 split, test",
        )
        run = services.run_register(
            actor=system,
            project=made.project,
            name=f"gbm {month}",
            params={"learning_rate": 0.05, "max_depth": 6, "n_estimators": 400},
            metrics={"auc": 0.78 + snapshot / 200},
            inputs=[{"data_version": train, "role": "train"}, {"data_version": test, "role": "test"}],
            git_commit=hashlib.sha1(month.encode()).hexdigest(),
        )
        version = services.model_version_register(
            actor=system,
            model=model,
            run=run,
            artifact_uri=f"s3://bench/models/credit-default/{snapshot + 1}/model.pkl",
            artifact_sha256=hashlib.sha256(month.encode()).hexdigest(),
            framework="lightgbm",
        )
        started = first + timedelta(days=30 * snapshot)
        deployment = services.deployment_create(
            actor=system, model_version=version, environment="staging", started_at=started, backfill=True
        )
        made.versions.append(version.pk)
        made.deployments.append(deployment.pk)
        made.starts.append(started)
    return made


def decision_subject(index: int, subjects: int) -> int:
    """Decision `index` is about subject (index * m) mod subjects: each block of `subjects` consecutive
    decisions holds every subject once, so each subject gets per-subject decisions, one in each block."""
    multiplier = 7919
    while math.gcd(multiplier, subjects) != 1:
        multiplier += 2
    return index * multiplier % subjects


def make_items(first: int, count: int, total: int, subjects: int, lineage: Lineage, seed: int) -> list[dict]:
    rng = random.Random(seed * 1_000_003 + first)
    per_snapshot = math.ceil(total / SNAPSHOTS)
    spacing_ms = 30 * 24 * 3600 * 1000 // per_snapshot
    items = []
    for i in range(first, first + count):
        snapshot = i // per_snapshot
        score = round(rng.random(), 6)
        occurred = lineage.starts[snapshot] + timedelta(milliseconds=(i % per_snapshot) * spacing_ms + 1)
        items.append(
            {
                "model_version": lineage.versions[snapshot],
                "deployment": lineage.deployments[snapshot],
                "request_id": f"req-{i:08d}",
                "subject_id": subject_id(decision_subject(i, subjects)),
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


def _ingest_worker(key_pk: int, next_batch, barrier, results) -> None:
    try:
        from django.db import connection

        from governance.services import decisions_ingest
        from registry.actors import Actor
        from registry.models import ApiKey

        actor = Actor.for_key(ApiKey.objects.get(pk=key_pk))
        connection.ensure_connection()
        barrier.wait()
        started = time.perf_counter()
        latencies, accepted = [], 0
        while True:
            with next_batch.get_lock():
                index = next_batch.value
                next_batch.value += 1
            if index >= len(_BATCHES):
                break
            batch_started = time.perf_counter()
            result = decisions_ingest(actor=actor, items=_BATCHES[index])
            latencies.append(time.perf_counter() - batch_started)
            if result.accepted != len(_BATCHES[index]):
                raise RuntimeError(f"batch {index}: accepted {result.accepted} of {len(_BATCHES[index])}")
            accepted += result.accepted
        results.put(("ok", started, time.perf_counter(), latencies, accepted))
        connection.close()
    except BaseException:
        barrier.abort()
        results.put(("error", traceback.format_exc()))


def ingest(batches: list[list[dict]], key_pk: int, workers: int) -> tuple[float, list[float]]:
    """decisions_ingest over `batches` from forked processes; the clock runs from the first batch taken
    (all sessions open) to the last one done."""
    from django.db import connections

    global _BATCHES
    _BATCHES = batches
    connections.close_all()  # the children open their own sessions
    context = multiprocessing.get_context("fork")
    next_batch, barrier, results = context.Value("i", 0), context.Barrier(workers, timeout=60), context.Queue()
    processes = [
        context.Process(target=_ingest_worker, args=(key_pk, next_batch, barrier, results)) for _ in range(workers)
    ]
    for process in processes:
        process.start()
    try:
        reports = [results.get(timeout=1800) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
        _BATCHES = []
    errors = [report[1] for report in reports if report[0] == "error"]
    if errors:
        raise SystemExit("ingest worker failed:\n" + "\n".join(errors))
    accepted = sum(report[4] for report in reports)
    if accepted != sum(map(len, batches)):
        raise SystemExit(f"ingest: accepted {accepted} of {sum(map(len, batches))} rows")
    wall = max(report[2] for report in reports) - min(report[1] for report in reports)
    return wall, [latency for report in reports for latency in report[3]]


def count_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(TABLE))).fetchone()[0]


def copy_baseline(url: str) -> tuple[float, int]:
    """Read back the rows the service wrote (JSON columns as JSON text), truncate, and COPY them into the
    same table in one transaction; the clock covers the COPY and the commit."""
    from governance.columns import COPY_COLUMNS

    json_columns = {"features", "sensitive", "prediction", "explanation"}
    select = sql.SQL("SELECT {} FROM {} ORDER BY id").format(
        sql.SQL(", ").join(
            sql.SQL("{}::text").format(sql.Identifier(c)) if c in json_columns else sql.Identifier(c)
            for c in COPY_COLUMNS
        ),
        sql.Identifier(TABLE),
    )
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(TABLE), sql.SQL(", ").join(map(sql.Identifier, COPY_COLUMNS))
    )
    with psycopg.connect(url) as conn:
        rows = conn.execute(select).fetchall()
        conn.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(TABLE)))
        conn.commit()
        checkpoint(url)
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        return time.perf_counter() - started, len(rows)


def table_sizes(url: str) -> str:
    with psycopg.connect(url) as conn:
        sizes = conn.execute(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relname = ANY(%s) ORDER BY relname",
            [[TABLE, "registry_subjectindex"]],
        ).fetchall()
    return ", ".join(f"{name} {size / 2**20:,.0f} MB" for name, size in sizes)


def erase(lineage: Lineage, numbers: list[int]) -> tuple[dict[str, list[float]], list[dict]]:
    """Trace and execute an erasure for each subject; returns the times (seconds) and what each did."""
    from governance.selectors import subject_trace
    from governance.services.erasure import (
        erasure_request_create,
        erasure_request_execute,
        erasure_request_trace,
    )
    from registry.actors import Actor
    from registry.models import DataVersion

    officer = Actor.for_key(lineage.officer_key)
    times: dict[str, list[float]] = {"subject_trace": [], "erasure_request_trace": [], "erasure_request_execute": []}
    done = []
    for position, number in enumerate(numbers):
        DataVersion.objects.filter(project=lineage.project).update(status=DataVersion.Status.ACTIVE)
        request = erasure_request_create(
            actor=officer, project=lineage.project, subject_id=subject_id(number), reference=f"BENCH-{position:04d}"
        )
        started = time.perf_counter()
        trace = subject_trace(project_id=request.project_id, subject_key=request.subject_key)
        times["subject_trace"].append(time.perf_counter() - started)
        started = time.perf_counter()
        request = erasure_request_trace(actor=officer, request=request)
        times["erasure_request_trace"].append(time.perf_counter() - started)
        started = time.perf_counter()
        request = erasure_request_execute(actor=officer, request=request)
        times["erasure_request_execute"].append(time.perf_counter() - started)
        execution = request.execution
        done.append(
            {
                "data_versions": len(trace["data_versions"]),
                "holding": sum(dv["holds_subject"] for dv in trace["data_versions"]),
                "decisions": trace["decisions"]["count"],
                "redacted": execution["decisions_redacted"],
                "index_rows": execution["subject_index_rows_removed"],
                "marked": execution["data_versions_marked_erasure_pending"],
                "obligations": len(execution["retraining_obligations"]),
            }
        )
    return times, done


def queries_of_one_erasure(lineage: Lineage, number: int) -> dict[str, int]:
    """The statements each step issues, counted on a warm-up subject (not timed)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from governance.selectors import subject_trace
    from governance.services.erasure import (
        erasure_request_create,
        erasure_request_execute,
        erasure_request_trace,
    )
    from registry.actors import Actor

    officer = Actor.for_key(lineage.officer_key)
    request = erasure_request_create(
        actor=officer, project=lineage.project, subject_id=subject_id(number), reference="BENCH-WARM-UP"
    )
    counts = {}
    with CaptureQueriesContext(connection) as queries:
        subject_trace(project_id=request.project_id, subject_key=request.subject_key)
    counts["subject_trace"] = len(queries)
    with CaptureQueriesContext(connection) as queries:
        request = erasure_request_trace(actor=officer, request=request)
    counts["erasure_request_trace"] = len(queries)
    with CaptureQueriesContext(connection) as queries:
        erasure_request_execute(actor=officer, request=request)
    counts["erasure_request_execute"] = len(queries)
    return counts


def round_trip_ms() -> float:
    from django.db import connection

    times = []
    with connection.cursor() as cursor:
        for _ in range(200):
            started = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    args = parse_args()
    bench_url = with_database(args.database_url, BENCH_DB)
    total = args.subjects * args.per_subject
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": bench_url,
            "DJANGO_SECRET_KEY": secrets.token_hex(32),
            "DJANGO_DEBUG": "false",
            "SUBJECT_HMAC_KEY": secrets.token_hex(32),
            "SUBJECT_HMAC_KEY_ID": KEY_ID,
            "LOG_LEVEL": "WARNING",
        }
    )
    bench_started = time.perf_counter()
    recreate_database(args.database_url, BENCH_DB)
    migrate(dict(os.environ))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    migrated = time.perf_counter()

    lineage = build_lineage(args.subjects)
    lineage_done = time.perf_counter()

    # Ingest with commitments against COPY, on the empty table as in bench/ingest.py.
    items = make_items(0, args.slice, total, args.subjects, lineage, args.seed)
    batches = [items[start : start + args.batch] for start in range(0, len(items), args.batch)]
    del items
    checkpoint(bench_url)
    ingest_seconds, latencies = ingest(batches, lineage.ingest_key.pk, args.workers)
    del batches
    copy_seconds, copied = copy_baseline(bench_url)
    if copied != args.slice or count_rows(bench_url) != args.slice:
        raise SystemExit(f"COPY: expected {args.slice} rows in {TABLE}, found {count_rows(bench_url)}")
    compared = time.perf_counter()

    load_seconds = 0.0
    if total > args.slice:
        items = make_items(args.slice, total - args.slice, total, args.subjects, lineage, args.seed)
        batches = [items[start : start + args.load_batch] for start in range(0, len(items), args.load_batch)]
        del items
        checkpoint(bench_url)
        load_seconds, _ = ingest(batches, lineage.ingest_key.pk, args.workers)
        del batches
    if count_rows(bench_url) != total:
        raise SystemExit(f"load: expected {total} rows in {TABLE}, found {count_rows(bench_url)}")
    loaded = time.perf_counter()
    vacuum_analyze(bench_url, (TABLE, "registry_subjectindex", "registry_dataversion", "registry_auditevent"))
    analyzed = time.perf_counter()

    rng = random.Random(args.seed)
    everywhere = range(snapshot_window(SNAPSHOTS - 1, args.subjects).start, snapshot_window(0, args.subjects).stop)
    chosen = rng.sample(everywhere, args.samples + 1)
    queries = queries_of_one_erasure(lineage, chosen[0])
    rtt = round_trip_ms()
    times, done = erase(lineage, chosen[1:])
    finished = time.perf_counter()

    print(
        f"erasure: {total:,} decisions over {args.subjects:,} subjects, {lineage.data_versions} data versions "
        f"({lineage.index_rows:,} subject index rows), {SNAPSHOTS} runs and model versions, "
        f"{os.cpu_count()} CPUs"
    )
    print(
        f"setup  database + migrate {migrated - bench_started:.1f} s, lineage + subject indexes "
        f"{lineage_done - migrated:.1f} s (registry services, subjects_index in calls of at most 100,000), "
        f"ingest comparison {compared - lineage_done:.1f} s, load {loaded - compared:.1f} s, "
        f"VACUUM ANALYZE {analyzed - loaded:.1f} s"
    )
    print(f"tables  {table_sizes(bench_url)}")
    ingest_rate, copy_rate = args.slice / ingest_seconds, args.slice / copy_seconds
    print(
        f"ingest with commitments: {args.slice:,} rows into an empty table, decisions_ingest in batches of "
        f"{args.batch:,} from {args.workers} processes, against one COPY of the same rows"
    )
    print(
        f"  decisions_ingest  {ingest_seconds:7.2f} s  {ingest_rate:10,.0f} rows/s   batch p50 "
        f"{percentile(latencies, 50) * 1000:.0f} ms  p95 {percentile(latencies, 95) * 1000:.0f} ms"
    )
    print(f"  COPY              {copy_seconds:7.2f} s  {copy_rate:10,.0f} rows/s")
    print(f"  ratio ingest/COPY {ingest_rate / copy_rate:.2f}   (spine: {SPINE})")
    if load_seconds:
        print(
            f"  load: {total - args.slice:,} more rows in batches of {args.load_batch:,}, table growing to "
            f"{total:,}: {load_seconds:.1f} s, {(total - args.slice) / load_seconds:,.0f} rows/s"
        )
    print(
        f"erasure of {args.samples} subjects (each in every raw snapshot), ms; round trip SELECT 1 {rtt:.2f} ms; "
        "queries counted on a warm-up subject"
    )
    goals = {"subject_trace": TRACE_GOAL_MS, "erasure_request_trace": TRACE_GOAL_MS}
    for name, values in times.items():
        ms = [value * 1000 for value in values]
        p50 = percentile(ms, 50)
        if name == "erasure_request_execute":
            verdict = f"goal < {EXECUTE_GOAL_MS} ms every run: {'met' if max(ms) < EXECUTE_GOAL_MS else 'MISSED'}"
        else:
            verdict = f"goal p50 < {goals[name]} ms: {'met' if p50 < goals[name] else 'MISSED'}"
        print(
            f"  {name:24} p50 {p50:6.1f}  p95 {percentile(ms, 95):6.1f}  max {max(ms):6.1f}   "
            f"{queries[name]:3d} queries   {verdict}"
        )
    for label, key in (
        ("data versions traced", "data_versions"),
        ("  of which hold the subject", "holding"),
        ("decisions traced", "decisions"),
        ("decisions redacted", "redacted"),
        ("subject index rows removed", "index_rows"),
        ("data versions marked erasure_pending", "marked"),
        ("retraining obligations opened", "obligations"),
    ):
        values = [d[key] for d in done]
        print(
            f"  per execution: {label:37} min {min(values):3d}  median {statistics.median(values):5.1f}  "
            f"max {max(values):3d}"
        )
    print(f"total {finished - bench_started:.0f} s")


if __name__ == "__main__":
    main()
