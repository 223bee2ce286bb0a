"""An organisation's unified social credit code, and province / city / district read from the address,
through the services (forms, API and import all save through them)."""

import pytest

from qianke.core.errors import NeedsConfirmation, ValidationFailed
from qianke.customers.models import Customer, CustomerSearch
from qianke.customers.selectors import CustomerFilters, customer_list
from qianke.customers.services import customer_create, customer_update

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

TENCENT = "91440300708461136T"  # a real code: 深圳市腾讯计算机系统有限公司
WRONG_CHECK = "91440300708461136A"


# ---------------------------------------------------------------------------------------------
# Credit code
# ---------------------------------------------------------------------------------------------


def test_a_credit_code_is_stored_as_typed_with_its_canonical_form_beside_it(org):
    customer = customer_create(actor=org.rep, data={"name": "深圳市腾讯计算机系统有限公司",
                                                    "credit_code": " 9144 0300 7084 6113 6t "})
    customer.refresh_from_db()
    assert customer.credit_code == "9144 0300 7084 6113 6t"
    assert customer.credit_code_norm == TENCENT


def test_a_credit_code_with_a_wrong_check_character_is_refused_naming_the_field(org):
    with pytest.raises(ValidationFailed) as info:
        customer_create(actor=org.rep, data={"name": "甲公司", "credit_code": WRONG_CHECK})
    assert list(info.value.fields) == ["credit_code"]
    assert "校验位" in info.value.fields["credit_code"][0] or "check character" in info.value.fields["credit_code"][0]
    assert not Customer.objects.exists()


def test_a_person_has_no_credit_code(org):
    with pytest.raises(ValidationFailed) as info:
        customer_create(actor=org.rep, data={"name": "王强", "kind": "individual", "credit_code": TENCENT})
    assert list(info.value.fields) == ["credit_code"]


def test_a_kind_change_to_person_keeps_the_stored_code_without_complaint(org):
    customer = customer_create(actor=org.rep, data={"name": "乙公司", "credit_code": TENCENT})
    customer = customer_update(actor=org.rep, customer_id=customer.pk, data={"kind": "individual"})
    assert customer.kind == "individual" and customer.credit_code_norm == TENCENT


def test_clearing_the_credit_code_clears_its_canonical_form(org):
    customer = customer_create(actor=org.rep, data={"name": "丙公司", "credit_code": TENCENT})
    customer = customer_update(actor=org.rep, customer_id=customer.pk, data={"credit_code": ""})
    customer.refresh_from_db()
    assert (customer.credit_code, customer.credit_code_norm) == ("", "")


def test_the_same_credit_code_under_another_name_is_a_duplicate_warning(org):
    first = customer_create(actor=org.rep, data={"name": "腾讯科技（深圳）有限公司", "credit_code": TENCENT})
    with pytest.raises(NeedsConfirmation) as info:
        customer_create(actor=org.rep, data={"name": "深圳市腾讯计算机系统有限公司",
                                             "credit_code": TENCENT.lower()})
    candidates = info.value.extra["candidates"]
    assert [c["id"] for c in candidates] == [first.pk]
    assert candidates[0]["decision"] == "same"
    assert any(e["role"] == "credit_code" and e["weight"] > 0 for e in candidates[0]["evidence"])


def test_an_edit_that_gives_a_taken_credit_code_is_a_duplicate_warning(org):
    first = customer_create(actor=org.rep, data={"name": "丁机械有限公司", "credit_code": TENCENT})
    other = customer_create(actor=org.rep, data={"name": "戊电子有限公司"})
    with pytest.raises(NeedsConfirmation) as info:
        customer_update(actor=org.rep, customer_id=other.pk, data={"credit_code": TENCENT})
    assert [c["id"] for c in info.value.extra["candidates"]] == [first.pk]


def test_the_full_credit_code_finds_the_customer(org):
    customer = customer_create(actor=org.rep, data={"name": "己公司", "credit_code": TENCENT})
    customer_create(actor=org.rep, data={"name": "庚公司"})
    for query in (TENCENT, TENCENT.lower(), "9144 0300 7084 6113 6T"):
        found = customer_list(user=org.rep, filters=CustomerFilters(q=query)).items
        assert [c.pk for c in found] == [customer.pk], query


def test_the_credit_code_is_audited(org):
    from qianke.core.models import AuditLog

    customer = customer_create(actor=org.rep, data={"name": "辛公司", "credit_code": TENCENT})
    entry = AuditLog.objects.get(object_id=customer.pk, action=AuditLog.Action.CREATE)
    assert entry.changes["credit_code"] == [None, TENCENT]


def test_customers_without_a_credit_code_have_the_search_tokens_they_had(org):
    from qianke.core import normalize

    customer = customer_create(actor=org.rep, data={"name": "壬公司", "email": "a@b.cn"})
    entry = CustomerSearch.objects.get(customer=customer)
    assert entry.other == normalize.search_document(names=[], phones=[], others=["a@b.cn", customer.code]).other


# ---------------------------------------------------------------------------------------------
# Province, city and district from the address
# ---------------------------------------------------------------------------------------------


def _divisions(customer):
    customer.refresh_from_db()
    return customer.province, customer.city, customer.district


def test_empty_divisions_are_read_from_the_address(org):
    customer = customer_create(actor=org.rep, data={"name": "甲", "address": "广东省深圳市南山区西丽街道"})
    assert _divisions(customer) == ("广东省", "深圳市", "南山区")
    assert customer.address == "广东省深圳市南山区西丽街道"


def test_a_municipality_is_stored_as_province_and_city_and_the_region_filters_find_it(org):
    customer = customer_create(actor=org.rep, data={"name": "乙", "address": "北京市海淀区中关村大街1号"})
    assert _divisions(customer) == ("北京市", "北京市", "海淀区")
    found = customer_list(user=org.rep, filters=CustomerFilters(province="北京市", city="北京市",
                                                                 district="海淀区")).items
    assert [c.pk for c in found] == [customer.pk]


def test_what_the_user_gave_is_never_changed(org):
    customer = customer_create(actor=org.rep, data={"name": "丙", "province": "广东", "district": "",
                                                    "address": "广东省深圳市南山区科技园"})
    assert _divisions(customer) == ("广东", "深圳市", "南山区")


def test_a_district_given_with_an_address_without_places_tells_its_city_and_province(org):
    customer = customer_create(actor=org.rep, data={"name": "丁", "district": "天河区", "address": "天河路100号"})
    assert _divisions(customer) == ("广东省", "广州市", "天河区")


def test_without_an_address_nothing_is_filled(org):
    customer = customer_create(actor=org.rep, data={"name": "丁二", "city": "上海市"})
    assert _divisions(customer) == ("", "上海市", "")


def test_an_address_that_disagrees_with_the_given_province_fills_nothing(org):
    customer = customer_create(actor=org.rep, data={"name": "戊", "province": "广东省",
                                                    "address": "北京市海淀区中关村"})
    assert _divisions(customer) == ("广东省", "", "")


def test_an_address_that_does_not_say_which_place_fills_nothing(org):
    customer = customer_create(actor=org.rep, data={"name": "己", "address": "和平区南京路 1 号"})
    assert _divisions(customer) == ("", "", "")


def test_an_edit_of_the_address_fills_the_empty_divisions_and_an_unrelated_edit_leaves_them(org):
    customer = customer_create(actor=org.rep, data={"name": "庚", "address": "某某路 1 号"})
    Customer.objects.filter(pk=customer.pk).update(address="上海市浦东新区张江路 1 号")
    customer = customer_update(actor=org.rep, customer_id=customer.pk, data={"phone": "021-55551234"})
    assert _divisions(customer) == ("", "", "")
    customer = customer_update(actor=org.rep, customer_id=customer.pk, data={"address": "上海市浦东新区张江路 2 号"})
    assert _divisions(customer) == ("上海市", "上海市", "浦东新区")
