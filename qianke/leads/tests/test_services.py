"""origin_set and the source-tree services: validation, visibility, cycles, audit."""

import pytest

from qianke.core.errors import NotFound, PermissionDenied, ValidationFailed
from qianke.core.models import AuditLog
from qianke.customers.selectors import customer_history
from qianke.leads.models import CustomerOrigin, Source
from qianke.leads.services import customer_create_with_origin, origin_set, source_create, source_update


def test_origin_set_records_and_audits_on_the_customer(org, make_customer, src, info, method):
    c = make_customer(org.rep)
    origin = origin_set(actor=org.rep, customer_id=c.pk, data={
        "source": src("来店").pk, "information_source": info("路过").pk, "collection_method": method("canvassing").pk})
    assert origin.customer == c and origin.recorded_by == org.rep
    assert c.origin.source.name == "来店"
    entry = AuditLog.objects.get(object_type="customerorigin", customer_id=c.pk)
    assert entry.action == "create" and entry.changes["source"][1]["repr"] == "来店"
    assert entry in customer_history(user=org.rep, customer_id=c.pk)

    origin_set(actor=org.rep, customer_id=c.pk, data={"source": src("来电").pk})
    update = AuditLog.objects.get(object_type="customerorigin", customer_id=c.pk, action="update")
    assert set(update.changes) == {"source", "information_source", "collection_method"}
    assert CustomerOrigin.objects.count() == 1


def test_origin_requires_an_active_source(org, make_customer, src):
    c = make_customer(org.rep)
    with pytest.raises(ValidationFailed) as info:
        origin_set(actor=org.rep, customer_id=c.pk, data={})
    assert "source" in info.value.fields
    Source.objects.filter(name="来电").update(active=False)
    with pytest.raises(ValidationFailed) as info:
        origin_set(actor=org.rep, customer_id=c.pk, data={"source": src("来电").pk})
    assert "source" in info.value.fields
    with pytest.raises(ValidationFailed) as info:
        origin_set(actor=org.rep, customer_id=c.pk, data={"source": src("来店").pk, "colour": "red"})
    assert "colour" in info.value.fields
    assert not CustomerOrigin.objects.exists() and not AuditLog.objects.filter(object_type="customerorigin").exists()


def test_a_kept_deactivated_source_may_stay(org, make_customer, src):
    c = make_customer(org.rep)
    origin_set(actor=org.rep, customer_id=c.pk, data={"source": src("来电").pk})
    Source.objects.filter(name="来电").update(active=False)
    origin_set(actor=org.rep, customer_id=c.pk, data={"source": src("来电").pk})


def test_only_visible_customers_and_introducers(org, make_customer, make_contact, src):
    mine = make_customer(org.rep)
    theirs = make_customer(org.rep_north)
    with pytest.raises(NotFound):
        origin_set(actor=org.rep, customer_id=theirs.pk, data={"source": src("来店").pk})
    with pytest.raises(ValidationFailed) as info:
        origin_set(actor=org.rep, customer_id=mine.pk,
                   data={"source": src("老客户介绍").pk, "introducer_customer": theirs.pk})
    assert "introducer_customer" in info.value.fields
    contact = make_contact(org.rep_north, theirs)
    with pytest.raises(ValidationFailed) as info:
        origin_set(actor=org.rep, customer_id=mine.pk,
                   data={"source": src("老客户介绍").pk, "introducer_contact": contact.pk})
    assert "introducer_contact" in info.value.fields
    # the GM sees both
    origin = origin_set(actor=org.gm, customer_id=mine.pk,
                        data={"source": src("老客户介绍").pk, "introducer_contact": contact.pk})
    assert origin.introducer_customer == theirs and origin.introducer_contact == contact


def test_contact_must_belong_to_the_introducing_customer(org, make_customer, make_contact, src):
    a, b, c = make_customer(org.rep), make_customer(org.rep), make_customer(org.rep)
    contact = make_contact(org.rep, b)
    with pytest.raises(ValidationFailed):
        origin_set(actor=org.rep, customer_id=a.pk,
                   data={"source": src("亲友介绍").pk, "introducer_customer": c.pk, "introducer_contact": contact.pk})


def test_introducer_cycles_are_refused(org, make_customer, src):
    a, b, c = make_customer(org.rep), make_customer(org.rep), make_customer(org.rep)
    intro = src("老客户介绍").pk
    with pytest.raises(ValidationFailed):
        origin_set(actor=org.rep, customer_id=a.pk, data={"source": intro, "introducer_customer": a.pk})
    origin_set(actor=org.rep, customer_id=b.pk, data={"source": intro, "introducer_customer": a.pk})
    with pytest.raises(ValidationFailed) as info:  # A introduced B introduced A
        origin_set(actor=org.rep, customer_id=a.pk, data={"source": intro, "introducer_customer": b.pk})
    assert "introducer_customer" in info.value.fields
    origin_set(actor=org.rep, customer_id=c.pk, data={"source": intro, "introducer_customer": b.pk})
    with pytest.raises(ValidationFailed):  # A → B → C → A
        origin_set(actor=org.rep, customer_id=a.pk, data={"source": intro, "introducer_customer": c.pk})
    assert not CustomerOrigin.objects.filter(customer=a).exists()


def test_customer_create_with_origin_is_all_or_nothing(org, src):
    from qianke.customers.models import Customer

    c = customer_create_with_origin(actor=org.rep, data={"name": "上海某某贸易有限公司"},
                                    origin={"source": src("来店").pk})
    assert c.origin.source == src("来店")
    before = Customer.objects.count()
    with pytest.raises(ValidationFailed):
        customer_create_with_origin(actor=org.rep, data={"name": "北京某某有限公司"}, origin={"source": 999999})
    assert Customer.objects.count() == before


def test_source_tree_admin(org, src):
    with pytest.raises(PermissionDenied):
        source_create(actor=org.manager, name="车展")
    expo = source_create(actor=org.admin, name="2026 车展", parent_id=src("市场活动").pk)
    assert expo.depth == 2 and expo.path == f"{src('市场活动').path}{expo.pk}/"
    with pytest.raises(ValidationFailed):
        source_create(actor=org.admin, name="来店", parent_id=src("展厅客源").pk)
    # rename
    source_update(actor=org.admin, source_id=expo.pk, data={"name": "2026 国际车展"})
    # move 市场活动 (with its child) under 展厅客源
    moved = source_update(actor=org.admin, source_id=src("市场活动").pk, data={"parent": src("展厅客源").pk})
    expo.refresh_from_db()
    assert moved.path == f"{src('展厅客源').path}{moved.pk}/" and expo.path == f"{moved.path}{expo.pk}/"
    assert expo.depth == 2
    with pytest.raises(ValidationFailed):  # not below itself
        source_update(actor=org.admin, source_id=moved.pk, data={"parent": expo.pk})
    # move to the top level
    top = source_update(actor=org.admin, source_id=moved.pk, data={"parent": None})
    expo.refresh_from_db()
    assert top.depth == 0 and expo.depth == 1 and expo.path == f"/{top.pk}/{expo.pk}/"
    # deactivating a parent deactivates its children; a child cannot come back alone
    source_update(actor=org.admin, source_id=top.pk, data={"active": False})
    expo.refresh_from_db()
    assert not expo.active
    with pytest.raises(ValidationFailed):
        source_update(actor=org.admin, source_id=expo.pk, data={"active": True})
    assert AuditLog.objects.filter(object_type="source").count() >= 4


def test_demo_origins_are_plausible_and_acyclic(org, make_customer):
    import random

    from qianke.leads.demo import demo_origins
    from qianke.leads.selectors import referral_tree

    ids = [make_customer(org.rep).pk for _i in range(60)]
    assert demo_origins(customer_ids=ids, rng=random.Random(7), batch_size=25) == 60
    assert demo_origins(customer_ids=ids, rng=random.Random(7)) == 0  # only customers without one
    origins = list(CustomerOrigin.objects.select_related("source"))
    assert {o.source.depth for o in origins} == {1}
    introduced = [o for o in origins if o.introducer_customer_id]
    assert introduced and all(o.introducer_customer_id < o.customer_id for o in introduced)
    assert all(o.source.parent.name == "介绍客源" for o in introduced)
    top = max({o.introducer_customer_id for o in introduced},
              key=lambda i: referral_tree(user=org.rep, customer_id=i).introduced)
    assert referral_tree(user=org.rep, customer_id=top).introduced >= 1
