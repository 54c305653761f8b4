#!/usr/bin/env bash
# The whole suite on PostgreSQL, then the tests marked `sqlite` again on SQLite, then the JupyterLab
# sidebar's jest tests.
set -euo pipefail
cd "$(dirname "$0")/.."
# The sidebar's node_modules (openapi-typescript for tests/jupyter/test_api_types.py, and jest): a
# `pip install ./jupyter_ext` leaves them in the tree; otherwise they come from the committed yarn.lock.
[ -d jupyter_ext/node_modules ] || (cd jupyter_ext && jlpm install)
# The JupyterLab sidebar's browser test drives Debian's chromium (never a downloaded browser).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing Debian's chromium for the browser test"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is missing: the browser test will fail until Debian's chromium is installed (apt-get install -y chromium)" >&2
  fi
fi
bash scripts/with_db.sh bash -c '
  set -euo pipefail
  echo "== pytest on PostgreSQL (${DATABASE_URL%%@*}@...)"
  python -m pytest "$@"
  echo "== pytest -m sqlite on SQLite"
  DATABASE_URL="sqlite:///$PWD/var/test.sqlite3" python -m pytest -m sqlite "$@"
' test.sh "$@"
echo "== jest (JupyterLab sidebar components)"
(cd jupyter_ext && jlpm test)
