"""Prompt versions and label moves are history: on PostgreSQL a statement trigger refuses TRUNCATE of them, and
a row trigger refuses DELETE of a prompt version (0002 refuses UPDATE), so a version cannot be deleted and
inserted again with other messages under its id and hash. What a table owner can still do by switching the
triggers off, the records verify names (registry/records.py, llmops/integrity.py)."""

from django.db import migrations

TRUNCATE_FUNCTION = """
CREATE OR REPLACE FUNCTION append_only_refuse_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: TRUNCATE refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
"""
TABLES = ("llmops_promptversion", "llmops_promptlabelmove")


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(TRUNCATE_FUNCTION, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION append_only_refuse_truncate()",
            params=None,
        )
    schema_editor.execute(
        "CREATE TRIGGER llmops_promptversion_no_delete BEFORE DELETE ON llmops_promptversion "
        "FOR EACH ROW EXECUTE FUNCTION llmops_promptversion_immutable()",
        params=None,
    )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP TRIGGER IF EXISTS llmops_promptversion_no_delete ON llmops_promptversion", params=None)
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}", params=None)


class Migration(migrations.Migration):
    dependencies = [("llmops", "0002_prompt_versions_immutable_role_groups")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
