#!/usr/bin/env bash
# The whole suite on PostgreSQL, then the tests marked `sqlite` again on SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/with_db.sh bash -c '
  set -euo pipefail
  echo "== pytest on PostgreSQL (${DATABASE_URL%%@*}@...)"
  python -m pytest "$@"
  echo "== pytest -m sqlite on SQLite"
  DATABASE_URL="sqlite:///$PWD/var/test.sqlite3" python -m pytest -m sqlite "$@"
' test.sh "$@"
