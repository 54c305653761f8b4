"""`log_partition_create(log, project, month)`: creates a project's month of a partitioned log (and the project's
part when it has none), as the tables' owner (SECURITY DEFINER), so that the service's own role, which may not
create tables, still gets the partition a new project or a backfilled month needs (registry/partitions.py).
It creates nothing else: the log must be one of those named here, the project must exist and the month must be
a month; it takes the log's creation lock and answers false when the partition exists already."""

from django.db import migrations

FUNCTION = r"""
CREATE OR REPLACE FUNCTION log_partition_create(p_log text, p_project bigint, p_month date) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    schema text := %(schema)s;
    range_column text := CASE p_log
        WHEN 'governance_decision' THEN 'occurred_at'
        WHEN 'governance_outcomeversion' THEN 'decision_occurred_at'
    END;
    found boolean;
    project_part text := p_log || '_j' || p_project;
    month_part text := p_log || '_j' || p_project || '_p' || to_char(p_month, 'YYYYMM');
BEGIN
    IF range_column IS NULL THEN
        RAISE EXCEPTION '%% is not a partitioned log', p_log USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_month IS NULL OR p_month <> date_trunc('month', p_month)::date
        OR p_month < date '1970-01-01' OR p_month > date '9999-11-01' THEN
        RAISE EXCEPTION '%% is not the first day of a month', p_month USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = schema AND c.relname = p_log) THEN
        RAISE EXCEPTION '%% is not a partitioned log here', p_log USING ERRCODE = 'invalid_parameter_value';
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %%I.registry_project WHERE id = $1)', schema) INTO found USING p_project;
    IF NOT found THEN
        RAISE EXCEPTION 'project %% does not exist', p_project USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('partitions:' || p_log));
    IF to_regclass(format('%%I.%%I', schema, month_part)) IS NOT NULL THEN
        RETURN false;
    END IF;
    IF to_regclass(format('%%I.%%I', schema, project_part)) IS NULL THEN
        EXECUTE format('CREATE TABLE %%I.%%I PARTITION OF %%I.%%I FOR VALUES IN (%%s) PARTITION BY RANGE (%%I)',
                       schema, project_part, schema, p_log, p_project, range_column);
    END IF;
    EXECUTE format('CREATE TABLE %%I.%%I PARTITION OF %%I.%%I FOR VALUES FROM (%%L) TO (%%L)',
                   schema, month_part, schema, project_part,
                   to_char(p_month, 'YYYY-MM-DD') || ' 00:00:00+00',
                   to_char(p_month + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00');
    RETURN true;
END
$$
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT quote_literal(current_schema())")  # the schema the tables live in, fixed
            (schema,) = cursor.fetchone()
        schema_editor.execute(FUNCTION % {"schema": schema}, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS log_partition_create(text, bigint, date)", params=None)


class Migration(migrations.Migration):
    dependencies = [("governance", "0020_retention")]

    operations = [migrations.RunPython(create, drop)]
