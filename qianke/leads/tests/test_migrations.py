"""The shipped taxonomy (migration 0002) and the hand-over of the 潜客信息卡's source fields (0003)."""

import importlib

import pytest
from django.apps import apps

from qianke.core.models import CustomFieldDefinition
from qianke.customers.models import Customer
from qianke.leads.models import CollectionMethod, CustomerOrigin, InformationSource, Source
from qianke.leads.seed import COLLECTION_METHODS, INFORMATION_SOURCES, SOURCE_TREE, SUPERSEDED_CUSTOM_KEYS
from qianke.leads.selectors import source_labels

supersede = importlib.import_module("qianke.leads.migrations.0003_supersede_lead_card_source_fields")


@pytest.mark.django_db
def test_seed_source_tree_is_the_cards_taxonomy():
    roots = list(Source.objects.filter(parent=None).order_by("order"))
    assert [r.name for r in roots] == ["展厅客源", "续购客源", "介绍客源", "外拓客源"]
    for root, (name, children) in zip(roots, SOURCE_TREE, strict=True):
        assert root.name == name and root.depth == 0 and root.path == f"/{root.pk}/" and root.active
        kids = list(root.children.order_by("order"))
        assert [k.name for k in kids] == children
        assert all(k.depth == 1 and k.path == f"{root.path}{k.pk}/" for k in kids)
    assert Source.objects.get(name="零服推荐").parent.name == "介绍客源"
    labels = source_labels()
    assert labels[Source.objects.get(name="来店").pk] == "展厅客源 › 来店"


@pytest.mark.django_db
def test_information_sources_and_collection_methods_are_seeded():
    assert list(InformationSource.objects.values_list("name", flat=True)) == INFORMATION_SOURCES
    assert "114" in INFORMATION_SOURCES and "户外广告" in INFORMATION_SOURCES
    methods = dict(CollectionMethod.objects.values_list("code", "name"))
    assert len(methods) == len(COLLECTION_METHODS) == 12
    assert methods["canvassing"] == "扫荡法"
    assert methods["referral"].startswith("猎犬法")
    assert methods["personal_relations"].startswith("缘故法")
    assert "展会" in methods["exhibition"] and "114" in methods["public_directory"]


@pytest.mark.django_db
def test_seed_is_idempotent():
    from qianke.leads.seed import create_taxonomy

    before = (Source.objects.count(), InformationSource.objects.count(), CollectionMethod.objects.count())
    create_taxonomy(Source, InformationSource, CollectionMethod)
    assert (Source.objects.count(), InformationSource.objects.count(), CollectionMethod.objects.count()) == before


@pytest.mark.django_db
def test_lead_card_source_fields_are_deactivated():
    definitions = CustomFieldDefinition.objects.filter(model="customer", key__in=SUPERSEDED_CUSTOM_KEYS)
    assert definitions.count() == 3
    assert not definitions.filter(active=True).exists()
    # the rest of the card stays
    assert CustomFieldDefinition.objects.get(key="purchase_type").active


@pytest.mark.django_db
def test_stored_card_answers_move_into_customer_origins(org, src, info):
    def stored(name, custom):
        c = Customer.objects.create(code=f"T{Customer.objects.count() + 1}", name=name, kind="individual",
                                    owner=org.rep, custom=custom, created_by=org.rep)
        return c

    a = stored("甲", {"structural_source": "展厅客源", "first_source": "来店", "information_source": ["路过", "网络"]})
    b = stored("乙", {"structural_source": "外拓客源"})
    c = stored("丙", {"first_source": "中介"})
    d = stored("丁", {"first_source": "不存在"})
    e = stored("戊", {"budget": 10})
    CustomFieldDefinition.objects.filter(key__in=SUPERSEDED_CUSTOM_KEYS).update(active=True)

    supersede.forwards(apps, None)

    origins = {o.customer_id: o for o in CustomerOrigin.objects.all()}
    assert origins[a.pk].source == src("来店") and origins[a.pk].information_source == info("路过")
    assert origins[a.pk].recorded_by == org.rep
    assert origins[b.pk].source == src("外拓客源") and origins[b.pk].information_source is None
    assert origins[c.pk].source == src("中介")
    assert d.pk not in origins and e.pk not in origins
    assert not CustomFieldDefinition.objects.filter(key__in=SUPERSEDED_CUSTOM_KEYS, active=True).exists()
    a.refresh_from_db()
    assert a.custom["first_source"] == "来店"  # the answer stays in custom

    supersede.forwards(apps, None)  # a second run adds nothing
    assert CustomerOrigin.objects.count() == 3
    supersede.backwards(apps, None)
    assert CustomFieldDefinition.objects.filter(key__in=SUPERSEDED_CUSTOM_KEYS, active=True).count() == 3
