from django.db import migrations


def forwards(apps, schema_editor):
    from qianke.leads.seed import create_taxonomy

    create_taxonomy(apps.get_model("leads", "Source"), apps.get_model("leads", "InformationSource"),
                    apps.get_model("leads", "CollectionMethod"))


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
