"""What the benchmarks share: a bench database, the venv's programs, gunicorn on loopback, small statistics.

Imported as `common` (each benchmark runs as a script from this folder).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the benches import modules without Django from the repository (governance.columns)
    sys.path.insert(0, str(ROOT))


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise SystemExit(f"--database-url must be a PostgreSQL URL, got scheme {parts.scheme!r}")
    return urlunsplit(parts._replace(path=f"/{name}"))


def recreate_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def venv_bin(name: str) -> str:
    candidate = ROOT / ".venv" / "bin" / name
    if candidate.exists():
        return str(candidate)
    return str(Path(sys.executable).with_name(name))


def migrate(env: dict[str, str]) -> None:
    done = subprocess.run(
        [venv_bin("python"), "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"migrate failed:\n{done.stdout}\n{done.stderr}")


def vacuum_analyze(url: str, tables: tuple[str, ...]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for table in tables:
            conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))


def table_size(url: str, table: str) -> str:
    with psycopg.connect(url) as conn:
        # a partitioned table's size is its partitions' (pg_partition_tree: the table itself when it has none)
        size, heap = conn.execute(
            "SELECT sum(pg_total_relation_size(relid)), sum(pg_relation_size(relid)) FROM pg_partition_tree(%s)",
            [table],
        ).fetchone()
    return f"{table} {size / 2**20:,.0f} MB ({heap / 2**20:,.0f} MB heap)"


def checkpoint(url: str) -> None:
    """Start each timed phase with no dirty buffers left by the previous one (needs superuser; skipped else)."""
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CHECKPOINT")
    except psycopg.errors.InsufficientPrivilege:
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict[str, str], workers: int, port: int, log: Path, *, timeout: int) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            [venv_bin("gunicorn"), "config.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}"]
            + ["--timeout", str(timeout)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def runs(values: list[float]) -> str:
    return " ".join(f"{v:.2f}" for v in values)


def wait_until_answering(base: str, path: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    """Wait for gunicorn to answer GET `path` (any status: the first request also warms the worker)."""
    import time

    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            requests.get(f"{base}{path}", timeout=30)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer within {timeout:.0f}s:\n{log.read_text(errors='replace')}")


def followed_job(session, base: str, response, *, timeout: float = 3600):
    """The record a long operation's 202 made: its background job followed (finished already when the service runs
    jobs in process, as the benches start it: no CELERY_BROKER_URL), then its result read. Raises on a failure."""
    import time

    if response.status_code != 202:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:500]}")
    job = response.json()
    deadline = time.monotonic() + timeout
    while job["state"] not in ("succeeded", "failed"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"job {job['id']} not finished after {timeout:.0f} s")
        time.sleep(0.05)
        job = session.get(f"{base}{job['url']}", timeout=30).json()
    if job["state"] == "failed":
        raise RuntimeError(f"job {job['id']} failed: {job['error']}")
    return session.get(f"{base}{job['result']['url']}", timeout=30).json()


def decision_row(
    *,
    project: int,
    model_version: int,
    deployment: int | None,
    request_id: str,
    subject_key: str,
    key_id: str,
    features: dict,
    sensitive: dict,
    prediction,
    score: float | None,
    occurred_at,
    created_at,
    key_pk: int,
    batch,
) -> tuple[tuple, str]:
    """One decision as decisions_ingest writes it (governance.columns.COPY_COLUMNS, with a fresh salt and its
    commitment, and its skeleton commitment at row[-3]), and the commitment (for the batch's audit event).
    `features` already jsonb-normalised."""
    import json
    import secrets

    from governance.integrity import canonical_decision, canonical_skeleton, commitment, skeleton_commitment

    salt = secrets.token_hex(16)
    digest = commitment(
        salt,
        canonical_decision(
            model_version=model_version,
            deployment=deployment,
            request_id=request_id,
            subject_key=subject_key,
            features=features,
            sensitive=sensitive,
            prediction=prediction,
            score=score,
            occurred_at=occurred_at,
        ),
    )
    row = (
        project,
        model_version,
        deployment,
        request_id,
        subject_key,
        key_id,
        json.dumps(features),
        json.dumps(sensitive),
        json.dumps(prediction),
        score,
        occurred_at,
        created_at,
        key_pk,
        None,
        salt,
        digest,
        batch,
        skeleton_commitment(
            canonical_skeleton(
                model_version=model_version,
                deployment=deployment,
                request_id=request_id,
                prediction=prediction,
                score=score,
                occurred_at=occurred_at,
            )
        ),
        None,  # erased_at
        None,  # explanation
    )
    return row, digest


# The job of the forked loaders (set by copy_load, read in the children it forks).
_JOB: dict = {}


def _copy_worker(part: int, parts: int, results) -> None:
    import traceback
    import uuid

    try:
        from django.db import connection, transaction

        from governance.columns import COPY_COLUMNS
        from governance.services.decisions import _audit_batch
        from governance.services.drift_counts import decisions_counted
        from registry import partitions
        from registry.actors import Actor
        from registry.models import ApiKey
        from registry.partitions import month_of

        version, occurred, features = (COPY_COLUMNS.index(c) for c in ("model_version_id", "occurred_at", "features"))

        actor = Actor.for_key(ApiKey.objects.get(pk=_JOB["ingest_key"]))
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier("governance_decision"),
            sql.SQL(", ").join(map(sql.Identifier, (*COPY_COLUMNS, *_JOB["extra_columns"]))),
        )
        total, size, written = _JOB["total"], _JOB["batch"], 0
        project, occurred_at = COPY_COLUMNS.index("project_id"), COPY_COLUMNS.index("occurred_at")
        for start in range(part * size, total, parts * size):
            batch = uuid.uuid4()
            rows, inserted = _JOB["build_rows"](start, min(start + size, total), batch)
            # each project's month needs its partition, as ingest makes sure of (registry/partitions.py)
            partitions.ensure("governance_decision", {(row[project], month_of(row[occurred_at])) for row in rows})
            with transaction.atomic():
                with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
                    for row in rows:
                        copy.write_row(row)
                # the service's drift counts and audit event of an ingest batch (batch hash of the commitments)
                decisions_counted([(row[version], row[occurred], json.loads(row[features])) for row in rows])
                _audit_batch(actor, batch, inserted, duplicates=0, stripped=0)
            written += len(rows)
        results.put(("ok", written))
        connection.close()
    except BaseException:
        results.put(("error", traceback.format_exc()))


def copy_load(*, build_rows, total: int, batch: int, loaders: int, ingest_key: int, extra_columns=()) -> None:
    """Load `total` decisions fast: `loaders` forked processes COPY the rows that
    `build_rows(start, stop, batch_uuid) -> (rows, [(model_version, commitment, project)])` makes (the
    service's columns, then `extra_columns`), each batch with the audit event the service would write."""
    import multiprocessing

    from django.db import connections

    _JOB.update(build_rows=build_rows, total=total, batch=batch, ingest_key=ingest_key, extra_columns=extra_columns)
    connections.close_all()  # the children open their own sessions
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [context.Process(target=_copy_worker, args=(part, loaders, results)) for part in range(loaders)]
    for process in processes:
        process.start()
    try:
        reports = [results.get(timeout=1800) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
        _JOB.clear()
    errors = [report[1] for report in reports if report[0] == "error"]
    if errors:
        raise SystemExit("loader failed:\n" + "\n".join(errors))
    if sum(report[1] for report in reports) != total:
        raise SystemExit(f"load: wrote {sum(report[1] for report in reports)} of {total} rows")
