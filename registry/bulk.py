"""Idempotent bulk insert: COPY into a staging table, then INSERT ... ON CONFLICT DO NOTHING.

PostgreSQL only; callers keep a `bulk_create(ignore_conflicts=True)` path for SQLite.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import psycopg
from django.db import connection
from psycopg import sql

from registry.errors import ServiceError


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
        try:
            with cursor.copy(sql.SQL("COPY {stage} ({cols}) FROM STDIN").format(stage=stage, cols=cols)) as copy:
                for row in rows:
                    copy.write_row(row)
        except psycopg.Error as exc:
            # PostgreSQL's message quotes the offending row ("COPY ..., line 3, column features: ..."): it may
            # hold a subject's personal values, so neither the error nor its cause may travel on to a log line.
            raise _copy_error(table, exc) from None
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


class CopyFailed(RuntimeError):
    """A COPY failed for a reason other than the data; carries the SQLSTATE only, never the row."""


def _copy_error(table: str, exc: psycopg.Error) -> Exception:
    if isinstance(exc, psycopg.errors.DataError):
        return ServiceError(f"a value could not be stored in {table} (SQLSTATE {exc.sqlstate})", code="invalid")
    return CopyFailed(f"COPY into {table} failed (SQLSTATE {exc.sqlstate})")
