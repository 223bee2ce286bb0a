"""Merge and undo: every related row moves, values are chosen per field, the undo restores exactly."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

from qianke.activities.models import Activity
from qianke.activities.services import activity_create
from qianke.core.errors import Conflict, NotFound, ValidationFailed
from qianke.core.models import AuditLog
from qianke.customers.models import Contact, Customer, CustomerSearch, StatusChange
from qianke.customers.selectors import CustomerFilters, customer_list
from qianke.customers.services import customer_update
from qianke.dedupe.models import DuplicateGroup, DuplicateMember, Merge, NotDuplicatePair
from qianke.dedupe.services import customer_merge, duplicate_group_dismiss, merge_undo
from qianke.leads.models import CustomerOrigin, Source
from qianke.leads.services import origin_set
from qianke.qualification.models import Qualification
from qianke.qualification.services import qualification_update


@pytest.fixture
def pair(org, make_customer, make_contact):
    """Two records of one company owned by the same rep, each with a contact."""
    a = make_customer(org.rep, "北京华为技术有限公司", phone="010-62345678", email="")
    b = make_customer(org.rep, "华为技术（北京）有限公司", phone="", email="info@huawei.example",
                      mobile="13912345678", tags=["展会"])
    make_contact(org.rep, a, "张伟", mobile="13800001111")
    make_contact(org.rep, b, "李娜", mobile="13800002222")
    return a, b


def _source():
    return Source.objects.filter(depth=1).first()


def test_merge_moves_every_related_row_and_archives_the_merged(org, pair):
    a, b = pair
    activity_create(actor=org.rep, customer_id=b.pk, data={"content": "电话沟通需求"})
    origin_set(actor=org.rep, customer_id=b.pk, data={"source": _source().pk})
    qualification_update(actor=org.rep, customer_id=b.pk, data={"money": "yes"})

    merge = customer_merge(actor=org.rep, survivor_id=a.pk, merged_ids=[b.pk], field_choices={})

    assert set(Contact.objects.filter(customer=a).values_list("name", flat=True)) == {"张伟", "李娜"}
    assert Activity.objects.filter(customer=b).count() == 0
    assert Activity.objects.filter(customer=a, content="电话沟通需求").exists()
    # The survivor had no origin or qualification: the merged one's move over.
    assert CustomerOrigin.objects.get(customer=a).source == _source()
    assert Qualification.objects.get(customer=a).money == "yes"
    assert StatusChange.objects.filter(customer=b).count() == 0
    assert set(a.tags.values_list("name", flat=True)) == {"展会"}
    b.refresh_from_db()
    assert b.archived_at is not None
    assert list(merge.merged.values_list("customer_id", flat=True)) == [b.pk]
    # Search finds the survivor by the merged contact, and no longer the archived record.
    assert not CustomerSearch.objects.filter(customer=b).exists()
    found = customer_list(user=org.rep, filters=CustomerFilters(q="13800002222")).items
    assert [c.pk for c in found] == [a.pk]
    # Only one primary contact.
    assert Contact.objects.filter(customer=a, is_primary=True).count() == 1


def test_one_to_one_conflict_keeps_the_survivors_row_and_records_it(org, pair):
    a, b = pair
    qualification_update(actor=org.rep, customer_id=a.pk, data={"money": "no"})
    qualification_update(actor=org.rep, customer_id=b.pk, data={"money": "yes"})
    kept_pk = Qualification.objects.get(customer=b).pk

    merge = customer_merge(actor=org.rep, survivor_id=a.pk, merged_ids=[b.pk], field_choices={})

    assert Qualification.objects.get(customer=a).money == "no"
    assert Qualification.objects.get(customer=b).pk == kept_pk
    assert {"model": "qualification.Qualification", "field": "customer", "customer": b.pk, "pk": kept_pk,
            "reason": "one_to_one"} in merge.snapshot["kept"]


def test_a_customer_introduced_by_its_duplicate_keeps_that_origin_with_the_archived_record(org, pair):
    a, b = pair
    origin_set(actor=org.rep, customer_id=a.pk, data={"source": _source().pk, "introducer_customer": b.pk})
    merge = customer_merge(actor=org.rep, survivor_id=a.pk, merged_ids=[b.pk], field_choices={})
    origin = CustomerOrigin.objects.get(customer=a)
    assert origin.introducer_customer_id == b.pk  # never "introduced by itself"
    assert any(k["reason"] == "self_reference" for k in merge.snapshot["kept"])


def test_field_choices_pick_the_surviving_value_per_field(org, pair):
    a, b = pair
    merge = customer_merge(actor=org.rep, survivor_id=a.pk, merged_ids=[b.pk],
                           field_choices={"name": b.pk, "phone": a.pk})
    a.refresh_from_db()
    assert a.name == "华为技术（北京）有限公司"
    assert a.name_norm == b.name_norm
    assert a.phone == "010-62345678"
    # Unchosen fields keep the survivor's value, or take a merged one where the survivor has none.
    assert a.email == "info@huawei.example"
    assert a.mobile == "13912345678" and a.mobile_norm == "13912345678"
    assert merge.snapshot["choices"]["email"] == b.pk


def test_custom_fields_are_chosen_like_the_others(org, make_customer):
    a = make_customer(org.rep, "甲公司", custom={})
    b = make_customer(org.rep, "甲公司分号", custom={})
    Customer.objects.filter(pk=a.pk).update(custom={"annual_output": "100"})
    Customer.objects.filter(pk=b.pk).update(custom={"annual_output": "300", "brand": "乙"})
    customer_merge(actor=org.rep, survivor_id=a.pk, merged_ids=[b.pk],
                   field_choices={"custom.annual_output": b.pk})
    a.refresh_from_db()
    assert a.custom == {"annual_output": "300", "brand": "乙"}


def test_merge_is_audited_on_the_survivor_and_the_merged(org, pair):
    a, b = pair
    customer_merge(actor=org.rep, survivor_id=a.pk, merged_ids=[b.pk], field_choices={"name": b.pk})
    row = AuditLog.objects.get(action="merge", object_id=a.pk, object_type="customer")
    assert row.actor == org.rep
    assert row.changes["name"] == ["北京华为技术有限公司", "华为技术（北京）有限公司"]
    assert row.changes["merged"][1] == [f"{b.code} {b.name}"]
    merged_row = AuditLog.objects.get(action="merge", object_id=b.pk)
    assert merged_row.changes["merged_into"][1] == f"{a.code} 华为技术（北京）有限公司"
    # The merged record's history now shows on the survivor's history.
    assert AuditLog.objects.filter(customer_id=a.pk, object_type="customer", object_id=b.pk,
                                   action="create").exists()


def _state(*customers):
    """Everything a merge touches, to compare before and after an undo."""
    ids = [c.pk for c in customers]
    state = {}
    tables = set(connection.introspection.table_names())
    for c in Customer.objects.filter(pk__in=ids):
        state[c.pk] = {"name": c.name, "name_norm": c.name_norm, "phone": c.phone, "email": c.email,
                       "mobile": c.mobile, "archived": c.archived_at, "custom": c.custom,
                       "tags": sorted(c.tags.values_list("name", flat=True))}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if getattr(field, "related_model", None) is Customer and model is not Customer and \
                    model._meta.app_label not in ("dedupe",) and model._meta.db_table in tables:
                rows = sorted(model._base_manager.filter(**{f"{field.name}__in": ids})
                              .values_list("pk", field.attname))
                state[f"{model._meta.label}.{field.name}"] = rows
    state["primary"] = sorted(Contact.objects.filter(customer_id__in=ids, is_primary=True)
                              .values_list("pk", flat=True))
    state["audit"] = sorted(AuditLog.objects.filter(customer_id__in=ids).exclude(action__in=["merge", "undo"])
                            .values_list("pk", "customer_id"))
    return state


def test_undo_restores_exactly(org, pair):
    a, b = pair
    activity_create(actor=org.rep, customer_id=b.pk, data={"content": "拜访"})
    qualification_update(actor=org.rep, customer_id=a.pk, data={"money": "no"})
    qualification_update(actor=org.rep, customer_id=b.pk, data={"money": "yes"})
    origin_set(actor=org.rep, customer_id=b.pk, data={"source": _source().pk})
    before = _state(a, b)

    merge = customer_merge(actor=org.rep, survivor_id=a.pk, merged_ids=[b.pk],
                           field_choices={"name": b.pk, "email": b.pk})
    assert _state(a, b) != before
    merge_undo(actor=org.rep, merge_id=merge.pk)

    assert _state(a, b) == {**before}
    merge.refresh_from_db()
    assert merge.undone_at is not None and merge.undone_by == org.rep
    assert AuditLog.objects.filter(action="undo", object_id=a.pk, object_type="customer").exists()
    assert CustomerSearch.objects.filter(customer=b).exists()
    with pytest.raises(Conflict, match="undone already"):
        merge_undo(actor=org.rep, merge_id=merge.pk)


def test_undo_of_a_three_way_merge_returns_each_row_to_its_own_customer(org, pair, make_customer, make_contact):
    a, b = pair
    c = make_customer(org.rep, "华为技术")
    make_contact(org.rep, c, "王芳")
    before = _state(a, b, c)
    merge = customer_merge(actor=org.rep, survivor_id=a.pk, merged_ids=[b.pk, c.pk], field_choices={})
    assert Contact.objects.filter(customer=a).count() == 3
    merge_undo(actor=org.rep, merge_id=merge.pk)
    assert _state(a, b, c) == before


def test_undo_refused_after_a_conflicting_edit_but_not_after_an_unrelated_one(org, pair):
    a, b = pair
    merge = customer_merge(actor=org.rep, survivor_id=a.pk, merged_ids=[b.pk], field_choices={"name": b.pk})
    customer_update(actor=org.rep, customer_id=a.pk, data={"website": "https://example.com"})
    customer_update(actor=org.rep, customer_id=a.pk, data={"name": "华为北京"}, confirm_duplicate=True)
    with pytest.raises(Conflict) as exc:
        merge_undo(actor=org.rep, merge_id=merge.pk)
    assert exc.value.code == "undo_conflict"
    assert "name" in exc.value.fields
    # Putting the value back makes the undo possible again; the unrelated edit survives it.
    customer_update(actor=org.rep, customer_id=a.pk, data={"name": "华为技术（北京）有限公司"},
                    confirm_duplicate=True)
    merge_undo(actor=org.rep, merge_id=merge.pk)
    a.refresh_from_db()
    assert a.name == "北京华为技术有限公司"
    assert a.website == "https://example.com"


def test_undo_refused_when_the_survivor_was_merged_away_since(org, pair, make_customer):
    a, b = pair
    c = make_customer(org.rep, "另一家公司")
    first = customer_merge(actor=org.rep, survivor_id=a.pk, merged_ids=[b.pk], field_choices={})
    customer_merge(actor=org.rep, survivor_id=c.pk, merged_ids=[a.pk], field_choices={})
    with pytest.raises(Conflict, match="archived or merged since"):
        merge_undo(actor=org.rep, merge_id=first.pk)


def test_rep_cannot_merge_another_reps_customer(org, make_customer):
    mine = make_customer(org.rep, "甲公司")
    theirs = make_customer(org.rep2, "甲公司")
    with pytest.raises(NotFound):
        customer_merge(actor=org.rep, survivor_id=mine.pk, merged_ids=[theirs.pk], field_choices={})
    assert Customer.objects.get(pk=theirs.pk).archived_at is None
    merge = customer_merge(actor=org.manager, survivor_id=mine.pk, merged_ids=[theirs.pk],
                           field_choices={"owner": theirs.pk})
    mine.refresh_from_db()
    assert mine.owner == org.rep2
    # The rep sees neither the merged record nor the merge any more; the undo is a 404 for them.
    with pytest.raises(NotFound):
        merge_undo(actor=org.rep, merge_id=merge.pk)


def test_bad_requests_are_refused_before_anything_changes(org, pair, make_customer):
    a, b = pair
    person = make_customer(org.rep, "张三", kind="individual")
    with pytest.raises(ValidationFailed) as exc:
        customer_merge(actor=org.rep, survivor_id=a.pk, merged_ids=[a.pk], field_choices={})
    assert "merged" in exc.value.fields
    with pytest.raises(ValidationFailed):
        customer_merge(actor=org.rep, survivor_id=a.pk, merged_ids=[person.pk], field_choices={})
    with pytest.raises(ValidationFailed) as exc:
        customer_merge(actor=org.rep, survivor_id=a.pk, merged_ids=[b.pk], field_choices={"status": b.pk})
    assert "fields" in exc.value.fields
    with pytest.raises(ValidationFailed):
        customer_merge(actor=org.rep, survivor_id=a.pk, merged_ids=[b.pk], field_choices={"name": person.pk})
    assert not Merge.objects.exists()
    assert Customer.objects.filter(archived_at__isnull=False).count() == 0


def _group(*customers, decision="same", score=0.97):
    group = DuplicateGroup.objects.create(decision=decision, score=score, size=len(customers), signature="x",
                                          pairs=[])
    DuplicateMember.objects.bulk_create([DuplicateMember(group=group, customer=c) for c in customers])
    return group


def test_merge_of_a_reviewed_group_marks_it_merged_and_undo_reopens_it(org, pair):
    a, b = pair
    group = _group(a, b)
    merge = customer_merge(actor=org.rep, survivor_id=a.pk, merged_ids=[b.pk], field_choices={}, group_id=group.pk)
    group.refresh_from_db()
    assert group.status == "merged" and merge.group == group
    merge_undo(actor=org.rep, merge_id=merge.pk)
    group.refresh_from_db()
    assert group.status == "open"


def test_dismiss_remembers_every_pair_as_not_duplicates(org, pair, make_customer):
    a, b = pair
    c = make_customer(org.rep, "华为")
    group = _group(a, b, c, decision="review", score=0.8)
    duplicate_group_dismiss(actor=org.rep, group_id=group.pk)
    group.refresh_from_db()
    assert group.status == "dismissed" and group.resolved_by == org.rep
    assert NotDuplicatePair.objects.count() == 3
    with pytest.raises(Conflict):
        duplicate_group_dismiss(actor=org.rep, group_id=group.pk)


def test_dismiss_of_a_group_with_an_invisible_member_is_not_found(org, make_customer):
    mine = make_customer(org.rep, "甲公司")
    theirs = make_customer(org.rep2, "甲公司")
    group = _group(mine, theirs)
    with pytest.raises(NotFound):
        duplicate_group_dismiss(actor=org.rep, group_id=group.pk)
    duplicate_group_dismiss(actor=org.manager, group_id=group.pk)


def test_deals_and_owner_history_move_and_come_back(org, pair):
    from qianke.pipeline.models import Deal, Process
    from qianke.pipeline.services import deal_create
    from qianke.pool.models import OwnerChange
    from qianke.pool.services import pool_transfer

    a, b = pair
    deal = deal_create(actor=org.rep, data={"customer": b.pk, "name": "华为 项目",
                                            "process": Process.objects.get(code="big_account_sales").pk})
    pool_transfer(actor=org.manager, customer_id=b.pk, to_user_id=org.rep2.pk, reason="休假")
    pool_transfer(actor=org.manager, customer_id=b.pk, to_user_id=org.rep.pk, reason="回来了")
    history = set(OwnerChange.objects.filter(customer=b).values_list("pk", flat=True))
    assert len(history) == 2
    before = _state(a, b)

    merge = customer_merge(actor=org.rep, survivor_id=a.pk, merged_ids=[b.pk], field_choices={})
    assert Deal.objects.get(pk=deal.pk).customer_id == a.pk
    assert set(OwnerChange.objects.filter(customer=a).values_list("pk", flat=True)) >= history

    merge_undo(actor=org.rep, merge_id=merge.pk)
    assert Deal.objects.get(pk=deal.pk).customer_id == b.pk
    assert _state(a, b) == before


def test_a_pool_entry_moves_to_an_unentered_survivor_but_not_an_in_pool_state_onto_an_owned_one(org, pair,
                                                                                                make_customer):
    from qianke.pool.models import PoolEntry
    from qianke.pool.services import pool_create, pool_release

    a, b = pair
    pool_create(actor=org.admin, data={"name": "华东公海", "teams": [org.east.pk]})
    pool_release(actor=org.rep, customer_id=b.pk, reason="暂不跟进")
    assert PoolEntry.objects.get(customer=b).in_pool
    merge = customer_merge(actor=org.admin, survivor_id=a.pk, merged_ids=[b.pk], field_choices={})
    assert not PoolEntry.objects.filter(customer=a).exists()
    assert PoolEntry.objects.filter(customer=b).exists()
    assert [k["reason"] for k in merge.snapshot["kept"] if k["model"] == "pool.PoolEntry"] == ["in_pool"]
    merge_undo(actor=org.admin, merge_id=merge.pk)

    # Taking the pooled record's (empty) owner, the survivor waits in the pool itself: the entry moves (its
    # primary key is the customer, so the key changes) and comes back on undo.
    d = make_customer(org.rep, "华为北京")
    merge = customer_merge(actor=org.admin, survivor_id=d.pk, merged_ids=[b.pk], field_choices={"owner": b.pk})
    d.refresh_from_db()
    assert d.owner is None and PoolEntry.objects.get(customer=d).in_pool
    merge_undo(actor=org.admin, merge_id=merge.pk)
    assert PoolEntry.objects.get(customer=b).in_pool and not PoolEntry.objects.filter(customer=d).exists()


def test_merge_naming_a_dismissed_group_keeps_the_dismissal_through_an_undo(org, pair):
    a, b = pair
    group = _group(a, b, decision="review", score=0.8)
    duplicate_group_dismiss(actor=org.rep, group_id=group.pk)
    merge = customer_merge(actor=org.rep, survivor_id=a.pk, merged_ids=[b.pk], group_id=group.pk)
    group.refresh_from_db()
    assert group.status == "dismissed" and merge.group is None
    merge_undo(actor=org.rep, merge_id=merge.pk)
    group.refresh_from_db()
    assert group.status == "dismissed"


def test_a_merge_that_changes_the_owner_writes_the_owner_history_and_its_undo_writes_it_back(org, make_customer):
    from qianke.pool.models import OwnerChange

    a = make_customer(org.rep, "北京华为技术有限公司")
    b = make_customer(org.rep2, "华为技术（北京）有限公司")
    merge = customer_merge(actor=org.manager, survivor_id=a.pk, merged_ids=[b.pk], field_choices={"owner": b.pk})
    change = OwnerChange.objects.filter(customer=a).latest("id")
    assert (change.from_owner, change.to_owner, change.actor) == (org.rep, org.rep2, org.manager)
    assert b.code in change.reason

    merge_undo(actor=org.manager, merge_id=merge.pk)
    back = OwnerChange.objects.filter(customer=a).latest("id")
    assert (back.from_owner, back.to_owner, back.reason) == (org.rep2, org.rep, "Undo of a merge")


def test_a_merge_that_keeps_the_owner_writes_no_owner_history(org, pair):
    from qianke.pool.models import OwnerChange

    a, b = pair
    customer_merge(actor=org.rep, survivor_id=a.pk, merged_ids=[b.pk], field_choices={})
    assert not OwnerChange.objects.filter(customer=a).exists()
