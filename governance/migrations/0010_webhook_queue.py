"""Issue 11, isolation: the role groups are synced again (registry/roles.py), now that the ingest role has no
admin view permission (the API answers its reads of decisions and LLM calls with 403). Webhook deliveries
need no schema change to be queued: the pending rows and their due index exist since 0006."""

from django.db import migrations

from registry.roles import sync_role_groups


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0009_outcome_versions"),
        ("llmops", "0002_prompt_versions_immutable_role_groups"),
    ]

    operations = [migrations.RunPython(sync_role_groups, migrations.RunPython.noop)]
