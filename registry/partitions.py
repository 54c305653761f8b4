"""Partitions of the append-only logs (PostgreSQL declarative partitioning): a log is split by project
(`PARTITION BY LIST (project_id)`, one table `<log>_j<project>` each) and each project's part by calendar month
in UTC of the row's time (`PARTITION BY RANGE`, one table `<log>_j<project>_pYYYYMM` each). Retention is a
project's policy, so what it removes is one project's month: it drops that table (no DELETE, no bloat, under a
second whatever its size), and a query over one project and a window reads only the months it covers. The
project level is also the one a Citus deployment distributes by.

Partitions are created ahead by the maintenance job (`months_ahead`) and, for rows of a project or month that
has none (a new project, a backfill of old decisions), by the writer before its transaction (`ensure`), in a
short transaction of its own: creating a partition takes an exclusive lock on its parent, which inside a long
ingest transaction would queue every other writer behind it. Both go through the database function
`log_partition_create` (governance 0021), which runs as the tables' owner under the log's advisory lock: the
service's own role may not create tables (README, "The database role of a deployment"); dropping a month stays
the owner's, for retention run with the owner's credentials. There is no default
partition: a row without its partition is refused by PostgreSQL rather than kept where retention cannot see it.

SQLite has no partitions: every function here answers as if each log were one table, and writers need not care.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import connection, transaction
from psycopg import sql

from registry import bulk

MONTHS_AHEAD = 3
LEAF = re.compile(r"_j(\d+)_p(\d{4})(\d{2})$")

Key = tuple[int, date]  # (project id, first day of the month)


def month_of(moment: datetime) -> date:
    """The first day of the UTC calendar month holding `moment`."""
    moment = moment.astimezone(UTC)
    return date(moment.year, moment.month, 1)


def next_month(month: date) -> date:
    return add_months(month, 1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def project_partition_name(table: str, project_id: int) -> str:
    return f"{table}_j{project_id}"


def partition_name(table: str, project_id: int, month: date) -> str:
    return f"{table}_j{project_id}_p{month.year:04d}{month.month:02d}"


def statement(template: str, **names: str) -> str:
    """A statement with its identifiers quoted by psycopg (`{table}` in the template names an identifier)."""
    composed = sql.SQL(template).format(**{key: sql.Identifier(value) for key, value in names.items()})
    return composed.as_string(connection.connection)


@dataclass(frozen=True)
class Partition:
    """One project's month of a log."""

    table: str
    project_id: int
    month: date
    rows_estimate: int

    @property
    def name(self) -> str:
        return partition_name(self.table, self.project_id, self.month)

    @property
    def key(self) -> Key:
        return (self.project_id, self.month)


def is_partitioned(table: str) -> bool:
    if not bulk.is_postgresql():
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [table])
        return cursor.fetchone() is not None


def partitioned_tables() -> list[str]:
    """Every log of the database partitioned here, by name (the partitioned tables that are no one's part)."""
    if not bulk.is_postgresql():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND NOT c.relispartition "
            "ORDER BY c.relname"
        )
        return [row[0] for row in cursor.fetchall()]


def partitions(table: str, *, project_id: int | None = None) -> list[Partition]:
    """The log's month partitions (of one project, given one), by project then month; none on SQLite."""
    if not bulk.is_postgresql():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.reltuples FROM pg_partition_tree(to_regclass(%s)) t "
            "JOIN pg_class c ON c.oid = t.relid WHERE t.isleaf",
            [table],
        )
        found = []
        for name, tuples in cursor.fetchall():
            match = LEAF.search(name)
            if not match:
                continue
            project, month = int(match[1]), date(int(match[2]), int(match[3]), 1)
            if name == partition_name(table, project, month) and project_id in (None, project):
                found.append(Partition(table, project, month, max(int(tuples), 0)))
    return sorted(found, key=lambda partition: partition.key)


def ensure(table: str, keys: Iterable[Key]) -> list[Key]:
    """Create the partitions of the (project, month) keys that do not exist yet; answers the keys created. Runs
    in a transaction of its own when called outside one (the writers call it before theirs)."""
    wanted = set(keys)
    if not wanted or not is_partitioned(table):
        return []
    if not wanted - {partition.key for partition in partitions(table)}:
        return []
    created = []
    with transaction.atomic(), connection.cursor() as cursor:
        for project_id, month in sorted(wanted - {partition.key for partition in partitions(table)}):
            # the database's own function (governance 0021), as the table owner: the service's role may not
            # create tables; it takes the log's creation lock and looks again first
            cursor.execute("SELECT log_partition_create(%s, %s, %s)", [table, project_id, month])
            if cursor.fetchone()[0]:
                created.append((project_id, month))
    return created


def months_ahead(table: str, *, project_ids: Iterable[int], now: datetime, ahead: int = MONTHS_AHEAD) -> list[Key]:
    """Make sure each project has this month and the `ahead` months after it (the maintenance job)."""
    first = month_of(now)
    return ensure(table, [(project, add_months(first, step)) for project in project_ids for step in range(ahead + 1)])


def drop(table: str, project_id: int, month: date) -> None:
    """Drop one project's month. Call inside the transaction that records its seal."""
    if not connection.in_atomic_block:
        raise RuntimeError("partitions.drop must run inside transaction.atomic()")
    with connection.cursor() as cursor:
        cursor.execute(statement("DROP TABLE {partition}", partition=partition_name(table, project_id, month)))


def _project_statement(table: str, project_id: int, column: str) -> str:
    return statement(
        "CREATE TABLE {partition} PARTITION OF {table} FOR VALUES IN (" + str(int(project_id)) + ") "
        "PARTITION BY RANGE ({column})",
        partition=project_partition_name(table, project_id),
        table=table,
        column=column,
    )


def _month_statement(table: str, project_id: int, month: date) -> str:
    start, end = month.isoformat(), next_month(month).isoformat()
    return statement(
        "CREATE TABLE {partition} PARTITION OF {parent} "
        f"FOR VALUES FROM ('{start} 00:00:00+00') TO ('{end} 00:00:00+00')",
        partition=partition_name(table, project_id, month),
        parent=project_partition_name(table, project_id),
    )


def create_in_migration(schema_editor, table: str, *, column: str, keys: Iterable[Key]) -> None:
    """Create these (project, month) partitions of a log partitioned by `convert` (a migration's step, as the
    owner, before `log_partition_create` exists)."""
    existing = {partition.key for partition in partitions(table)}
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [table],
        )
        projects = {row[0] for row in cursor.fetchall()}
    for project_id, month in sorted(set(keys) - existing):
        if project_partition_name(table, project_id) not in projects:
            schema_editor.execute(_project_statement(table, project_id, column))
            projects.add(project_partition_name(table, project_id))
        schema_editor.execute(_month_statement(table, project_id, month))


def convert(schema_editor, table: str, *, column: str, primary_key: Sequence[str], uniques: dict) -> None:
    """Turn an existing table into one partitioned by project, then by month of `column`, moving its rows (a
    migration's step; the table must have a `project_id`).

    Keeps the columns, defaults, identity, foreign keys, check constraints, indexes and triggers; the primary
    key becomes `primary_key` and each unique constraint named in `uniques` gets the given columns (PostgreSQL
    requires both partition keys in each). Refuses a table another table's foreign key refers to.
    """
    execute = schema_editor.execute
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE confrelid = to_regclass(%s) AND conrelid <> confrelid", [table]
        )
        if referring := [row[0] for row in cursor.fetchall()]:
            raise RuntimeError(f"{table} cannot be partitioned: referred to by {', '.join(referring)}")
        cursor.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = to_regclass(%s) AND contype IN ('p', 'u', 'f', 'c') ORDER BY contype, conname",
            [table],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(%s))",
            [table, table],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
            "WHERE tgrelid = to_regclass(%s) AND NOT tgisinternal",
            [table],
        )
        triggers = cursor.fetchall()
        cursor.execute(
            statement(
                "SELECT DISTINCT project_id, date_trunc('month', {column} AT TIME ZONE 'UTC')::date FROM {table}",
                column=column,
                table=table,
            )
        )
        keys = set(cursor.fetchall())
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        (sequence,) = cursor.fetchone()

    old = f"{table}_unpartitioned"
    execute(statement("ALTER TABLE {table} RENAME TO {old}", table=table, old=old))
    for name, _ in indexes:
        execute(statement("DROP INDEX {name}", name=name))
    for name, kind, _ in constraints:
        if kind in ("p", "u"):
            execute(statement("ALTER TABLE {old} DROP CONSTRAINT {name}", old=old, name=name))
    identity = " INCLUDING IDENTITY" if sequence else ""
    execute(
        statement(
            "CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS" + identity + " INCLUDING STORAGE) "
            "PARTITION BY LIST (project_id)",
            table=table,
            old=old,
        )
    )
    execute(
        statement("COMMENT ON TABLE {table} IS %s", table=table),
        params=[f"partitioned by project, then month of {column}"],
    )
    this = month_of(datetime.now(UTC))
    for project_id in sorted({project for project, _ in keys}):
        execute(_project_statement(table, project_id, column))
        months = {month for project, month in keys if project == project_id}
        month = min(months)
        while month <= max(max(months), add_months(this, MONTHS_AHEAD)):
            execute(_month_statement(table, project_id, month))
            month = next_month(month)
    execute(statement("INSERT INTO {table} OVERRIDING SYSTEM VALUE SELECT * FROM {old}", table=table, old=old))
    if sequence:
        execute(
            statement(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                "(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)",
                table=table,
            ),
            params=[table],
        )
    for name, kind, definition in constraints:
        if kind == "p":
            definition = f"PRIMARY KEY ({', '.join(primary_key)})"
        elif kind == "u" and name in uniques:
            definition = f"UNIQUE ({', '.join(uniques[name])})"
        elif kind == "u":
            raise RuntimeError(f"{table}: unique constraint {name} needs its partitioned columns")
        execute(statement("ALTER TABLE {table} ADD CONSTRAINT {name} ", table=table, name=name) + definition)
    # both were read under the table's own name, which is now the partitioned table's
    for _, definition in indexes:
        execute(definition)
    for _, definition in triggers:
        execute(definition)
    execute(statement("DROP TABLE {old}", old=old))
