"""Prompt versions are immutable: on PostgreSQL a trigger refuses UPDATE on them. And the role
groups get the llmops permissions (registry/roles.py)."""

from django.db import migrations

from registry.roles import sync_role_groups

FUNCTION = """
CREATE OR REPLACE FUNCTION llmops_promptversion_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'llmops_promptversion is immutable: register a new version'
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
"""
TRIGGER = """
CREATE TRIGGER llmops_promptversion_immutable
BEFORE UPDATE ON llmops_promptversion
FOR EACH ROW EXECUTE FUNCTION llmops_promptversion_immutable();
"""
DROP = """
DROP TRIGGER IF EXISTS llmops_promptversion_immutable ON llmops_promptversion;
DROP FUNCTION IF EXISTS llmops_promptversion_immutable();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, params=None)
        schema_editor.execute(TRIGGER, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("llmops", "0001_initial")]

    operations = [
        migrations.RunPython(create_trigger, drop_trigger),
        migrations.RunPython(sync_role_groups, migrations.RunPython.noop),
    ]
