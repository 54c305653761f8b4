"""The audit trail cannot be emptied or rewound: on PostgreSQL a statement trigger refuses TRUNCATE of the trail,
of its chain head and of the stage transitions (row triggers do not fire on TRUNCATE, so 0004 left it open), and
row triggers refuse a DELETE of the chain head or an UPDATE that moves it back (a lower seq, or another hash at
the same seq), so the head cannot be reset to genesis after the events are gone."""

from django.db import migrations

TRUNCATE_FUNCTION = """
CREATE OR REPLACE FUNCTION append_only_refuse_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: TRUNCATE refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
"""
HEAD_FUNCTION = """
CREATE OR REPLACE FUNCTION registry_auditchainhead_forward_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'registry_auditchainhead: DELETE refused' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.id <> OLD.id OR NEW.seq < OLD.seq OR (NEW.seq = OLD.seq AND NEW.hash <> OLD.hash) THEN
        RAISE EXCEPTION 'registry_auditchainhead only moves forward: UPDATE refused'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""
HEAD_TRIGGER = """
CREATE TRIGGER registry_auditchainhead_forward_only
BEFORE UPDATE OR DELETE ON registry_auditchainhead
FOR EACH ROW EXECUTE FUNCTION registry_auditchainhead_forward_only();
"""
TABLES = ("registry_auditevent", "registry_auditchainhead", "registry_stagetransition")


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
    schema_editor.execute(HEAD_FUNCTION, params=None)
    schema_editor.execute(HEAD_TRIGGER, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "DROP TRIGGER IF EXISTS registry_auditchainhead_forward_only ON registry_auditchainhead", params=None
    )
    schema_editor.execute("DROP FUNCTION IF EXISTS registry_auditchainhead_forward_only()", params=None)
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}", params=None)
    # the function is shared with the other apps' append-only tables: it stays while any trigger uses it


class Migration(migrations.Migration):
    dependencies = [("registry", "0007_apikey_owner_deployment_rules")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
