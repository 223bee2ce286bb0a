"""The credit code and the divisions read from the address on the customer form, page and API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from qianke.core.tests.api_helpers import api_for
from qianke.customers.models import Customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

TENCENT = "91440300708461136T"
WRONG_CHECK = "91440300708461136A"


@pytest.fixture
def api(token_for):
    return lambda user: api_for(user, token_for)


def org_post(name: str, **extra) -> dict:
    return {"kind": "organization", "name": name, "status": "potential", "relation_class": "business", **extra}


# --------------------------------------------------------------------------- form and page


def test_the_organisation_form_has_the_credit_code_and_the_person_form_not(client, org):
    client.force_login(org.rep)
    assert "credit_code" in client.get(reverse("customers:create")).context["form"].fields
    person = client.get(reverse("customers:create"), {"kind": "individual"})
    assert "credit_code" not in person.context["form"].fields


def test_the_form_saves_the_code_and_the_divisions_and_the_page_shows_them(client, org):
    client.force_login(org.rep)
    response = client.post(reverse("customers:create"),
                           org_post("北京华信精密机械有限公司", credit_code=TENCENT.lower(),
                                    address="北京市海淀区中关村大街 18 号"))
    customer = Customer.objects.get()
    assert response.status_code == 302
    assert (customer.credit_code_norm, customer.province, customer.city, customer.district) == (
        TENCENT, "北京市", "北京市", "海淀区")
    page = client.get(reverse("customers:detail", args=[customer.pk]), {"tab": "profile"}).content.decode()
    for text in (TENCENT.lower(), "北京市", "海淀区"):
        assert text in page, text
    edit = client.get(reverse("customers:edit", args=[customer.pk])).content.decode()
    assert f'value="{TENCENT.lower()}"' in edit


def test_a_wrong_check_character_is_a_field_error_on_the_form(client, org):
    client.force_login(org.rep)
    response = client.post(reverse("customers:create"), org_post("甲有限公司", credit_code=WRONG_CHECK))
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"credit_code"}
    assert f'value="{WRONG_CHECK}"' in response.content.decode()
    assert not Customer.objects.exists()


def test_the_region_filters_of_the_list_find_a_customer_typed_with_its_address_only(client, org):
    client.force_login(org.rep)
    client.post(reverse("customers:create"), org_post("北京华信精密机械有限公司", address="北京市海淀区中关村大街 18 号"))
    page = client.get(reverse("customers:list"), {"province": "北京市", "city": "北京市", "district": "海淀区"})
    assert "北京华信精密机械有限公司" in page.content.decode()


# --------------------------------------------------------------------------- API


def test_the_api_takes_and_gives_the_credit_code_and_fills_the_divisions(org, api):
    client = api(org.rep)
    created = client.post("/customers", {"name": "腾讯科技（深圳）有限公司", "credit_code": TENCENT.lower(),
                                         "address": "广东省深圳市南山区科技中一路"})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["credit_code"] == TENCENT.lower()
    assert (body["province"], body["city"], body["district"]) == ("广东省", "深圳市", "南山区")
    assert client.get("/customers", {"q": TENCENT}).json()["items"][0]["id"] == body["id"]
    assert client.get("/customers", {"city": "深圳市"}).json()["count"] == 1


def test_the_api_refuses_a_wrong_check_character_and_a_persons_code_with_422(org, api):
    client = api(org.rep)
    bad = client.post("/customers", {"name": "甲有限公司", "credit_code": WRONG_CHECK})
    assert bad.status_code == 422 and list(bad.json()["fields"]) == ["credit_code"]
    person = client.post("/customers", {"name": "王强", "kind": "individual", "credit_code": TENCENT})
    assert person.status_code == 422 and list(person.json()["fields"]) == ["credit_code"]
    assert not Customer.objects.exists()


def test_the_api_answers_409_for_another_name_with_the_same_credit_code(org, api):
    client = api(org.rep)
    first = client.post("/customers", {"name": "腾讯科技（深圳）有限公司", "credit_code": TENCENT}).json()
    response = client.post("/customers", {"name": "深圳市腾讯计算机系统有限公司", "credit_code": TENCENT})
    assert response.status_code == 409
    assert [c["id"] for c in response.json()["candidates"]] == [first["id"]]
    patched = client.patch(f"/customers/{first['id']}", {"credit_code": ""})
    assert patched.status_code == 200 and patched.json()["credit_code"] == ""
