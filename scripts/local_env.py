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

PATH = Path(__file__).resolve().parent.parent / "var" / "local.env"


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


def read(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; blank lines, comments and an `export ` prefix are allowed, quotes are stripped."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


if __name__ == "__main__":
    write_once(PATH)
    if len(sys.argv) > 1:
        for key, value in read(PATH).items():
            os.environ.setdefault(key, value)
        sys.stdout.flush()
        os.execvp(sys.argv[1], sys.argv[1:])  # noqa: S606 (the command the Makefile gives)
