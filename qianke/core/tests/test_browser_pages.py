"""Every main page in a real browser: no script errors, no failed or outside requests, charts drawn.

Catches what server-side tests cannot see, such as chart data that never reaches ECharts.
"""

from __future__ import annotations

import pytest

from qianke.accounts.models import Role
from qianke.customers.lifecycle import customer_record_purchase

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-Qianke-2026"
PAGES = [
    "/",
    "/customers/",
    "/customers/?q=hz",
    "/customers/new/",
    "/customers/{customer}/",
    "/customers/{customer}/?tab=profile",
    "/customers/{customer}/?tab=contacts",
    "/customers/{customer}/?tab=history",
    "/reports/funnel/",
    "/reports/sources/",
    "/qualification/due/",
    "/qualification/settings/",
    "/settings/custom-fields/",
    "/settings/jobs/",
    "/settings/sources/",
    "/pool/",
    "/settings/pools/",
    "/deals/",
    "/deals/new/",
    "/deals/board/",
    "/deals/reports/",
    "/deals/stalled/",
    "/settings/processes/",
    "/imports/",
    "/duplicates/",
]
CHART_PAGES = {"/reports/funnel/": "#funnel-chart canvas", "/reports/sources/": "#source-chart canvas"}


def test_main_pages_load_cleanly(live_server, browser, screenshot, make_team, make_user, make_customer,
                                 make_contact):
    team = make_team("华东组")
    admin = make_user(Role.ADMIN, None, "pages_admin", password=PASSWORD)
    rep = make_user(Role.SALES, team, "pages_rep")
    customer = make_customer(rep, "杭州海康电子有限公司", mobile="13812345678")
    make_contact(rep, customer, "李强")
    customer_record_purchase(actor=rep, customer_id=customer.pk, reason="首单")
    make_customer(rep, "宁波港口物流有限公司")

    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    # ERR_ABORTED is the browser cancelling a request when the page navigates on (e.g. the favicon of the
    # login redirect); a server-side failure still shows up as a response >= 400.
    page.on("requestfailed", lambda req: None if req.failure == "net::ERR_ABORTED"
            else problems.append(f"request failed: {req.url} ({req.failure})"))
    page.on("response", lambda res: problems.append(f"{res.status}: {res.url}") if res.status >= 400 else None)
    page.on("request", lambda req: None if req.url.startswith(live_server.url) or req.url.startswith("data:")
            else problems.append(f"outside request: {req.url}"))

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", admin.username)
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/login/'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    for path in PAGES:
        url = live_server.url + path.format(customer=customer.pk)
        page.goto(url)
        page.wait_for_load_state("networkidle")
        assert page.locator("main").count() == 1, path
        if path in CHART_PAGES:
            page.wait_for_selector(CHART_PAGES[path], timeout=5000)
        assert problems == [], f"{path}: {problems}"
    screenshot(page, "pages-last")


def test_reports_and_settings_fold_into_menus_that_open_one_at_a_time(live_server, browser, screenshot, make_user):
    admin = make_user(Role.ADMIN, None, "menus_admin", password=PASSWORD)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", admin.username)
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/login/'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    nav = page.locator("nav.mainnav")
    # The menu bar holds one line at this width.
    assert nav.bounding_box()["height"] < 50
    settings_link = nav.locator("a[href='/settings/jobs/']")
    assert not settings_link.is_visible()
    nav.locator("details[data-menu=settings] > summary").click()
    assert settings_link.is_visible()
    nav.locator("details[data-menu=reports] > summary").click()
    assert nav.locator("a[href='/reports/funnel/']").is_visible() and not settings_link.is_visible()
    screenshot(page, "menu-reports-open")
    page.locator("main").click()
    assert not nav.locator("a[href='/reports/funnel/']").is_visible()
    nav.locator("details[data-menu=settings] > summary").click()
    settings_link.click()
    page.wait_for_url(f"{live_server.url}/settings/jobs/")
    # The menu of the current page is marked.
    assert "aria-current" in (nav.locator("details[data-menu=settings] a[href='/settings/jobs/']")
                              .evaluate("a => a.getAttributeNames().join(' ')"))
    # In English, with its longer labels, the whole bar (menus, language switch, user) is one line too.
    page.click("header.topbar button[value=en]")
    page.wait_for_load_state()
    assert page.locator("nav.mainnav details[data-menu=settings] > summary").inner_text().startswith("Settings")
    screenshot(page, "menu-english")
    assert page.locator("header.topbar").bounding_box()["height"] < 60
