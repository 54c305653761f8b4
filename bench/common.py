"""What the benchmarks share: a bench database, the venv's programs, gunicorn on loopback, small statistics.

Imported as `common` (each benchmark runs as a script from this folder).
"""

from __future__ import annotations

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
        size = conn.execute("SELECT pg_total_relation_size(%s::regclass)", [table]).fetchone()[0]
        heap = conn.execute("SELECT pg_relation_size(%s::regclass)", [table]).fetchone()[0]
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
