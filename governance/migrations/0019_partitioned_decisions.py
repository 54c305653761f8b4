"""The decision log partitioned by project, then by month of `occurred_at` (PostgreSQL; registry/partitions.py):
the existing table's rows move into one partition per project and month they fall in, up to this month and the
next three; columns,
identity, foreign keys, indexes and the drift-count triggers stay as they were. PostgreSQL needs the partition
key in every unique constraint, so the primary key becomes (id, project, occurred_at) and the idempotency constraint
(project, model version, request id, occurred_at), the project leading as a Citus deployment distributing by
project needs: the same request id at another time is another decision (governance.services.decisions).
SQLite keeps one table and takes the new constraint as it is."""

from django.db import migrations, models

from registry.partitions import convert

TABLE = "governance_decision"
UNIQUE = ("project_id", "model_version_id", "request_id", "occurred_at")


def new_constraint():
    return models.UniqueConstraint(
        fields=("project", "model_version", "request_id", "occurred_at"), name="decision_version_request"
    )


def partition(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        convert(
            schema_editor,
            TABLE,
            column="occurred_at",
            primary_key=("id", "project_id", "occurred_at"),
            uniques={"decision_version_request": UNIQUE},
        )
        return
    decision = apps.get_model("governance", "Decision")
    schema_editor.remove_constraint(
        decision, models.UniqueConstraint(fields=("model_version", "request_id"), name="decision_version_request")
    )
    schema_editor.add_constraint(decision, new_constraint())


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0018_evidence_packs"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(partition, migrations.RunPython.noop)],
            state_operations=[
                migrations.RemoveConstraint(model_name="decision", name="decision_version_request"),
                migrations.AddConstraint(model_name="decision", constraint=new_constraint()),
            ],
        ),
    ]
