"""Full-text index over CustomerSearch: FTS5 on SQLite, a GIN-indexed tsvector on PostgreSQL."""

from django.db import migrations


def forwards(apps, schema_editor):
    from qianke.customers import search

    statements = search.PG_SETUP if schema_editor.connection.vendor == "postgresql" else search.SQLITE_SETUP
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    from qianke.customers import search

    statements = search.PG_TEARDOWN if schema_editor.connection.vendor == "postgresql" else search.SQLITE_TEARDOWN
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
