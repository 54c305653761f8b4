"""Writes var/local.env with fresh local secrets the first time `make run` runs (stdlib only)."""

from __future__ import annotations

import secrets
from pathlib import Path

path = Path(__file__).resolve().parent.parent / "var" / "local.env"
if not path.exists():
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Local development settings written by `make run`; keep this file private.\n"
        "DJANGO_DEBUG=true\n"
        f"DJANGO_SECRET_KEY={secrets.token_urlsafe(48)}\n"
        f"SUBJECT_HMAC_KEY={secrets.token_urlsafe(48)}\n"
        "SUBJECT_HMAC_KEY_ID=local1\n"
    )
    path.chmod(0o600)
    print(f"wrote {path} (local secrets)")
