"""Imported by the real worker of tests/registry/test_jobs_worker.py (`celery worker --include ...`), never by
the service: pause and fault points at a job's progress reports (registry.jobs.add_progress_listener), driven by
files in TEST_JOBS_CONTROL_DIR so the test can steer a worker in another process.

- `block`: at step 2 of a job (an erasure's decisions redacted, not yet committed) write `blocked` (this pid)
  and wait while `block` exists: the test looks at the database, then kills the worker with SIGKILL.
- `fail` holding N: at step 2 raise an unexpected error, N times in all (the file counts down, then goes).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from registry.jobs import add_progress_listener

PAUSE_STEP = 2


def _control() -> Path | None:
    where = os.environ.get("TEST_JOBS_CONTROL_DIR")
    return Path(where) if where else None


def at_progress(job, done: int, total: int, message: str) -> None:
    control = _control()
    if control is None or done != PAUSE_STEP:
        return
    fail = control / "fail"
    if fail.exists():
        left = int(fail.read_text() or "1") - 1
        if left > 0:
            fail.write_text(str(left))
        else:
            fail.unlink()
        raise RuntimeError("injected failure (the test's fault point)")
    block = control / "block"
    if block.exists():
        (control / "blocked").write_text(str(os.getpid()))
        while block.exists():
            time.sleep(0.05)


add_progress_listener(at_progress)
