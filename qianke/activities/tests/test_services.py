"""Follow-ups (跟进记录): recording them, their next steps, and the due and overdue lists."""

import datetime as dt

import pytest
from django.utils import timezone

from qianke.activities.models import Activity
from qianke.activities.selectors import customer_timeline, follow_ups_due_today, follow_ups_overdue
from qianke.activities.services import (
    activity_archive,
    activity_complete_next_step,
    activity_create,
    activity_update,
)
from qianke.core.errors import NotFound, ValidationFailed
from qianke.core.models import AuditLog
from qianke.customers.services import contact_archive, customer_archive

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

TODAY = timezone.localdate


def days(n: int) -> str:
    return str(TODAY() + dt.timedelta(days=n))


@pytest.fixture
def customer(org, make_customer):
    return make_customer(org.rep, "跟进测试有限公司")


def counts():
    return Activity.objects.count(), AuditLog.objects.count()


# ---------------------------------------------------------------------------------------------
# Recording
# ---------------------------------------------------------------------------------------------


def test_create_without_next_step(org, customer):
    before = timezone.now()
    activity = activity_create(actor=org.rep, customer_id=customer.pk, data={"content": " 电话介绍产品 "})
    activity.refresh_from_db()
    assert (activity.kind, activity.content, activity.actor, activity.customer) == ("call", "电话介绍产品", org.rep,
                                                                                    customer)
    assert before <= activity.occurred_at <= timezone.now()
    assert (activity.next_step, activity.next_due, activity.next_done_at) == ("", None, None)


def test_create_with_next_step_and_contact(org, customer, make_contact):
    contact = make_contact(org.rep, customer)
    activity = activity_create(actor=org.rep, customer_id=customer.pk, data={
        "kind": "visit", "content": "拜访采购部", "outcome": "需要报价", "contact": str(contact.pk),
        "occurred_at": "2026-01-15 14:30", "next_step": "发送报价单", "next_due": days(2)})
    activity.refresh_from_db()
    assert activity.contact == contact and activity.kind == "visit"
    assert timezone.localtime(activity.occurred_at).strftime("%Y-%m-%d %H:%M") == "2026-01-15 14:30"
    assert (activity.next_step, str(activity.next_due)) == ("发送报价单", days(2))


def test_a_follow_up_a_few_minutes_ahead_of_the_server_clock_is_accepted(org, customer):
    soon = timezone.now() + dt.timedelta(minutes=2)
    activity_create(actor=org.rep, customer_id=customer.pk, data={"content": "x", "occurred_at": soon})


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"content": ""}, "content"),
        ({"content": "   "}, "content"),
        ({}, "content"),
        ({"content": "x" * 10001}, "content"),
        ({"content": "x", "kind": "telepathy"}, "kind"),
        ({"content": "x", "occurred_at": "昨天"}, "occurred_at"),
        ({"content": "x", "occurred_at": "2026-13-01 10:00"}, "occurred_at"),
        ({"content": "x", "occurred_at": "2026-02-30T10:00"}, "occurred_at"),
        ({"content": "x", "next_due": days(3)}, "next_step"),
        ({"content": "x", "next_step": "回访", "next_due": "下周"}, "next_due"),
        ({"content": "x", "next_step": "回" * 301}, "next_step"),
        ({"content": "x", "mood": "good"}, "mood"),
    ],
)
def test_invalid_follow_ups_are_refused_and_nothing_is_saved(org, customer, data, field):
    before = counts()
    with pytest.raises(ValidationFailed) as info:
        activity_create(actor=org.rep, customer_id=customer.pk, data=data)
    assert field in info.value.fields
    assert counts() == before


def test_a_follow_up_cannot_happen_in_the_future(org, customer):
    tomorrow = timezone.now() + dt.timedelta(days=1)
    for value in (tomorrow, tomorrow.strftime("%Y-%m-%d %H:%M")):
        with pytest.raises(ValidationFailed) as info:
            activity_create(actor=org.rep, customer_id=customer.pk, data={"content": "x", "occurred_at": value})
        assert "occurred_at" in info.value.fields
    assert not Activity.objects.exists()


def test_the_contact_must_belong_to_the_customer_and_be_active(org, customer, make_customer, make_contact):
    other = make_customer(org.rep, "别家公司")
    foreign = make_contact(org.rep, other, "外人")
    own = make_contact(org.rep, customer, "自己人")
    gone = make_contact(org.rep, customer, "离职者")
    contact_archive(actor=org.rep, contact_id=gone.pk)
    for contact in (foreign.pk, gone.pk, 10**9, "abc"):
        with pytest.raises(ValidationFailed) as info:
            activity_create(actor=org.rep, customer_id=customer.pk, data={"content": "x", "contact": contact})
        assert "contact" in info.value.fields
    activity = activity_create(actor=org.rep, customer_id=customer.pk, data={"content": "x", "contact": own.pk})
    assert activity.contact == own


def test_follow_ups_only_on_visible_active_customers(org, customer, make_customer):
    with pytest.raises(NotFound):
        activity_create(actor=org.rep_north, customer_id=customer.pk, data={"content": "x"})
    customer_archive(actor=org.admin, customer_id=customer.pk)
    with pytest.raises(NotFound):
        activity_create(actor=org.rep, customer_id=customer.pk, data={"content": "x"})
    # a manager records follow-ups on the team's customers
    theirs = make_customer(org.rep2)
    assert activity_create(actor=org.manager, customer_id=theirs.pk, data={"content": "x"}).actor == org.manager


def test_update_keeps_the_next_step_rule(org, customer):
    activity = activity_create(actor=org.rep, customer_id=customer.pk, data={
        "content": "x", "next_step": "回访", "next_due": days(1)})
    activity_update(actor=org.rep, activity_id=activity.pk, data={"next_due": days(5)})
    activity.refresh_from_db()
    assert str(activity.next_due) == days(5)
    with pytest.raises(ValidationFailed) as info:
        activity_update(actor=org.rep, activity_id=activity.pk, data={"next_step": ""})
    assert "next_step" in info.value.fields
    activity_update(actor=org.rep, activity_id=activity.pk, data={"next_step": "", "next_due": ""})
    activity.refresh_from_db()
    assert (activity.next_step, activity.next_due) == ("", None)


def test_timeline_is_newest_first_and_leaves_out_archived(org, customer):
    old = activity_create(actor=org.rep, customer_id=customer.pk, data={
        "content": "旧", "occurred_at": timezone.now() - dt.timedelta(days=3)})
    new = activity_create(actor=org.rep, customer_id=customer.pk, data={"content": "新"})
    gone = activity_create(actor=org.rep, customer_id=customer.pk, data={
        "content": "删", "occurred_at": timezone.now() - dt.timedelta(days=1)})
    activity_archive(actor=org.rep, activity_id=gone.pk)
    assert customer_timeline(user=org.rep, customer_id=customer.pk) == [new, old]
    with pytest.raises(NotFound):
        customer_timeline(user=org.rep_north, customer_id=customer.pk)


# ---------------------------------------------------------------------------------------------
# Next steps
# ---------------------------------------------------------------------------------------------


def test_completing_a_next_step(org, customer):
    activity = activity_create(actor=org.rep, customer_id=customer.pk, data={
        "content": "x", "next_step": "回访", "next_due": days(0)})
    activity_complete_next_step(actor=org.rep, activity_id=activity.pk)
    activity.refresh_from_db()
    done_at = activity.next_done_at
    assert done_at is not None
    before = counts()
    activity_complete_next_step(actor=org.rep, activity_id=activity.pk)  # twice changes nothing
    activity.refresh_from_db()
    assert activity.next_done_at == done_at and counts() == before
    with pytest.raises(NotFound):
        activity_complete_next_step(actor=org.rep_north, activity_id=activity.pk)


def test_a_new_follow_up_settles_the_customers_open_next_steps(org, customer, make_customer):
    first = activity_create(actor=org.rep, customer_id=customer.pk, data={
        "content": "x", "next_step": "回访", "next_due": days(3),
        "occurred_at": timezone.now() - dt.timedelta(days=1)})
    elsewhere = activity_create(actor=org.rep, customer_id=make_customer(org.rep).pk, data={
        "content": "x", "next_step": "回访", "next_due": days(3)})
    second = activity_create(actor=org.rep, customer_id=customer.pk, data={
        "content": "回访了", "next_step": "签合同", "next_due": days(7)})
    first.refresh_from_db()
    second.refresh_from_db()
    elsewhere.refresh_from_db()
    assert first.next_done_at is not None
    assert second.next_done_at is None
    assert elsewhere.next_done_at is None


def test_recording_an_older_follow_up_does_not_settle_a_newer_next_step(org, customer):
    recent = activity_create(actor=org.rep, customer_id=customer.pk, data={
        "content": "昨天电话", "next_step": "送样品", "next_due": days(2),
        "occurred_at": timezone.now() - dt.timedelta(days=1)})
    activity_create(actor=org.rep, customer_id=customer.pk, data={
        "content": "补录上周拜访", "occurred_at": timezone.now() - dt.timedelta(days=7)})
    recent.refresh_from_db()
    assert recent.next_done_at is None


def test_due_today_and_overdue_lists(org, customer, make_customer):
    def step(actor, cust, due, **extra):
        return activity_create(actor=actor, customer_id=cust.pk, data={
            "content": "x", "next_step": "回访", "next_due": due, **extra})

    a, b, c, d = (make_customer(org.rep, n) for n in ("A 甲", "B 乙", "C 丙", "D 丁"))  # today's list: by name
    today_a = step(org.rep, a, days(0))
    today_b = step(org.rep, b, days(0))
    late_long = step(org.rep, c, days(-10))
    late_short = step(org.rep, d, days(-1))
    step(org.rep, customer, days(1))  # not yet due
    done = step(org.rep, make_customer(org.rep, "戊"), days(-2))
    activity_complete_next_step(actor=org.rep, activity_id=done.pk)
    step(org.manager, make_customer(org.rep, "己"), days(0))  # someone else's next step
    archived_customer = make_customer(org.rep, "庚")
    step(org.rep, archived_customer, days(-3))
    customer_archive(actor=org.admin, customer_id=archived_customer.pk)
    archived_activity = step(org.rep, make_customer(org.rep, "辛"), days(0))
    activity_archive(actor=org.rep, activity_id=archived_activity.pk)

    assert follow_ups_due_today(user=org.rep) == [today_a, today_b]
    assert follow_ups_overdue(user=org.rep) == [late_long, late_short]
    assert follow_ups_due_today(user=org.rep2) == []
    # "today" can be given, e.g. for a report
    assert follow_ups_due_today(user=org.rep, today=TODAY() - dt.timedelta(days=1)) == [late_short]
    later = follow_ups_overdue(user=org.rep, today=TODAY() + dt.timedelta(days=2))
    assert later[:2] == [late_long, late_short]  # most overdue first
    assert set(later[2:4]) == {today_a, today_b} and len(later) == 5


def test_a_follow_up_whose_customer_changed_hands_drops_out_of_the_old_owners_list(org, customer):
    from qianke.customers.services import customer_change_owner

    mine = activity_create(actor=org.rep, customer_id=customer.pk, data={
        "content": "x", "next_step": "回访", "next_due": days(0)})
    assert follow_ups_due_today(user=org.rep) == [mine]
    customer_change_owner(actor=org.manager, customer_id=customer.pk, owner_id=org.rep2.pk)
    assert follow_ups_due_today(user=org.rep) == []
