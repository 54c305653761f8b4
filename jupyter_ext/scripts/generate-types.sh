#!/usr/bin/env bash
# Regenerates jupyter_ext/openapi.json from the service and src/api-types.ts from it.
# Run after any API change: tests/jupyter/test_api_types.py fails until both are current.
# Usage (from anywhere): bash jupyter_ext/scripts/generate-types.sh
set -euo pipefail
ext="$(cd "$(dirname "$0")/.." && pwd)"
root="$(dirname "$ext")"
python="${PYTHON:-$root/.venv/bin/python}"

# The schema as served with PostgreSQL (the production database: integer bounds follow the backend).
# Nothing connects to it; tests/jupyter/test_api_types.py generates it the same way.
(cd "$root" && DJANGO_SETTINGS_MODULE=config.settings_test DATABASE_URL="postgres://schema-only@127.0.0.1:9/none" \
  "$python" manage.py spectacular --format openapi-json --file "$ext/openapi.json")

cd "$ext"
if [ ! -x node_modules/.bin/openapi-typescript ]; then
  jlpm="${JLPM:-$root/.venv/bin/jlpm}"
  "$jlpm" install
fi
node_modules/.bin/openapi-typescript openapi.json --output src/api-types.ts
echo "wrote $ext/openapi.json and $ext/src/api-types.ts"
