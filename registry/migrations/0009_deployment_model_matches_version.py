"""A deployment's denormalised `model` is its version's model, held by the database: on PostgreSQL a composite
foreign key (model_version_id, model_id) -> registry_modelversion (id, model_id), so an insider who points a
deployment at another model (to slip past "one live direct deployment per model and environment") is refused.
SQLite cannot add a constraint to an existing table; there Deployment.save fills the column from the version."""

from django.db import migrations, models

ADD = """
ALTER TABLE registry_deployment ADD CONSTRAINT deployment_model_matches_version
FOREIGN KEY (model_version_id, model_id) REFERENCES registry_modelversion (id, model_id)
"""
DROP = "ALTER TABLE registry_deployment DROP CONSTRAINT deployment_model_matches_version"


def add_foreign_key(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ADD)


def drop_foreign_key(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("registry", "0008_append_only_truncate")]

    operations = [
        migrations.AddConstraint(
            model_name="modelversion",
            constraint=models.UniqueConstraint(fields=("id", "model"), name="modelversion_id_model"),
        ),
        migrations.RunPython(add_foreign_key, drop_foreign_key),
    ]
