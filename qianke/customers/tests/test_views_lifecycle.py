"""Lifecycle pages: the customer-page panel and its buttons, the read-only status on edit, the funnel page
and its menu link."""

from __future__ import annotations

import pytest
from django.urls import reverse

from qianke.customers.models import Customer, StatusChange

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def detail(client, customer) -> str:
    response = client.get(reverse("customers:detail", args=[customer.pk]), **EN)
    assert response.status_code == 200
    return response.content.decode()


def test_the_panel_offers_exactly_the_legal_moves(client, org, make_customer):
    client.force_login(org.rep)
    body = detail(client, make_customer(org.rep, status="new"))
    assert 'id="lifecycle"' in body
    assert 'name="purchase" value="1"' in body  # new → repeat is a purchase
    assert 'name="to_status" value="dormant"' in body and 'name="to_status" value="lost"' in body
    assert 'name="to_status" value="potential"' not in body
    lost = detail(client, make_customer(org.rep, status="lost"))
    assert 'name="to_status" value="potential"' in lost and 'name="purchase"' not in lost


def test_a_button_moves_the_customer_and_the_history_shows_it(client, org, make_customer):
    customer = make_customer(org.rep, status="repeat")
    client.force_login(org.rep)
    url = reverse("customers:transition", args=[customer.pk])
    response = client.post(url, {"to_status": "lost", "reason": "搬迁外地", "competitor": "东方机械"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.status == "lost"
    body = detail(client, customer)
    assert "搬迁外地" in body and "东方机械" in body


def test_a_purchase_button_records_the_purchase(client, org, make_customer):
    customer = make_customer(org.rep)
    client.force_login(org.rep)
    client.post(reverse("customers:transition", args=[customer.pk]), {"purchase": "1", "reason": "订单 SO-9"})
    customer.refresh_from_db()
    assert customer.status == "new" and customer.last_purchase_at is not None
    assert StatusChange.objects.get(customer=customer, to_status="new").trigger == "purchase"


def test_a_missing_reason_or_illegal_move_changes_nothing_and_says_why(client, org, make_customer):
    customer = make_customer(org.rep, status="new")
    client.force_login(org.rep)
    url = reverse("customers:transition", args=[customer.pk])
    response = client.post(url, {"to_status": "lost", "reason": ""}, follow=True, **EN)
    assert "Give a reason for this change." in response.content.decode()
    response = client.post(url, {"to_status": "potential", "reason": "x"}, follow=True, **EN)
    assert "cannot move from" in response.content.decode()
    customer.refresh_from_db()
    assert customer.status == "new"


def test_another_reps_customer_cannot_be_moved(client, org, make_customer):
    customer = make_customer(org.rep_north)
    client.force_login(org.rep)
    response = client.post(reverse("customers:transition", args=[customer.pk]), {"to_status": "lost", "reason": "x"})
    assert response.status_code == 404
    assert Customer.objects.get(pk=customer.pk).status == "potential"


def test_the_edit_form_shows_the_status_read_only_and_ignores_a_posted_status(client, org, make_customer):
    customer = make_customer(org.rep, "状态只读有限公司")
    client.force_login(org.rep)
    url = reverse("customers:edit", args=[customer.pk])
    body = client.get(url).content.decode()
    assert 'id="status-readonly"' in body and 'name="status"' not in body
    response = client.post(url, {"kind": "organization", "name": "状态只读有限公司", "status": "repeat",
                                 "relation_class": "business", "city": "苏州", "owner": org.rep.pk,
                                 "team": org.east.pk})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.status, customer.city) == ("potential", "苏州")
    assert 'name="status"' in client.get(reverse("customers:create")).content.decode()


def test_the_funnel_page_has_filters_the_chart_and_the_numbers(client, org, make_customer):
    customer = make_customer(org.rep)
    make_customer(org.rep_north)
    client.force_login(org.rep)
    client.post(reverse("customers:transition", args=[customer.pk]), {"purchase": "1"})
    client.force_login(org.gm)
    response = client.get(reverse("reports_funnel"), {"group_by": "team"}, **EN)
    assert response.status_code == 200
    body = response.content.decode()
    assert "qianke/vendor/echarts" in body and 'id="funnel-data"' in body and "cdn" not in body.lower()
    assert "华东组" in body and "华北组" in body and "50%" in body
    assert reverse("reports_funnel") in body  # in the main menu


def test_reps_have_no_funnel_link_or_page(client, org):
    client.force_login(org.rep)
    assert reverse("reports_funnel") not in client.get(reverse("customers:list")).content.decode()
    assert client.get(reverse("reports_funnel")).status_code == 403


def test_a_reversed_period_is_explained(client, org):
    client.force_login(org.manager)
    response = client.get(reverse("reports_funnel"), {"date_from": "2026-03-01", "date_to": "2026-01-01"}, **EN)
    assert response.status_code == 200 and "The period starts after it ends." in response.content.decode()
