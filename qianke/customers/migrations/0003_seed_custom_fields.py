"""Ship the seed's forms (潜在客户需求调查表, 潜客信息卡) as custom-field definitions."""

from django.db import migrations


def forwards(apps, schema_editor):
    from qianke.customers.seed_forms import create_seed_fields

    create_seed_fields(apps.get_model("core", "CustomFieldDefinition"))


def backwards(apps, schema_editor):
    from qianke.customers.seed_forms import delete_seed_fields

    delete_seed_fields(apps.get_model("core", "CustomFieldDefinition"))


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("customers", "0002_search_index"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
