"""Follow-up pages: quick add on the customer page, errors on the right field, the home page's due lists
and the "done" button (plain POST and HTMX), visibility."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from qianke.activities.models import Activity
from qianke.activities.services import activity_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def follow_up(**extra) -> dict:
    data = {
        "kind": "visit",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "content": "拜访了采购部",
        "outcome": "",
        "next_step": "",
        "next_due": "",
        "contact": "",
    }
    data.update(extra)
    return data


def test_quick_add_follow_up_appears_on_the_timeline(client, org, make_customer, make_contact):
    customer = make_customer(org.rep, "跟进客户有限公司")
    contact = make_contact(org.rep, customer, "李强")
    client.force_login(org.rep)
    detail = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert reverse("activities:create", args=[customer.pk]) in detail
    assert "李强" in detail  # the contact picker
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = client.post(
        reverse("activities:create", args=[customer.pk]),
        follow_up(
            contact=str(contact.pk),
            content="介绍新产品线",
            outcome="对价格敏感",
            next_step="发送报价单",
            next_due=tomorrow,
        ),
    )
    assert response.status_code == 302
    assert response.url.startswith(reverse("customers:detail", args=[customer.pk]))
    activity = Activity.objects.get()
    assert (activity.actor, activity.contact, activity.next_due.isoformat()) == (org.rep, contact, tomorrow)
    body = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "介绍新产品线" in body and "对价格敏感" in body and "发送报价单" in body


def test_bad_follow_up_names_the_field_and_saves_nothing(client, org, make_customer):
    customer = make_customer(org.rep, "跟进客户有限公司")
    client.force_login(org.rep)
    url = reverse("activities:create", args=[customer.pk])
    empty = client.post(url, follow_up(content="", outcome="有进展"))
    assert empty.status_code == 200
    assert "content" in empty.context["form"].errors
    assert "有进展" in empty.content.decode()
    no_step = client.post(url, follow_up(next_due=timezone.localdate().isoformat()))
    assert "next_step" in no_step.context["form"].errors
    future = client.post(url, follow_up(occurred_at="2099-01-01T10:00"))
    assert "occurred_at" in future.context["form"].errors
    assert not Activity.objects.exists()


def test_follow_up_on_another_reps_customer_is_404(client, org, make_customer):
    theirs = make_customer(org.rep2, "别人的客户有限公司")
    activity = activity_create(
        actor=org.rep2,
        customer_id=theirs.pk,
        data={"content": "电话", "next_step": "回电", "next_due": timezone.localdate()},
    )
    client.force_login(org.rep)
    assert client.post(reverse("activities:create", args=[theirs.pk]), follow_up()).status_code == 404
    assert client.get(reverse("activities:edit", args=[activity.pk])).status_code == 404
    assert client.post(reverse("activities:done", args=[activity.pk])).status_code == 404
    assert client.post(reverse("activities:archive", args=[activity.pk])).status_code == 404
    activity.refresh_from_db()
    assert activity.next_done_at is None and activity.archived_at is None
    assert Activity.objects.count() == 1


def test_edit_and_archive_follow_up(client, org, make_customer):
    customer = make_customer(org.rep, "跟进客户有限公司")
    activity = activity_create(actor=org.rep, customer_id=customer.pk, data={"content": "初次电话"})
    client.force_login(org.rep)
    form = client.get(reverse("activities:edit", args=[activity.pk])).context["form"]
    assert form["content"].value() == "初次电话"
    response = client.post(
        reverse("activities:edit", args=[activity.pk]), follow_up(kind="call", content="第二次电话")
    )
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.content == "第二次电话"
    assert client.post(reverse("activities:archive", args=[activity.pk])).status_code == 302
    body = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "第二次电话" not in body


def test_home_lists_due_and_overdue_and_done_button(client, org, make_customer):
    customer = make_customer(org.rep, "今日客户有限公司")
    other = make_customer(org.rep, "逾期客户有限公司")
    today = timezone.localdate()
    due = activity_create(
        actor=org.rep,
        customer_id=customer.pk,
        data={"content": "电话", "next_step": "发送报价单", "next_due": today},
    )
    late = activity_create(
        actor=org.rep,
        customer_id=other.pk,
        data={"content": "拜访", "next_step": "安排试用", "next_due": today - dt.timedelta(days=2)},
    )
    client.force_login(org.rep)
    home = client.get(reverse("home"))
    assert [a.pk for a in home.context["due_today"]] == [due.pk]
    assert [a.pk for a in home.context["overdue"]] == [late.pk]
    body = home.content.decode()
    assert "发送报价单" in body and "安排试用" in body
    assert reverse("activities:done", args=[due.pk]) in body
    # Plain POST: back to the home page, the step is done and gone from the list.
    response = client.post(reverse("activities:done", args=[due.pk]), {"next": reverse("home")})
    assert response.status_code == 302 and response.url == reverse("home")
    due.refresh_from_db()
    assert due.next_done_at is not None
    again = client.get(reverse("home"))
    assert again.context["due_today"] == []
    assert f'id="follow-up-{due.pk}"' not in again.content.decode()
    # HTMX: the row comes back marked done.
    fragment = client.post(reverse("activities:done", args=[late.pk]), HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    assert "is-done" in fragment.content.decode() and "<html" not in fragment.content.decode()
    late.refresh_from_db()
    assert late.next_done_at is not None


def test_done_refuses_unsafe_redirects(client, org, make_customer):
    customer = make_customer(org.rep, "今日客户有限公司")
    due = activity_create(
        actor=org.rep,
        customer_id=customer.pk,
        data={"content": "电话", "next_step": "回电", "next_due": timezone.localdate()},
    )
    client.force_login(org.rep)
    response = client.post(reverse("activities:done", args=[due.pk]), {"next": "https://evil.example/"})
    assert response.url == reverse("home")


def test_home_query_count_is_bounded(client, org, make_customer, django_assert_max_num_queries):
    today = timezone.localdate()
    for i in range(12):
        customer = make_customer(org.rep, f"首页客户{i}有限公司", tags=["甲"])
        activity_create(
            actor=org.rep,
            customer_id=customer.pk,
            data={"content": "电话", "next_step": f"步骤{i}", "next_due": today - dt.timedelta(days=i % 2)},
        )
    client.force_login(org.rep)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("home"))
    assert len(response.context["due_today"]) + len(response.context["overdue"]) == 12
