"""Qualification UI: customer-page panel, edit and stop forms, home cadence section, due list, settings."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from qianke.qualification.jobs import recompute_grades
from qianke.qualification.models import Qualification
from qianke.qualification.services import qualification_update

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def client_for(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def test_panel_shows_man_combination_next_action_grade_and_why(org, make_customer):
    customer = make_customer(org.rep)
    expected = timezone.localdate() + dt.timedelta(days=50)
    qualification_update(actor=org.rep, customer_id=customer.pk, data={
        "money": "yes", "authority": "unknown", "need": "explicit", "budget": "200000",
        "expected_purchase_date": expected})
    html = client_for(org.rep).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert 'id="qualification-panel"' in html
    assert "M+A?+N (Explicit)" in html  # the need in the page language, not its API value
    assert "Find who decides and get an introduction" in html
    assert "grade-B" in html and f"expected {expected:%Y-%m-%d}, in 50 days: within 90 days" in html
    assert "¥200,000" in html
    # Not all "no": a rep is offered no stop form, a manager the override form.
    assert reverse("qualification:stop", args=[customer.pk]) not in html
    html = client_for(org.manager).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "Override and stop contacting" in html


def test_edit_form_saves_and_shows_field_errors(org, make_customer, make_contact):
    customer = make_customer(org.rep)
    contact = make_contact(org.rep, customer, "王总")
    client = client_for(org.rep)
    url = reverse("qualification:edit", args=[customer.pk])
    response = client.post(url, {"money": "yes", "authority": "yes", "need": "urgent", "budget": "-1",
                                 "expected_purchase_date": "not a date"})
    assert response.status_code == 200
    form = response.context["form"]
    assert {"budget", "expected_purchase_date"} <= set(form.errors)
    assert not Qualification.objects.exists()
    zh = Client(headers={"Accept-Language": "zh-hans"})
    zh.force_login(org.rep)
    response = zh.post(url, {"money": "yes", "authority": "yes", "need": "urgent", "budget": "-1"})
    assert response.context["form"].errors["budget"] != ["Ensure this value is greater than or equal to 0."]

    response = client.post(url, {"money": "yes", "authority": "yes", "need": "urgent", "budget": "150000",
                                 "authority_contact": str(contact.pk), "ordered": "on"})
    assert response.status_code == 302
    q = Qualification.objects.get(customer=customer)
    assert q.is_qualified and q.grade == "O" and q.authority_contact == contact


def test_stop_form_refuses_rep_and_records_manager_override(org, make_customer):
    customer = make_customer(org.rep)
    url = reverse("qualification:stop", args=[customer.pk])
    response = client_for(org.rep).post(url, {"reason": "不想联系", "override": "on"}, follow=True)
    assert "Only a manager can stop contact" in response.content.decode()
    assert not Qualification.objects.filter(stop_contacting=True).exists()
    response = client_for(org.manager).post(url, {"reason": "客户转向竞品", "override": "on"}, follow=True)
    html = response.content.decode()
    assert "Contact stopped" in html and "客户转向竞品" in html
    assert Qualification.objects.get(customer=customer).stop_overridden_by == org.manager
    client_for(org.rep).post(reverse("qualification:resume", args=[customer.pk]))
    assert not Qualification.objects.get(customer=customer).stop_contacting


def test_invisible_customer_is_404(org, make_customer):
    customer = make_customer(org.rep)
    client = client_for(org.rep2)
    assert client.get(reverse("qualification:edit", args=[customer.pk])).status_code == 404
    assert client.post(reverse("qualification:edit", args=[customer.pk]), {"money": "no", "authority": "no",
                                                                          "need": "none"}).status_code == 404
    assert client.post(reverse("qualification:stop", args=[customer.pk]), {"reason": "x"}).status_code == 404
    assert not Qualification.objects.exists()


def _due_setup(org, make_customer):
    today = timezone.localdate()
    due = make_customer(org.rep, "今日跟进汽车有限公司")
    late = make_customer(org.rep, "逾期跟进物流有限公司")
    hidden = make_customer(org.rep2, "别人的客户有限公司")
    recompute_grades(today=today)
    Qualification.objects.filter(customer=due).update(grade="A", next_follow_up_due=today)
    Qualification.objects.filter(customer__in=[late, hidden]).update(grade="C", next_follow_up_due=today - dt.timedelta(5))
    return due, late, hidden


def test_home_section_lists_due_and_overdue_by_grade(org, make_customer):
    due, late, hidden = _due_setup(org, make_customer)
    html = client_for(org.rep).get(reverse("home")).content.decode()
    assert "Follow-up cadence by grade" in html
    section = html[html.index("cadence-section"):]
    today_part, overdue_part = section.split('class="cadence-overdue"')
    assert due.name in today_part and late.name not in today_part
    assert late.name in overdue_part and hidden.name not in section
    assert "?when=overdue&amp;grade=C" in overdue_part


def test_due_page_filters_paginates_and_is_bounded(org, make_customer):
    due, late, hidden = _due_setup(org, make_customer)
    client = client_for(org.rep)
    url = reverse("qualification:due")
    html = client.get(url).content.decode()
    assert due.name in html and late.name not in html
    html = client.get(url, {"when": "overdue"}).content.decode()
    assert late.name in html and hidden.name not in html
    assert late.name not in client.get(url, {"when": "overdue", "grade": "A"}).content.decode()
    extra = [make_customer(org.rep) for _ in range(30)]
    recompute_grades(today=timezone.localdate())  # creates their rows (and resets the hand-set dates above)
    Qualification.objects.filter(customer__in=extra).update(next_follow_up_due=timezone.localdate() - dt.timedelta(1))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"when": "overdue"})
    assert len(response.context["page"].items) == 25 and response.context["page"].has_next
    first_page_queries = len(queries)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"when": "overdue", "page": 2})
    assert len(response.context["page"].items) == 5 and response.context["page"].count == 30
    assert len(queries) == first_page_queries <= 8


def test_nav_item_and_settings_page_for_admins_only(org):
    html = client_for(org.rep).get(reverse("home")).content.decode()
    assert reverse("qualification:due") in html and reverse("qualification:settings") not in html
    assert reverse("qualification:settings") in client_for(org.admin).get(reverse("home")).content.decode()
    assert client_for(org.rep).get(reverse("qualification:settings")).status_code == 403
    admin = client_for(org.admin)
    assert admin.get(reverse("qualification:settings")).status_code == 200
    data = {"a_within_days": 20, "b_within_days": 60, "c_within_days": 120, "cadence_a_days": 2,
            "cadence_b_days": 7, "cadence_c_days": 14, "cadence_d_days": 30, "cadence_o_days": ""}
    assert admin.post(reverse("qualification:settings"), data).status_code == 302
    from qianke.qualification.models import GradingSettings

    assert GradingSettings.load().a_within_days == 20
    response = admin.post(reverse("qualification:settings"), {**data, "b_within_days": 10})
    assert response.status_code == 200 and "b_within_days" in response.context["form"].errors
