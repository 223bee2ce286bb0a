"""PostgreSQL: one stripped tsvector per token column instead of one weighted tsvector.

GIN answers an AND of grams over a tsvector without positions or weights exactly; the weighted
tsvector made it recheck every candidate row (bench/search.py, docs/benchmarks.md). Existing
databases are converted: the old column and index are dropped, the new columns filled by the
trigger and indexed afterwards. SQLite keeps its FTS5 table. Not atomic, so that VACUUM can run.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from qianke.customers import search

    for sql in search.PG_UPGRADE:
        schema_editor.execute(sql)
    schema_editor.execute("VACUUM ANALYZE customers_customersearch")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("customers", "0005_alter_contact_created_by_alter_customer_created_by")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
