"""Lifecycle over the REST API: transitions, the 409 for illegal moves, purchases, history, the funnel."""

from __future__ import annotations

import pytest

from qianke.core.models import AuditLog
from qianke.core.tests.api_helpers import api_for
from qianke.customers.models import StatusChange

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


@pytest.fixture
def api(token_for):
    return lambda user: api_for(user, token_for)


def test_a_transition_answers_the_customer_and_is_recorded_with_source_api(org, make_customer, api):
    customer = make_customer(org.rep, status="new")
    response = api(org.rep).post(f"/customers/{customer.pk}/transition",
                                 {"to_status": "lost", "reason": "选了别家", "competitor": "东方机械"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "lost" and body["status_changed_at"]
    change = StatusChange.objects.get(customer=customer, to_status="lost")
    assert (change.reason, change.competitor, change.actor) == ("选了别家", "东方机械", org.rep)
    audit = AuditLog.objects.filter(object_type="customer", object_id=customer.pk).order_by("-id").first()
    assert audit.source == "api" and audit.changes["status"] == ["new", "lost"]


def test_an_illegal_transition_is_409_with_the_legal_targets(org, make_customer, api):
    customer = make_customer(org.rep)
    response = api(org.rep).post(f"/customers/{customer.pk}/transition", {"to_status": "repeat"})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "illegal_transition"
    assert body["allowed"] == ["new", "lost"]
    assert "Potential" in body["message"] and "Repeat customer" in body["message"]


def test_a_missing_reason_and_unknown_fields_are_422(org, make_customer, api):
    customer = make_customer(org.rep, status="new")
    client = api(org.rep)
    missing = client.post(f"/customers/{customer.pk}/transition", {"to_status": "lost"})
    assert missing.status_code == 422 and list(missing.json()["fields"]) == ["reason"]
    unknown = client.post(f"/customers/{customer.pk}/transition", {"to_status": "lost", "why": "x"})
    assert unknown.status_code == 422 and list(unknown.json()["fields"]) == ["why"]


def test_patch_cannot_change_the_status(org, make_customer, api):
    customer = make_customer(org.rep)
    response = api(org.rep).patch(f"/customers/{customer.pk}", {"status": "new"})
    assert response.status_code == 422 and list(response.json()["fields"]) == ["status"]


def test_purchases_and_the_status_history(org, make_customer, api):
    customer = make_customer(org.rep)
    client = api(org.rep)
    first = client.post(f"/customers/{customer.pk}/purchase", {"reason": "订单 SO-1"})
    assert first.status_code == 200 and first.json()["status"] == "new" and first.json()["last_purchase_at"]
    assert client.post(f"/customers/{customer.pk}/purchase").json()["status"] == "repeat"
    page = client.get(f"/customers/{customer.pk}/status-history").json()
    assert page["count"] == 3 and page["offset"] == 0
    history = page["items"]
    assert [(h["from_status"], h["to_status"], h["trigger"]) for h in history] == [
        ("new", "repeat", "purchase"), ("potential", "new", "purchase"), ("", "potential", "create")]
    assert history[1]["reason"] == "订单 SO-1" and history[1]["actor"]["id"] == org.rep.pk
    older = client.get(f"/customers/{customer.pk}/status-history?limit=1&offset=2").json()
    assert older["count"] == 3 and [h["to_status"] for h in older["items"]] == ["potential"]


def test_another_reps_customer_is_404_everywhere(org, make_customer, api):
    customer = make_customer(org.rep_north)
    client = api(org.rep)
    assert client.post(f"/customers/{customer.pk}/transition", {"to_status": "lost", "reason": "x"}).status_code == 404
    assert client.post(f"/customers/{customer.pk}/purchase").status_code == 404
    assert client.get(f"/customers/{customer.pk}/status-history").status_code == 404
    customer.refresh_from_db()
    assert customer.status == "potential"


def test_the_funnel_report(org, make_customer, api):
    customer = make_customer(org.rep)
    make_customer(org.rep_north)
    api(org.rep).post(f"/customers/{customer.pk}/purchase")
    response = api(org.gm).get("/reports/funnel", {"group_by": "team"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total"]["entered"] == 2 and body["total"]["new"] == 1 and body["total"]["rate_new"] == 0.5
    assert {r["label"]: r["entered"] for r in body["rows"]} == {"华东组": 1, "华北组": 1}
    assert api(org.manager).get("/reports/funnel").json()["total"]["entered"] == 1
    assert api(org.rep).get("/reports/funnel").status_code == 403
    bad = api(org.gm).get("/reports/funnel", {"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert bad.status_code == 422 and list(bad.json()["fields"]) == ["date_from"]
