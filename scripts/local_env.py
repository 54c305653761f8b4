"""Local development settings for `make run` (stdlib only).

    python scripts/local_env.py                  writes var/local.env with fresh local secrets, once
    python scripts/local_env.py CMD [ARG ...]    the same, then runs CMD with var/local.env loaded

The file is read again by every command, so a line that one step appends (ADMIN_PASSWORD,
DEMO_API_KEY) is seen by the next. Variables already set in the environment win over the file,
so `ADMIN_PASSWORD=... make run` works.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from config.envfile import read_env_file  # noqa: E402  (stdlib only)

PATH = ROOT / "var" / "local.env"


def write_once(path: Path) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(
            "# Local development settings written by `make run`; keep this file private.\n"
            "DJANGO_DEBUG=true\n"
            f"DJANGO_SECRET_KEY={secrets.token_urlsafe(48)}\n"
            f"SUBJECT_HMAC_KEY={secrets.token_urlsafe(48)}\n"
            "SUBJECT_HMAC_KEY_ID=local1\n"
        )
    print(f"wrote {path} (local secrets)")


if __name__ == "__main__":
    write_once(PATH)
    if len(sys.argv) > 1:
        for key, value in read_env_file(PATH).items():
            os.environ.setdefault(key, value)
        sys.stdout.flush()
        os.execvp(sys.argv[1], sys.argv[1:])  # noqa: S606 (the command the Makefile gives)
