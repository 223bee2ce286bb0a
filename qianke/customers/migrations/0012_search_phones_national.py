"""Phone numbers typed with the country code (+86 10 6234 5678, 0086 138…) are indexed in their
national form too (core.normalize.national_number), which a search for 010-62345678 or 13800138000
gives. Only the search entries of active customers with such a number (their own or a contact's) are
rebuilt, as migration 0011 rebuilds them: one pass over the customers and one over the contacts in id
ranges, the few changed entries written in batches that commit on their own (not atomic).
"""

from importlib import import_module

from django.db import migrations

_names_simplified = import_module("qianke.customers.migrations.0011_names_simplified")


def _coded(*numbers: str | None) -> bool:
    from qianke.core import normalize

    return any(number and normalize.national_number(normalize.phone_digits(number)) for number in numbers)


def forwards(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    Contact = apps.get_model("customers", "Contact")
    rebuild = {pk for pk, phone, mobile, fax in _names_simplified._rows(
        Customer, ("phone", "mobile", "fax"), archived_at__isnull=True) if _coded(phone, mobile, fax)}
    rebuild.update(customer_id for _pk, customer_id, phone, mobile in _names_simplified._rows(
        Contact, ("customer_id", "phone", "mobile"), archived_at__isnull=True) if _coded(phone, mobile))
    _names_simplified.rebuild_search_entries(apps, schema_editor.connection, rebuild)


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("customers", "0011_names_simplified")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
