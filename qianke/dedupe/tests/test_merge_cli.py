"""`qianke merge CODES… --by USER` and `qianke merge undo ID`, called in-process."""

from __future__ import annotations

from qianke.cli import main
from qianke.core.models import AuditLog
from qianke.customers.models import Contact, Customer
from qianke.dedupe.models import Merge


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_merge_then_undo_from_the_command_line(capsys, org, make_customer, make_contact):
    a = make_customer(org.rep, "北京华为技术有限公司")
    b = make_customer(org.rep, "华为技术（北京）有限公司", email="info@huawei.example")
    make_contact(org.rep, b, "李娜")
    code, out, err = run(capsys, "merge", a.code, b.code, "--field", f"name={b.code}", "--by", org.rep.username)
    assert code == 0, err
    merge = Merge.objects.get()
    assert f"qianke merge undo {merge.pk}" in out
    a.refresh_from_db()
    assert a.name == "华为技术（北京）有限公司" and a.email == "info@huawei.example"
    assert Contact.objects.get(name="李娜").customer_id == a.pk
    assert AuditLog.objects.get(action="merge", object_id=a.pk, object_type="customer").source == "cli"

    code, out, err = run(capsys, "merge", "undo", str(merge.pk), "--by", org.rep.username)
    assert code == 0, err
    assert Customer.objects.get(pk=b.pk).archived_at is None
    assert Customer.objects.get(pk=a.pk).name == "北京华为技术有限公司"
    code, out, err = run(capsys, "merge", "undo", str(merge.pk), "--by", org.rep.username)
    assert code == 2 and "undone already" in err


def test_bad_arguments_exit_2_with_one_line_and_change_nothing(capsys, org, make_customer):
    a = make_customer(org.rep, "甲公司")
    theirs = make_customer(org.rep2, "甲公司")
    code, out, err = run(capsys, "merge", a.code, theirs.code, "--by", org.rep.username)
    assert code == 2 and theirs.code in err and err.count("\n") == 1
    code, out, err = run(capsys, "merge", a.code, "--by", org.rep.username)
    assert code == 2
    code, out, err = run(capsys, "merge", a.code, theirs.code, "--by", "nobody")
    assert code == 2 and "--by" in err
    code, out, err = run(capsys, "merge", "undo", "x", "--by", org.rep.username)
    assert code == 2 and "MERGE_ID" in err
    code, out, err = run(capsys, "merge", a.code, theirs.code, "--field", "status=" + a.code, "--by", org.admin.username)
    assert code == 2 and "status" in err
    assert not Merge.objects.exists()
    assert Customer.objects.filter(archived_at__isnull=False).count() == 0
