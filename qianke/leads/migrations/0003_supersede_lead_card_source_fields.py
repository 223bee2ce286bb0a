"""The 潜客信息卡's 客户来源 questions were custom fields (customers/0003); CustomerOrigin now holds them.

Forwards: copy stored answers into CustomerOrigin where they name a source (第一来源 first, else the
结构来源), take the first 信息来源 that names an information source, and deactivate the three
definitions. The answers stay in `custom` (a deactivated field keeps its values). Backwards: reactivate.
"""

from django.db import migrations
from django.db.models import Q

BATCH = 2000


def forwards(apps, schema_editor):
    from qianke.leads.seed import SUPERSEDED_CUSTOM_KEYS

    Definition = apps.get_model("core", "CustomFieldDefinition")
    Customer = apps.get_model("customers", "Customer")
    Source = apps.get_model("leads", "Source")
    InformationSource = apps.get_model("leads", "InformationSource")
    CustomerOrigin = apps.get_model("leads", "CustomerOrigin")

    roots = {s.name: s.pk for s in Source.objects.filter(depth=0)}
    firsts = {(s.parent_id, s.name): s.pk for s in Source.objects.filter(depth=1)}
    first_by_name: dict[str, list[int]] = {}
    for (_parent, name), pk in firsts.items():
        first_by_name.setdefault(name, []).append(pk)
    information = {s.name: s.pk for s in InformationSource.objects.all()}

    has_answer = Q()
    for key in SUPERSEDED_CUSTOM_KEYS:
        has_answer |= Q(custom__has_key=key)
    customers = (Customer.objects.filter(has_answer).filter(origin__isnull=True)
                 .values_list("pk", "custom", "created_at", "created_by_id"))
    batch = []
    for pk, custom, created_at, created_by_id in customers.iterator(chunk_size=BATCH):
        custom = custom or {}
        root_id = roots.get(custom.get("structural_source"))
        first = custom.get("first_source")
        source_id = firsts.get((root_id, first)) if root_id else None
        if source_id is None and first in first_by_name and len(first_by_name[first]) == 1:
            source_id = first_by_name[first][0]
        source_id = source_id or root_id
        if source_id is None:
            continue
        answers = custom.get("information_source") or []
        if isinstance(answers, str):
            answers = [answers]
        information_id = next((information[a] for a in answers if a in information), None)
        batch.append(CustomerOrigin(customer_id=pk, source_id=source_id, information_source_id=information_id,
                                    recorded_at=created_at, recorded_by_id=created_by_id))
        if len(batch) >= BATCH:
            CustomerOrigin.objects.bulk_create(batch)
            batch = []
    CustomerOrigin.objects.bulk_create(batch)
    Definition.objects.filter(model="customer", key__in=SUPERSEDED_CUSTOM_KEYS).update(active=False)


def backwards(apps, schema_editor):
    from qianke.leads.seed import SUPERSEDED_CUSTOM_KEYS

    apps.get_model("core", "CustomFieldDefinition").objects.filter(
        model="customer", key__in=SUPERSEDED_CUSTOM_KEYS).update(active=True)


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0002_seed_taxonomy"),
        ("customers", "0003_seed_custom_fields"),
        ("core", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
