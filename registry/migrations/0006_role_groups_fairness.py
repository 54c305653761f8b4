from django.db import migrations

from registry.roles import sync_role_groups


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0005_role_groups_audit_erasure"),
        ("governance", "0006_webhooks"),
    ]

    operations = [migrations.RunPython(sync_role_groups, migrations.RunPython.noop)]
