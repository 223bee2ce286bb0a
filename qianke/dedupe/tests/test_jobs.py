"""The scan: groups with evidence from the whole database, idempotent, respecting decisions."""

from __future__ import annotations

import pytest

from qianke.dedupe.jobs import duplicate_scan
from qianke.dedupe.models import DuplicateGroup, DuplicateMember
from qianke.dedupe.services import customer_merge, duplicate_group_dismiss
from qianke.jobs.services import job_run


@pytest.fixture
def data(org, make_customer, make_contact):
    a = make_customer(org.rep, "北京华为技术有限公司", phone="010-62345678", city="北京")
    b = make_customer(org.rep, "华为技术（北京）有限公司", phone="(010)6234-5678", city="北京")
    c = make_customer(org.rep, "上海宝山钢铁股份有限公司", phone="021-26647000", city="上海")
    d = make_customer(org.rep2, "杭州娃哈哈集团有限公司", phone="0571-86032866", city="杭州")
    e = make_customer(org.rep2, "娃哈哈集团", phone="0571 8603 2866", city="杭州")
    make_contact(org.rep, a, "张伟", mobile="13800001111")
    make_contact(org.rep, b, "张伟", mobile="13800001111")
    return a, b, c, d, e


def _groups():
    return {frozenset(g.members.values_list("customer_id", flat=True)): g
            for g in DuplicateGroup.objects.prefetch_related("members")}


def test_scan_persists_groups_with_pairwise_evidence(data):
    a, b, c, d, e = data
    counts = duplicate_scan()
    groups = _groups()
    assert frozenset({a.pk, b.pk}) in groups
    assert frozenset({d.pk, e.pk}) in groups
    assert not any(c.pk in members for members in groups)
    group = groups[frozenset({a.pk, b.pk})]
    assert group.status == "open" and group.decision == "same" and group.score >= 0.9
    pair = group.pairs[0]
    assert {pair["left"], pair["right"]} == {a.pk, b.pk}
    roles = {item["role"] for item in pair["evidence"]}
    assert {"name", "phone"} <= roles
    assert counts["customers"] == 5 and counts["groups"] == len(groups)


def test_rescan_is_idempotent(data):
    duplicate_scan()
    before = {g.pk: (g.signature, g.score, g.pairs) for g in DuplicateGroup.objects.all()}
    members = DuplicateMember.objects.count()
    counts = duplicate_scan()
    assert {g.pk: (g.signature, g.score, g.pairs) for g in DuplicateGroup.objects.all()} == before
    assert DuplicateMember.objects.count() == members
    assert counts["new"] == 0 and counts["updated"] == 0 and counts["removed"] == 0


def test_rescan_respects_dismissed_groups_and_drops_groups_no_longer_found(org, data):
    a, b, c, d, e = data
    duplicate_scan()
    groups = _groups()
    duplicate_group_dismiss(actor=org.admin, group_id=groups[frozenset({a.pk, b.pk})].pk)
    customer_merge(actor=org.admin, survivor_id=d.pk, merged_ids=[e.pk], field_choices={})
    duplicate_scan()
    statuses = {members: g.status for members, g in _groups().items()}
    assert statuses == {frozenset({a.pk, b.pk}): "dismissed", frozenset({d.pk, e.pk}): "merged"}


def test_dismissed_pair_is_not_pulled_together_by_a_third_record(org, data, make_customer, make_contact):
    a, b, *_ = data
    duplicate_scan()
    duplicate_group_dismiss(actor=org.admin, group_id=_groups()[frozenset({a.pk, b.pk})].pk)
    third = make_customer(org.rep, "华为技术北京有限公司", phone="010 6234 5678", city="北京")
    make_contact(org.rep, third, "张伟", mobile="13800001111")
    duplicate_scan()
    for members, group in _groups().items():
        if group.status == "open":
            assert not {a.pk, b.pk} <= members


def test_the_job_is_registered_and_runs_from_the_job_runner(data):
    run = job_run(name="dedupe.scan", force=True)
    assert run.status == "succeeded", run.error
    assert run.counts["customers"] == 5
    assert DuplicateGroup.objects.filter(status="open").exists()


def test_writes_in_small_chunks_give_the_same_groups(data, monkeypatch):
    from qianke.dedupe import jobs

    duplicate_scan()
    expected = set(_groups())
    DuplicateGroup.objects.all().delete()
    monkeypatch.setattr(jobs, "CHUNK", 1)
    duplicate_scan()
    assert set(_groups()) == expected
    counts = duplicate_scan()
    assert counts["new"] == counts["updated"] == counts["removed"] == 0


def test_scan_groups_a_name_in_traditional_and_in_simplified_characters(org, make_customer):
    traditional = make_customer(org.rep, "深圳騰訊計算機系統有限公司")
    simplified = make_customer(org.rep, "深圳腾讯计算机系统有限公司")
    duplicate_scan()
    assert frozenset({traditional.pk, simplified.pk}) in _groups()
