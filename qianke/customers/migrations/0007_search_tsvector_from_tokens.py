"""PostgreSQL: the search trigger builds its tsvectors with array_to_tsvector instead of to_tsvector.

The value is the same for the index's tokens (only [0-9a-z] and CJK, single spaces), so existing
rows keep theirs; only the function is replaced. It costs a third as much per row (bench/demo_load.py).
"""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from qianke.customers import search

    schema_editor.execute(search.PG_TSV_FUNCTION)


class Migration(migrations.Migration):
    dependencies = [("customers", "0006_search_index_per_column")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
