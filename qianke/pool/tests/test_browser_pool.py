"""The pool journey in a real browser: a rep logs in, opens the public pool, claims a customer (the row
updates in place), sees a refusal for one a colleague took meanwhile, and finds the claimed customer among
their own customers. Screenshots go to test-artifacts/."""

from __future__ import annotations

import pytest

from qianke.accounts.models import Role
from qianke.accounts.services import team_create, user_create
from qianke.customers.models import Customer
from qianke.customers.services import customer_create
from qianke.pool.services import pool_add_customers, pool_claim, pool_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-Qianke-2026"


@pytest.fixture
def setting(transactional_db):
    team = team_create(name="华东组")
    rep = user_create(username="lina", role=Role.SALES, team=team, password=PASSWORD, validate=False,
                      full_name="李娜")
    colleague = user_create(username="zhaolei", role=Role.SALES, team=team, password=PASSWORD, validate=False,
                            full_name="赵磊")
    admin = user_create(username="boss", role=Role.ADMIN, team=None, password=PASSWORD, validate=False)
    pool = pool_create(actor=admin, data={"name": "华东公海", "teams": [team.pk], "cap_per_rep": 20})
    names = ["杭州西子精密机械有限公司", "宁波港通物流有限公司", "苏州天成电子科技有限公司"]
    customers = [customer_create(actor=admin, data={"name": n, "kind": "organization", "province": "浙江省",
                                                    "city": "杭州市", "industry": "manufacturing"},
                                 confirm_duplicate=True) for n in names]
    pool_add_customers(actor=admin, pool=pool, customer_ids=[c.pk for c in customers])
    return rep, colleague, customers


def test_rep_claims_from_the_pool_and_finds_it_among_their_customers(live_server, browser, screenshot, setting):
    from playwright.sync_api import expect

    rep, colleague, customers = setting
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                  extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    external: list[str] = []
    page.on("request", lambda req: external.append(req.url) if not req.url.startswith(live_server.url) else None)

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "lina")
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/login/'] button[type=submit]")
    page.click("a[href='/pool/']")
    expect(page.locator("h1")).to_contain_text("华东公海")
    expect(page.locator(".pool-table tbody tr")).to_have_count(3)
    screenshot(page, "pool-01-list")

    wanted, gone = customers[0], customers[1]
    page.click(f"tr[data-customer='{wanted.pk}'] button:has-text('领取'), "
               f"tr[data-customer='{wanted.pk}'] button:has-text('Claim')")
    expect(page.locator(f"#claim-{wanted.pk}.claim-claimed")).to_be_visible()
    assert Customer.objects.get(pk=wanted.pk).owner_id == rep.pk

    pool_claim(actor=colleague, customer_id=gone.pk)  # a colleague is quicker
    page.click(f"tr[data-customer='{gone.pk}'] button[type=submit]:not(.btn-quiet) >> nth=0")
    expect(page.locator(f"#claim-{gone.pk}.claim-taken")).to_be_visible()
    screenshot(page, "pool-02-claimed-and-refused")

    page.click("a[href='/customers/']")
    expect(page.locator("main")).to_contain_text(wanted.name)
    expect(page.locator("main")).not_to_contain_text(gone.name)
    page.click(f"a[href='/customers/{wanted.pk}/']")
    expect(page.locator("#owner-history")).to_contain_text("华东公海")
    screenshot(page, "pool-03-customer-owner-history")
    assert errors == [] and external == []


def test_admin_creates_a_pool_with_a_grade_rule_in_the_settings_page(live_server, browser, screenshot,
                                                                      transactional_db):
    from playwright.sync_api import expect

    from qianke.pool.models import Pool

    team = team_create(name="华南组")
    user_create(username="boss", role=Role.ADMIN, team=None, password=PASSWORD, validate=False)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                  extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/login/'] button[type=submit]")
    page.goto(f"{live_server.url}/settings/pools/")
    page.click("a[href='/settings/pools/new/']")
    page.fill("#id_name", "华南公海")
    page.check(f"input[name=teams][value='{team.pk}']")
    page.fill("#id_rule_A_no_follow_up_days", "7")
    page.fill("#id_rule_A_not_converted_days", "60")
    screenshot(page, "pool-04-settings-form")
    page.click("form.form button.btn-primary[type=submit]")
    expect(page.locator(".pool-settings-table")).to_contain_text("华南公海")
    screenshot(page, "pool-05-settings-list")
    pool = Pool.objects.get(name="华南公海")
    assert list(pool.teams.all()) == [team]
    assert [(r.grade, r.no_follow_up_days, r.not_converted_days) for r in pool.rules.all()] == [("A", 7, 60)]
