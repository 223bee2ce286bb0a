"""Search entries get pinyin syllable pairs (core.normalize.syllable_pairs): a query of whole
syllables (zhouxing) is now looked up by those pairs, so every existing entry's pinyin column is
recomputed from the names it holds, in batches that commit on their own (not atomic; running it again
recomputes the same text). PostgreSQL then compacts the table (VACUUM FULL).
"""

from django.db import migrations, transaction

BATCH = 2_000


def forwards(apps, schema_editor):
    from qianke.core import normalize
    from qianke.dataio.fastpinyin import word_pinyin

    Customer = apps.get_model("customers", "Customer")
    Contact = apps.get_model("customers", "Contact")
    CustomerSearch = apps.get_model("customers", "CustomerSearch")
    connection = schema_editor.connection
    last = 0
    with word_pinyin():
        while True:
            ids = list(CustomerSearch.objects.filter(customer_id__gt=last).order_by("customer_id")
                       .values_list("customer_id", flat=True)[:BATCH])
            if not ids:
                break
            last = ids[-1]
            names = {pk: [name, short] for pk, name, short in
                     Customer.objects.filter(pk__in=ids).values_list("pk", "name", "short_name")}
            for customer_id, name in (Contact.objects.filter(customer_id__in=ids, archived_at__isnull=True)
                                      .order_by("id").values_list("customer_id", "name")):
                names[customer_id].append(name)
            pinyin = {pk: normalize.search_document(names=n, phones=[], others=[]).pinyin for pk, n in names.items()}
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute(
                        "UPDATE customers_customersearch s SET pinyin = v.pinyin "
                        "FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::text[]) AS pinyin) v "
                        "WHERE s.customer_id = v.id",
                        [list(pinyin), list(pinyin.values())],
                    )
                else:
                    cursor.executemany("UPDATE customers_customersearch SET pinyin = %s WHERE customer_id = %s",
                                       [(text, pk) for pk, text in pinyin.items()])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Every row was rewritten: compact the table again (searches read it in id order). VACUUM
            # cannot run inside a transaction (a test calls this in one).
            cursor.execute("ANALYZE customers_customersearch" if connection.in_atomic_block
                           else "VACUUM FULL ANALYZE customers_customersearch")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("customers", "0008_search_index_expressions")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
