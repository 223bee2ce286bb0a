"""In a real browser: a rep drags a deal across the kanban board (the gate allows it once the key node is
ticked), a refused drag snaps back listing the unmet items, and a manager moves it anyway with a reason.

Screenshots go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import pytest

from qianke.accounts.models import Role
from qianke.accounts.services import team_create, user_create
from qianke.customers.services import customer_create
from qianke.pipeline.models import ChecklistItem, Deal, DealStageChange, Process, Stage
from qianke.pipeline.services import checklist_tick, deal_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _templates():
    """Transactional tests flush the tables, the migration's templates with them: ship them again."""
    from qianke.pipeline.models import DealReason
    from qianke.pipeline.seed import create_templates

    create_templates(Process, Stage, ChecklistItem, DealReason)

PASSWORD = "pw-Qianke-2026"


def _login(browser, live_server, username):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US",
                                  extra_http_headers={"Accept-Language": "en"})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/login/'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return page


def test_drag_deals_across_the_board(live_server, browser, screenshot):
    from playwright.sync_api import expect

    team = team_create(name="华东组")
    rep = user_create(username="wangfang", role=Role.SALES, team=team, password=PASSWORD, validate=False,
                      full_name="王芳")
    user_create(username="limin", role=Role.MANAGER, team=team, password=PASSWORD, validate=False,
                full_name="李敏")
    process = Process.objects.get(code="big_account_sales")
    first, second = Stage.objects.filter(process=process).order_by("order")[:2]
    customers = [customer_create(actor=rep, data={"name": n, "kind": "organization"})
                 for n in ("苏州精工机械有限公司", "无锡华光电子有限公司")]
    ready = deal_create(actor=rep, data={"name": "精工 MES 项目", "customer": customers[0].pk,
                                         "process": process.pk, "amount": "380000"})
    for item in ChecklistItem.objects.filter(stage=first, required=True):
        checklist_tick(actor=rep, deal_id=ready.pk, item_id=item.pk, done=True)
    blocked = deal_create(actor=rep, data={"name": "华光 ERP 项目", "customer": customers[1].pk,
                                           "process": process.pk, "amount": "150000"})

    page = _login(browser, live_server, "wangfang")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    external: list[str] = []
    page.on("request", lambda req: external.append(req.url) if not req.url.startswith(live_server.url) else None)
    page.click("nav.mainnav a[href='/deals/']")
    page.click("a[href='/deals/board/']")
    column = page.locator(f".board-column[data-stage-id='{second.pk}']")
    expect(page.locator(".deal-card")).to_have_count(2)

    # Allowed: the key node of 客户开发 is ticked.
    page.locator(f".deal-card[data-deal-id='{ready.pk}']").drag_to(column.locator(".board-cards"))
    expect(page.locator("#board-status")).to_have_class("board-status is-ok")
    expect(column.locator(f".deal-card[data-deal-id='{ready.pk}']")).to_be_visible()
    expect(column.locator(".board-count")).to_have_text("1")
    assert Deal.objects.get(pk=ready.pk).stage == second

    # Refused: the card snaps back and the dialog lists what is missing.
    page.locator(f".deal-card[data-deal-id='{blocked.pk}']").drag_to(column.locator(".board-cards"))
    dialog = page.locator("#move-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("获得准确的项目信息")
    expect(page.locator("#move-dialog-confirm")).to_be_hidden()
    screenshot(page, "pipeline-board-refused")
    page.click("#move-dialog-cancel")
    first_column = page.locator(f".board-column[data-stage-id='{first.pk}']")
    expect(first_column.locator(f".deal-card[data-deal-id='{blocked.pk}']")).to_be_visible()
    assert Deal.objects.get(pk=blocked.pk).stage == first
    assert not errors and not external

    # A manager moves it anyway, with the reason recorded.
    page = _login(browser, live_server, "limin")
    page.goto(f"{live_server.url}/deals/board/?process={process.pk}")
    column = page.locator(f".board-column[data-stage-id='{second.pk}']")
    page.locator(f".deal-card[data-deal-id='{blocked.pk}']").drag_to(column.locator(".board-cards"))
    expect(page.locator("#move-dialog-confirm")).to_be_visible()
    page.fill("#override-reason", "客户总经理已口头确认项目")
    page.click("#move-dialog-confirm")
    expect(column.locator(".board-count")).to_have_text("2")
    expect(page.locator("#move-dialog")).to_be_hidden()
    screenshot(page, "pipeline-board")
    change = DealStageChange.objects.get(deal=blocked, stage=second)
    assert change.override_reason == "客户总经理已口头确认项目"
    assert change.actor.username == "limin"


def test_deal_page_in_the_browser(live_server, browser, screenshot):
    from playwright.sync_api import expect

    team = team_create(name="华南组")
    rep = user_create(username="zhaolei", role=Role.SALES, team=team, password=PASSWORD, validate=False,
                      full_name="赵磊")
    customer = customer_create(actor=rep, data={"name": "佛山五金电器制品有限公司", "kind": "organization"})
    page = _login(browser, live_server, "zhaolei")
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    page.click("#deals-panel a.btn")
    page.fill("#id_name", "新产品试用")
    page.select_option("#id_process", label="大客户开发流程")
    page.fill("#id_amount", "86000")
    page.select_option("#id_purchase_window", value="3")
    page.click("form.form button[type=submit]")
    expect(page.locator("#stage-path .is-current")).to_contain_text("确定开发对象")
    page.click("#move-next")
    expect(page.locator("#move-refused")).to_contain_text("判断潜在需求")
    open_ticks = page.locator("#checklist .checklist-stage.is-current .tick[aria-pressed=false]")
    for remaining in range(open_ticks.count(), 0, -1):
        open_ticks.first.click()
        expect(open_ticks).to_have_count(remaining - 1)
    page.click("#move-next")
    expect(page.locator("#stage-path .is-current")).to_contain_text("样品资料提供")
    screenshot(page, "pipeline-deal")
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    expect(page.locator("#customer-deals")).to_contain_text("新产品试用")
    page.goto(f"{live_server.url}/deals/reports/")
    expect(page.locator("#forecast-chart canvas")).to_be_visible()
    expect(page.locator("#funnel-chart canvas")).to_be_visible()
    expect(page.locator("#funnel-table")).to_contain_text("确定开发对象")
    screenshot(page, "pipeline-reports")
