"""Import pages (upload, mapping, preview, start, progress, result, undo), templates and the list export."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from qianke.core.models import AuditLog
from qianke.customers.models import Customer
from qianke.dataio.mapping import detect_mapping
from qianke.dataio.models import ImportJob
from qianke.jobs.registry import get_job
from qianke.jobs.services import job_run


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _upload(client, path):
    with open(path, "rb") as f:
        answer = client.post(reverse("dataio:import_upload"), {"file": f})
    assert answer.status_code == 302, answer.content
    return answer["Location"]


@pytest.mark.django_db
def test_upload_map_preview_start_and_the_worker_job_runs_it(org, write_csv):
    client = _client(org.info)
    path = write_csv([["单位名称", "手机", "无关"], ["甲有限公司", "138 0000 1111", "x"], ["乙有限公司", "12", "y"]])
    mapping_url = _upload(client, path)
    page = client.get(mapping_url)
    assert page.status_code == 200
    # 单位名称 is recognised as the name; the page says so before anything is imported.
    assert 'name="col_0"' in page.content.decode() and Customer.objects.count() == 0
    form = {"col_0": "name", "col_1": "mobile", "col_2": "", "mode": "partial"}
    preview = client.post(mapping_url, {**form, "action": "preview"})
    text = preview.content.decode()
    assert "13800001111" in text  # the canonical mobile, as it will be stored
    assert "手机" in text and 'id="start-import"' in text
    started = client.post(mapping_url, {**form, "action": "start"})
    job = ImportJob.objects.get()
    assert started["Location"] == reverse("dataio:import_detail", args=[job.pk])
    assert job.status == "queued" and job.mapping == {"name": "单位名称", "mobile": "手机"}
    waiting = client.get(started["Location"])
    assert 'hx-trigger="every 1s"' in waiting.content.decode()
    run = job_run(name="dataio.imports", force=True)
    assert run.status == "succeeded" and run.counts["imports"] == 1
    done = client.get(started["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger' not in done and 'value="100"' in done
    assert "Undo" in done or "撤销" in done
    assert Customer.objects.count() == 1
    rejects = client.get(reverse("dataio:import_rejects", args=[job.pk]) + "?format=csv")
    assert "乙有限公司" in rejects.content.decode("utf-8-sig")
    assert client.post(reverse("dataio:import_undo", args=[job.pk])).status_code == 302
    assert Customer.objects.count() == 0
    listing = client.get(reverse("dataio:imports")).content.decode()
    assert path.name in listing


@pytest.mark.django_db
def test_mapping_page_shows_the_missing_name_and_allows_mapping_it(org, write_csv):
    client = _client(org.info)
    url = _upload(client, write_csv([["单位", "手机"], ["甲有限公司", "13800001111"]]))
    page = client.get(url).content.decode()
    assert 'class="alert alert-error"' in page and 'id="start-import"' not in page
    preview = client.post(url, {"col_0": "name", "col_1": "mobile", "action": "preview"}).content.decode()
    assert 'id="start-import"' in preview


@pytest.mark.django_db
def test_the_menu_link_and_pages_follow_who_may_import(org):
    assert get_job("dataio.imports") is not None
    assert "/imports/" in _client(org.rep).get("/").content.decode()
    assert "/imports/" not in _client(org.service).get("/").content.decode()
    assert _client(org.service).get(reverse("dataio:imports")).status_code == 403
    assert _client(org.rep).get(reverse("dataio:imports")).status_code == 200


@pytest.mark.django_db
def test_the_customer_list_shows_the_import_link_to_importers_only(org):
    imports = reverse("dataio:imports")
    assert f'href="{imports}"' in _client(org.rep).get(reverse("customers:list")).content.decode()
    assert f'href="{imports}"' not in _client(org.service).get(reverse("customers:list")).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["registration", "lead_card", "new_product"])
def test_templates_are_recognised_by_the_importer_and_have_drop_down_lists(org, key):
    answer = _client(org.rep).get(reverse("dataio:import_template", args=[key]))
    assert answer.status_code == 200
    wb = load_workbook(io.BytesIO(answer.content))
    sheet = wb.worksheets[0]
    headers = [c.value for c in sheet[1]]
    mapping = detect_mapping(headers)
    assert set(mapping.values()) == {h for h in headers if h}, set(headers) - set(mapping.values())
    assert sheet.data_validations.dataValidation  # drop-down lists for the choice columns
    assert wb["选项"].sheet_state == "hidden"


@pytest.mark.django_db
def test_a_template_with_its_sample_row_imports(org, tmp_path):
    from qianke.dataio.services import import_create, import_run

    content = _client(org.info).get(reverse("dataio:import_template", args=["lead_card"])).content
    path = tmp_path / "card.xlsx"
    path.write_bytes(content)
    job = import_run(job_id=import_create(actor=org.info, path=path, file_name="card.xlsx").pk)
    assert job.created_customers == 1, list(job.rejections.values_list("errors", flat=True))
    customer = Customer.objects.get()
    assert customer.kind == "individual" and customer.gender == "male" and customer.mobile_norm == "13912345678"


@pytest.mark.django_db
def test_list_export_uses_the_list_filters_and_visibility(org, make_customer):
    make_customer(org.rep, "华东甲有限公司", industry="logistics")
    make_customer(org.rep, "华东乙有限公司", industry="manufacturing")
    make_customer(org.rep_north, "华北丙有限公司", industry="logistics")
    page = _client(org.rep).get(reverse("customers:list") + "?industry=logistics").content.decode()
    assert reverse("dataio:customer_export") + "?industry=logistics&amp;format=csv" in page
    answer = _client(org.rep).get(reverse("dataio:customer_export") + "?industry=logistics&format=csv")
    rows = list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode("utf-8-sig"))))
    assert [r[1] for r in rows[1:]] == ["华东甲有限公司"]
    answer = _client(org.gm).get(reverse("dataio:customer_export") + "?format=xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(answer.streaming_content))).active
    assert sheet.max_row == 4
    assert AuditLog.objects.filter(action="export", actor=org.gm, changes__rows=[None, 3]).exists()


@pytest.mark.django_db
def test_choosing_another_sheet_shows_its_columns(org, write_xlsx):
    client = _client(org.info)
    path = write_xlsx({"说明": [["说明文字"], ["无"]], "客户": [["客户名称", "手机"], ["甲有限公司", "13800001111"]]})
    url = _upload(client, path)
    first = client.get(url).content.decode()
    assert "说明文字" in first and 'class="alert alert-error"' in first
    chosen = client.post(url, {"sheet": "客户", "columns_of": "", "col_0": "", "action": "preview"}).content.decode()
    assert 'id="start-import"' in chosen and "13800001111" in chosen


@pytest.mark.django_db
def test_import_history_page_is_paged_newest_first(org):
    ImportJob.objects.bulk_create(ImportJob(actor=org.info, file_name=f"名单{n}.csv", file_path="", file_sha256="0")
                                  for n in range(27))
    client = _client(org.info)
    first = client.get(reverse("dataio:imports")).content.decode()
    second = client.get(reverse("dataio:imports"), {"page": 2}).content.decode()
    assert "名单26.csv" in first and "名单1.csv" not in first and "?page=2" in first
    assert "名单1.csv" in second and "名单0.csv" in second and "名单26.csv" not in second


@pytest.mark.django_db
def test_a_failed_import_offers_to_continue_and_the_button_queues_it(org):
    job = ImportJob.objects.create(actor=org.info, file_name="名单.csv", file_path=__file__, file_sha256="0",
                                   status=ImportJob.Status.FAILED, can_continue=True, error="stopped")
    client = _client(org.info)
    page = client.get(reverse("dataio:import_detail", args=[job.pk])).content.decode()
    assert 'id="continue-import"' in page
    assert client.post(reverse("dataio:import_continue", args=[job.pk])).status_code == 302
    job.refresh_from_db()
    assert (job.status, job.can_continue) == (ImportJob.Status.QUEUED, False)
    page = client.get(reverse("dataio:import_detail", args=[job.pk])).content.decode()
    assert 'id="continue-import"' not in page
    assert _client(org.rep).post(reverse("dataio:import_continue", args=[job.pk])).status_code == 404


@pytest.mark.django_db
def test_a_file_imported_before_is_started_again_only_when_confirmed(org, write_csv):
    from qianke.dataio.services import imports_run_queued

    client = _client(org.info)
    path = write_csv([["客户名称"], ["甲有限公司"]])
    form = {"col_0": "name", "mode": "partial"}
    client.post(_upload(client, path), {**form, "action": "start"})
    imports_run_queued(today=None)
    first = ImportJob.objects.get()
    mapping_url = _upload(client, path)
    page = client.get(mapping_url).content.decode()
    assert 'id="already-imported"' in page and f"#{first.pk}" in page and 'name="again"' in page
    refused = client.post(mapping_url, {**form, "action": "start"})
    assert refused.status_code == 200 and 'id="already-imported"' in refused.content.decode()
    assert ImportJob.objects.count() == 1
    started = client.post(mapping_url, {**form, "action": "start", "again": "1"})
    assert started.status_code == 302 and ImportJob.objects.count() == 2


@pytest.mark.django_db
def test_preview_reports_the_codes_the_import_would_reject_and_shows_choice_labels(org, write_csv, make_customer):
    from django.utils import translation

    others = make_customer(org.rep2, "乙方有限公司")
    mine = make_customer(org.rep, "甲方有限公司")
    client = _client(org.rep)
    path = write_csv([["客户编号", "客户名称", "规模", "跟进方式", "跟进内容"],
                      [others.code, "", "", "拜访", "谈了"],
                      ["KH999999999999", "", "", "拜访", "谈了"],
                      [mine.code, "", "", "电话", "谈了"],
                      ["", "丙方有限公司", "中型", "", ""]])
    form = {"col_0": "code", "col_1": "name", "col_2": "scale", "col_3": "activity.kind",
            "col_4": "activity.content", "mode": "partial"}
    with translation.override("zh-hans"):
        text = client.post(_upload(client, path), {**form, "action": "preview"},
                           HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    rows = text.split('id="preview"')[1].split("<tr")[2:]
    assert others.code in rows[0] and "has-error" in rows[0]  # another rep's customer: rejected
    assert "KH999999999999" in rows[1] and "has-error" in rows[1]
    assert "has-error" not in rows[2] and "电话" in rows[2] and ">call<" not in rows[2]
    assert "中型" in rows[3] and ">medium<" not in rows[3]


@pytest.mark.django_db
def test_mapping_page_without_a_name_column_gives_no_command_line_hint(org, write_csv):
    client = _client(org.info)
    text = client.get(_upload(client, write_csv([["地址"], ["人民路1号"]]))).content.decode()
    assert "--map" not in text and ("客户名称" in text)
