"""The pool API: claim with 409 codes and 404s, release, assign/transfer, lists with filters, owner history,
warnings, pool settings for administrators."""

from __future__ import annotations

import pytest

from qianke.core.tests.api_helpers import api_for
from qianke.customers.lifecycle import customer_transition
from qianke.pool.jobs import run_warnings
from qianke.pool.services import pool_claim, pool_release
from qianke.qualification.services import qualification_update

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


@pytest.fixture
def api(token_for):
    return lambda user: api_for(user, token_for)


def test_claim_answers_the_customer_now_owned(org, pool, pooled, api):
    customer = pooled(pool)
    response = api(org.rep).post(f"/customers/{customer.pk}/claim")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == customer.pk and body["owner"]["id"] == org.rep.pk
    assert api(org.rep).get(f"/customers/{customer.pk}").status_code == 200


@pytest.mark.parametrize("case", ["taken", "cap_reached", "cooldown", "not_potential"])
def test_claim_refusals_are_409_with_a_code_and_a_message(org, make_pool, pooled, api, case):
    pool = make_pool(cap_per_rep=1 if case == "cap_reached" else 5)
    customer = pooled(pool)
    if case == "taken":
        pool_claim(actor=org.rep2, customer_id=customer.pk)
    elif case == "cap_reached":
        pool_claim(actor=org.rep, customer_id=pooled(pool).pk)
    elif case == "cooldown":
        pool_claim(actor=org.rep, customer_id=customer.pk)
        pool_release(actor=org.rep, customer_id=customer.pk, reason="暂不跟进")
    else:
        customer_transition(actor=org.admin, customer_id=customer.pk, to_status="new", reason="首单")
    response = api(org.rep).post(f"/customers/{customer.pk}/claim")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == case and body["message"]


def test_claim_not_member_is_409_for_who_sees_the_customer_and_404_for_a_rep_of_another_team(
        org, make_pool, pooled, api):
    customer = pooled(make_pool("华北公海", teams=[org.north]))
    response = api(org.admin).post(f"/customers/{customer.pk}/claim")
    assert (response.status_code, response.json()["code"]) == (409, "not_member")
    response = api(org.rep).post(f"/customers/{customer.pk}/claim")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert api(org.rep).post("/customers/999999/claim").status_code == 404


def test_release_with_a_reason_then_the_customer_is_404_for_the_former_owner(org, pool, pooled, api):
    customer = pooled(pool)
    pool_claim(actor=org.rep, customer_id=customer.pk)
    client = api(org.rep)
    response = client.post(f"/customers/{customer.pk}/release", {})
    assert response.status_code == 422
    response = client.post(f"/customers/{customer.pk}/release", {"reason": "客户已有供应商"})
    assert response.status_code == 200, response.content
    assert response.json() == {"customer_id": customer.pk, "pool": pool.name, "owner": None}
    assert client.get(f"/customers/{customer.pk}").status_code == 404
    assert api(org.rep2).post(f"/customers/{customer.pk}/release", {"reason": "x"}).status_code == 404


def test_pool_customers_list_with_filters_and_pagination(org, pool, pooled, api):
    zhejiang = pooled(pool, 3, province="浙江省", industry="manufacturing")
    pooled(pool, 2, province="江苏省")
    qualification_update(actor=org.admin, customer_id=zhejiang[0].pk,
                         data={"expected_purchase_date": "2099-01-01", "ordered": True})
    client = api(org.rep)
    body = client.get(f"/pools/{pool.pk}/customers", {"limit": 2}).json()
    assert (body["count"], len(body["items"]), body["limit"]) == (5, 2, 2)
    assert client.get(f"/pools/{pool.pk}/customers", {"offset": 4}).json()["items"][0]["province"]
    body = client.get(f"/pools/{pool.pk}/customers", {"province": "浙江省"}).json()
    assert {i["id"] for i in body["items"]} == {c.pk for c in zhejiang}
    item = body["items"][0]
    assert set(item) == {"id", "code", "name", "province", "city", "industry", "grade", "source",
                         "in_pool_since", "last_owner"}
    assert client.get(f"/pools/{pool.pk}/customers", {"grade": "O"}).json()["count"] == 1
    assert client.get(f"/pools/{pool.pk}/customers", {"grade": "D"}).json()["count"] == 4
    assert client.get(f"/pools/{pool.pk}/customers", {"q": zhejiang[1].code}).json()["count"] == 1
    assert client.get(f"/pools/{pool.pk}/customers", {"industry": "nonsense"}).status_code == 422


def test_pool_list_and_pool_pages_follow_membership(org, make_pool, api):
    east = make_pool()
    north = make_pool("华北公海", teams=[org.north])
    assert [p["name"] for p in api(org.rep).get("/pools").json()] == [east.name]
    assert api(org.rep).get(f"/pools/{north.pk}").status_code == 404
    assert api(org.rep).get(f"/pools/{north.pk}/customers").status_code == 404
    assert len(api(org.gm).get("/pools").json()) == 2


def test_assign_and_transfer_for_managers_only(org, pool, pooled, api):
    customer = pooled(pool)
    response = api(org.rep).post(f"/customers/{customer.pk}/assign", {"to": org.rep2.pk})
    assert response.status_code == 403
    response = api(org.manager).post(f"/customers/{customer.pk}/assign", {"to": org.rep2.pk, "reason": "行业熟"})
    assert response.status_code == 200 and response.json()["owner"]["id"] == org.rep2.pk
    response = api(org.manager).post(f"/customers/{customer.pk}/transfer", {"to": org.rep.pk})
    assert response.status_code == 200 and response.json()["owner"]["id"] == org.rep.pk
    response = api(org.manager).post(f"/customers/{customer.pk}/transfer", {"to": org.rep_north.pk})
    assert response.status_code == 422 and "to" in response.json()["fields"]


def test_owner_history_newest_first_and_hidden_from_others(org, pool, pooled, api):
    customer = pooled(pool)
    pool_claim(actor=org.rep, customer_id=customer.pk)
    page = api(org.rep).get(f"/customers/{customer.pk}/owner-history").json()
    assert (page["count"], page["offset"]) == (2, 0)
    body = page["items"]
    assert [row["kind"] for row in body] == ["claim", "pool_add"]
    assert body[0]["to_owner"]["id"] == org.rep.pk and body[0]["pool"] == pool.name
    older = api(org.rep).get(f"/customers/{customer.pk}/owner-history?limit=1&offset=1").json()
    assert older["count"] == 2 and [row["kind"] for row in older["items"]] == ["pool_add"]
    assert api(org.rep_north).get(f"/customers/{customer.pk}/owner-history").status_code == 404


def test_warnings_list_the_callers_customers_about_to_return(org, pool, pooled, api):
    import datetime as dt

    from django.utils import timezone

    customer = pooled(pool)
    pool_claim(actor=org.rep, customer_id=customer.pk)
    run_warnings(today=timezone.localdate() + dt.timedelta(days=28))
    # the warning names a future day: it still stands today
    body = api(org.rep).get("/pool-warnings").json()
    assert [(w["customer_id"], w["pool"]) for w in body] == [(customer.pk, pool.name)]
    assert api(org.rep2).get("/pool-warnings").json() == []


def test_pool_settings_for_administrators(org, api):
    body = {"name": "新公海", "teams": [org.east.pk], "cap_per_rep": 20, "cooldown_days": 10, "warn_days": 2,
            "rules": {"A": {"no_follow_up_days": 5, "not_converted_days": 60}}}
    assert api(org.manager).post("/pools", body).status_code == 403
    response = api(org.admin).post("/pools", body)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["teams"] == [{"id": org.east.pk, "name": org.east.name}]
    assert created["rules"] == {"A": {"no_follow_up_days": 5, "not_converted_days": 60}}
    response = api(org.admin).patch(f"/pools/{created['id']}", {"cap_per_team": 100, "exempt_open_deals": False})
    assert response.status_code == 200
    assert (response.json()["cap_per_team"], response.json()["exempt_open_deals"]) == (100, False)
    response = api(org.admin).post("/pools", {**body, "unknown": 1})
    assert response.status_code == 422
    response = api(org.admin).post("/pools", body)
    assert response.status_code == 422 and "name" in response.json()["fields"]
