"""`qianke import FILE|list|undo` and `qianke export`, in-process."""

import csv

import pytest
from openpyxl import load_workbook

from qianke import cli
from qianke.core.models import AuditLog
from qianke.customers.models import Customer
from qianke.dataio.models import ImportJob

pytestmark = pytest.mark.django_db


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_import_with_map_rejects_file_list_and_undo(capsys, org, write_csv, tmp_path):
    path = write_csv([["单位", "手机"], ["甲有限公司", "13800001111"], ["乙有限公司", "12"]])
    rejects = tmp_path / "rejected.xlsx"
    code, out, err = run(capsys, "import", path, "--map", "name=单位", "--as", "info", "--rejects", rejects)
    assert code == 1, err  # a row was rejected
    assert "1 customers" in out and "1 rows rejected" in out
    sheet = load_workbook(rejects).active
    assert [c.value for c in sheet[2]][:3] == [3, "乙有限公司", "12"]
    assert "import" in err  # the progress bar
    code, out, err = run(capsys, "import", "list", "--as", "info")
    assert code == 0 and path.name in out
    job = ImportJob.objects.get()
    code, out, err = run(capsys, "import", "undo", job.pk, "--as", "info")
    assert code == 0 and "undone" in out and not Customer.objects.exists()
    code, out, err = run(capsys, "import", "undo", job.pk, "--as", "info")
    assert code == 1


def test_dry_run_writes_nothing_and_all_valid_exits_0(capsys, org, write_csv):
    path = write_csv([["客户名称", "手机"], ["甲有限公司", "13800001111"]])
    code, out, err = run(capsys, "import", path, "--dry-run", "--as", "info")
    assert code == 0 and "1 valid" in out and "name=客户名称" in out
    assert not Customer.objects.exists() and not ImportJob.objects.exists()
    code, out, err = run(capsys, "import", path, "--as", "info", "--mode", "atomic")
    assert code == 0 and Customer.objects.count() == 1
    # The same file again would create every customer twice: refused unless asked for.
    code, out, err = run(capsys, "import", path, "--as", "info")
    assert code == 2 and "--again" in err and Customer.objects.count() == 1
    code, out, err = run(capsys, "import", path, "--as", "info", "--again")
    assert code == 0 and Customer.objects.count() == 2


def test_bad_arguments_exit_2_with_one_line(capsys, org, write_csv, tmp_path):
    path = write_csv([["客户名称"], ["甲有限公司"]])
    code, out, err = run(capsys, "import", tmp_path / "missing.csv", "--as", "info")
    assert code == 2 and "FILE" in err
    code, out, err = run(capsys, "import", path, "--map", "nonsense=客户名称", "--as", "info")
    assert code == 2 and "--map nonsense" in err
    code, out, err = run(capsys, "import", path, "--as", "rep_east", "--owner", "rep_east2")
    assert code == 2 and err.count("\n") == 1
    code, out, err = run(capsys, "import", path, "--as", "nobody")
    assert code == 2 and "--as" in err
    code, out, err = run(capsys, "import", "undo", "x", "--as", "info")
    assert code == 2
    assert not Customer.objects.exists()


def test_export_as_a_rep_contains_only_the_reps_customers(capsys, org, make_customer, tmp_path):
    make_customer(org.rep, "华东甲有限公司", industry="logistics")
    make_customer(org.rep_north, "华北丙有限公司", industry="logistics")
    out_file = tmp_path / "mine.csv"
    code, out, err = run(capsys, "export", out_file, "--as", "rep_east")
    assert code == 0, err
    rows = list(csv.reader(out_file.open(encoding="utf-8-sig")))
    assert [r[1] for r in rows[1:]] == ["华东甲有限公司"]
    xlsx = tmp_path / "all.xlsx"
    code, out, err = run(capsys, "export", xlsx, "--as", "info", "--industry", "logistics", "--q", "华北")
    assert code == 0 and "Exported 1 customers" in out
    assert load_workbook(xlsx).active.max_row == 2
    audit = AuditLog.objects.filter(action="export").order_by("id").last()
    assert audit.source == "cli" and audit.changes["filters"][1] == {"q": "华北", "industry": "logistics"}
    code, out, err = run(capsys, "export", tmp_path / "x.pdf", "--as", "info")
    assert code == 2


def test_running_the_same_file_again_continues_an_import_stopped_by_an_error(capsys, org, write_csv,
                                                                             second_batch_fails):
    path = write_csv([["客户名称"]] + [[f"命令行续传{n}有限公司"] for n in range(5)])
    code, out, err = run(capsys, "import", path, "--as", "info", "--batch-size", 2)
    assert code == 2 and "No space left" in err and Customer.objects.count() == 2
    code, out, err = run(capsys, "import", path, "--as", "info", "--batch-size", 2)
    assert code == 0 and "Continuing import" in err, err
    assert Customer.objects.filter(name__startswith="命令行续传").count() == 5 and ImportJob.objects.count() == 1


def test_messages_follow_the_terminals_chinese_locale(capsys, org, write_csv, monkeypatch):
    from django.utils import translation

    path = write_csv([["客户名称", "手机"], ["甲有限公司", "13800001111"], ["乙有限公司", "12"]])
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    try:
        code, out, err = run(capsys, "import", path, "--as", "info")
        list_code, listed, _err = run(capsys, "import", "list", "--as", "info")
        missing_code, _out, missing = run(capsys, "import", "nowhere.csv", "--as", "info")
    finally:
        translation.activate("en")
    assert code == 1
    assert "已读取 2 行" in out and "拒绝 1 行" in out and "rows read" not in out
    assert list_code == 0 and "部分导入" in listed and "状态" in listed
    assert missing_code == 2 and "没有文件" in missing


def test_dry_run_checks_the_pool_as_the_import_does(capsys, org, write_csv):
    path = write_csv([["客户名称"], ["甲有限公司"]])
    code, out, err = run(capsys, "import", path, "--pool", "不存在的公海", "--dry-run", "--as", "info")
    assert code == 2 and "--pool" in err and "不存在的公海" in err and not Customer.objects.exists()
