"""In a real browser: a manager declares a customer lost from the customer page with a reason, then opens
the funnel report from the menu and sees the ECharts chart drawn from the vendored script.

Screenshots go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import pytest

from qianke.accounts.models import Role
from qianke.accounts.services import team_create, user_create
from qianke.customers.lifecycle import customer_record_purchase
from qianke.customers.models import Customer, StatusChange
from qianke.customers.services import customer_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


PASSWORD = "pw-Qianke-2026"


def test_declare_lost_then_read_the_funnel(live_server, browser, screenshot):
    from playwright.sync_api import expect

    team = team_create(name="华东组")
    manager = user_create(username="limin", role=Role.MANAGER, team=team, password=PASSWORD, validate=False,
                          full_name="李敏")
    bought = customer_create(actor=manager, data={"name": "苏州精工机械有限公司", "kind": "organization"})
    customer_record_purchase(actor=manager, customer_id=bought.pk)
    customer = customer_create(actor=manager, data={"name": "无锡华光电子有限公司", "kind": "organization"})

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US",
                                  extra_http_headers={"Accept-Language": "en"})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    external: list[str] = []
    page.on("request", lambda req: external.append(req.url) if not req.url.startswith(live_server.url) else None)

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "limin")
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/login/'] button[type=submit]")
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    panel = page.locator("#lifecycle")
    expect(panel).to_be_visible()
    panel.locator("#lifecycle-reason").fill("预算取消")
    panel.locator("#lifecycle-competitor").fill("东方电子")
    panel.locator("button[name=to_status][value=lost]").click()
    expect(page.locator("#lifecycle .status")).to_have_class("status status-lost")
    expect(page.locator("#lifecycle")).to_contain_text("预算取消")
    screenshot(page, "lifecycle-panel")
    assert Customer.objects.get(pk=customer.pk).status == "lost"
    assert StatusChange.objects.get(customer=customer, to_status="lost").competitor == "东方电子"

    page.click("nav.mainnav details[data-menu=reports] > summary")
    page.click("nav.mainnav a[href='/reports/funnel/']")
    expect(page.locator("#funnel-chart canvas")).to_be_visible()
    expect(page.locator("table.funnel-table")).to_contain_text("华东组")
    screenshot(page, "funnel-report")
    assert errors == [] and external == []
