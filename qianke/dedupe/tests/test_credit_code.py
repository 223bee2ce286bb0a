"""The customers' credit code column in duplicate detection: the scan, the import's check and the engine's records."""

from __future__ import annotations

import pytest

from qianke.customers.models import Customer
from qianke.dedupe.incoming import IncomingCheck, IncomingRow
from qianke.dedupe.jobs import customer_records, duplicate_scan
from qianke.dedupe.matching import customer_record
from qianke.dedupe.models import DuplicateGroup

pytestmark = pytest.mark.django_db

TENCENT = "91440300708461136T"
OTHER = "91110000802100433B"


def test_the_records_hold_the_stored_credit_code_and_one_kept_in_a_custom_field(org, make_customer):
    a = make_customer(org.rep, "甲有限公司", credit_code=TENCENT.lower())
    Customer.objects.filter(pk=a.pk).update(custom={"credit_code": OTHER})
    (record,) = customer_records([a.pk])
    assert record.values["credit_code"] == (TENCENT, OTHER)
    a.refresh_from_db()
    assert customer_record(a).values["credit_code"] == (TENCENT, OTHER)


def test_the_scan_groups_two_names_with_one_credit_code(org, make_customer):
    a = make_customer(org.rep, "腾讯科技（深圳）有限公司", credit_code=TENCENT)
    b = make_customer(org.rep2, "深圳市腾讯计算机系统有限公司", credit_code=TENCENT)
    make_customer(org.rep, "深圳市腾讯计算机系统有限公司分部", credit_code=OTHER)
    duplicate_scan()
    group = DuplicateGroup.objects.get()
    assert set(group.members.values_list("customer_id", flat=True)) == {a.pk, b.pk}
    assert group.decision == "same"
    assert any(e["role"] == "credit_code" and e["weight"] > 0 for e in group.pairs[0]["evidence"])


def test_an_incoming_row_meets_the_customer_with_its_credit_code_whatever_its_name(org, make_customer):
    existing = make_customer(org.rep, "腾讯科技（深圳）有限公司", credit_code=TENCENT)
    make_customer(org.rep, "无关贸易有限公司", credit_code=OTHER)
    row = IncomingRow(key=2, values={"kind": "organization", "name": "深圳市腾讯计算机系统有限公司",
                                     "credit_code_norm": TENCENT}, name_norm="深圳市腾讯计算机系统")
    person = IncomingRow(key=3, values={"kind": "individual", "name": "王强", "credit_code_norm": TENCENT},
                         name_norm="王强")
    check = IncomingCheck()
    hits = check.check([row, person])
    assert list(hits) == [2]
    assert hits[2][0].customer_id == existing.pk and hits[2][0].decision == "same"
    assert check.pairs_scored == 1


def test_rows_of_one_file_with_one_credit_code_meet(org):
    rows = [IncomingRow(key=n, values={"kind": "organization", "name": name, "credit_code_norm": TENCENT},
                        name_norm=name) for n, name in ((2, "腾讯科技深圳"), (3, "深圳市腾讯计算机系统"))]
    assert IncomingCheck().check(rows)[3][0].other_row == 2


def test_a_merge_chooses_the_credit_code_with_its_canonical_form_and_the_undo_gives_both_back(org, make_customer):
    from qianke.dedupe.services import customer_merge, merge_undo

    a = make_customer(org.rep, "腾讯科技（深圳）有限公司")
    b = make_customer(org.rep, "深圳市腾讯计算机系统有限公司", credit_code=TENCENT.lower())
    merge = customer_merge(actor=org.rep, survivor_id=a.pk, merged_ids=[b.pk])
    a.refresh_from_db()
    assert (a.credit_code, a.credit_code_norm) == (TENCENT.lower(), TENCENT)  # the survivor had none
    merge_undo(actor=org.rep, merge_id=merge.pk)
    a.refresh_from_db()
    assert (a.credit_code, a.credit_code_norm) == ("", "")
