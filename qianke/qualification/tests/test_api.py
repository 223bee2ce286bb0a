"""The qualification API: read/write, stop and resume, cadence lists, grading settings, errors and visibility."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from qianke.core.models import AuditLog
from qianke.core.tests.api_helpers import api_for
from qianke.qualification.jobs import recompute_grades
from qianke.qualification.models import Qualification

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


@pytest.fixture
def api(token_for):
    return lambda user: api_for(user, token_for)


def put(client, path, body):
    return client.client.put("/api/v1" + path, json.dumps(body), content_type="application/json",
                             headers=client.headers)


def test_get_default_then_put_and_get(org, make_customer, make_contact, api):
    customer = make_customer(org.rep)
    boss = make_contact(org.rep, customer, "王总")
    client = api(org.rep)
    body = client.get(f"/customers/{customer.pk}/qualification").json()
    assert (body["money"], body["authority"], body["need"], body["grade"]) == ("unknown", "unknown", "none", "D")
    assert body["next_action"] == {"kind": "qualify", "text": "Qualify the budget and find who decides"}
    assert not Qualification.objects.exists()  # reading creates nothing

    expected = timezone.localdate() + dt.timedelta(days=20)
    response = put(client, f"/customers/{customer.pk}/qualification", {
        "money": "yes", "budget": 180000, "authority": "no", "authority_contact": boss.pk, "need": "urgent",
        "expected_purchase_date": expected.isoformat()})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["combination"] == "M+a+N (urgent)"
    assert body["next_action"]["text"] == "Reach the decision maker through your contact"
    assert body["authority_contact"] == {"id": boss.pk, "name": "王总"}
    assert body["grade"] == "A" and body["why"]["within_days"] == 30 and body["why"]["days_left"] == 20
    assert body["is_qualified"] is False and body["may_stop"] is False
    assert body["next_follow_up_due"] == (timezone.localdate(customer.created_at) + dt.timedelta(days=3)).isoformat()
    assert AuditLog.objects.filter(customer_id=customer.pk, object_type="qualification", source="api").exists()


def test_put_errors_use_the_one_error_shape(org, make_customer, api):
    customer = make_customer(org.rep)
    client = api(org.rep)
    response = put(client, f"/customers/{customer.pk}/qualification", {"money": "lots", "colour": "red"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error" and {"money", "colour"} <= set(body["fields"])
    response = put(client, f"/customers/{customer.pk}/qualification", {"budget": -5})
    assert response.status_code == 422 and "budget" in response.json()["fields"]


def test_stop_refused_override_by_manager_and_resume(org, make_customer, api):
    customer = make_customer(org.rep)
    rep, manager = api(org.rep), api(org.manager)
    response = rep.post(f"/customers/{customer.pk}/stop-contacting", {"reason": "没兴趣"})
    assert response.status_code == 409 and response.json()["code"] == "man_not_all_no"
    response = rep.post(f"/customers/{customer.pk}/stop-contacting", {"reason": "没兴趣", "override": True})
    assert response.status_code == 403
    response = manager.post(f"/customers/{customer.pk}/stop-contacting", {"reason": "客户已倒闭", "override": True})
    assert response.status_code == 200
    body = response.json()
    assert body["stop_contacting"] and body["stop_overridden_by"]["id"] == org.manager.pk
    assert body["stop_override_reason"] == "客户已倒闭"
    response = rep.post(f"/customers/{customer.pk}/resume-contacting")
    assert response.status_code == 200 and response.json()["stop_contacting"] is False
    assert rep.post(f"/customers/{customer.pk}/resume-contacting").status_code == 409

    put(rep, f"/customers/{customer.pk}/qualification", {"money": "no", "authority": "no", "need": "none"})
    response = rep.post(f"/customers/{customer.pk}/stop-contacting", {})
    assert response.status_code == 200 and response.json()["stop_overridden_by"] is None


def test_invisible_customer_is_404_everywhere(org, make_customer, api):
    customer = make_customer(org.rep)
    other = api(org.rep2)
    assert other.get(f"/customers/{customer.pk}/qualification").status_code == 404
    assert put(other, f"/customers/{customer.pk}/qualification", {"money": "no"}).status_code == 404
    assert other.post(f"/customers/{customer.pk}/stop-contacting", {"reason": "x"}).status_code == 404
    assert other.post(f"/customers/{customer.pk}/resume-contacting").status_code == 404
    assert not Qualification.objects.exists()


def test_due_lists_by_cadence_visibility_and_grade(org, make_customer, api):
    today = timezone.localdate()
    mine = [make_customer(org.rep) for _ in range(3)]
    theirs = make_customer(org.rep2)
    recompute_grades(today=today)
    # Due today: mine[0] (A, base 3 days ago); overdue: mine[1] (D, base 40 days ago) and theirs.
    Qualification.objects.filter(customer=mine[0]).update(grade="A", next_follow_up_due=today)
    Qualification.objects.filter(customer__in=[mine[1], theirs]).update(next_follow_up_due=today - dt.timedelta(10))
    Qualification.objects.filter(customer=mine[2]).update(next_follow_up_due=today - dt.timedelta(3),
                                                          stop_contacting=True)
    client = api(org.rep)
    body = client.get("/follow-ups/due", {"when": "today"}).json()
    assert [i["customer"]["id"] for i in body["items"]] == [mine[0].pk]
    assert body["items"][0]["grade"] == "A" and body["items"][0]["next_action"]["kind"] == "qualify"
    body = client.get("/follow-ups/due", {"when": "overdue"}).json()
    assert [i["customer"]["id"] for i in body["items"]] == [mine[1].pk] and body["count"] == 1
    assert client.get("/follow-ups/due", {"when": "overdue", "grade": "A"}).json()["count"] == 0
    assert api(org.manager).get("/follow-ups/due", {"when": "overdue"}).json()["count"] == 2
    response = client.get("/follow-ups/due", {"when": "tomorrow"})
    assert response.status_code == 422 and "when" in response.json()["fields"]


def test_grading_settings_admin_only(org, api):
    assert api(org.manager).get("/settings/grading").status_code == 403
    admin = api(org.admin)
    body = admin.get("/settings/grading").json()
    assert body["a_within_days"] == 30 and body["cadence_d_days"] == 30 and body["cadence_o_days"] is None
    body.update(cadence_a_days=2, a_within_days=14)
    response = put(admin, "/settings/grading", body)
    assert response.status_code == 200 and response.json()["cadence_a_days"] == 2
    assert put(api(org.manager), "/settings/grading", body).status_code == 403
    body.update(b_within_days=10)
    response = put(admin, "/settings/grading", body)
    assert response.status_code == 422 and "b_within_days" in response.json()["fields"]
