"""Canonical names and name search tokens in simplified characters (core.normalize: 騰訊 → 腾讯).

Only customers with a traditional character in a name change: their name_norm is computed again, and
the search entry of each active one (whose own names or contacts' names have such a character) is
rebuilt by customers.services.customer_search_document. One pass over the customers and one over the
contacts in id ranges (two columns of text read per row, a set lookup per character), then the few
changed rows written in batches that commit on their own (not atomic; running it again finds nothing
left to change).
"""

from django.db import migrations, transaction

BATCH = 10_000
WRITE_BATCH = 2_000


def _traditional(text: str | None) -> bool:
    from qianke.core import normalize

    return bool(text) and not normalize._traditional_characters().isdisjoint(normalize.to_halfwidth(text))


def _rows(model, columns: tuple[str, ...], **filters):
    """(pk, *columns) of every row, read in primary-key ranges of BATCH rows."""
    last = 0
    while True:
        rows = list(model.objects.filter(pk__gt=last, **filters).order_by("pk").values_list("pk", *columns)[:BATCH])
        if not rows:
            return
        last = rows[-1][0]
        yield from rows


def _update(connection, table: str, key: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """rows: (key, *values); one statement per batch on PostgreSQL, executemany on SQLite."""
    for start in range(0, len(rows), WRITE_BATCH):
        batch = rows[start:start + WRITE_BATCH]
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                arrays = ", ".join(f"unnest(%s::text[]) AS {c}" for c in columns)
                assignments = ", ".join(f"{c} = v.{c}" for c in columns)
                cursor.execute(
                    f"UPDATE {table} t SET {assignments} FROM (SELECT unnest(%s::bigint[]) AS k, {arrays}) v "
                    f"WHERE t.{key} = v.k",
                    [[r[0] for r in batch], *([r[i + 1] for r in batch] for i in range(len(columns)))],
                )
            else:
                assignments = ", ".join(f"{c} = %s" for c in columns)
                cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {key} = %s",
                                   [(*r[1:], r[0]) for r in batch])


def forwards(apps, schema_editor):
    from qianke.core import normalize

    Customer = apps.get_model("customers", "Customer")
    Contact = apps.get_model("customers", "Contact")
    connection = schema_editor.connection
    names: list[tuple[int, str]] = []
    rebuild: set[int] = set()
    for pk, kind, name, short_name, name_norm, archived_at in _rows(
            Customer, ("kind", "name", "short_name", "name_norm", "archived_at")):
        if _traditional(name):
            canonical = (normalize.normalize_company_name(name) if kind == "organization"
                         else normalize.normalize_person_name(name))
            if canonical != name_norm:
                names.append((pk, canonical))
        if archived_at is None and (_traditional(name) or _traditional(short_name)):
            rebuild.add(pk)
    for _pk, customer_id, name in _rows(Contact, ("customer_id", "name"), archived_at__isnull=True):
        if _traditional(name):
            rebuild.add(customer_id)
    _update(connection, Customer._meta.db_table, "id", ("name_norm",), names)
    rebuild_search_entries(apps, connection, rebuild)


def rebuild_search_entries(apps, connection, customer_ids) -> None:
    """The search entries of these customers (the active ones that have one) computed again by
    customers.services.customer_search_document, in batches. Migration 0012 uses it too."""
    from qianke.customers.services import customer_search_document

    Customer = apps.get_model("customers", "Customer")
    Contact = apps.get_model("customers", "Contact")
    CustomerSearch = apps.get_model("customers", "CustomerSearch")
    ids = sorted(customer_ids)
    for start in range(0, len(ids), WRITE_BATCH):
        batch = ids[start:start + WRITE_BATCH]
        contacts: dict[int, list] = {}
        for contact in Contact.objects.filter(customer_id__in=batch, archived_at__isnull=True).order_by("id"):
            contacts.setdefault(contact.customer_id, []).append(contact)
        indexed = set(CustomerSearch.objects.filter(customer_id__in=batch).values_list("customer_id", flat=True))
        entries = []
        for customer in Customer.objects.filter(pk__in=indexed, archived_at__isnull=True):
            doc = customer_search_document(customer, contacts.get(customer.pk, []))
            entries.append((customer.pk, doc.names, doc.pinyin, doc.digits, doc.other))
        _update(connection, CustomerSearch._meta.db_table, "customer_id", ("names", "pinyin", "digits", "other"),
                entries)


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("customers", "0010_customer_credit_code")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
