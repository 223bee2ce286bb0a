"""Customers and contacts over the REST API: visibility, validation, duplicates, custom fields, paging."""

from __future__ import annotations

import pytest

from qianke.core.models import AuditLog, CustomFieldDefinition
from qianke.core.services import custom_field_create
from qianke.core.tests.api_helpers import api_for
from qianke.customers.models import Contact, Customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


@pytest.fixture
def api(token_for):
    return lambda user: api_for(user, token_for)


# ---------------------------------------------------------------------------------------------
# Visibility
# ---------------------------------------------------------------------------------------------


def test_rep_cannot_read_list_search_update_or_archive_another_reps_customer(org, make_customer, make_contact,
                                                                              api):
    theirs = make_customer(org.rep, "上海远景机械有限公司", mobile="13800138000")
    make_contact(org.rep, theirs, "李娜")
    mine = make_customer(org.rep2, "杭州自有客户有限公司")
    client = api(org.rep2)

    assert client.get(f"/customers/{theirs.pk}").status_code == 404
    body = client.get(f"/customers/{theirs.pk}").json()
    assert body["code"] == "not_found" and "name" not in body

    listed = client.get("/customers").json()
    assert [c["id"] for c in listed["items"]] == [mine.pk]
    assert listed["count"] == 1
    for query in ("远景", "yuanjing", "13800138000", theirs.code, "李娜"):
        assert client.get("/customers", {"q": query}).json()["items"] == [], query
    # Filtering by the other rep as owner reveals nothing either.
    assert client.get("/customers", {"owner": org.rep.pk}).json()["count"] == 0

    response = client.patch(f"/customers/{theirs.pk}", {"name": "改名"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "上海远景机械有限公司"

    assert client.post(f"/customers/{theirs.pk}/archive").status_code == 404
    for sub in ("history", "timeline", "contacts"):
        assert client.get(f"/customers/{theirs.pk}/{sub}").status_code == 404, sub
    theirs.refresh_from_db()
    assert theirs.archived_at is None

    # The owner sees it, and the list answers with the page shape.
    owner_view = api(org.rep).get("/customers").json()
    assert set(owner_view) == {"count", "count_capped", "limit", "offset", "items"}
    assert [c["id"] for c in owner_view["items"]] == [theirs.pk]


def test_contacts_of_invisible_customers_are_404(org, make_customer, make_contact, api):
    customer = make_customer(org.rep)
    contact = make_contact(org.rep, customer, "王芳")
    client = api(org.rep_north)
    assert client.get(f"/contacts/{contact.pk}").status_code == 404
    assert client.get("/contacts", {"customer": customer.pk}).json()["items"] == []
    assert client.patch(f"/contacts/{contact.pk}", {"name": "x"}).status_code == 404
    assert client.post(f"/contacts/{contact.pk}/archive").status_code == 404
    response = client.post("/contacts", {"customer": customer.pk, "name": "偷偷加的"})
    assert response.status_code == 404
    assert Contact.objects.filter(customer=customer).count() == 1


def test_manager_sees_own_team_and_sub_teams(org, make_customer, api):
    east = make_customer(org.rep, "华东客户")
    north = make_customer(org.rep_north, "华北客户")
    team_manager = api(org.manager)
    director = api(org.director)

    assert {c["id"] for c in team_manager.get("/customers").json()["items"]} == {east.pk}
    assert team_manager.get(f"/customers/{north.pk}").status_code == 404
    assert {c["id"] for c in director.get("/customers").json()["items"]} == {east.pk, north.pk}
    assert director.get(f"/customers/{north.pk}").status_code == 200
    # Filter by a sub-team of the director's team.
    assert [c["id"] for c in director.get("/customers", {"team": org.north.pk}).json()["items"]] == [north.pk]


# ---------------------------------------------------------------------------------------------
# Create, update, errors
# ---------------------------------------------------------------------------------------------


def test_create_returns_the_customer_with_plain_english_fields(org, api):
    response = api(org.rep).post("/customers", {
        "name": "苏州新材料有限公司", "industry": "manufacturing", "province": "江苏省", "city": "苏州市",
        "mobile": "138 0013 8000", "email": "Info@Example.cn", "postcode": "215000", "tags": ["展会", "重点"],
    })
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"].startswith("KH")
    assert body["owner"] == {"id": org.rep.pk, "username": "rep_east", "name": "rep_east"}
    assert body["team"] == {"id": org.east.pk, "name": "华东组"}
    assert body["tags"] == sorted(["展会", "重点"])
    assert body["kind"] == "organization" and body["status"] == "potential"
    assert body["archived_at"] is None
    for field in ("short_name", "potential_kind", "relation_class", "enterprise_nature", "production_mode",
                  "scale", "district", "address", "phone", "fax", "website", "notes", "gender", "birthday",
                  "occupation", "annual_income", "education", "custom", "created_at", "updated_at"):
        assert field in body, field
    customer = Customer.objects.get(pk=body["id"])
    assert customer.mobile_norm == "13800138000"
    entry = AuditLog.objects.get(object_type="customer", object_id=customer.pk, action="create")
    assert entry.source == "api" and entry.actor == org.rep


@pytest.mark.parametrize(("field", "value"), [("mobile", "1380013"), ("email", "not-an-email"),
                                              ("postcode", "12345"), ("phone", "abc")])
def test_bad_input_is_422_with_field_errors_and_nothing_saved(org, api, field, value):
    before = Customer.objects.count()
    response = api(org.rep).post("/customers", {"name": "坏数据有限公司", field: value})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["message"]
    assert list(body["fields"]) == [field]
    assert all(isinstance(m, str) and m for m in body["fields"][field])
    assert Customer.objects.count() == before
    assert not AuditLog.objects.filter(object_type="customer").exists()


def test_type_errors_use_the_same_error_shape(org, api):
    client = api(org.rep)
    response = client.post("/customers", {"name": "类型错误", "owner": "abc", "birthday": "yesterday",
                                          "tags": "not-a-list", "colour": "red"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert set(body["fields"]) == {"owner", "birthday", "tags", "colour"}
    assert body["fields"]["owner"] == ["Enter a whole number."]
    assert body["fields"]["colour"] == ["Unknown field."]
    missing = client.post("/customers", {"kind": "organization"}).json()
    assert missing["fields"] == {"name": ["This field is required."]}
    # Query parameters too.
    bad_query = client.get("/customers", {"owner": "x", "limit": 0}).json()
    assert bad_query["code"] == "validation_error"
    assert set(bad_query["fields"]) == {"owner", "limit"}
    # Choice values are checked by the service, with its message.
    wrong_choice = client.post("/customers", {"name": "选项错误", "status": "happy"}).json()
    assert list(wrong_choice["fields"]) == ["status"]
    assert Customer.objects.count() == 0


def test_duplicate_name_needs_confirmation_then_saves(org, make_customer, api):
    existing = make_customer(org.rep, "北京华为技术有限公司")
    client = api(org.rep)
    response = client.post("/customers", {"name": "北京 华为技术 有限责任公司"})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "needs_confirmation"
    assert body["duplicates"] == [{"id": existing.pk, "code": existing.code, "name": existing.name}]
    assert Customer.objects.count() == 1

    confirmed = client.client.post("/api/v1/customers?confirm_duplicate=true",
                                   '{"name": "北京 华为技术 有限责任公司"}', content_type="application/json",
                                   headers=client.headers)
    assert confirmed.status_code == 201
    in_body = client.post("/customers", {"name": "北京华为技术有限公司", "confirm_duplicate": True})
    assert in_body.status_code == 201
    assert Customer.objects.count() == 3


def test_patch_changes_only_the_fields_sent(org, make_customer, api):
    customer = make_customer(org.rep, "宁波港务有限公司", phone="0574-8888 1234", mobile="13900139000",
                             tags=["老朋友"], notes="重要")
    client = api(org.rep)
    response = client.patch(f"/customers/{customer.pk}", {"email": "port@example.cn"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["email"] == "port@example.cn"
    assert body["phone"] == "0574-8888 1234"
    assert body["mobile"] == "13900139000"
    assert body["tags"] == ["老朋友"]
    assert body["notes"] == "重要"
    entry = AuditLog.objects.filter(object_id=customer.pk, action="update").get()
    assert entry.changes == {"email": ["", "port@example.cn"]}
    assert entry.source == "api"

    bad = client.patch(f"/customers/{customer.pk}", {"mobile": "12345"})
    assert bad.status_code == 422 and list(bad.json()["fields"]) == ["mobile"]
    customer.refresh_from_db()
    assert customer.mobile == "13900139000"


def test_rename_to_a_duplicate_needs_confirmation(org, make_customer, api):
    make_customer(org.rep, "重复名称有限公司")
    other = make_customer(org.rep, "另一个有限公司")
    client = api(org.rep)
    assert client.patch(f"/customers/{other.pk}", {"name": "重复名称有限公司"}).status_code == 409
    assert client.patch(f"/customers/{other.pk}",
                        {"name": "重复名称有限公司", "confirm_duplicate": True}).status_code == 200


def test_rep_cannot_hand_customer_to_another_team(org, make_customer, api):
    customer = make_customer(org.rep)
    response = api(org.rep).patch(f"/customers/{customer.pk}", {"owner": org.rep_north.pk})
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["owner"]


def test_archive_and_restore(org, make_customer, api):
    customer = make_customer(org.rep)
    denied = api(org.rep).post(f"/customers/{customer.pk}/archive")
    assert denied.status_code == 403
    assert denied.json()["code"] == "permission_denied"

    info = api(org.info)
    archived = info.post(f"/customers/{customer.pk}/archive")
    assert archived.status_code == 200
    assert archived.json()["archived_at"] is not None
    assert api(org.rep).get(f"/customers/{customer.pk}").status_code == 404
    assert info.get(f"/customers/{customer.pk}").status_code == 404
    assert info.get(f"/customers/{customer.pk}", {"include_archived": True}).status_code == 200
    assert [c["id"] for c in info.get("/customers", {"archived": True}).json()["items"]] == [customer.pk]
    # A rep asking for archived customers gets the normal list, never archived ones.
    assert api(org.rep).get("/customers", {"archived": True}).json()["items"] == []

    restored = info.post(f"/customers/{customer.pk}/restore")
    assert restored.status_code == 200
    assert restored.json()["archived_at"] is None
    assert api(org.rep).get(f"/customers/{customer.pk}").status_code == 200


def test_history_lists_audit_entries(org, make_customer, make_contact, api):
    customer = make_customer(org.rep)
    client = api(org.rep)
    client.patch(f"/customers/{customer.pk}", {"city": "上海市"})
    make_contact(org.rep, customer, "赵磊")
    page = client.get(f"/customers/{customer.pk}/history").json()
    assert (page["count"], page["offset"], page["count_capped"]) == (3, 0, False)
    history = page["items"]
    assert [(e["object_type"], e["action"]) for e in history] == [
        ("contact", "create"), ("customer", "update"), ("customer", "create")]
    update = history[1]
    assert update["changes"] == {"city": ["", "上海市"]}
    assert update["actor"]["id"] == org.rep.pk
    assert update["source"] == "api"
    assert history[0]["source"] == "web"  # made outside the API
    # Older entries a page further on.
    second = client.get(f"/customers/{customer.pk}/history?limit=2&offset=2").json()
    assert (second["count"], second["limit"], second["offset"]) == (3, 2, 2)
    assert [(e["object_type"], e["action"]) for e in second["items"]] == [("customer", "create")]


# ---------------------------------------------------------------------------------------------
# Custom fields
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def output_field(org):
    return custom_field_create(actor=org.admin, data={
        "key": "api_annual_output", "label": "年产值", "field_type": "number", "min_value": 0, "filterable": True})


@pytest.fixture
def grade_field(org):
    return custom_field_create(actor=org.admin, data={
        "key": "api_grade", "label": "级别", "field_type": "choice", "choices": ["A", "B", "C"]})


def test_custom_field_values_are_validated_through_the_api(org, output_field, grade_field, api):
    client = api(org.rep)
    response = client.post("/customers", {"name": "自定义字段有限公司",
                                          "custom": {"api_annual_output": "很多", "api_grade": "Z", "nope": 1}})
    assert response.status_code == 422
    fields = response.json()["fields"]
    assert set(fields) == {"custom.api_annual_output", "custom.api_grade", "custom.nope"}
    assert fields["custom.api_annual_output"] == ["Enter a number."]
    assert client.post("/customers", {"name": "负数有限公司", "custom": {"api_annual_output": -5}}).json()[
        "fields"] == {"custom.api_annual_output": ["Must be at least 0."]}
    assert Customer.objects.count() == 0

    created = client.post("/customers", {"name": "自定义字段有限公司",
                                         "custom": {"api_annual_output": "1,200", "api_grade": "B"}})
    assert created.status_code == 201
    assert created.json()["custom"] == {"api_annual_output": 1200, "api_grade": "B"}

    customer_id = created.json()["id"]
    patched = client.patch(f"/customers/{customer_id}", {"custom": {"api_grade": "A"}})
    assert patched.json()["custom"] == {"api_annual_output": 1200, "api_grade": "A"}
    cleared = client.patch(f"/customers/{customer_id}", {"custom": {"api_grade": None}})
    assert cleared.json()["custom"] == {"api_annual_output": 1200}


def test_filter_by_custom_field_query_parameter(org, output_field, make_customer, api):
    big = make_customer(org.rep, "大厂有限公司", custom={"api_annual_output": 5000})
    make_customer(org.rep, "小厂有限公司", custom={"api_annual_output": 10})
    client = api(org.rep)
    found = client.get("/customers", {"cf_api_annual_output": "5000"}).json()
    assert [c["id"] for c in found["items"]] == [big.pk]
    unknown = client.get("/customers", {"cf_no_such_field": "1"})
    assert unknown.status_code == 422
    assert list(unknown.json()["fields"]) == ["custom.no_such_field"]


def test_custom_field_definitions_endpoints(org, api):
    admin = api(org.admin)
    response = admin.post("/custom-fields", {"key": "api_budget", "label": "预算", "field_type": "number",
                                             "min_value": 0, "applies_to": "organization"})
    assert response.status_code == 201, response.content
    field_id = response.json()["id"]
    assert response.json()["min_value"] == 0

    listed = api(org.rep).get("/custom-fields", {"kind": "organization"}).json()
    assert "api_budget" in [f["key"] for f in listed]
    assert "api_budget" not in [f["key"] for f in api(org.rep).get("/custom-fields", {"kind": "individual"}).json()]

    assert api(org.rep).post("/custom-fields", {"key": "x_rep", "label": "x", "field_type": "text"}).json()[
        "code"] == "permission_denied"
    bad_key = admin.post("/custom-fields", {"key": "Bad Key", "label": "x", "field_type": "text"})
    assert bad_key.status_code == 422 and list(bad_key.json()["fields"]) == ["key"]

    patched = admin.patch(f"/custom-fields/{field_id}", {"label": "年度预算", "required": False})
    assert patched.status_code == 200 and patched.json()["label"] == "年度预算"
    frozen = admin.patch(f"/custom-fields/{field_id}", {"field_type": "text"})
    assert frozen.status_code == 422 and list(frozen.json()["fields"]) == ["field_type"]
    assert admin.patch("/custom-fields/999999", {"label": "x"}).status_code == 404
    assert CustomFieldDefinition.objects.get(pk=field_id).label == "年度预算"

    assert admin.patch(f"/custom-fields/{field_id}", {"active": False}).json()["active"] is False
    assert "api_budget" not in [f["key"] for f in admin.get("/custom-fields").json()]
    everything = admin.get("/custom-fields", {"include_inactive": True}).json()
    assert "api_budget" in [f["key"] for f in everything]
    one = admin.get(f"/custom-fields/{field_id}")
    assert one.status_code == 200 and one.json()["label"] == "年度预算"
    assert admin.get("/custom-fields/999999").json()["code"] == "not_found"


# ---------------------------------------------------------------------------------------------
# Pagination and query counts
# ---------------------------------------------------------------------------------------------


def test_pagination(org, make_customer, api):
    ids = [make_customer(org.rep).pk for _ in range(7)]
    client = api(org.rep)
    page = client.get("/customers", {"limit": 3, "offset": 3}).json()
    assert page["count"] == 7 and page["count_capped"] is False
    assert page["limit"] == 3 and page["offset"] == 3
    assert [c["id"] for c in page["items"]] == sorted(ids, reverse=True)[3:6]
    last = client.get("/customers", {"limit": 3, "offset": 6}).json()
    assert [c["id"] for c in last["items"]] == [min(ids)]
    assert client.get("/customers", {"limit": 10_000}).json()["limit"] == 200
    oldest = client.get("/customers", {"sort": "oldest", "limit": 2}).json()
    assert [c["id"] for c in oldest["items"]] == sorted(ids)[:2]


def test_list_endpoints_have_bounded_query_counts(org, make_customer, make_contact, api,
                                                  django_assert_max_num_queries):
    for i in range(30):
        customer = make_customer(org.rep, tags=[f"标签{i % 3}", "共同"])
        make_contact(org.rep, customer, f"联系人{i}")
    customer = Customer.objects.filter(owner=org.rep).first()
    client = api(org.manager)
    client.get("/me")  # records the token's last use, so the counted requests do not
    with django_assert_max_num_queries(6):
        response = client.get("/customers", {"limit": 30})
    assert len(response.json()["items"]) == 30
    with django_assert_max_num_queries(6):
        response = client.get("/customers", {"q": "测试客户", "tag": "共同", "limit": 30})
    assert len(response.json()["items"]) == 30
    with django_assert_max_num_queries(5):
        assert len(client.get("/contacts", {"limit": 30}).json()["items"]) == 30
    with django_assert_max_num_queries(6):
        assert client.get(f"/customers/{customer.pk}/contacts").status_code == 200
    with django_assert_max_num_queries(7):  # one of them the import ledger's (dataio.selectors.import_history_entries)
        assert client.get(f"/customers/{customer.pk}/history").status_code == 200


# ---------------------------------------------------------------------------------------------
# Contacts
# ---------------------------------------------------------------------------------------------


def test_contact_lifecycle(org, make_customer, api):
    customer = make_customer(org.rep, "联系人测试有限公司")
    client = api(org.rep)
    response = client.post("/contacts", {"customer": customer.pk, "name": "陈静", "title": "采购经理",
                                         "mobile": "13700137000"})
    assert response.status_code == 201, response.content
    contact = response.json()
    assert contact["customer"] == {"id": customer.pk, "code": customer.code, "name": customer.name}
    assert contact["is_primary"] is True

    bad = client.post("/contacts", {"customer": customer.pk, "name": "坏邮箱", "email": "nope"})
    assert bad.status_code == 422 and list(bad.json()["fields"]) == ["email"]

    patched = client.patch(f"/contacts/{contact['id']}", {"department": "采购部"})
    assert patched.json()["department"] == "采购部" and patched.json()["title"] == "采购经理"
    assert client.get("/contacts", {"customer": customer.pk, "q": "陈"}).json()["count"] == 1
    assert [c["id"] for c in client.get(f"/customers/{customer.pk}/contacts").json()["items"]] == [contact["id"]]

    archived = client.post(f"/contacts/{contact['id']}/archive")
    assert archived.status_code == 200 and archived.json()["archived_at"] is not None
    assert client.get(f"/contacts/{contact['id']}").status_code == 404
    assert client.get("/contacts", {"customer": customer.pk}).json()["count"] == 0


def test_a_type_error_does_not_hide_the_other_fields_errors(org, api, make_customer):
    client = api(org.rep)
    body = {"name": "多错有限公司", "birthday": "2026-13-45", "mobile": "1380013", "email": "not-an-email",
            "owner": "abc"}
    response = client.post("/customers", body)
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"birthday", "mobile", "email", "owner"}
    customer = make_customer(org.rep, "多错乙有限公司")
    patched = client.patch(f"/customers/{customer.pk}", {"annual_income": [1], "mobile": "12"}).json()
    assert set(patched["fields"]) == {"annual_income", "mobile"}
    contact = client.post("/contacts", {"customer": customer.pk, "name": "张三", "birthday": "x",
                                        "email": "bad"}).json()
    assert set(contact["fields"]) == {"birthday", "email"}
    assert not Customer.objects.filter(name="多错有限公司").exists()


def test_an_unknown_sort_is_refused_naming_the_parameter(org, api):
    answer = api(org.rep).get("/customers", {"sort": "bogus"})
    assert answer.status_code == 422
    body = answer.json()
    assert body["code"] == "validation_error" and list(body["fields"]) == ["sort"] and "newest" in body["fields"]["sort"][0]
    assert api(org.rep).get("/customers", {"sort": "-name"}).status_code == 200
