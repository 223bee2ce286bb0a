"""The leads endpoints: shapes, errors, visibility, admin-only writes."""

import pytest
from django.test import Client

from qianke.customers.models import Customer
from qianke.leads.models import Source


@pytest.fixture
def api(token_for):
    def make(user):
        client = Client()
        token = token_for(user)

        def call(method, path, body=None):
            kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
            if body is not None:
                kwargs.update(data=body, content_type="application/json")
            return getattr(client, method)(f"/api/v1{path}", **kwargs)

        return call

    return make


def test_source_tree_and_lists(org, api):
    call = api(org.rep)
    tree = call("get", "/sources").json()
    assert [n["name"] for n in tree] == ["展厅客源", "续购客源", "介绍客源", "外拓客源"]
    assert tree[0]["children"][1]["path"] == "展厅客源 › 来店" and tree[0]["children"][1]["depth"] == 1
    methods = call("get", "/collection-methods").json()
    assert len(methods) == 12 and methods[6]["code"] == "canvassing"
    assert len(call("get", "/information-sources").json()) == 12
    assert call("get", "/sources").status_code == 200
    assert Client().get("/api/v1/sources").status_code == 401


def test_source_writes_are_for_administrators(org, api, src):
    body = {"name": "车展", "parent": src("市场活动").pk}
    response = api(org.manager)("post", "/sources", body)
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    response = api(org.admin)("post", "/sources", body)
    assert response.status_code == 201
    created = response.json()
    assert created["path"] == "外拓客源 › 市场活动 › 车展" and created["depth"] == 2
    response = api(org.admin)("patch", f"/sources/{created['id']}", {"active": False})
    assert response.status_code == 200 and response.json()["active"] is False
    response = api(org.admin)("post", "/sources", {"name": ""})
    assert response.status_code == 422 and "name" in response.json()["fields"]
    assert api(org.admin)("patch", "/sources/999999", {"name": "x"}).status_code == 404


def test_origin_get_put(org, api, make_customer, src, method):
    c = make_customer(org.rep)
    introducer = make_customer(org.rep, "老客户甲")
    call = api(org.rep)
    empty = call("get", f"/customers/{c.pk}/origin").json()
    assert empty["source"] is None
    response = call("put", f"/customers/{c.pk}/origin", {
        "source": src("老客户介绍").pk, "collection_method": method("referral").pk,
        "introducer_customer": introducer.pk})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["source"]["path"] == "介绍客源 › 老客户介绍"
    assert body["introducer_customer"] == {"id": introducer.pk, "name": "老客户甲", "code": introducer.code}
    assert body["collection_method"]["name"].startswith("猎犬法")
    assert body["recorded_by"]["id"] == org.rep.pk
    bad = call("put", f"/customers/{c.pk}/origin", {"source": src("来店").pk, "introducer_customer": c.pk})
    assert bad.status_code == 422 and "introducer_customer" in bad.json()["fields"]
    assert call("put", f"/customers/{c.pk}/origin", {"source": 1, "colour": 1}).status_code == 422
    # the other team's rep gets 404s
    other = api(org.rep_north)
    assert other("get", f"/customers/{c.pk}/origin").status_code == 404
    assert other("put", f"/customers/{c.pk}/origin", {"source": src("来店").pk}).status_code == 404
    # an introducer one may not see is not named
    Customer.objects.filter(pk=introducer.pk).update(owner=org.rep_north)
    hidden = call("get", f"/customers/{c.pk}/origin").json()
    assert hidden["introducer_customer"] == {"id": None, "name": None, "code": None}


def test_referrals_endpoint(org, api, make_customer, src):
    root, child = make_customer(org.rep, "根"), make_customer(org.rep, "子")
    call = api(org.rep)
    call("put", f"/customers/{child.pk}/origin", {"source": src("老客户介绍").pk, "introducer_customer": root.pk})
    Customer.objects.filter(pk=child.pk).update(status="new")
    body = call("get", f"/customers/{root.pk}/referrals").json()
    assert (body["introduced"], body["converted"], body["hidden"]) == (1, 1, 0)
    assert body["children"][0]["name"] == "子" and body["children"][0]["converted"] is True
    assert call("get", f"/customers/{root.pk}/referrals?depth=99").status_code == 422
    assert api(org.rep_north)("get", f"/customers/{root.pk}/referrals").status_code == 404


def test_source_report_endpoint(org, api, make_customer, src):
    c = make_customer(org.rep)
    api(org.rep)("put", f"/customers/{c.pk}/origin", {"source": src("来店").pk})
    body = api(org.rep)("get", "/reports/sources").json()
    assert body["total"]["count"] == 1
    assert "value_won" not in body["columns"] and "count" in body["columns"]
    showroom = body["groups"][0]
    assert showroom["total"]["path"] == "展厅客源" and showroom["total"]["count"] == 1
    assert [r["path"] for r in showroom["rows"]] == ["展厅客源 › 来电", "展厅客源 › 来店"]
    assert api(org.rep_north)("get", "/reports/sources").json()["total"]["count"] == 0
    bad = api(org.rep)("get", "/reports/sources?date_from=someday")
    assert bad.status_code == 422 and "date_from" in bad.json()["fields"]
    assert Source.objects.count() == 15
