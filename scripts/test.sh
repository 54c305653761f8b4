#!/usr/bin/env bash
# The whole suite on PostgreSQL, then the tests marked `sqlite` again on SQLite, then the JupyterLab
# sidebar's jest tests.
set -euo pipefail
cd "$(dirname "$0")/.."
# The sidebar's node_modules (openapi-typescript for tests/jupyter/test_api_types.py, and jest): a
# `pip install ./jupyter_ext` leaves them in the tree; otherwise they come from the committed yarn.lock.
[ -d jupyter_ext/node_modules ] || (cd jupyter_ext && jlpm install)
# The browser tests drive Debian's chromium (never a downloaded browser), which also prints the documentation
# packs to PDF; the PDF test reads its pages back with poppler's pdftoppm.
missing=""
command -v chromium >/dev/null 2>&1 || missing="chromium"
command -v pdftoppm >/dev/null 2>&1 || missing="$missing poppler-utils"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing Debian's $missing for the browser and PDF tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "$missing missing: the browser and PDF tests will fail until installed (apt-get install -y $missing)" >&2
  fi
fi
# The background-job tests (tests/registry/test_jobs_worker.py) run a real Celery worker against Redis on
# 127.0.0.1:6379 (database 5, TEST_REDIS_URL): started here when it does not answer (Debian's redis-server).
redis_answers() { (exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\r\n' >&3 && head -c 5 <&3 | grep -q PONG) 2>/dev/null; }
if ! redis_answers; then
  if ! command -v redis-server >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing Debian's redis-server for the background-job tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  fi
  if command -v redis-server >/dev/null 2>&1; then
    echo "== starting Redis on 127.0.0.1:6379 for the background-job tests"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    for _ in $(seq 1 20); do redis_answers && break; sleep 0.25; done
  else
    echo "redis-server missing: the background-job tests will fail until installed (apt-get install -y redis-server)" >&2
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
