#!/usr/bin/env bash
# Runs a command with DATABASE_URL pointing at a PostgreSQL that answers:
# the one in DATABASE_URL, else 127.0.0.1:5432, else a throwaway cluster under var/pg.
set -euo pipefail
cd "$(dirname "$0")/.."

answers() {
  python - "$1" <<'PY'
import sys
import psycopg
try:
    psycopg.connect(sys.argv[1], connect_timeout=3).close()
except Exception as exc:
    print(f"  {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}", file=sys.stderr)
    sys.exit(1)
PY
}

if [ -n "${DATABASE_URL:-}" ]; then
  if ! answers "$DATABASE_URL"; then
    echo "DATABASE_URL is set but the database does not answer." >&2
    exit 1
  fi
elif answers "postgres://postgres@127.0.0.1:5432/postgres" 2>/dev/null; then
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
else
  PG_BIN=""
  for dir in "" /usr/lib/postgresql/*/bin; do
    if [ -z "$dir" ] && command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
      PG_BIN="$(dirname "$(command -v initdb)")"; break
    elif [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
      PG_BIN="$dir"; break
    fi
  done
  if [ -z "$PG_BIN" ]; then
    echo "No PostgreSQL answers on 127.0.0.1:5432 and initdb/pg_ctl are not installed." >&2
    echo "Start PostgreSQL, set DATABASE_URL=postgres://USER@HOST:PORT/DB, or install the postgresql package." >&2
    exit 1
  fi
  PGDATA="$PWD/var/pg"; PGPORT=54329
  as_owner=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || { echo "initdb refuses to run as root and there is no postgres user" >&2; exit 1; }
    as_owner=(runuser -u postgres --)
  fi
  mkdir -p "$PGDATA" var/pg-run
  [ "$(id -u)" = 0 ] && chown postgres "$PGDATA" var/pg-run
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    echo "Starting a throwaway PostgreSQL cluster under var/pg (port $PGPORT)"
    "${as_owner[@]}" "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  "${as_owner[@]}" "$PG_BIN/pg_ctl" -D "$PGDATA" -o "-p $PGPORT -k $PWD/var/pg-run -c listen_addresses=127.0.0.1" \
    -l "$PWD/var/pg-run/postgres.log" -w start >/dev/null
  trap '"${as_owner[@]}" "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null' EXIT
  export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/postgres"
fi
"$@"
