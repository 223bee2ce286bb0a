"""The import and export endpoints: upload, progress, rejects, undo, export with filters and visibility."""

import csv
import io
import json

import pytest
from django.test import Client
from openpyxl import load_workbook

from qianke.core.models import AuditLog
from qianke.customers.models import Customer
from qianke.dataio.services import imports_run_queued


@pytest.fixture
def api(token_for):
    def make(user):
        client = Client()
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token_for(user)}"}

        def call(method, path, **kwargs):
            return getattr(client, method)(f"/api/v1{path}", **headers, **kwargs)

        return call

    return make


def _upload(call, path, **form):
    with open(path, "rb") as f:
        return call("post", "/imports", data={"file": f, **form})


@pytest.mark.django_db
def test_upload_runs_in_the_worker_and_reports_progress_rejects_and_undo(org, api, write_csv):
    call = api(org.info)
    path = write_csv([["单位", "手机"], ["甲有限公司", "13800001111"], ["乙有限公司", "12"]])
    answer = _upload(call, path, mapping=json.dumps({"name": "单位"}), mode="partial")
    assert answer.status_code == 201, answer.content
    job = answer.json()
    assert job["status"] == "queued" and job["total_rows"] == 2
    assert imports_run_queued(today=None)["imports"] == 1
    done = call("get", f"/imports/{job['id']}").json()
    assert (done["status"], done["percent"], done["created_customers"], done["rejected_rows"]) == ("done", 100, 1, 1)
    assert [i["id"] for i in call("get", "/imports").json()["items"]] == [job["id"]]
    rejects = call("get", f"/imports/{job['id']}/rejects")
    rows = list(csv.reader(io.StringIO(rejects.content.decode("utf-8-sig"))))
    assert rows[0][0] in ("Row", "行号") and rows[1][:3] == ["3", "乙有限公司", "12"] and "手机" in rows[1][3]
    xlsx = call("get", f"/imports/{job['id']}/rejects", QUERY_STRING="format=xlsx")
    assert load_workbook(io.BytesIO(xlsx.content)).active.max_row == 2
    undone = call("post", f"/imports/{job['id']}/undo")
    assert undone.status_code == 200 and undone.json()["status"] == "undone"
    assert not Customer.objects.exists()
    assert call("post", f"/imports/{job['id']}/undo").status_code == 409


@pytest.mark.django_db
def test_upload_errors_use_the_error_shape(org, api, write_csv):
    call = api(org.info)
    path = write_csv([["地址"], ["人民路1号"]])
    answer = _upload(call, path)
    assert answer.status_code == 422 and "name" in answer.json()["fields"]
    answer = _upload(call, write_csv([["客户名称"], ["甲"]]), mapping="not json")
    assert answer.status_code == 422 and "mapping" in answer.json()["fields"]
    assert _upload(api(org.service), write_csv([["客户名称"], ["甲"]])).status_code == 403


@pytest.mark.django_db
def test_imports_of_others_are_not_found_for_reps(org, api, write_csv):
    job = _upload(api(org.rep), write_csv([["客户名称"], ["甲有限公司"]])).json()
    assert api(org.rep2)("get", f"/imports/{job['id']}").status_code == 404
    assert api(org.rep2)("post", f"/imports/{job['id']}/undo").status_code == 404
    assert api(org.info)("get", f"/imports/{job['id']}").status_code == 200


@pytest.mark.django_db
def test_export_has_the_list_filters_and_visibility_and_is_audited(org, api, make_customer):
    make_customer(org.rep, "华东甲有限公司", industry="logistics", mobile="13800001111")
    make_customer(org.rep, "华东乙有限公司", industry="manufacturing")
    make_customer(org.rep_north, "华北丙有限公司", industry="logistics")
    answer = api(org.rep)("get", "/customers/export", QUERY_STRING="format=csv")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    body = b"".join(answer.streaming_content)
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert sorted(r[1] for r in rows[1:]) == sorted(["华东乙有限公司", "华东甲有限公司"])  # not the northern rep's
    answer = api(org.info)("get", "/customers/export", QUERY_STRING="format=xlsx&industry=logistics")
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(answer.streaming_content))).active
    names = sorted(row[1] for row in sheet.iter_rows(min_row=2, values_only=True))
    assert names == sorted(["华北丙有限公司", "华东甲有限公司"])
    audit = AuditLog.objects.filter(action=AuditLog.Action.EXPORT).order_by("id")
    assert [(a.actor, a.changes["rows"][1]) for a in audit] == [(org.rep, 2), (org.info, 2)]
    assert audit[1].changes["filters"][1] == {"industry": "logistics"} and audit[1].source == "api"
    assert api(org.info)("get", "/customers/export", QUERY_STRING="format=pdf").status_code == 422


@pytest.mark.django_db
def test_export_of_a_search(org, api, make_customer):
    make_customer(org.info, "杭州西湖软件有限公司")
    make_customer(org.info, "广州天河电子有限公司")
    answer = api(org.info)("get", "/customers/export", data={"q": "西湖"})
    rows = list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode("utf-8-sig"))))
    assert [r[1] for r in rows[1:]] == ["杭州西湖软件有限公司"]


@pytest.mark.django_db
def test_import_history_is_paged_newest_first_and_shows_a_rep_only_their_own(org, api, write_csv):
    info, rep = api(org.info), api(org.rep)
    ids = [_upload(info, write_csv([["单位"], [f"历史{n}有限公司"]], name=f"h{n}.csv"), mapping=json.dumps({"name": "单位"})).json()["id"]
           for n in range(3)]
    first = info("get", "/imports", QUERY_STRING="limit=2").json()
    second = info("get", "/imports", QUERY_STRING="limit=2&offset=2").json()
    assert (first["count"], [i["id"] for i in first["items"]]) == (3, ids[:0:-1])
    assert [i["id"] for i in second["items"]] == [ids[0]]
    assert rep("get", "/imports").json()["count"] == 0
    assert info("get", "/imports", QUERY_STRING="limit=0").status_code == 422


@pytest.mark.django_db
def test_continue_queues_a_failed_import_and_refuses_a_finished_one(org, api):
    from qianke.dataio.models import ImportJob

    failed = ImportJob.objects.create(actor=org.info, file_name="a.csv", file_path=__file__, file_sha256="0",
                                      status=ImportJob.Status.FAILED, can_continue=True)
    done = ImportJob.objects.create(actor=org.info, file_name="b.csv", file_path=__file__, file_sha256="0",
                                    status=ImportJob.Status.DONE)
    call = api(org.info)
    assert call("get", f"/imports/{failed.pk}").json()["can_continue"] is True
    answer = call("post", f"/imports/{failed.pk}/continue")
    assert answer.status_code == 200 and answer.json()["status"] == "queued"
    refused = call("post", f"/imports/{done.pk}/continue")
    assert refused.status_code == 409 and refused.json()["code"]
    assert api(org.rep)("post", f"/imports/{failed.pk}/continue").status_code == 404


@pytest.mark.django_db
def test_upload_wakes_the_worker_which_runs_it_at_its_next_queue_round(org, api, write_csv,
                                                                        django_capture_on_commit_callbacks):
    from qianke.jobs.models import JobRun
    from qianke.jobs.services import run_queued_jobs

    call = api(org.info)
    with django_capture_on_commit_callbacks(execute=True):
        job = _upload(call, write_csv([["客户名称"], ["甲有限公司"]])).json()
    assert job["status"] == "queued"
    assert list(JobRun.objects.filter(status="queued").values_list("name", flat=True)) == ["dataio.imports"]
    assert [run.status for run in run_queued_jobs()] == ["succeeded"]
    assert call("get", f"/imports/{job['id']}").json()["status"] == "done"


@pytest.mark.django_db
def test_uploading_a_file_imported_before_needs_again(org, api, write_csv):
    call = api(org.info)
    path = write_csv([["客户名称"], ["甲有限公司"]])
    first = _upload(call, path).json()
    imports_run_queued(today=None)
    refused = _upload(call, path)
    assert refused.status_code == 409, refused.content
    body = refused.json()
    assert body["code"] == "already_imported" and body["import_id"] == first["id"] and f"#{first['id']}" in body["message"]
    second = _upload(call, path, again="true")
    assert second.status_code == 201
    assert Customer.objects.count() == 1  # the second one is queued, not run
    assert _upload(call, path).json()["import_id"] == second.json()["id"]  # a queued one counts too
    imports_run_queued(today=None)
    for job_id in (first["id"], second.json()["id"]):
        assert call("post", f"/imports/{job_id}/undo").status_code == 200
    assert _upload(call, path).status_code == 201  # an undone import does not count


@pytest.mark.django_db
def test_an_imported_customers_history_shows_the_import_that_created_it(org, api, write_csv, make_customer):
    from django.urls import reverse

    from qianke.customers.selectors import customer_history
    from qianke.customers.services import customer_update
    from qianke.dataio.services import import_create, import_run

    path = write_csv([["客户名称"], ["甲有限公司"], ["乙有限公司"]], name="名单.csv")
    job = import_run(job_id=import_create(actor=org.rep, path=path, file_name="名单.csv").pk)
    customer = Customer.objects.get(name="甲有限公司")
    entries = customer_history(user=org.rep, customer_id=customer.pk)
    assert [(e.action, e.object_type, e.object_id, e.actor) for e in entries] == [("import", "importjob", job.pk,
                                                                                  org.rep)]
    assert "名单.csv" in entries[0].object_repr and f"#{job.pk}" in entries[0].object_repr
    customer_update(actor=org.rep, customer_id=customer.pk, data={"notes": "改过"})
    body = api(org.rep)("get", f"/customers/{customer.pk}/history").json()
    assert [i["action"] for i in body["items"]] == ["update", "import"] and body["count"] == 2
    assert body["items"][1]["object_repr"] == entries[0].object_repr and body["items"][1]["actor"]["id"] == org.rep.pk
    second = api(org.rep)("get", f"/customers/{customer.pk}/history", QUERY_STRING="limit=1&offset=1").json()
    assert [i["action"] for i in second["items"]] == ["import"]
    client = Client()
    client.force_login(org.rep)
    page = client.get(reverse("customers:detail", args=[customer.pk]) + "?tab=history").content.decode()
    assert "名单.csv" in page
    other = make_customer(org.rep, "丙有限公司")  # not imported: its own audit rows only
    assert [e.action for e in customer_history(user=org.rep, customer_id=other.pk)] == ["create"]
