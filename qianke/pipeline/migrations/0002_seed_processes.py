"""Ship the three process templates of seed 002 and the default win/loss reasons."""

from django.db import migrations


def forwards(apps, schema_editor):
    from qianke.pipeline.seed import create_templates

    create_templates(apps.get_model("pipeline", "Process"), apps.get_model("pipeline", "Stage"),
                     apps.get_model("pipeline", "ChecklistItem"), apps.get_model("pipeline", "DealReason"))


class Migration(migrations.Migration):

    dependencies = [
        ("pipeline", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
