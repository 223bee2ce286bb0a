"""Pool UI: the pool page with filters and claim buttons (htmx row update), assign, the owner panel with
Release and Transfer, the home-page warnings, pool settings and permissions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from qianke.customers.models import Customer
from qianke.pool.jobs import run_warnings
from qianke.pool.models import OwnerChange, Pool, PoolWarning
from qianke.pool.services import pool_claim

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def client_for(user, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    return client


def test_pool_page_lists_the_pool_with_claim_buttons_for_members(org, pool, pooled):
    customers = pooled(pool, 3, province="浙江省", city="杭州市")
    response = client_for(org.rep).get(reverse("pool:list"))
    html = response.content.decode()
    assert response.status_code == 200
    for c in customers:
        assert c.name in html and reverse("pool:claim", args=[c.pk]) in html
    assert "浙江省 杭州市" in html and 'hx-post="' in html
    assert "Assign" not in html  # reps do not assign


def test_pool_page_filters_and_pages(org, pool, pooled, settings):
    settings.QIANKE_PAGE_SIZE = 2
    pooled(pool, 3, province="浙江省")
    other = pooled(pool, province="江苏省")
    client = client_for(org.rep)
    page = client.get(reverse("pool:list"), {"province": "江苏省"}).context["page"]
    assert [e.customer_id for e in page.items] == [other.pk]
    page = client.get(reverse("pool:list"), {"page": 2}).context["page"]
    assert page.count == 4 and len(page.items) == 2 and page.has_previous
    assert client.get(reverse("pool:list"), {"q": other.code}).context["page"].count == 1


def test_pool_page_query_count_is_bounded(org, pool, pooled, django_assert_max_num_queries):
    pooled(pool, 25)
    client = client_for(org.manager)
    with django_assert_max_num_queries(15):
        response = client.get(reverse("pool:list"))
    assert len(response.context["page"].items) == 25


def test_pool_page_says_so_when_the_team_has_no_pool(org, pool):
    response = client_for(org.rep_north).get(reverse("pool:list"))
    assert response.context["pool"] is None and "belongs to no public pool" in response.content.decode()


def test_claim_button_swaps_the_row_cell_with_the_result(org, pool, pooled):
    customer = pooled(pool)
    response = client_for(org.rep).post(reverse("pool:claim", args=[customer.pk]), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200 and f'id="claim-{customer.pk}"' in html and "is now yours" in html
    assert Customer.objects.get(pk=customer.pk).owner == org.rep
    response = client_for(org.rep2).post(reverse("pool:claim", args=[customer.pk]), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "Refused" in html and "already taken" in html


def test_claim_without_htmx_redirects_to_the_customer(org, pool, pooled):
    customer = pooled(pool)
    response = client_for(org.rep).post(reverse("pool:claim", args=[customer.pk]))
    assert response.status_code == 302 and response.url == reverse("customers:detail", args=[customer.pk])


def test_claim_needs_csrf_and_post(org, pool, pooled):
    customer = pooled(pool)
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.rep)
    assert client.post(reverse("pool:claim", args=[customer.pk])).status_code == 403
    assert client_for(org.rep).get(reverse("pool:claim", args=[customer.pk])).status_code == 405
    assert Customer.objects.get(pk=customer.pk).owner_id is None


def test_a_rep_of_another_team_gets_404_on_claim(org, make_pool, pooled):
    customer = pooled(make_pool("华北公海", teams=[org.north]))
    assert client_for(org.rep).post(reverse("pool:claim", args=[customer.pk])).status_code == 404


def test_manager_assigns_from_the_pool_page(org, pool, pooled):
    customer = pooled(pool)
    client = client_for(org.manager)
    assert "Assign" in client.get(reverse("pool:list")).content.decode()
    response = client.post(reverse("pool:assign", args=[customer.pk]), {"to": org.rep2.pk})
    assert response.status_code == 302
    assert Customer.objects.get(pk=customer.pk).owner == org.rep2


def test_owner_panel_shows_history_and_release_for_the_owner(org, pool, pooled):
    customer = pooled(pool)
    pool_claim(actor=org.rep, customer_id=customer.pk)
    client = client_for(org.rep)
    html = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "Owner history" in html and reverse("pool:owner_history", args=[customer.pk]) in html
    assert reverse("pool:release", args=[customer.pk]) in html
    fragment = client.get(reverse("pool:owner_history", args=[customer.pk])).content.decode()
    assert "Claimed from the pool" in fragment and "Put into the pool" in fragment
    assert reverse("pool:transfer", args=[customer.pk]) not in fragment
    response = client.post(reverse("pool:release", args=[customer.pk]), {"reason": "客户暂无预算"})
    assert response.status_code == 302 and response.url == reverse("pool:list")
    assert Customer.objects.get(pk=customer.pk).owner_id is None
    assert OwnerChange.objects.filter(customer=customer).first().reason == "客户暂无预算"
    assert client.get(reverse("pool:owner_history", args=[customer.pk])).status_code == 200  # a pool member
    assert client_for(org.rep_north).get(reverse("pool:owner_history", args=[customer.pk])).status_code == 404


def test_release_without_reason_is_refused_with_a_message(org, pool, pooled):
    customer = pooled(pool)
    pool_claim(actor=org.rep, customer_id=customer.pk)
    response = client_for(org.rep).post(reverse("pool:release", args=[customer.pk]), {"reason": ""}, follow=True)
    assert "Give a reason" in response.content.decode()
    assert Customer.objects.get(pk=customer.pk).owner == org.rep


def test_manager_transfers_from_the_customer_page(org, pool, pooled):
    customer = pooled(pool)
    pool_claim(actor=org.rep, customer_id=customer.pk)
    client = client_for(org.manager)
    fragment = client.get(reverse("pool:owner_history", args=[customer.pk])).content.decode()
    assert reverse("pool:transfer", args=[customer.pk]) in fragment
    client.post(reverse("pool:transfer", args=[customer.pk]), {"to": org.rep2.pk, "reason": "调岗"})
    assert Customer.objects.get(pk=customer.pk).owner == org.rep2


def test_owner_panel_costs_the_customer_page_no_query(org, pool, pooled):
    from qianke.pool.views import owner_panel_context

    customer = pooled(pool)
    pool_claim(actor=org.rep, customer_id=customer.pk)
    customer = Customer.objects.get(pk=customer.pk)

    class Request:
        user = org.rep

    with CaptureQueriesContext(connection) as queries:
        ctx = owner_panel_context(Request(), customer)
    assert ctx["may_release"] and len(queries) == 0


def test_home_page_shows_customers_about_to_return(org, pool, pooled):
    customer = pooled(pool)
    pool_claim(actor=org.rep, customer_id=customer.pk)
    run_warnings(today=timezone.localdate() + dt.timedelta(days=28))
    assert PoolWarning.objects.count() == 1
    html = client_for(org.rep).get(reverse("home")).content.decode()
    assert "Customers about to return to the pool" in html and customer.name in html
    assert "Customers about to return to the pool" not in client_for(org.rep2).get(reverse("home")).content.decode()


def test_pool_settings_for_administrators_only(org, pool):
    assert client_for(org.manager).get(reverse("pool:settings")).status_code == 403
    assert client_for(org.manager).get(reverse("pool:create")).status_code == 403
    client = client_for(org.admin)
    assert pool.name in client.get(reverse("pool:settings")).content.decode()
    response = client.post(reverse("pool:create"), {
        "name": "华北公海", "teams": [org.north.pk], "cap_per_rep": "30", "cooldown_days": "15", "warn_days": "3",
        "exempt_open_deals": "on", "no_follow_up_days": "20", "not_converted_days": "", "active": "on",
        "rule_A_no_follow_up_days": "5", "rule_A_not_converted_days": "45"})
    assert response.status_code == 302, response.context["form"].errors
    created = Pool.objects.get(name="华北公海")
    assert list(created.teams.all()) == [org.north] and created.not_converted_days is None
    assert [(r.grade, r.no_follow_up_days, r.not_converted_days) for r in created.rules.all()] == [("A", 5, 45)]
    response = client.post(reverse("pool:edit", args=[created.pk]), {
        "name": pool.name, "cooldown_days": "15", "warn_days": "3"})
    assert response.status_code == 200 and "already exists" in response.content.decode()



def test_pool_edit_page_is_prefilled_and_guarded(org, pool):
    assert client_for(org.manager).get(reverse("pool:edit", args=[pool.pk])).status_code == 403
    client = client_for(org.admin)
    assert client.get(reverse("pool:edit", args=[pool.pk + 1000])).status_code == 404
    response = client.get(reverse("pool:edit", args=[pool.pk]))
    form = response.context["form"]
    assert form.initial["name"] == pool.name and form.initial["cooldown_days"] == pool.cooldown_days
    assert list(form.initial["teams"]) == list(pool.teams.all())


def test_pool_page_takes_a_bad_page_number_as_the_first_page(org, pool, pooled):
    customers = pooled(pool, 2)
    response = client_for(org.rep).get(reverse("pool:list"), {"page": "abc"})
    assert response.context["page_number"] == 1
    assert all(c.name in response.content.decode() for c in customers)
