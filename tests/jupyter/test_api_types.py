"""The sidebar's TypeScript types follow the service's OpenAPI schema.

jupyter_ext/openapi.json is the schema the types were generated from, and jupyter_ext/src/api-types.ts
is openapi-typescript's output for it. Both are committed; these tests fail when either is stale.
To bring both up to date: bash jupyter_ext/scripts/generate-types.sh
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXT = ROOT / "jupyter_ext"
SCHEMA = EXT / "openapi.json"
TYPES = EXT / "src" / "api-types.ts"
GENERATOR = EXT / "node_modules" / ".bin" / "openapi-typescript"
FIX = "Run `bash jupyter_ext/scripts/generate-types.sh` and commit jupyter_ext/openapi.json and src/api-types.ts."


def _differences(old, new, path="$") -> list[str]:
    """Where two parsed JSON documents differ (key order ignored), for a readable failure."""
    if isinstance(old, dict) and isinstance(new, dict):
        found = [f"{path}.{key}: only in the service" for key in sorted(new.keys() - old.keys())]
        found += [f"{path}.{key}: only in openapi.json" for key in sorted(old.keys() - new.keys())]
        for key in sorted(old.keys() & new.keys()):
            found += _differences(old[key], new[key], f"{path}.{key}")
        return found
    if old != new:
        return [f"{path}: differs"]
    return []


def generate_schema(path: Path) -> None:
    """As scripts/generate-types.sh does: the schema served with PostgreSQL (integer bounds follow the
    database backend), whatever database this test run uses; nothing connects to it."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": "postgres://schema-only@127.0.0.1:9/none",
    }
    command = [sys.executable, "manage.py", "spectacular", "--format", "openapi-json", "--file", str(path)]
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)


def test_committed_schema_is_the_services(tmp_path):
    fresh = tmp_path / "openapi.json"
    generate_schema(fresh)
    committed = json.loads(SCHEMA.read_text())
    current = json.loads(fresh.read_text())
    differences = _differences(committed, current)
    assert not differences, (
        "jupyter_ext/openapi.json is not the service's current schema:\n  " + "\n  ".join(differences[:30]) + f"\n{FIX}"
    )


def test_typescript_types_are_generated_from_the_committed_schema(tmp_path):
    if not GENERATOR.exists():
        pytest.fail(f"{GENERATOR} is missing: run `jlpm install` in jupyter_ext (it comes with its devDependencies)")
    fresh = tmp_path / "api-types.ts"
    subprocess.run(
        [str(GENERATOR), str(SCHEMA), "--output", str(fresh)], cwd=EXT, check=True, capture_output=True, timeout=120
    )
    assert fresh.read_text() == TYPES.read_text(), f"jupyter_ext/src/api-types.ts is stale. {FIX}"
