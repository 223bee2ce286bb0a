"""API edges: authentication (token, session + CSRF), the one error shape, OpenAPI docs, accounts endpoints."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from qianke.accounts.services import api_token_revoke
from qianke.core.audit import _source
from qianke.core.tests.api_helpers import ApiClient, api_for
from qianke.customers.models import Customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


@pytest.fixture
def api(token_for):
    return lambda user: api_for(user, token_for)


def _is_error_body(body: dict) -> bool:
    return isinstance(body.get("code"), str) and isinstance(body.get("message"), str) and body["message"]


# ---------------------------------------------------------------------------------------------
# Authentication
# ---------------------------------------------------------------------------------------------


def test_without_credentials_is_401_json():
    for method, path in (("get", "/customers"), ("post", "/customers"), ("get", "/me")):
        response = getattr(ApiClient(), method)(path)
        assert response.status_code == 401, path
        assert response["Content-Type"].startswith("application/json")
        assert response.json()["code"] == "not_authenticated"
        assert _is_error_body(response.json())


def test_token_auth(org, token_for):
    token = token_for(org.rep)
    response = ApiClient(token).get("/me")
    assert response.status_code == 200
    me = response.json()
    assert me["id"] == org.rep.pk and me["role"] == "sales"
    assert me["team"] == {"id": org.east.pk, "name": "华东组"}
    assert me["sees_all_customers"] is False


def test_bad_or_revoked_token_is_401(org, token_for):
    assert ApiClient("qk_not-a-real-token").get("/me").status_code == 401
    assert ApiClient("garbage").get("/me").status_code == 401
    token = token_for(org.rep)
    client = ApiClient(token)
    assert client.get("/me").status_code == 200
    token_row = org.rep.api_tokens.get()
    api_token_revoke(user=org.rep, token_id=token_row.pk)
    assert client.get("/me").status_code == 401
    # A bad token is refused even when a valid session comes with it.
    session = Client()
    session.force_login(org.rep)
    assert ApiClient("qk_wrong", client=session).get("/me").status_code == 401


def test_inactive_users_token_is_401(org, token_for):
    token = token_for(org.rep)
    org.rep.is_active = False
    org.rep.save()
    assert ApiClient(token).get("/me").status_code == 401


def test_session_auth_and_csrf(org):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(org.rep)
    client = ApiClient(client=browser)
    assert client.get("/me").json()["username"] == "rep_east"

    refused = client.post("/customers", {"name": "无令牌有限公司"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    assert _is_error_body(refused.json())
    assert client.patch("/customers/1", {"name": "x"}).status_code == 403
    assert not Customer.objects.exists()

    # The docs page hands out the CSRF cookie, as a browser would get it from any page.
    assert browser.get("/api/v1/docs").status_code == 200
    client.headers["X-CSRFToken"] = browser.cookies["csrftoken"].value
    created = client.post("/customers", {"name": "有令牌有限公司"})
    assert created.status_code == 201, created.content
    assert Customer.objects.get().owner == org.rep

    browser.logout()
    assert client.get("/me").status_code == 401


def test_token_requests_need_no_csrf(org, token_for):
    client = ApiClient(token_for(org.rep), client=Client(enforce_csrf_checks=True))
    assert client.post("/customers", {"name": "令牌客户有限公司"}).status_code == 201


def test_audit_source_is_api_only_during_api_requests(org, api, make_customer):
    api(org.rep).post("/customers", {"name": "来源测试有限公司"})
    assert _source.get() == "web"
    customer = make_customer(org.rep)
    from qianke.core.models import AuditLog

    assert AuditLog.objects.get(object_id=customer.pk, action="create").source == "web"


# ---------------------------------------------------------------------------------------------
# The one error shape
# ---------------------------------------------------------------------------------------------


def test_unknown_ids_and_paths_are_404_json(org, api):
    client = api(org.gm)
    for path in ("/customers/987654", "/contacts/987654", "/activities/987654"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
        assert _is_error_body(response.json())
    wrong_type = client.get("/customers/abc")
    assert wrong_type.status_code in (404, 422)
    assert _is_error_body(wrong_type.json())


def test_unknown_endpoint_and_wrong_method_answer_json(org, token_for):
    client = ApiClient(token_for(org.rep))
    unknown = client.get("/no-such-thing")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    assert client.post("/no-such-thing", {}).status_code == 404
    wrong = client.client.delete("/api/v1/customers", headers=client.headers)
    assert wrong.status_code == 405
    assert wrong.json()["code"] == "method_not_allowed"
    assert set(wrong.json()["allowed"]) == {"GET", "POST"}


def test_unreadable_body_is_400_json(org, token_for):
    client = ApiClient(token_for(org.rep))
    response = client.client.post("/api/v1/customers", "{not json", content_type="application/json",
                                  headers=client.headers)
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
    empty = client.client.post("/api/v1/customers", "", content_type="application/json", headers=client.headers)
    assert empty.status_code == 422
    assert empty.json()["fields"] == {"__all__": ["Send the request body as a JSON object."]}
    not_an_object = client.post("/customers", ["a", "list"])
    assert not_an_object.status_code == 422
    assert not_an_object.json()["code"] == "validation_error"


def test_validation_messages_follow_accept_language(org, token_for):
    token = token_for(org.rep)
    english = ApiClient(token, language="en").post("/customers", {"name": ""}).json()
    assert english["message"] == "Please correct the errors below."
    assert english["fields"] == {"name": ["Enter the customer's name."]}
    chinese = ApiClient(token, language="zh-hans").post("/customers", {"name": ""}).json()
    assert chinese["code"] == "validation_error" and list(chinese["fields"]) == ["name"]


# ---------------------------------------------------------------------------------------------
# OpenAPI, docs, health
# ---------------------------------------------------------------------------------------------


def test_openapi_document_lists_the_paths(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "Qianke API"
    paths = set(document["paths"])
    for path in ("/api/v1/customers", "/api/v1/customers/{customer_id}", "/api/v1/customers/{customer_id}/archive",
                 "/api/v1/customers/{customer_id}/restore", "/api/v1/customers/{customer_id}/history",
                 "/api/v1/customers/{customer_id}/timeline", "/api/v1/customers/{customer_id}/contacts",
                 "/api/v1/contacts", "/api/v1/contacts/{contact_id}", "/api/v1/contacts/{contact_id}/archive",
                 "/api/v1/activities", "/api/v1/activities/{activity_id}",
                 "/api/v1/activities/{activity_id}/complete", "/api/v1/activities/{activity_id}/archive",
                 "/api/v1/me", "/api/v1/custom-fields", "/api/v1/custom-fields/{field_id}", "/api/v1/teams",
                 "/api/v1/users"):
        assert path in paths, path
    assert set(document["paths"]["/api/v1/customers"]) == {"get", "post"}
    schemes = document["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}
    assert "ErrorOut" in document["components"]["schemas"]


def test_docs_page_loads_nothing_from_a_cdn(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls, html
    for url in urls:
        assert url.startswith("/static/"), url
    assert "cdn" not in html.lower()
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


# ---------------------------------------------------------------------------------------------
# Accounts endpoints
# ---------------------------------------------------------------------------------------------


def test_teams_and_users_are_scoped_like_customers(org, api):
    rep_teams = api(org.rep).get("/teams").json()
    assert [t["id"] for t in rep_teams["items"]] == [org.east.pk]
    director_teams = api(org.director).get("/teams").json()
    assert {t["id"] for t in director_teams["items"]} == {org.sales.pk, org.east.pk, org.north.pk}
    assert {t["id"] for t in api(org.gm).get("/teams").json()["items"]} >= {org.sales.pk, org.east.pk, org.north.pk}

    rep_users = api(org.rep).get("/users").json()
    assert [u["id"] for u in rep_users["items"]] == [org.rep.pk]
    manager_users = api(org.manager).get("/users").json()
    assert {u["username"] for u in manager_users["items"]} == {"rep_east", "rep_east2", "mgr_east"}
    page = api(org.admin).get("/users", {"limit": 2}).json()
    assert len(page["items"]) == 2 and page["count"] == 9
