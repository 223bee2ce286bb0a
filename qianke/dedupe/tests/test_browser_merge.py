"""Review a duplicate group in a real browser: read the evidence, pick values, merge, then undo.

Screenshots go to test-artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import pytest

from qianke.accounts.models import Role
from qianke.accounts.services import team_create, user_create
from qianke.customers.models import Contact, Customer
from qianke.customers.services import contact_create, customer_create
from qianke.dedupe.jobs import duplicate_scan
from qianke.dedupe.models import DuplicateGroup, Merge

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-Qianke-2026"


@pytest.fixture
def rep(transactional_db):
    team = team_create(name="华北组")
    return user_create(username="wangfang", role=Role.SALES, team=team, password=PASSWORD, validate=False,
                       full_name="王芳")


def test_review_pick_values_merge_and_undo(live_server, browser, screenshot, rep):
    from playwright.sync_api import expect

    a = customer_create(actor=rep, data={"name": "北京华为技术有限公司", "phone": "010-62345678", "city": "北京",
                                         "address": "海淀区中关村大街1号"}, confirm_duplicate=True)
    b = customer_create(actor=rep, data={"name": "华为技术（北京）有限公司", "phone": "(010)6234-5678",
                                         "city": "北京", "email": "info@huawei.example"}, confirm_duplicate=True)
    contact_create(actor=rep, customer_id=b.pk, data={"name": "李娜", "mobile": "13800002222"})
    duplicate_scan()
    group = DuplicateGroup.objects.get()

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                  extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    external: list[str] = []
    page.on("request", lambda req: external.append(req.url) if not req.url.startswith(live_server.url) else None)

    page.goto(f"{live_server.url}/login/?next=/duplicates/")
    page.fill("#id_username", "wangfang")
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/login/'] button[type=submit]")
    row = page.locator(f"#group-{group.pk}")
    expect(row).to_contain_text("北京华为技术有限公司")
    expect(row).to_contain_text("华为技术（北京）有限公司")
    screenshot(page, "dedupe-01-list")

    row.locator("a.btn-primary").click()
    expect(page.locator("#evidence")).to_be_visible()
    expect(page.locator("#evidence table")).to_contain_text("010")
    # Keep the first record but take the other record's name; the empty e-mail is filled in by default.
    page.check(f"#merge-form input[name='field:name'][value='{b.pk}']")
    expect(page.locator(f"#merge-form input[name='field:email'][value='{b.pk}']")).to_be_checked()
    screenshot(page, "dedupe-02-review")
    page.click("#merge-submit")

    expect(page.locator("#undo")).to_be_visible()
    expect(page.locator("#merge-fields")).to_contain_text("华为技术（北京）有限公司")
    screenshot(page, "dedupe-03-merged")
    a.refresh_from_db()
    assert a.name == "华为技术（北京）有限公司" and a.email == "info@huawei.example"
    assert Contact.objects.get(name="李娜").customer_id == a.pk
    assert Customer.objects.get(pk=b.pk).archived_at is not None

    page.click("#undo")
    expect(page.locator(".customer-head h1")).to_have_text("北京华为技术有限公司")
    screenshot(page, "dedupe-04-undone")
    assert Merge.objects.get().undone_at is not None
    assert Customer.objects.get(pk=b.pk).archived_at is None
    assert Contact.objects.get(name="李娜").customer_id == b.pk
    assert errors == [] and external == []
    context.close()
