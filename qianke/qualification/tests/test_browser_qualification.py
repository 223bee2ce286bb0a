"""In a real browser: a rep records where a customer came from (source and introducer, found with the htmx
search), qualifies it with MAN and an expected purchase date, and sees the grade, the next action, the
due date and the introducer's referral count on the customer pages.

Screenshots go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from qianke.accounts.models import Role
from qianke.leads.models import CollectionMethod, CustomerOrigin, InformationSource, Source
from qianke.leads.seed import create_taxonomy
from qianke.qualification.models import Qualification

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-Qianke-2026"


def test_rep_records_source_and_introducer_then_qualifies(live_server, browser, screenshot, make_team, make_user,
                                                          make_customer):
    from playwright.sync_api import expect

    if not Source.objects.exists():  # an earlier transactional test flushed the migration's seed rows
        create_taxonomy(Source, InformationSource, CollectionMethod)
    team = make_team("华南组")
    rep = make_user(Role.SALES, team, "origin_rep", password=PASSWORD)
    introducer = make_customer(rep, "佛山海康照明电器有限公司")
    customer = make_customer(rep, "东莞启明包装材料有限公司")

    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.set_default_timeout(10_000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on("response", lambda res: problems.append(f"{res.status}: {res.url}") if res.status >= 400 else None)

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", rep.username)
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/login/'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    # Source and introducer.
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    page.locator("#origin-panel a.btn").click()
    source_value = page.locator("#id_source option[value]:not([value=''])").first.get_attribute("value")
    page.select_option("#id_source", value=source_value)
    page.fill("#introducer-q", "海康照明")
    page.locator("#introducer-results button", has_text="佛山海康照明电器有限公司").click()
    expect(page.locator("#introducer-pick .introducer-name")).to_have_text("佛山海康照明电器有限公司")
    screenshot(page, "origin-form")
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/customers/{customer.pk}/")
    expect(page.locator("#origin-panel")).to_contain_text("佛山海康照明电器有限公司")
    origin = CustomerOrigin.objects.get(customer=customer)
    assert origin.introducer_customer_id == introducer.pk and str(origin.source_id) == source_value

    # MAN qualification with a purchase expected in 20 days: grade A (within a month), qualified.
    page.locator("#qualification-panel a.btn").click()
    page.select_option("#id_money", "yes")
    page.fill("#id_budget", "500000")
    page.select_option("#id_authority", "yes")
    page.select_option("#id_need", "urgent")
    expected = timezone.localdate() + dt.timedelta(days=20)
    page.fill("#id_expected_purchase_date", expected.isoformat())
    screenshot(page, "qualification-form")
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/customers/{customer.pk}/")
    panel = page.locator("#qualification-panel")
    expect(panel.locator(".grade")).to_have_text("A")
    expect(panel).to_contain_text("500,000")
    expect(panel.locator(".next-action")).not_to_be_empty()
    screenshot(page, "qualification-panel")
    qualification = Qualification.objects.get(customer=customer)
    assert qualification.grade == "A" and qualification.is_qualified
    assert qualification.next_follow_up_due is not None

    # The introducer's page counts the referral and links to the tree.
    page.goto(f"{live_server.url}/customers/{introducer.pk}/")
    expect(page.locator("#origin-panel .referral-summary")).to_contain_text("1")
    page.locator("#origin-panel .referral-summary a").click()
    expect(page.locator("main")).to_contain_text("东莞启明包装材料有限公司")
    screenshot(page, "referral-tree")
    assert problems == []
