"""Follow-ups over the REST API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from qianke.activities.models import Activity
from qianke.activities.services import activity_create
from qianke.core.models import AuditLog
from qianke.core.tests.api_helpers import api_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


@pytest.fixture
def api(token_for):
    return lambda user: api_for(user, token_for)


def test_record_change_complete_and_archive_a_follow_up(org, make_customer, make_contact, api):
    customer = make_customer(org.rep)
    contact = make_contact(org.rep, customer, "刘洋")
    client = api(org.rep)
    due = timezone.localdate() + dt.timedelta(days=3)
    response = client.post("/activities", {
        "customer": customer.pk, "kind": "visit", "contact": contact.pk, "content": "上门拜访，介绍新产品",
        "next_step": "寄样品", "next_due": due.isoformat(),
    })
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["customer"] == {"id": customer.pk, "code": customer.code, "name": customer.name}
    assert body["contact"] == {"id": contact.pk, "name": "刘洋"}
    assert body["actor"]["id"] == org.rep.pk
    assert body["next_due"] == due.isoformat() and body["next_done_at"] is None
    activity_id = body["id"]
    assert AuditLog.objects.get(object_type="activity", object_id=activity_id).source == "api"

    patched = client.patch(f"/activities/{activity_id}", {"outcome": "客户感兴趣"})
    assert patched.status_code == 200
    assert patched.json()["outcome"] == "客户感兴趣"
    assert patched.json()["content"] == "上门拜访，介绍新产品"
    assert patched.json()["next_step"] == "寄样品"

    done = client.post(f"/activities/{activity_id}/complete")
    assert done.status_code == 200 and done.json()["next_done_at"] is not None

    timeline = client.get(f"/customers/{customer.pk}/timeline").json()
    assert [a["id"] for a in timeline["items"]] == [activity_id]

    archived = client.post(f"/activities/{activity_id}/archive")
    assert archived.status_code == 200 and archived.json()["archived_at"] is not None
    assert client.get(f"/activities/{activity_id}").status_code == 404
    assert client.get("/activities", {"customer": customer.pk}).json()["count"] == 0


def test_bad_follow_up_is_422_and_nothing_saved(org, make_customer, make_contact, api):
    customer = make_customer(org.rep)
    other_customer = make_customer(org.rep)
    strangers_contact = make_contact(org.rep, other_customer, "外人")
    client = api(org.rep)
    future = (timezone.now() + dt.timedelta(days=2)).isoformat()
    response = client.post("/activities", {"customer": customer.pk, "content": "", "kind": "dance",
                                           "occurred_at": future, "contact": strangers_contact.pk,
                                           "next_due": "2030-01-01"})
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"content", "kind", "occurred_at", "contact", "next_step"}
    typed = client.post("/activities", {"customer": customer.pk, "content": "x", "next_due": "soon"})
    assert typed.status_code == 422 and typed.json()["fields"] == {"next_due": ["Enter a date such as 2026-11-22."]}
    assert not Activity.objects.exists()


def test_other_reps_follow_ups_are_404(org, make_customer, api):
    customer = make_customer(org.rep)
    activity = activity_create(actor=org.rep, customer_id=customer.pk, data={"content": "电话沟通"})
    client = api(org.rep2)
    assert client.get(f"/activities/{activity.pk}").status_code == 404
    assert client.get("/activities").json()["items"] == []
    assert client.get("/activities", {"customer": customer.pk}).json()["count"] == 0
    assert client.patch(f"/activities/{activity.pk}", {"content": "改掉"}).status_code == 404
    assert client.post(f"/activities/{activity.pk}/complete").status_code == 404
    assert client.post(f"/activities/{activity.pk}/archive").status_code == 404
    assert client.post("/activities", {"customer": customer.pk, "content": "偷偷记录"}).status_code == 404
    assert client.get(f"/customers/{customer.pk}/timeline").status_code == 404
    activity.refresh_from_db()
    assert activity.content == "电话沟通" and activity.archived_at is None
    assert Activity.objects.count() == 1
    # The manager of the team sees it.
    assert api(org.manager).get(f"/activities/{activity.pk}").status_code == 200


def test_list_filters_paginates_and_has_bounded_queries(org, make_customer, make_contact, api,
                                                        django_assert_max_num_queries):
    customers = [make_customer(org.rep) for _ in range(3)]
    for i in range(30):
        customer = customers[i % 3]
        contact = make_contact(org.rep, customer, f"联系人{i}")
        activity_create(actor=org.rep, customer_id=customer.pk,
                        data={"content": f"跟进{i}", "kind": "call" if i % 2 else "visit", "contact": contact.pk})
    client = api(org.director)
    client.get("/me")
    with django_assert_max_num_queries(5):
        page = client.get("/activities", {"limit": 30}).json()
    assert page["count"] == 30 and len(page["items"]) == 30
    assert client.get("/activities", {"kind": "visit"}).json()["count"] == 15
    assert client.get("/activities", {"customer": customers[0].pk}).json()["count"] == 10
    second = client.get("/activities", {"limit": 12, "offset": 24}).json()
    assert len(second["items"]) == 6 and second["offset"] == 24
    with django_assert_max_num_queries(6):
        timeline = client.get(f"/customers/{customers[1].pk}/timeline").json()
    assert timeline["count"] == 10
