"""Pages: origin panel and form, introducer search, referral tree, source report, source settings."""

import json
import re

import pytest
from django.test import Client

from qianke.customers.models import Customer
from qianke.leads.models import CustomerOrigin, Source
from qianke.leads.services import origin_set


@pytest.fixture
def login():
    def make(user):
        client = Client()
        client.force_login(user)
        client.cookies["django_language"] = "en"  # assertions read the English msgids
        return client

    return make


def test_panel_on_the_customer_page(org, login, make_customer, src):
    introducer = make_customer(org.rep, "老客户甲")
    c = make_customer(org.rep, "新客户乙")
    origin_set(actor=org.rep, customer_id=c.pk, data={"source": src("老客户介绍").pk,
                                                      "introducer_customer": introducer.pk})
    page = login(org.rep).get(f"/customers/{c.pk}/").content.decode()
    assert 'id="origin-panel"' in page and "介绍客源 › 老客户介绍" in page
    assert f'href="/customers/{introducer.pk}/"' in page
    Customer.objects.filter(pk=c.pk).update(status="new")
    page = login(org.rep).get(f"/customers/{introducer.pk}/").content.decode()
    assert "Introduced by this customer: 1 (1 became customers)" in page
    assert f"/customers/{introducer.pk}/referrals/" in page


def test_origin_form_saves_and_shows_errors(org, login, make_customer, make_contact, src, info):
    introducer = make_customer(org.rep, "老客户甲")
    contact = make_contact(org.rep, introducer, "王经理")
    c = make_customer(org.rep, "新客户乙")
    client = login(org.rep)
    form = client.get(f"/customers/{c.pk}/origin/").content.decode()
    assert '<optgroup label="展厅客源">' in form and "来店" in form
    response = client.post(f"/customers/{c.pk}/origin/", {
        "source": src("老客户介绍").pk, "information_source": info("介绍").pk,
        "introducer_customer": introducer.pk, "introducer_contact": contact.pk})
    assert response.status_code == 302
    origin = CustomerOrigin.objects.get(customer=c)
    assert origin.introducer_contact == contact and origin.information_source.name == "介绍"
    # a cycle is refused with a message on the page
    response = client.post(f"/customers/{introducer.pk}/origin/", {"source": src("来店").pk,
                                                                   "introducer_customer": c.pk})
    assert response.status_code == 200 and "circle" in response.content.decode()
    response = client.post(f"/customers/{c.pk}/origin/", {"source": ""})
    assert response.status_code == 200 and "Choose the source." in response.content.decode()


def test_introducer_search_and_pick(org, login, make_customer):
    make_customer(org.rep, "杭州娃哈哈经销部")
    theirs = make_customer(org.rep_north, "杭州另一家")
    c = make_customer(org.rep, "新客户")
    client = login(org.rep)
    results = client.get(f"/customers/{c.pk}/origin/introducers/?introducer_q=杭州").content.decode()
    assert "杭州娃哈哈经销部" in results and "杭州另一家" not in results
    assert client.get(f"/customers/{c.pk}/origin/introducer/?introducer={theirs.pk}").status_code == 404
    other = make_customer(org.rep, "老客户")
    pick = client.get(f"/customers/{c.pk}/origin/introducer/?introducer={other.pk}").content.decode()
    assert f'value="{other.pk}"' in pick and "老客户" in pick


def test_referral_tree_page(org, login, make_customer, src):
    root, child, grandchild = (make_customer(org.rep, n) for n in ("根客户", "子客户", "孙客户"))
    origin_set(actor=org.rep, customer_id=child.pk, data={"source": src("老客户介绍").pk,
                                                          "introducer_customer": root.pk})
    origin_set(actor=org.rep, customer_id=grandchild.pk, data={"source": src("老客户介绍").pk,
                                                               "introducer_customer": child.pk})
    page = login(org.rep).get(f"/customers/{root.pk}/referrals/").content.decode()
    assert page.index("子客户") < page.index("孙客户") and page.count('class="referral-tree"') == 2
    assert login(org.rep_north).get(f"/customers/{root.pk}/referrals/").status_code == 404


def test_source_report_page(org, login, make_customer, src):
    c = make_customer(org.rep)
    origin_set(actor=org.rep, customer_id=c.pk, data={"source": src("来店").pk})
    page = login(org.manager).get("/reports/sources/").content.decode()
    assert "qianke/vendor/echarts" in page and "cdn" not in page.lower()
    assert 'id="source-table"' in page and "展厅客源" in page
    assert "<th>Value won" not in page and "until deals and orders are recorded" in page
    chart = json.loads(re.search(r'id="source-chart-data"[^>]*>(.*?)</script>', page, re.S).group(1))
    assert chart["labels"][0] == "展厅客源" and chart["count"][0] == 1 and set(chart["series"]) == {"count", "converted"}
    nav_manager = login(org.manager).get("/customers/").content.decode()
    assert 'href="/reports/sources/"' in nav_manager
    assert 'href="/reports/sources/"' not in login(org.rep).get("/customers/").content.decode()


def test_source_settings_for_administrators(org, login, src):
    assert login(org.manager).get("/settings/sources/").status_code == 403
    client = login(org.admin)
    assert "零服推荐" in client.get("/settings/sources/").content.decode()
    response = client.post("/settings/sources/", {"name": "车展", "parent": src("市场活动").pk, "order": ""})
    assert response.status_code == 302 and Source.objects.get(name="车展").depth == 2
    response = client.post(f"/settings/sources/{src('车展').pk}/", {"name": "国际车展", "parent": src("市场活动").pk})
    assert response.status_code == 302 and Source.objects.filter(name="国际车展").exists()
    client.post(f"/settings/sources/{src('国际车展').pk}/deactivate/")
    assert not src("国际车展").active
    client.post(f"/settings/sources/{src('国际车展').pk}/activate/")
    assert src("国际车展").active


def test_customer_create_form_offers_the_source(org, login, src):
    client = login(org.rep)
    form = client.get("/customers/new/").content.decode()
    assert 'name="source"' in form and '<optgroup label="介绍客源">' in form
    response = client.post("/customers/new/", {"kind": "organization", "name": "宁波来店贸易有限公司",
                                               "status": "potential", "relation_class": "business",
                                               "owner": org.rep.pk, "source": src("来店").pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    customer = Customer.objects.get(name="宁波来店贸易有限公司")
    assert customer.origin.source == src("来店") and customer.origin.recorded_by == org.rep
    # without a source the customer is still registered, with no origin
    response = client.post("/customers/new/", {"kind": "organization", "name": "宁波无来源有限公司",
                                               "status": "potential", "relation_class": "business"})
    assert response.status_code == 302
    assert not CustomerOrigin.objects.filter(customer__name="宁波无来源有限公司").exists()
    # the edit form does not ask again (the customer page does)
    assert 'name="source"' not in client.get(f"/customers/{customer.pk}/edit/").content.decode()


def test_panel_costs_one_query(org, make_customer, src, django_assert_num_queries):
    from qianke.leads.selectors import origin_panel

    c = make_customer(org.rep)
    origin_set(actor=org.rep, customer_id=c.pk, data={"source": src("来店").pk})
    with django_assert_num_queries(1):
        origin, summary = origin_panel(user=org.rep, customer=c)
    assert origin.source_path == "展厅客源 › 来店" and summary == {"introduced": 0, "converted": 0}
