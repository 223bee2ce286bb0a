"""The duplicates and merge API: lists, dismiss, merge, undo, candidates; visibility is a 404."""

from __future__ import annotations

import pytest

from qianke.core.tests.api_helpers import api_for
from qianke.customers.models import Contact, Customer
from qianke.dedupe.jobs import duplicate_scan
from qianke.dedupe.models import DuplicateGroup


@pytest.fixture
def api(token_for):
    return lambda user: api_for(user, token_for)


@pytest.fixture
def pair(org, make_customer, make_contact):
    a = make_customer(org.rep, "北京华为技术有限公司", phone="010-62345678", city="北京")
    b = make_customer(org.rep, "华为技术（北京）有限公司", phone="(010)6234-5678", city="北京",
                      email="info@huawei.example")
    make_contact(org.rep, b, "李娜")
    return a, b


def test_list_groups_with_evidence_and_filter_by_decision(org, pair, api):
    a, b = pair
    duplicate_scan()
    client = api(org.rep)
    body = client.get("/duplicates").json()
    assert body["count"] == 1
    group = body["items"][0]
    assert {m["id"] for m in group["members"]} == {a.pk, b.pk}
    assert group["decision"] == "same" and group["status"] == "open"
    assert {e["role"] for e in group["pairs"][0]["evidence"]} >= {"name", "phone"}
    assert client.get("/duplicates", {"decision": "review"}).json()["count"] == 0
    bad = client.get("/duplicates", {"decision": "maybe"})
    assert bad.status_code == 422 and "decision" in bad.json()["fields"]
    assert client.get(f"/duplicates/{group['id']}").json()["id"] == group["id"]
    # Another rep sees neither the group nor its details.
    other = api(org.rep2)
    assert other.get("/duplicates").json()["count"] == 0
    assert other.get(f"/duplicates/{group['id']}").status_code == 404
    assert other.post(f"/duplicates/{group['id']}/dismiss").status_code == 404


def test_dismiss(org, pair, api):
    duplicate_scan()
    group = DuplicateGroup.objects.get()
    response = api(org.rep).post(f"/duplicates/{group.pk}/dismiss")
    assert response.status_code == 200 and response.json()["status"] == "dismissed"
    again = api(org.rep).post(f"/duplicates/{group.pk}/dismiss")
    assert again.status_code == 409 and again.json()["code"] == "already_reviewed"


def test_merge_then_undo(org, pair, api):
    a, b = pair
    client = api(org.rep)
    response = client.post("/customers/merge", {"survivor": a.pk, "merged": [b.pk], "fields": {"name": b.pk}})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["survivor"]["id"] == a.pk and [m["id"] for m in body["merged"]] == [b.pk]
    assert body["fields"]["name"] == ["北京华为技术有限公司", "华为技术（北京）有限公司"]
    assert body["fields"]["email"] == ["", "info@huawei.example"]
    assert {"model": "customers.Contact", "field": "customer", "customer": b.pk, "count": 1} in body["moved"]
    assert Contact.objects.get(name="李娜").customer_id == a.pk
    assert client.get(f"/customers/{b.pk}").status_code == 404  # archived

    undo = client.post(f"/merges/{body['id']}/undo")
    assert undo.status_code == 200 and undo.json()["undone_at"]
    assert Customer.objects.get(pk=a.pk).name == "北京华为技术有限公司"
    assert Contact.objects.get(name="李娜").customer_id == b.pk
    again = client.post(f"/merges/{body['id']}/undo")
    assert again.status_code == 409 and again.json()["code"] == "already_undone"


def test_undo_conflict_answers_409_with_the_fields(org, pair, api):
    a, b = pair
    client = api(org.rep)
    merge = client.post("/customers/merge", {"survivor": a.pk, "merged": [b.pk], "fields": {"name": b.pk}}).json()
    assert client.patch(f"/customers/{a.pk}?confirm_duplicate=true", {"name": "华为北京"}).status_code == 200
    response = client.post(f"/merges/{merge['id']}/undo")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "undo_conflict" and "name" in body["fields"]


def test_merge_refuses_what_the_user_cannot_see_and_bad_fields(org, pair, api, make_customer):
    a, b = pair
    theirs = make_customer(org.rep2, "北京华为技术有限公司")
    client = api(org.rep)
    hidden = client.post("/customers/merge", {"survivor": a.pk, "merged": [theirs.pk]})
    assert hidden.status_code == 404 and hidden.json()["code"] == "not_found"
    bad = client.post("/customers/merge", {"survivor": a.pk, "merged": [b.pk], "fields": {"status": b.pk}})
    assert bad.status_code == 422 and "fields" in bad.json()["fields"]
    unknown_key = client.post("/customers/merge", {"survivor": a.pk, "merged": [b.pk], "extra": 1})
    assert unknown_key.status_code == 422
    assert Customer.objects.filter(archived_at__isnull=False).count() == 0


def test_merge_of_another_reps_customers_is_not_found_for_the_merge_and_its_undo(org, pair, api):
    a, b = pair
    merge = api(org.rep).post("/customers/merge", {"survivor": a.pk, "merged": [b.pk]}).json()
    other = api(org.rep2)
    assert other.get(f"/merges/{merge['id']}").status_code == 404
    assert other.post(f"/merges/{merge['id']}/undo").status_code == 404


def test_customer_duplicates_candidates(org, pair, api):
    a, b = pair
    body = api(org.rep).get(f"/customers/{a.pk}/duplicates").json()
    assert [c["id"] for c in body] == [b.pk]
    assert body[0]["decision"] == "same" and body[0]["evidence"]
    assert api(org.rep2).get(f"/customers/{a.pk}/duplicates").status_code == 404


def test_create_conflict_carries_candidates_with_evidence(org, pair, api):
    response = api(org.rep).post("/customers", {"name": "华为技术北京有限公司", "phone": "010 6234 5678"})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "needs_confirmation"
    assert {c["id"] for c in body["candidates"]} == {d["id"] for d in body["duplicates"]}
    assert all(c["evidence"] for c in body["candidates"])


def test_evidence_notes_come_in_the_readers_language(org, pair, token_for):
    from qianke.core.tests.api_helpers import ApiClient

    duplicate_scan()
    notes = {e["note"] for e in ApiClient(token_for(org.rep), language="zh-hans").get("/duplicates").json()
             ["items"][0]["pairs"][0]["evidence"]}
    assert "号码相同" in notes and "same number" not in notes
    english = {e["note"] for e in ApiClient(token_for(org.rep)).get("/duplicates").json()["items"][0]["pairs"][0]
               ["evidence"]}
    assert "same number" in english


def test_groups_of_one_import_are_listed_with_the_import(org, make_customer, token_for, tmp_path):
    import csv

    from qianke.core.tests.api_helpers import ApiClient
    from qianke.dataio.services import import_create, import_run

    make_customer(org.rep, "北京华为技术有限公司", phone="010-62345678")
    path = tmp_path / "list.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["客户名称", "电话"], ["华为技术（北京）有限公司", "(010) 6234 5678"]])
    job = import_run(job_id=import_create(actor=org.rep, path=path, file_name="list.csv").pk)
    duplicate_scan()  # the scan finds the same pair again: the group stays the import's
    client = ApiClient(token_for(org.rep))
    body = client.get("/duplicates", {"import": job.pk}).json()
    assert body["count"] == 1 and body["items"][0]["import_job"] == job.pk
    assert client.get("/duplicates", {"import": job.pk + 1}).json()["count"] == 0
    assert client.get("/duplicates", {"import": "x"}).status_code == 422
