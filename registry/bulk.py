"""Idempotent bulk insert: COPY into a staging table, then INSERT ... ON CONFLICT DO NOTHING.

PostgreSQL only; callers keep a `bulk_create(ignore_conflicts=True)` path for SQLite.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection
from psycopg import sql


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def copy_insert_ignore(
    *,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    conflict: Sequence[str],
    returning: Sequence[str] = (),
) -> int | list[tuple]:
    """Insert rows, skipping those that collide on `conflict`; returns how many were inserted, or,
    given `returning` columns, those columns of the inserted rows.

    Must run inside a transaction (the staging table is dropped at commit).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("copy_insert_ignore must run inside transaction.atomic()")
    stage = sql.Identifier(f"stage_{table}")
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # the psycopg cursor under Django's wrapper
        cursor.execute(
            sql.SQL("CREATE TEMP TABLE {stage} ON COMMIT DROP AS SELECT {cols} FROM {table} WITH NO DATA").format(
                stage=stage, cols=cols, table=sql.Identifier(table)
            )
        )
        with cursor.copy(sql.SQL("COPY {stage} ({cols}) FROM STDIN").format(stage=stage, cols=cols)) as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            sql.SQL(
                "INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage} ON CONFLICT ({conflict}) DO NOTHING{ret}"
            ).format(
                table=sql.Identifier(table),
                cols=cols,
                stage=stage,
                conflict=sql.SQL(", ").join(sql.Identifier(c) for c in conflict),
                ret=sql.SQL(" RETURNING {}").format(sql.SQL(", ").join(sql.Identifier(c) for c in returning))
                if returning
                else sql.SQL(""),
            )
        )
        inserted = cursor.fetchall() if returning else cursor.rowcount
        cursor.execute(sql.SQL("DROP TABLE {stage}").format(stage=stage))
    return inserted
