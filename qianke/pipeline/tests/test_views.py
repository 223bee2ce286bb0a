"""Deal pages: list, detail with gate and override, create from the customer page, checklist, board, panel."""

import pytest
from django.urls import reverse

from qianke.pipeline.models import Deal, DealReason, DealStageChange


def test_the_customer_page_panel_costs_no_query_and_loads_its_list_by_htmx(client, org, make_customer, make_contact,
                                                                           make_deal, django_assert_num_queries,
                                                                           django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from qianke.pipeline.views import customer_panel_context

    customer = make_customer(org.rep, "面板客户有限公司")
    for i in range(5):
        make_contact(org.rep, customer, f"联系人{i}")
    for i in range(3):
        make_deal(org.rep, customer=customer, name=f"面板商机{i}", amount="1000")
    client.force_login(org.rep)
    for tab in ("timeline", "profile", "contacts", "history"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("customers:detail", args=[customer.pk]), {"tab": tab})
        assert response.status_code == 200
        assert not any("pipeline_" in q["sql"] for q in queries.captured_queries)
    html = response.content.decode()
    panel_url = reverse("pipeline:customer_deals", args=[customer.pk])
    assert 'id="deals-panel"' in html and f'hx-get="{panel_url}"' in html
    assert f"{reverse('pipeline:deal_create')}?customer={customer.pk}" in html
    with django_assert_num_queries(0):
        customer_panel_context(None, customer)
    with django_assert_max_num_queries(6):  # session, user, customer, deals
        response = client.get(panel_url, HTTP_HX_REQUEST="true")
    assert [d.name for d in response.context["deals"]] == ["面板商机2", "面板商机1", "面板商机0"]
    assert "面板商机2" in response.content.decode()
    client.force_login(org.rep_north)
    assert client.get(panel_url).status_code == 404


def test_new_deal_from_the_customer_page(client, org, make_customer, process):
    customer = make_customer(org.rep, "新商机客户有限公司")
    client.force_login(org.rep)
    url = reverse("pipeline:deal_create") + f"?customer={customer.pk}"
    page = client.get(url)
    assert page.status_code == 200 and "新商机客户有限公司" in page.content.decode()
    response = client.post(url, {"name": "", "process": process("big_account_development").pk, "amount": "abc"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) >= {"name", "amount"}
    response = client.post(url, {"name": "新产品试用", "process": process("big_account_development").pk,
                                 "amount": "80,000", "purchase_window": "3", "budget": "90000",
                                 "expected_close_date": "2027-02-28"})
    deal = Deal.objects.get(name="新产品试用")
    assert response.status_code == 302 and response.url == reverse("pipeline:deal_detail", args=[deal.pk])
    assert deal.customer == customer and deal.stage.name == "确定开发对象" and deal.purchase_window == 3
    assert str(deal.amount) == "80000.00"


def test_new_deal_for_an_invisible_customer_is_404(client, org, make_customer):
    customer = make_customer(org.rep_north)
    client.force_login(org.rep)
    assert client.get(reverse("pipeline:deal_create") + f"?customer={customer.pk}").status_code == 404


def test_deal_page_shows_path_checklist_and_history(client, org, make_deal):
    deal = make_deal(org.rep, amount="120000")
    client.force_login(org.rep)
    html = client.get(reverse("pipeline:deal_detail", args=[deal.pk])).content.decode()
    for text in ("客户开发", "立项", "工程实施", "赢单", "准确的项目信息", "★", 'id="stage-history"', 'id="move-next"'):
        assert text in html, text
    client.force_login(org.rep_north)
    assert client.get(reverse("pipeline:deal_detail", args=[deal.pk])).status_code == 404


def test_refused_move_shows_unmet_items_and_a_manager_overrides(client, org, make_deal, stage):
    deal = make_deal(org.rep)
    target = stage(deal.process, "立项")
    client.force_login(org.rep)
    response = client.post(reverse("pipeline:deal_move", args=[deal.pk]), {"stage": target.pk})
    assert response.status_code == 409
    html = response.content.decode()
    assert 'id="move-refused"' in html and "获得准确的项目信息" in html and 'name="override_reason"' not in html
    client.force_login(org.manager)
    response = client.post(reverse("pipeline:deal_move", args=[deal.pk]), {"stage": target.pk})
    assert response.status_code == 409 and 'name="override_reason"' in response.content.decode()
    response = client.post(reverse("pipeline:deal_move", args=[deal.pk]),
                           {"stage": target.pk, "override_reason": "客户高层已确认"})
    assert response.status_code == 302
    change = DealStageChange.objects.get(deal=deal, stage=target)
    assert change.override_reason == "客户高层已确认" and change.actor == org.manager
    html = client.get(reverse("pipeline:deal_detail", args=[deal.pk])).content.decode()
    assert "客户高层已确认" in html


def test_ticking_the_checklist_opens_the_gate(client, org, make_deal, stage):
    deal = make_deal(org.rep)
    item = stage(deal.process, "客户开发").checklist.get(required=True)
    client.force_login(org.rep)
    response = client.post(reverse("pipeline:deal_tick", args=[deal.pk]), {"item": item.pk, "done": "1"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "☑" in response.content.decode()
    response = client.post(reverse("pipeline:deal_move", args=[deal.pk]), {"stage": stage(deal.process, "立项").pk})
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.stage.name == "立项"


def test_lose_from_the_deal_page_needs_a_reason(client, org, make_deal, stage):
    deal = make_deal(org.rep)
    lost = stage(deal.process, "输单")
    client.force_login(org.rep)
    client.post(reverse("pipeline:deal_move", args=[deal.pk]), {"stage": lost.pk})
    deal.refresh_from_db()
    assert deal.semantic == "open"
    reason = DealReason.objects.get(semantic="lost", name="预算不足")
    client.post(reverse("pipeline:deal_move", args=[deal.pk]), {"stage": lost.pk, "reason": reason.pk})
    deal.refresh_from_db()
    assert deal.semantic == "lost" and deal.reason == reason


def test_edit_deal(client, org, make_deal):
    deal = make_deal(org.rep)
    client.force_login(org.rep)
    response = client.post(reverse("pipeline:deal_edit", args=[deal.pk]),
                           {"name": "改名项目", "probability": "15", "next_step": "寄样品", "next_step_due": "2027-01-03"})
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.name == "改名项目" and deal.probability == 15 and deal.probability_overridden
    assert deal.next_step == "寄样品"


def test_list_filters_and_bounded_queries(client, org, make_deal, process, django_assert_max_num_queries):
    for i in range(12):
        make_deal(org.rep, name=f"列表商机{i}", amount=str(1000 * i))
    make_deal(org.rep, name="代理签约", code="regional_agent")
    client.force_login(org.manager)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("pipeline:deal_list"))
    assert response.context["page"].count == 13
    response = client.get(reverse("pipeline:deal_list"), {"process": process("regional_agent").pk})
    assert [d.name for d in response.context["page"].items] == ["代理签约"]
    response = client.get(reverse("pipeline:deal_list"), {"q": "列表商机1", "sort": "amount"})
    assert [d.name for d in response.context["page"].items] == ["列表商机11", "列表商机10", "列表商机1"]
    client.force_login(org.rep_north)
    assert client.get(reverse("pipeline:deal_list")).context["page"].count == 0


def test_list_pages_link_back_and_forward(client, org, make_deal, monkeypatch):
    from qianke.pipeline import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for i in range(5):
        make_deal(org.rep, name=f"翻页商机{i}")
    client.force_login(org.rep)
    html = client.get(reverse("pipeline:deal_list"), {"page": 2}).content.decode()
    assert 'class="pager"' in html and "page=1" in html and "page=3" in html
    html = client.get(reverse("pipeline:deal_list"), {"page": 3}).content.decode()
    assert "page=2" in html and "page=4" not in html


def test_board_shows_columns_per_stage_with_cards(client, org, make_deal, process, django_assert_max_num_queries):
    for i in range(3):
        make_deal(org.rep, name=f"看板商机{i}", amount="5000")
    client.force_login(org.rep)
    with django_assert_max_num_queries(25):
        response = client.get(reverse("pipeline:board"), {"process": process("big_account_sales").pk})
    columns = response.context["columns"]
    assert [c.stage.name for c in columns][:2] == ["客户开发", "立项"]
    assert columns[0].count == 3 and columns[0].amount == 15000
    html = response.content.decode()
    assert html.count('class="deal-card"') == 3 and "board.js" in html


@pytest.mark.parametrize("name", ["pipeline:deal_list", "pipeline:board", "pipeline:deal_create"])
def test_pages_need_a_login(client, name):
    assert client.get(reverse(name)).status_code == 302


def test_menu_links_to_deals(client, org):
    client.force_login(org.rep)
    assert reverse("pipeline:deal_list") in client.get(reverse("home")).content.decode()


def test_report_page_and_stalled_list(client, org, make_deal, django_assert_max_num_queries):
    import datetime as dt

    from django.utils import timezone

    make_deal(org.rep, name="报表页商机", amount="100000", expected_close_date=timezone.localdate(),
              at=timezone.now() - dt.timedelta(days=40))
    client.force_login(org.manager)
    with django_assert_max_num_queries(30):
        response = client.get(reverse("pipeline:reports"))
    html = response.content.decode()
    for marker in ('id="forecast-chart"', 'id="funnel-table"', 'id="history-table"', "echarts.min.js", "10,000"):
        assert marker in html, marker
    response = client.get(reverse("pipeline:stalled"))
    assert response.context["page"].count == 1 and "报表页商机" in response.content.decode()


def test_managers_see_stalled_deals_on_their_home_page(client, org, make_deal):
    import datetime as dt

    from django.utils import timezone

    make_deal(org.rep, name="首页停滞商机", at=timezone.now() - dt.timedelta(days=45))
    client.force_login(org.manager)
    html = client.get(reverse("home")).content.decode()
    assert 'id="home-stalled-deals"' in html and "首页停滞商机" in html
    client.force_login(org.rep)
    assert 'id="home-stalled-deals"' not in client.get(reverse("home")).content.decode()
