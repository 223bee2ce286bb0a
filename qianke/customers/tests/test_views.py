"""Customer pages: visibility (404), forms that name the failing field and save nothing, the duplicate
warning, archive permissions, custom fields, and bounded query counts on the list."""

from __future__ import annotations

import pytest
from django.urls import reverse

from qianke.core.models import AuditLog, CustomFieldDefinition
from qianke.core.services import custom_field_create
from qianke.customers.models import Contact, Customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def org_post(name: str, **extra) -> dict:
    data = {"kind": "organization", "name": name, "status": "potential", "relation_class": "business"}
    data.update(extra)
    return data


@pytest.fixture
def output_field(org):
    return custom_field_create(
        actor=org.admin,
        data={
            "key": "ui_output",
            "label": "年产值测试",
            "label_en": "Output (test)",
            "group": "经营测试",
            "field_type": "number",
            "applies_to": "organization",
            "filterable": True,
            "min_value": 0,
        },
    )


# --------------------------------------------------------------------------- visibility


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("customers:list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_rep_gets_404_on_another_reps_customer(client, org, make_customer, make_contact):
    theirs = make_customer(org.rep2, "别人的客户有限公司")
    contact = make_contact(org.rep2, theirs, "赵六")
    client.force_login(org.rep)
    for url in (
        reverse("customers:detail", args=[theirs.pk]),
        reverse("customers:detail", args=[theirs.pk]) + "?tab=history",
        reverse("customers:edit", args=[theirs.pk]),
        reverse("customers:contact_create", args=[theirs.pk]),
        reverse("customers:contact_edit", args=[contact.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "别人的客户" not in response.content.decode()
    response = client.post(reverse("customers:edit", args=[theirs.pk]), org_post("改名了"))
    assert response.status_code == 404
    assert client.post(reverse("customers:contact_archive", args=[contact.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "别人的客户有限公司"
    assert Contact.objects.get(pk=contact.pk).archived_at is None


def test_manager_sees_team_members_customer(client, org, make_customer):
    customer = make_customer(org.rep, "团队客户有限公司")
    client.force_login(org.manager)
    response = client.get(reverse("customers:detail", args=[customer.pk]))
    assert response.status_code == 200
    assert "团队客户有限公司" in response.content.decode()


def test_list_shows_only_visible_customers(client, org, make_customer):
    make_customer(org.rep, "我的客户甲有限公司")
    make_customer(org.rep2, "同事客户乙有限公司")
    client.force_login(org.rep)
    body = client.get(reverse("customers:list")).content.decode()
    assert "我的客户甲有限公司" in body
    assert "同事客户乙有限公司" not in body


# --------------------------------------------------------------------------- list, search, filters


def test_search_by_pinyin_initials_phone_and_code(client, org, make_customer):
    huawei = make_customer(org.rep, "北京华为技术有限公司", mobile="13912345678")
    make_customer(org.rep, "上海电气集团有限公司")
    client.force_login(org.rep)
    for q in ("bjhw", "华为", "12345678", huawei.code):
        body = client.get(reverse("customers:list"), {"q": q}).content.decode()
        assert "北京华为技术有限公司" in body, q
        assert "上海电气集团有限公司" not in body, q


def test_htmx_search_returns_only_the_results(client, org, make_customer):
    make_customer(org.rep, "北京华为技术有限公司")
    client.force_login(org.rep)
    response = client.get(
        reverse("customers:list"), {"q": "bjhw"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
    )
    body = response.content.decode()
    assert "北京华为技术有限公司" in body
    assert "<html" not in body and 'name="q"' not in body


def test_filters_status_region_tag_and_custom_field(client, org, make_customer, output_field):
    make_customer(
        org.rep, "杭州甲有限公司", province="浙江省", city="杭州市", tags="重点", custom={"ui_output": 500}
    )
    make_customer(
        org.rep, "南京乙有限公司", province="江苏省", city="南京市", status="new", custom={"ui_output": 20}
    )
    client.force_login(org.rep)
    url = reverse("customers:list")

    def names(**params):
        body = client.get(url, params).content.decode()
        return {n for n in ("杭州甲有限公司", "南京乙有限公司") if n in body}

    assert names(province="浙江省") == {"杭州甲有限公司"}
    assert names(status="new") == {"南京乙有限公司"}
    assert names(tag="重点") == {"杭州甲有限公司"}
    assert names(cf_ui_output="20") == {"南京乙有限公司"}
    assert names(owner=org.rep.pk, sort="name") == {"杭州甲有限公司", "南京乙有限公司"}
    # The custom filter is offered on the page, under its label.
    assert (
        "Output (test)" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        or "年产值测试" in client.get(url).content.decode()
    )


def test_bad_custom_filter_names_the_field(client, org, make_customer, output_field):
    make_customer(org.rep, "杭州甲有限公司")
    client.force_login(org.rep)
    response = client.get(reverse("customers:list"), {"cf_ui_output": "abc"})
    assert response.status_code == 200
    assert "cf_ui_output" in response.context["form"].errors


def test_pagination(client, org, make_customer):
    for i in range(27):
        make_customer(org.rep, f"分页客户{i:02d}有限公司")
    client.force_login(org.rep)
    first = client.get(reverse("customers:list"), {"sort": "name"})
    assert first.context["page"].count == 27 and first.context["page"].has_next
    assert "page=2" in first.content.decode()
    second = client.get(reverse("customers:list"), {"sort": "name", "page": 2})
    assert len(second.context["page"].items) == 2
    assert "分页客户26有限公司" in second.content.decode()


def test_list_query_count_is_bounded(client, org, make_customer, output_field, django_assert_max_num_queries):
    for i in range(30):
        make_customer(org.rep, f"批量客户{i}有限公司", tags=["甲", "乙"], province="浙江省")
    client.force_login(org.rep)
    with django_assert_max_num_queries(15):
        response = client.get(reverse("customers:list"))
    assert len(response.context["page"].items) == 25
    with django_assert_max_num_queries(15):
        client.get(reverse("customers:list"), {"q": "plkh", "province": "浙江省", "tag": "甲"})
    client.force_login(org.gm)
    with django_assert_max_num_queries(15):
        client.get(reverse("customers:list"), {"q": "批量"})


def test_detail_query_count_is_bounded(
    client, org, make_customer, make_contact, django_assert_max_num_queries
):
    customer = make_customer(org.rep, "详情客户有限公司")
    for i in range(5):
        make_contact(org.rep, customer, f"联系人{i}")
    client.force_login(org.rep)
    for tab in ("timeline", "profile", "contacts", "history"):
        with django_assert_max_num_queries(15):
            response = client.get(reverse("customers:detail", args=[customer.pk]), {"tab": tab})
        assert response.status_code == 200


# --------------------------------------------------------------------------- create / edit


def test_create_organisation_with_custom_field(client, org, output_field):
    client.force_login(org.rep)
    response = client.post(
        reverse("customers:create"),
        org_post(
            "深圳新客户科技有限公司", mobile="139 1234 5678", tags="展会, 重点", custom_ui_output="1200"
        ),
    )
    customer = Customer.objects.get(name="深圳新客户科技有限公司")
    assert response.status_code == 302
    assert response.url == reverse("customers:detail", args=[customer.pk])
    assert customer.owner == org.rep
    assert customer.team == org.east
    assert customer.custom == {"ui_output": 1200}
    assert sorted(customer.tags.values_list("name", flat=True)) == ["展会", "重点"]


def test_bad_input_names_the_field_keeps_input_and_saves_nothing(client, org, output_field):
    client.force_login(org.rep)
    before = Customer.objects.count()
    response = client.post(
        reverse("customers:create"),
        org_post(
            "输入错误有限公司",
            mobile="12345",
            email="not-an-email",
            custom_ui_output="-5",
            address="中关村大街1号",
        ),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) >= {"mobile", "email", "custom_ui_output"}
    assert "11" in errors["mobile"][0]
    body = response.content.decode()
    assert 'value="输入错误有限公司"' in body and 'value="中关村大街1号"' in body and 'value="-5"' in body
    assert Customer.objects.count() == before


def test_missing_name_is_a_field_error(client, org):
    client.force_login(org.rep)
    response = client.post(reverse("customers:create"), org_post(""))
    assert "name" in response.context["form"].errors
    assert Customer.objects.count() == 0


def test_duplicate_name_warns_then_saves_when_confirmed(client, org, make_customer):
    existing = make_customer(org.rep, "北京华为技术有限公司")
    client.force_login(org.rep)
    url = reverse("customers:create")
    response = client.post(url, org_post("北京 华为技术 有限责任公司", city="北京市"))
    assert response.status_code == 200
    body = response.content.decode()
    assert reverse("customers:detail", args=[existing.pk]) in body
    assert existing.code in body
    assert 'name="confirm_duplicate"' in body
    assert 'value="北京市"' in body  # nothing typed is lost
    assert Customer.objects.count() == 1
    response = client.post(url, org_post("北京 华为技术 有限责任公司", city="北京市", confirm_duplicate="1"))
    assert response.status_code == 302
    assert Customer.objects.count() == 2


def test_individual_form_shows_personal_fields(client, org):
    client.force_login(org.rep)
    individual = client.get(reverse("customers:create"), {"kind": "individual"})
    fields = individual.context["form"].fields
    assert {"gender", "birthday", "annual_income"} <= set(fields)
    assert "enterprise_nature" not in fields
    organisation = client.get(reverse("customers:create"))
    assert "enterprise_nature" in organisation.context["form"].fields
    assert "gender" not in organisation.context["form"].fields
    response = client.post(
        reverse("customers:create"),
        {
            "kind": "individual",
            "name": "李四",
            "status": "potential",
            "relation_class": "business",
            "gender": "male",
            "birthday": "1985-04-01",
            "annual_income": "abc",
        },
    )
    assert "annual_income" in response.context["form"].errors
    assert not Customer.objects.exists()


def test_edit_records_history(client, org, make_customer):
    customer = make_customer(org.rep, "改名前有限公司")
    client.force_login(org.rep)
    form = client.get(reverse("customers:edit", args=[customer.pk])).context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() not in (None, "", [])}
    data.update(name="改名后有限公司", city="苏州市")
    response = client.post(reverse("customers:edit", args=[customer.pk]), data)
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    customer.refresh_from_db()
    assert (customer.name, customer.city, customer.owner) == ("改名后有限公司", "苏州市", org.rep)
    history = client.get(reverse("customers:detail", args=[customer.pk]), {"tab": "history"})
    body = history.content.decode()
    assert "改名前有限公司" in body and "改名后有限公司" in body and "苏州市" in body
    assert "rep_east" in body


def test_rep_cannot_give_away_a_customer_out_of_sight(client, org, make_customer):
    customer = make_customer(org.rep, "保留客户有限公司")
    client.force_login(org.rep)
    response = client.post(
        reverse("customers:edit", args=[customer.pk]), org_post("保留客户有限公司", owner="")
    )
    assert response.status_code == 200
    assert "owner" in response.context["form"].errors
    customer.refresh_from_db()
    assert customer.owner == org.rep


# --------------------------------------------------------------------------- archive


def test_archive_needs_permission(client, org, make_customer):
    customer = make_customer(org.rep, "待归档有限公司")
    client.force_login(org.rep)
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert reverse("customers:archive", args=[customer.pk]) not in page
    response = client.post(reverse("customers:archive", args=[customer.pk]))
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.archived_at is None


def test_info_specialist_archives_and_restores(client, org, make_customer):
    customer = make_customer(org.rep, "待归档有限公司")
    client.force_login(org.info)
    assert (
        reverse("customers:archive", args=[customer.pk])
        in client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    )
    assert client.post(reverse("customers:archive", args=[customer.pk])).status_code == 302
    customer.refresh_from_db()
    assert customer.archived_at is not None
    page = client.get(reverse("customers:detail", args=[customer.pk]))
    assert page.status_code == 200
    assert reverse("customers:restore", args=[customer.pk]) in page.content.decode()
    archived_list = client.get(reverse("customers:list"), {"archived": "on"}).content.decode()
    assert "待归档有限公司" in archived_list
    assert client.post(reverse("customers:restore", args=[customer.pk])).status_code == 302
    customer.refresh_from_db()
    assert customer.archived_at is None
    # The rep no longer sees an archived customer at all.
    client.post(reverse("customers:archive", args=[customer.pk]))
    client.force_login(org.rep)
    assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 404


# --------------------------------------------------------------------------- contacts


def test_contact_add_edit_archive(client, org, make_customer):
    customer = make_customer(org.rep, "联系人测试有限公司")
    client.force_login(org.rep)
    url = reverse("customers:contact_create", args=[customer.pk])
    bad = client.post(url, {"name": "王五", "email": "wang@", "mobile": "13800001111"})
    assert bad.status_code == 200 and "email" in bad.context["form"].errors
    assert 'value="13800001111"' in bad.content.decode()
    assert not Contact.objects.exists()
    ok = client.post(url, {"name": "王五", "title": "总经理", "mobile": "13800001111"})
    assert ok.status_code == 302
    contact = Contact.objects.get(name="王五")
    assert contact.is_primary
    page = client.get(reverse("customers:detail", args=[customer.pk]), {"tab": "contacts"}).content.decode()
    assert "王五" in page and "总经理" in page
    edit = client.post(
        reverse("customers:contact_edit", args=[contact.pk]),
        {"name": "王五", "title": "副总经理", "mobile": "13800001111", "is_primary": "on"},
    )
    assert edit.status_code == 302
    contact.refresh_from_db()
    assert contact.title == "副总经理"
    assert client.post(reverse("customers:contact_archive", args=[contact.pk])).status_code == 302
    contact.refresh_from_db()
    assert contact.archived_at is not None
    page = client.get(reverse("customers:detail", args=[customer.pk]), {"tab": "contacts"}).content.decode()
    assert "副总经理" not in page


# --------------------------------------------------------------------------- profile, custom fields


def test_profile_groups_custom_fields(client, org, make_customer, output_field):
    custom_field_create(
        actor=org.admin,
        data={
            "key": "ui_focus",
            "label": "关注点测试",
            "group": "意向测试",
            "field_type": "multichoice",
            "choices": ["品牌", "价格", "服务"],
        },
    )
    customer = make_customer(
        org.rep, "资料客户有限公司", custom={"ui_output": 300, "ui_focus": ["价格", "服务"]}
    )
    client.force_login(org.rep)
    response = client.get(reverse("customers:detail", args=[customer.pk]), {"tab": "profile"})
    groups = dict(response.context["custom_groups"])
    assert set(groups) >= {"经营测试", "意向测试"}
    body = response.content.decode()
    assert "价格、服务" in body and "300" in body


def test_custom_field_types_render_on_the_form(client, org):
    for key, field_type, extra in (
        ("t_text", "text", {}),
        ("t_long", "longtext", {}),
        ("t_num", "number", {}),
        ("t_date", "date", {}),
        ("t_choice", "choice", {"choices": ["甲", "乙"]}),
        ("t_multi", "multichoice", {"choices": ["甲", "乙"]}),
        ("t_bool", "boolean", {}),
    ):
        custom_field_create(
            actor=org.admin,
            data={"key": key, "label": key, "field_type": field_type, "group": "类型测试", **extra},
        )
    client.force_login(org.rep)
    body = client.get(reverse("customers:create")).content.decode()
    assert 'name="custom_t_text"' in body
    assert '<textarea name="custom_t_long"' in body
    assert 'type="date" name="custom_t_date"' in body
    assert '<select name="custom_t_choice"' in body
    assert 'type="checkbox" name="custom_t_multi"' in body
    assert '<select name="custom_t_bool"' in body
    response = client.post(
        reverse("customers:create"),
        org_post(
            "类型测试有限公司",
            custom_t_text="文本",
            custom_t_num="12.5",
            custom_t_date="2026-01-02",
            custom_t_choice="乙",
            custom_t_multi=["甲", "乙"],
            custom_t_bool="true",
        ),
    )
    assert response.status_code == 302
    customer = Customer.objects.get(name="类型测试有限公司")
    assert customer.custom == {
        "t_text": "文本",
        "t_num": 12.5,
        "t_date": "2026-01-02",
        "t_choice": "乙",
        "t_multi": ["甲", "乙"],
        "t_bool": True,
    }
    # Editing shows the stored values again.
    form = client.get(reverse("customers:edit", args=[customer.pk])).context["form"]
    assert form["custom_t_multi"].value() == ["甲", "乙"] and form["custom_t_bool"].value() == "true"


def test_custom_field_settings_admin_only(client, org):
    client.force_login(org.rep)
    assert client.get(reverse("custom_fields")).status_code == 403
    assert client.post(reverse("custom_field_create"), {"key": "x", "label": "x"}).status_code == 403
    client.force_login(org.admin)
    assert client.get(reverse("custom_fields")).status_code == 200
    bad = client.post(
        reverse("custom_field_create"),
        {"key": "Bad Key", "label": "", "field_type": "choice", "applies_to": "all", "active": "on"},
    )
    assert bad.status_code == 200
    assert {"key", "label", "choices"} <= set(bad.context["form"].errors)
    assert not CustomFieldDefinition.objects.filter(label="").exists()
    ok = client.post(
        reverse("custom_field_create"),
        {
            "key": "ui_budget",
            "label": "预算",
            "field_type": "number",
            "applies_to": "individual",
            "unit": "万元",
            "order": "3",
            "active": "on",
            "filterable": "on",
        },
    )
    assert ok.status_code == 302
    definition = CustomFieldDefinition.objects.get(key="ui_budget")
    assert definition.filterable and definition.unit == "万元"
    edit = client.post(
        reverse("custom_field_edit", args=[definition.pk]),
        {"label": "购车预算", "applies_to": "individual", "unit": "万元", "order": "3", "active": "on"},
    )
    assert edit.status_code == 302
    definition.refresh_from_db()
    assert definition.label == "购车预算" and definition.field_type == "number" and not definition.filterable
    assert client.post(reverse("custom_field_deactivate", args=[definition.pk])).status_code == 302
    definition.refresh_from_db()
    assert not definition.active
    assert AuditLog.objects.filter(object_type="customfielddefinition", object_id=definition.pk).count() == 3


def test_unknown_customer_is_our_404_page(client, org):
    client.force_login(org.rep)
    response = client.get(reverse("customers:detail", args=[999999]))
    assert response.status_code == 404
    assert 'class="topbar"' in response.content.decode()
