"""PostgreSQL: GIN indexes over a tsvector expression of the token text instead of stored tsvectors.

The four tsvector columns, their trigger and indexes go; the table is rewritten (VACUUM FULL) to
about 40 % of its size, which is what searches read (search._pg_match_ids, docs/benchmarks.md).
On 1,000,000 customers this takes a few minutes. SQLite keeps its FTS5 table. Not atomic, so that
VACUUM can run.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from qianke.customers import search

    for sql in search.PG_DROP_LEGACY:
        schema_editor.execute(sql)
    schema_editor.execute("VACUUM FULL customers_customersearch")
    schema_editor.execute("SET maintenance_work_mem = '256MB'")
    for sql in search.PG_INDEXES:
        schema_editor.execute(sql)
    schema_editor.execute("RESET maintenance_work_mem")
    schema_editor.execute("ANALYZE customers_customersearch")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("customers", "0007_search_tsvector_from_tokens")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
