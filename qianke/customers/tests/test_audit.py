"""Every write to customers, contacts and follow-ups leaves an audit row; the history shows them."""

import datetime as dt

import pytest
from django.utils import timezone

from qianke.activities.services import (
    activity_archive,
    activity_complete_next_step,
    activity_create,
    activity_update,
)
from qianke.core.audit import audit_source
from qianke.core.errors import NotFound, ValidationFailed
from qianke.core.models import AuditLog
from qianke.customers.selectors import customer_history
from qianke.customers.services import (
    contact_archive,
    contact_update,
    customer_archive,
    customer_change_owner,
    customer_create,
    customer_restore,
    customer_update,
)

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


def entries(instance):
    return list(AuditLog.objects.filter(object_type=instance._meta.model_name, object_id=instance.pk)
                .order_by("id"))


def last(instance) -> AuditLog:
    return entries(instance)[-1]


def test_customer_create_is_audited_with_the_initial_values(org):
    customer = customer_create(actor=org.rep, data={"name": "审计甲公司", "city": "上海", "tags": ["重点"],
                                                    "mobile": "138 1234 5678"})
    [entry] = entries(customer)
    assert (entry.action, entry.actor, entry.customer_id) == ("create", org.rep, customer.pk)
    assert entry.object_repr == "审计甲公司"
    assert entry.changes["name"] == [None, "审计甲公司"]
    assert entry.changes["city"] == [None, "上海"]
    assert entry.changes["mobile"] == [None, "138 1234 5678"]
    assert entry.changes["owner"] == [None, "rep_east"]
    assert entry.changes["team"] == [None, "华东组"]
    assert entry.changes["tags"] == [None, ["重点"]]
    assert "province" not in entry.changes  # empty stays out


def test_customer_update_records_old_and_new_of_changed_fields_only(org, make_customer):
    customer = make_customer(org.rep, "审计乙公司", city="上海", province="上海")
    customer_update(actor=org.manager, customer_id=customer.pk, data={"city": "苏州", "province": "上海",
                                                                       "tags": "新标签"})
    entry = last(customer)
    assert (entry.action, entry.actor, entry.customer_id) == ("update", org.manager, customer.pk)
    assert entry.changes == {"city": ["上海", "苏州"], "tags": [[], ["新标签"]]}


def test_an_update_that_changes_nothing_writes_no_row(org, make_customer):
    customer = make_customer(org.rep, "审计丙公司", city="上海")
    before = AuditLog.objects.count()
    customer_update(actor=org.rep, customer_id=customer.pk, data={"city": " 上海 "})
    assert AuditLog.objects.count() == before


def test_a_failed_update_writes_no_row(org, make_customer):
    customer = make_customer(org.rep)
    before = AuditLog.objects.count()
    with pytest.raises(ValidationFailed):
        customer_update(actor=org.rep, customer_id=customer.pk, data={"city": "x", "email": "bad"})
    assert AuditLog.objects.count() == before


def test_owner_change_is_its_own_action(org, make_customer):
    customer = make_customer(org.rep)
    customer_change_owner(actor=org.director, customer_id=customer.pk, owner_id=org.rep_north.pk)
    entry = last(customer)
    assert (entry.action, entry.actor) == ("owner_change", org.director)
    assert entry.changes == {"owner": ["rep_east", "rep_north"], "team": ["华东组", "华北组"]}


def test_owner_and_other_fields_together_are_an_update(org, make_customer):
    customer = make_customer(org.rep)
    customer_update(actor=org.manager, customer_id=customer.pk, data={"owner": org.rep2.pk, "city": "南京"})
    entry = last(customer)
    assert entry.action == "update"
    assert entry.changes == {"owner": ["rep_east", "rep_east2"], "city": ["", "南京"]}


def test_custom_field_changes_are_audited_per_key(org, make_customer):
    customer = make_customer(org.rep, kind="individual", custom={"initial_grade": "B级"})
    customer_update(actor=org.rep, customer_id=customer.pk, data={"custom": {"initial_grade": "A级",
                                                                              "trade_in": "是"}})
    assert last(customer).changes == {"custom.initial_grade": ["B级", "A级"], "custom.trade_in": [None, True]}


def test_archive_and_restore_are_audited(org, make_customer):
    customer = make_customer(org.rep)
    customer_archive(actor=org.info, customer_id=customer.pk)
    customer.refresh_from_db()
    archived = last(customer)
    assert (archived.action, archived.actor) == ("archive", org.info)
    assert archived.changes == {"archived_at": [None, customer.archived_at.isoformat()]}
    customer_restore(actor=org.admin, customer_id=customer.pk)
    restored = last(customer)
    assert (restored.action, restored.actor) == ("restore", org.admin)
    assert restored.changes == {"archived_at": [customer.archived_at.isoformat(), None]}


def test_contact_writes_are_audited_under_their_customer(org, make_customer, make_contact):
    customer = make_customer(org.rep)
    contact = make_contact(org.rep, customer, "张伟", title="经理")
    created = last(contact)
    assert (created.action, created.actor, created.customer_id) == ("create", org.rep, customer.pk)
    assert created.changes["name"] == [None, "张伟"] and created.changes["is_primary"] == [None, True]
    contact_update(actor=org.rep, contact_id=contact.pk, data={"title": "总经理"})
    updated = last(contact)
    assert (updated.action, updated.customer_id, updated.changes) == ("update", customer.pk,
                                                                      {"title": ["经理", "总经理"]})
    contact_archive(actor=org.manager, contact_id=contact.pk)
    archived = last(contact)
    assert (archived.action, archived.actor, archived.customer_id) == ("archive", org.manager, customer.pk)


def test_activity_writes_are_audited_under_their_customer(org, make_customer, make_contact):
    customer = make_customer(org.rep)
    contact = make_contact(org.rep, customer)
    activity = activity_create(actor=org.rep, customer_id=customer.pk, data={
        "kind": "visit", "content": "上门拜访", "contact": contact.pk, "next_step": "送样品",
        "next_due": str(timezone.localdate() + dt.timedelta(days=3))})
    created = last(activity)
    assert (created.action, created.actor, created.customer_id) == ("create", org.rep, customer.pk)
    assert created.changes["content"] == [None, "上门拜访"]
    assert created.changes["contact"] == [None, {"id": contact.pk, "repr": "张伟"}]
    activity_update(actor=org.rep, activity_id=activity.pk, data={"outcome": "客户有兴趣"})
    assert last(activity).changes == {"outcome": ["", "客户有兴趣"]}
    activity_complete_next_step(actor=org.rep, activity_id=activity.pk)
    done = last(activity)
    assert done.action == "update" and list(done.changes) == ["next_done_at"]
    activity_archive(actor=org.rep, activity_id=activity.pk)
    assert (last(activity).action, last(activity).customer_id) == ("archive", customer.pk)


def test_next_steps_settled_by_a_new_follow_up_are_audited(org, make_customer):
    customer = make_customer(org.rep)
    earlier = activity_create(actor=org.rep, customer_id=customer.pk, data={
        "content": "电话", "next_step": "回访", "next_due": str(timezone.localdate()),
        "occurred_at": timezone.now() - dt.timedelta(hours=2)})
    activity_create(actor=org.manager, customer_id=customer.pk, data={"content": "回访了"})
    earlier.refresh_from_db()
    entry = last(earlier)
    assert (entry.action, entry.actor, entry.customer_id) == ("update", org.manager, customer.pk)
    assert entry.changes == {"next_done_at": [None, earlier.next_done_at.isoformat()]}


def test_customer_history_shows_customer_contact_and_activity_rows_newest_first(org, make_customer,
                                                                                make_contact):
    customer = make_customer(org.rep)
    other = make_customer(org.rep)
    contact = make_contact(org.rep, customer)
    activity = activity_create(actor=org.rep, customer_id=customer.pk, data={"content": "电话"})
    customer_update(actor=org.rep, customer_id=customer.pk, data={"city": "广州"})
    make_contact(org.rep, other)
    history = customer_history(user=org.rep, customer_id=customer.pk)
    assert [(e.object_type, e.action) for e in history] == [
        ("customer", "update"), ("activity", "create"), ("contact", "create"), ("customer", "create")]
    assert {e.object_id for e in history if e.object_type != "customer"} == {contact.pk, activity.pk}
    assert all(e.customer_id == customer.pk for e in history)


def test_customer_history_follows_visibility(org, make_customer):
    customer = make_customer(org.rep)
    with pytest.raises(NotFound):
        customer_history(user=org.rep_north, customer_id=customer.pk)
    assert customer_history(user=org.manager, customer_id=customer.pk)
    customer_archive(actor=org.info, customer_id=customer.pk)
    # archived customers' history stays readable for those who keep the archives
    assert [e.action for e in customer_history(user=org.info, customer_id=customer.pk)][0] == "archive"
    with pytest.raises(NotFound):
        customer_history(user=org.rep, customer_id=customer.pk)


def test_the_source_of_a_change_is_recorded(org, make_customer):
    customer = make_customer(org.rep)
    assert last(customer).source == "web"
    with audit_source("api"):
        customer_update(actor=org.rep, customer_id=customer.pk, data={"city": "深圳"})
    assert last(customer).source == "api"
