"""Importing: validation, modes, encodings, XLSX, existing customers, owners, undo and audit."""

import pytest
from django.utils import translation

from qianke.activities.models import Activity
from qianke.core.errors import Conflict, PermissionDenied, ValidationFailed
from qianke.core.models import AuditLog
from qianke.customers.models import Contact, Customer, CustomerSearch, StatusChange
from qianke.customers.services import customer_update
from qianke.dataio.models import ImportedRow, ImportJob, ImportRejection
from qianke.dataio.services import import_create, import_run, import_undo

HEADER = ["客户名称", "手机", "电话", "行业", "省份", "城市", "联系人", "职务", "邮箱", "跟进日期", "跟进内容", "标签"]
GOOD = [
    ["北京华信科技有限公司", "138 1234 5678", "010-62345678", "制造业", "北京市", "北京市", "张伟", "采购经理",
     "Zhang@Example.com", "2026-10-08", "电话沟通需求", "展会,重点"],
    ["上海宏达物流有限公司", "+86 139-0000-1111", "", "logistics", "上海市", "上海市", "", "", "", "", "", ""],
]
BAD = ["", "12345", "", "不存在的行业", "", "", "", "", "not-an-email", "", "", ""]


def _import(actor, path, **kwargs):
    job = import_create(actor=actor, path=path, file_name=path.name, **kwargs)
    return import_run(job_id=job.pk)


@pytest.mark.django_db
def test_partial_mode_imports_valid_rows_normalised_and_rejects_the_rest_per_column(org, write_csv):
    path = write_csv([HEADER, GOOD[0], BAD, GOOD[1]])
    with translation.override("zh-hans"):
        job = _import(org.info, path, mode="partial")
    assert job.status == ImportJob.Status.DONE
    assert (job.read_rows, job.created_customers, job.created_contacts, job.created_activities,
            job.rejected_rows) == (3, 2, 1, 1, 1)
    huaxin = Customer.objects.get(name="北京华信科技有限公司")
    assert huaxin.mobile_norm == "13812345678" and huaxin.mobile == "138 1234 5678"
    assert huaxin.name_norm == "北京华信科技"
    assert huaxin.industry == "manufacturing"
    assert huaxin.owner == org.info and huaxin.code.startswith("KH")
    assert sorted(huaxin.tags.values_list("name", flat=True)) == ["展会", "重点"]
    assert Customer.objects.get(name="上海宏达物流有限公司").mobile_norm == "13900001111"
    contact = Contact.objects.get(customer=huaxin)
    assert contact.name == "张伟" and contact.is_primary and contact.title == "采购经理"
    assert huaxin.email == "Zhang@Example.com"
    activity = Activity.objects.get(customer=huaxin)
    assert activity.contact == contact and activity.content == "电话沟通需求"
    assert activity.occurred_at.date().isoformat() == "2026-10-08"
    # Searchable and with a lifecycle start, like customers created in the form.
    assert CustomerSearch.objects.filter(customer=huaxin).exists()
    assert StatusChange.objects.filter(customer=huaxin, to_status="potential").count() == 1
    rejection = ImportRejection.objects.get(job=job)
    assert rejection.row_number == 3
    assert set(rejection.errors) == {"客户名称", "手机", "行业", "邮箱"}
    assert "手机号码" in rejection.errors["手机"][0]
    assert ImportedRow.objects.filter(job=job).count() == 2


@pytest.mark.django_db
def test_atomic_mode_with_a_bad_row_imports_nothing_and_reports_the_row(org, write_csv):
    path = write_csv([HEADER, GOOD[0], GOOD[1], BAD])
    job = _import(org.info, path, mode="atomic")
    assert job.status == ImportJob.Status.FAILED
    assert job.created_customers == 0 and job.rejected_rows == 1
    assert not Customer.objects.exists() and not Contact.objects.exists() and not ImportedRow.objects.exists()
    assert ImportRejection.objects.get(job=job).row_number == 4


@pytest.mark.django_db
def test_atomic_mode_with_valid_rows_imports_them_all(org, write_csv):
    job = _import(org.info, write_csv([HEADER, *GOOD]), mode="atomic")
    assert job.status == ImportJob.Status.DONE
    assert job.created_customers == 2 and Customer.objects.count() == 2


@pytest.mark.django_db
def test_gbk_csv_from_chinese_excel_is_read(org, write_csv):
    path = write_csv([["公司名称", "手机号码", "地址"], ["广州市天河电子有限公司", "13500001111", "天河路1号"]],
                     encoding="gbk")
    job = _import(org.info, path)
    assert job.created_customers == 1
    assert Customer.objects.get().address == "天河路1号"


@pytest.mark.django_db
def test_tab_separated_utf8_without_bom(org, write_csv):
    path = write_csv([["name", "mobile"], ["Acme 深圳有限公司", "13700002222"]], encoding="utf-8", delimiter="\t")
    assert _import(org.info, path).created_customers == 1


@pytest.mark.django_db
def test_xlsx_chosen_sheet_with_numeric_phones_and_custom_fields(org, write_xlsx, budget_field):
    path = write_xlsx({"说明": [["这一页不是数据"]],
                       "客户": [["客户名称", "手机", "测试预算（万元）"], ["杭州西湖软件有限公司", 13812340000, 50]]})
    job = _import(org.info, path, sheet="客户")
    assert job.created_customers == 1, ImportRejection.objects.values_list("errors", flat=True)
    customer = Customer.objects.get()
    assert customer.mobile_norm == "13812340000" and customer.custom == {"budget_test": 50}
    with pytest.raises(ValidationFailed) as exc:
        import_create(actor=org.info, path=path, file_name="x.xlsx", sheet="没有")
    assert "sheet" in exc.value.fields


@pytest.mark.django_db
def test_custom_field_values_are_validated_like_the_form(org, write_csv, budget_field):
    job = _import(org.info, write_csv([["客户名称", "测试预算"], ["甲公司", "-5"], ["乙公司", "很多"]]))
    assert job.created_customers == 0 and job.rejected_rows == 2
    errors = list(ImportRejection.objects.filter(job=job).values_list("errors", flat=True))
    assert all(list(e) == ["测试预算"] for e in errors)


@pytest.mark.django_db
def test_rows_with_a_customer_code_add_contacts_to_that_existing_customer(org, make_customer, write_csv):
    existing = make_customer(org.rep, "已有客户有限公司")
    path = write_csv([["客户编号", "联系人", "联系人手机"], [existing.code, "李娜", "13600003333"],
                      ["KH209901999999", "王芳", ""], [existing.code, "", ""]])
    job = _import(org.rep, path)
    assert job.created_customers == 0 and job.created_contacts == 1 and job.rejected_rows == 2
    assert Contact.objects.get(customer=existing).mobile_norm == "13600003333"
    assert "3333" in CustomerSearch.objects.get(customer=existing).digits.split()


@pytest.mark.django_db
def test_a_rep_cannot_add_to_a_customer_of_someone_else(org, make_customer, write_csv):
    other = make_customer(org.rep_north, "北方客户有限公司")
    job = _import(org.rep, write_csv([["客户编号", "联系人"], [other.code, "李娜"]]))
    assert job.rejected_rows == 1 and not Contact.objects.exists()


@pytest.mark.django_db
def test_owner_column_and_owner_option_follow_who_may_assign(org, write_csv):
    path = write_csv([["客户名称", "业务员"], ["甲有限公司", "rep_east2"], ["乙有限公司", "rep_north"],
                      ["丙有限公司", ""]])
    job = _import(org.manager, path, owner="rep_east")
    assert job.created_customers == 2 and job.rejected_rows == 1  # rep_north is not in the manager's team
    assert Customer.objects.get(name="甲有限公司").owner == org.rep2
    assert Customer.objects.get(name="丙有限公司").owner == org.rep
    assert Customer.objects.get(name="丙有限公司").team == org.east


@pytest.mark.django_db
def test_reps_import_for_themselves_only_and_service_staff_not_at_all(org, write_csv):
    path = write_csv([["客户名称"], ["甲有限公司"]])
    with pytest.raises(PermissionDenied):
        import_create(actor=org.rep, path=path, file_name="a.csv", owner="rep_east2")
    with pytest.raises(PermissionDenied):
        import_create(actor=org.service, path=path, file_name="a.csv")
    job = _import(org.rep, path)
    assert Customer.objects.get().owner == org.rep and job.created_customers == 1


@pytest.mark.django_db
def test_import_and_undo_are_audited_and_undo_removes_everything_created(org, write_csv):
    job = _import(org.info, write_csv([HEADER, *GOOD]))
    audit = AuditLog.objects.get(action=AuditLog.Action.IMPORT, object_id=job.pk)
    assert audit.actor == org.info and audit.changes["customers"] == [None, 2]
    job = import_undo(actor=org.info, job_id=job.pk)
    assert job.status == ImportJob.Status.UNDONE
    assert not Customer.objects.exists() and not Contact.objects.exists() and not Activity.objects.exists()
    assert not CustomerSearch.objects.exists()
    assert AuditLog.objects.filter(action=AuditLog.Action.UNDO, object_id=job.pk, actor=org.info).exists()
    with pytest.raises(Conflict):
        import_undo(actor=org.info, job_id=job.pk)


@pytest.mark.django_db
def test_undo_is_refused_once_an_imported_customer_was_edited(org, write_csv):
    job = _import(org.info, write_csv([HEADER, *GOOD]))
    customer = Customer.objects.get(name="上海宏达物流有限公司")
    customer_update(actor=org.info, customer_id=customer.pk, data={"notes": "已电话确认"})
    with pytest.raises(Conflict):
        import_undo(actor=org.info, job_id=job.pk)
    assert Customer.objects.count() == 2


@pytest.mark.django_db
def test_undo_by_another_rep_is_not_found(org, write_csv):
    from qianke.core.errors import NotFound

    job = _import(org.rep, write_csv([["客户名称"], ["甲有限公司"]]))
    with pytest.raises(NotFound):
        import_undo(actor=org.rep2, job_id=job.pk)


@pytest.mark.django_db
def test_a_file_that_is_not_csv_or_xlsx_text_is_refused(org, tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 this is no workbook")
    with pytest.raises(ValidationFailed) as exc:
        import_create(actor=org.info, path=path, file_name="broken.xlsx")
    assert "file" in exc.value.fields


@pytest.mark.django_db
def test_pool_option_puts_the_new_customers_unowned_into_the_pool_and_undo_takes_them_out(org, write_csv):
    from qianke.pool.models import Pool, PoolEntry

    pool = Pool.objects.create(name="华东公海")
    path = write_csv([["客户名称", "业务员"], ["甲有限公司", "rep_east"], ["乙有限公司", ""]])
    job = _import(org.manager, path, pool_name="华东公海")
    assert job.created_customers == 2
    assert list(Customer.objects.values_list("owner", "team")) == [(None, None), (None, None)]
    assert PoolEntry.objects.filter(pool=pool, in_pool=True).count() == 2
    import_undo(actor=org.manager, job_id=job.pk)
    assert not Customer.objects.exists() and not PoolEntry.objects.exists()


@pytest.mark.django_db
def test_pool_option_is_checked_before_anything_is_imported(org, write_csv):
    from qianke.pool.models import Pool

    Pool.objects.create(name="华东公海")
    path = write_csv([["客户名称"], ["甲有限公司"]])
    with pytest.raises(ValidationFailed) as exc:
        import_create(actor=org.info, path=path, file_name="a.csv", pool_name="没有这个公海")
    assert "pool" in exc.value.fields
    with pytest.raises(PermissionDenied):
        import_create(actor=org.rep, path=path, file_name="a.csv", pool_name="华东公海")
    with pytest.raises(ValidationFailed):
        import_create(actor=org.info, path=path, file_name="a.csv", pool_name="华东公海", owner="rep_east")


@pytest.mark.django_db
def test_an_import_stopped_by_a_database_error_says_so_and_continues_without_importing_twice(
        org, write_csv, second_batch_fails):
    from qianke.dataio.services import import_continue, imports_run_queued

    path = write_csv([["客户名称", "手机"]] + [[f"续传{n}有限公司", f"139{n:08d}"] for n in range(5)])
    with translation.override("zh-hans"):
        job = import_create(actor=org.info, path=path, file_name=path.name)
    job = import_run(job_id=job.pk, batch_size=2)
    assert job.status == ImportJob.Status.FAILED and job.can_continue
    assert (job.checkpoint, job.created_customers) == (3, 2)  # row 1 is the header
    assert "第 3 行后" in job.error and "OperationalError" in job.error and "继续" in job.error
    with pytest.raises(Conflict):
        import_undo(actor=org.info, job_id=job.pk)
    assert import_continue(actor=org.info, job_id=job.pk).status == ImportJob.Status.QUEUED
    assert imports_run_queued(today=None)["imports"] == 1
    job.refresh_from_db()
    assert (job.status, job.created_customers, job.read_rows, job.error) == (ImportJob.Status.DONE, 5, 5, "")
    assert Customer.objects.filter(name__startswith="续传").count() == 5
    assert AuditLog.objects.filter(object_type="importjob", object_id=job.pk,
                                   changes__status=["failed", "queued"]).exists()


@pytest.mark.django_db
def test_only_a_failed_import_of_ones_own_can_be_continued(org, write_csv, second_batch_fails):
    from qianke.core.errors import NotFound
    from qianke.dataio.services import import_continue

    done = _import(org.info, write_csv([["客户名称"], ["完成有限公司"]], name="done.csv"))
    with pytest.raises(Conflict):
        import_continue(actor=org.info, job_id=done.pk)
    path = write_csv([["客户名称"]] + [[f"他人{n}有限公司"] for n in range(4)], name="other.csv")
    failed = import_run(job_id=import_create(actor=org.manager, path=path, file_name=path.name).pk, batch_size=2)
    with pytest.raises(NotFound):
        import_continue(actor=org.rep, job_id=failed.pk)
    assert import_continue(actor=org.admin, job_id=failed.pk).status == ImportJob.Status.QUEUED


@pytest.mark.django_db
def test_a_file_imported_before_is_refused_unless_again(org, write_csv):
    from qianke.dataio.services import AlreadyImported

    path = write_csv([["客户名称"], ["甲有限公司"]])
    first = import_run(job_id=import_create(actor=org.info, path=path, file_name="a.csv").pk)
    with pytest.raises(AlreadyImported) as exc:
        import_create(actor=org.info, path=path, file_name="a.csv")
    assert exc.value.job == first and exc.value.status == 409
    assert import_create(actor=org.info, path=path, file_name="a.csv", again=True).status == "queued"
    assert import_create(actor=org.rep, path=path, file_name="a.csv").status == "queued"  # someone else's import


@pytest.mark.django_db
def test_a_file_still_being_imported_is_refused_unless_again(org, write_csv):
    from qianke.dataio.services import AlreadyImported

    path = write_csv([["客户名称"], ["甲有限公司"]])
    queued = import_create(actor=org.info, path=path, file_name="a.csv")
    with pytest.raises(AlreadyImported) as exc:
        import_create(actor=org.info, path=path, file_name="a.csv")
    assert exc.value.job == queued and "尚未完成" in str(exc.value.message)  # Chinese by default
    ImportJob.objects.filter(pk=queued.pk).update(status=ImportJob.Status.FAILED, can_continue=True)
    with pytest.raises(AlreadyImported):  # failed part-way: continue it, or confirm
        import_create(actor=org.info, path=path, file_name="a.csv")
    ImportJob.objects.filter(pk=queued.pk).update(can_continue=False)  # failed with nothing to continue
    assert import_create(actor=org.info, path=path, file_name="a.csv").status == "queued"


@pytest.mark.django_db
def test_preview_rejects_what_the_import_rejects(org, write_csv, make_customer):
    from qianke.dataio.services import import_check, import_preview

    others = make_customer(org.rep2, "乙方有限公司")
    path = write_csv([["客户编号", "跟进内容"], [others.code, "谈了"], ["KH999999999999", "谈了"]])
    preview = import_preview(actor=org.rep, path=path)
    checked = import_check(actor=org.rep, path=path)
    assert [sorted(r["errors"]) for r in preview["rows"]] == [["客户编号"], ["客户编号"]]
    assert [r["errors"] for r in preview["rows"]] == [r["errors"] for r in checked["rejected"]]


@pytest.mark.django_db
def test_a_reject_reason_names_the_fields_label_when_the_file_has_no_column_for_it(org, write_csv):
    from qianke.dataio.services import import_check

    path = write_csv([["客户名称", "跟进内容", "下次跟进日期"], ["甲有限公司", "谈了", "2026-12-20"]])
    with translation.override("en"):
        rejected = import_check(actor=org.rep, path=path)["rejected"]
    assert list(rejected[0]["errors"]) == ["Follow-up: next step"]
