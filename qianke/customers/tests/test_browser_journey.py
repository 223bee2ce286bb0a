"""The main journey in a real browser on a phone-sized screen: log in, register an organisation with a
contact, find it by its pinyin initials with search-as-you-type, open it and record a follow-up.

Screenshots go to test-artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import datetime as dt

import pytest

from qianke.accounts.models import Role
from qianke.accounts.services import team_create, user_create
from qianke.customers.models import Customer
from qianke.customers.services import customer_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


PASSWORD = "pw-Qianke-2026"


@pytest.fixture
def rep(transactional_db):
    team = team_create(name="华北组")
    return user_create(
        username="wangfang", role=Role.SALES, team=team, password=PASSWORD, validate=False, full_name="王芳"
    )


def test_register_find_by_initials_and_follow_up(live_server, browser, screenshot, rep):
    from playwright.sync_api import expect

    # Another customer, so the search has something to leave out.
    customer_create(actor=rep, data={"name": "上海电气集团有限公司", "kind": "organization"})
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    external: list[str] = []
    page.on(
        "request", lambda req: external.append(req.url) if not req.url.startswith(live_server.url) else None
    )

    # Log in.
    page.goto(f"{live_server.url}/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    screenshot(page, "01-login-phone")
    page.fill("#id_username", "wangfang")
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/login/'] button[type=submit]")
    expect(page.locator("h1")).to_contain_text("王芳")
    screenshot(page, "02-home-phone")

    # Register an organisation.
    page.click("a[href='/customers/new/']")
    expect(page.locator("#id_name")).to_be_visible()
    page.fill("#id_name", "北京华为技术有限公司")
    page.select_option("#id_industry", "telecom")
    page.select_option("#id_enterprise_nature", "private")
    page.fill("#id_phone", "010-6234 5678")
    page.fill("#id_province", "北京市")
    page.fill("#id_city", "北京市")
    page.fill("#id_district", "海淀区")
    page.fill("#id_tags", "重点, 通信")
    screenshot(page, "03-customer-form-phone")
    page.click("form.form button.btn-primary[type=submit]")
    expect(page.locator(".customer-head h1")).to_have_text("北京华为技术有限公司")
    customer = Customer.objects.get(name="北京华为技术有限公司")
    assert customer.owner == rep and customer.industry == "telecom"
    expect(page.locator(".customer-head")).to_contain_text(customer.code)
    expect(page.locator(".customer-head .tag", has_text="重点")).to_be_visible()

    # Add a contact.
    page.click("nav.tabs a[href$='?tab=contacts']")
    expect(page.locator("nav.tabs a[aria-current=page]")).to_have_attribute(
        "href", f"/customers/{customer.pk}/?tab=contacts"
    )
    page.click(f"a[href='/customers/{customer.pk}/contacts/new/']")
    page.fill("#id_name", "李强")
    page.fill("#id_title", "采购经理")
    page.fill("#id_mobile", "138 1234 5678")
    page.click("form.form button.btn-primary[type=submit]")
    contact_row = page.locator(".contact-list .contact", has_text="李强")
    expect(contact_row).to_contain_text("采购经理")
    expect(contact_row).to_contain_text("138 1234 5678")
    screenshot(page, "04-contacts-phone")

    # Find it by pinyin initials, typing into the search box (HTMX swaps the results).
    page.click("nav.mainnav a[href='/customers/']")
    results = page.locator("#results")
    expect(results).to_contain_text("上海电气集团有限公司")
    page.locator("#id_q").press_sequentially("bjhw", delay=60)
    expect(results).not_to_contain_text("上海电气集团有限公司")
    expect(results.locator("a", has_text="北京华为技术有限公司")).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/customers/?q=bjhw")  # hx-push-url: the search is linkable
    screenshot(page, "05-search-bjhw-phone")
    # A phone number fragment of the contact finds it too.
    page.fill("#id_q", "12345678")
    expect(results.locator("a", has_text="北京华为技术有限公司")).to_be_visible()
    page.fill("#id_q", "bjhw")
    results.locator("a", has_text="北京华为技术有限公司").click()

    # Record a follow-up from the customer page.
    expect(page.locator(".customer-head h1")).to_have_text("北京华为技术有限公司")
    quick_add = page.locator("details.quick-add")
    expect(quick_add).to_have_attribute("open", "")  # no follow-ups yet: the form is already open
    page.select_option("#id_kind", "visit")
    page.select_option("#id_contact", label="李强")
    page.fill("#id_content", "上门拜访采购部，介绍新一代交换机。")
    page.fill("#id_outcome", "对价格敏感，需要报价。")
    page.fill("#id_next_step", "发送报价单")
    due = dt.date.today() + dt.timedelta(days=3)
    page.fill("#id_next_due", due.isoformat())
    screenshot(page, "06-follow-up-form-phone")
    page.click("details.quick-add button[type=submit]")
    item = page.locator(".timeline .timeline-item").first
    expect(item).to_contain_text("上门拜访采购部，介绍新一代交换机。")
    expect(item).to_contain_text("对价格敏感，需要报价。")
    expect(item).to_contain_text("发送报价单")
    expect(item).to_contain_text(due.isoformat())
    expect(item).to_contain_text("李强")
    screenshot(page, "07-timeline-phone")
    activity = customer.activities.get()
    assert (activity.kind, activity.contact.name, activity.next_due) == ("visit", "李强", due)

    # The history tab tells who changed what.
    page.click("nav.tabs a[href$='?tab=history']")
    expect(page.locator(".history")).to_contain_text("王芳")
    expect(page.locator(".history")).to_contain_text("北京华为技术有限公司")
    screenshot(page, "08-history-phone")

    # The same list on a desktop screen, as a table.
    desktop = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="zh-CN", storage_state=context.storage_state()
    )
    wide = desktop.new_page()
    wide.goto(f"{live_server.url}/customers/?q=bjhw")
    expect(wide.locator("table.customer-table thead")).to_be_visible()
    screenshot(wide, "09-list-desktop")
    desktop.close()

    assert not errors, errors
    assert not external, f"requests outside the app: {external}"
    context.close()


def test_form_errors_and_duplicate_warning_on_a_phone(live_server, browser, screenshot, rep):
    from playwright.sync_api import expect

    existing = customer_create(actor=rep, data={"name": "北京华为技术有限公司", "kind": "organization"})
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/login/?next=/customers/new/")
    page.fill("#id_username", "wangfang")
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/login/'] button[type=submit]")
    expect(page.locator("#id_name")).to_be_visible()

    # A wrong mobile number: the error sits under that field and everything typed stays.
    page.fill("#id_name", "北京 华为技术 有限责任公司")
    page.fill("#id_mobile", "1381234")
    page.fill("#id_address", "海淀区中关村大街1号")
    page.click("form.form button.btn-primary[type=submit]")
    mobile_field = page.locator(".field.has-error", has=page.locator("#id_mobile"))
    expect(mobile_field.locator(".error")).to_be_visible()
    expect(page.locator("#id_address")).to_have_value("海淀区中关村大街1号")
    expect(page.locator("#id_name")).to_have_value("北京 华为技术 有限责任公司")
    screenshot(page, "10-form-error-phone")
    assert Customer.objects.count() == 1

    # Fixed: now the likely duplicate is shown, with a link, and "save anyway" goes through.
    page.fill("#id_mobile", "138 1234 5678")
    page.click("form.form button.btn-primary[type=submit]")
    warning = page.locator("#duplicate-warning")
    expect(warning).to_be_visible()
    expect(warning.locator(f"a[href='/customers/{existing.pk}/']")).to_have_text("北京华为技术有限公司")
    expect(page.locator("#id_mobile")).to_have_value("138 1234 5678")
    screenshot(page, "11-duplicate-warning-phone")
    assert Customer.objects.count() == 1
    warning.locator("button[name=confirm_duplicate]").click()
    expect(page.locator(".customer-head h1")).to_have_text("北京 华为技术 有限责任公司")
    assert Customer.objects.count() == 2
    context.close()
