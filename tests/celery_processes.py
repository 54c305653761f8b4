"""Real Celery processes for the job tests: a worker (and beat) subprocess on Redis and the test's PostgreSQL
database (a transactional test, so the worker sees what the test wrote). Redis must answer at TEST_REDIS_URL
(default redis://127.0.0.1:6379/5): `make test` (scripts/test.sh) and .ci/run start it. Each test run uses a
queue of its own, so no other worker on the same Redis takes its messages. Used by
tests/registry/test_jobs_worker.py and tests/governance/test_monitoring_jobs.py (imported fixtures)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
QUEUE = f"test-jobs-{uuid.uuid4().hex[:8]}"
HEARTBEAT, STALE, VISIBILITY = 1, 3, 3  # seconds: a dead worker's job is seen stale, and redelivered, quickly


@pytest.fixture(scope="module")
def redis_answers():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis does not answer at {REDIS_URL} ({exc}); `make test` starts it (scripts/test.sh)")


@pytest.fixture
def broker(redis_answers, settings):
    """This process sends jobs to the worker through Redis (not in process), with the worker's timings."""
    from config.celery import app

    settings.JOBS_EAGER = False
    settings.CELERY_BROKER_URL = REDIS_URL
    settings.JOBS_HEARTBEAT_SECONDS, settings.JOBS_STALE_SECONDS = HEARTBEAT, STALE
    saved = app.conf.broker_url, app.conf.task_default_queue
    app.conf.broker_url, app.conf.task_default_queue = REDIS_URL, QUEUE
    yield app
    app.conf.broker_url, app.conf.task_default_queue = saved


@pytest.fixture
def control(tmp_path):
    return tmp_path


@pytest.fixture
def workers(broker, control):
    """start() -> a `celery worker` subprocess on this test's database; every one is killed at the end."""
    started: list[subprocess.Popen] = []
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": database_url,
        "TEST_CELERY_BROKER_URL": REDIS_URL,
        "CELERY_QUEUE": QUEUE,
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY),
        "JOBS_HEARTBEAT_SECONDS": str(HEARTBEAT),
        "JOBS_STALE_SECONDS": str(STALE),
        "JOBS_MAX_ATTEMPTS": "2",
        "TEST_JOBS_CONTROL_DIR": str(control),
    }

    def start(program: str = "worker", **extra_env: str) -> subprocess.Popen:
        """A worker (`--pool=solo`: the task runs in this very process, so SIGKILL stops the work mid-transaction)
        or beat (`program="beat"`, its schedule file in the test's directory)."""
        log = open(control / f"{program}-{len(started)}.log", "w")  # noqa: SIM115 - closed with the process
        if program == "worker":
            arguments = ["--pool=solo", "--without-gossip", "--without-mingle", "-Q", QUEUE]
            arguments += ["-n", f"{QUEUE}-{len(started)}@%h", "--include", "tests.registry.jobs_worker_hooks"]
        else:
            arguments = ["-s", str(control / "beat-schedule")]
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", program, "--loglevel=INFO", *arguments],
            cwd=ROOT,
            env={**env, **extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def wait_for(predicate, *, timeout: float = 60, what: str = "", control: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    logs = "".join(p.read_text()[-3000:] for p in sorted(control.glob("*.log"))) if control else ""
    raise AssertionError(f"timed out waiting for {what}\n{logs}")
