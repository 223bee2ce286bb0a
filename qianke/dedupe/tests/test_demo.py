"""The demo hook registers customers twice in realistic variants and finds them as duplicate groups."""

from __future__ import annotations

from qianke.core.normalize import parse_company_name
from qianke.dedupe.demo import demo_generate
from qianke.dedupe.models import DuplicateGroup


def test_demo_registers_variants_and_finds_most_of_them(org, make_customer, make_contact):
    cities = [("北京市", "010-6234%04d"), ("上海市", "021-5555%04d"), ("杭州市", "0571-8603%04d")]
    for i in range(40):
        city, phone = cities[i % 3]
        customer = make_customer(org.rep, f"{city[:2]}{['华兴', '瑞丰', '宏达', '安泰', '金桥'][i % 5]}{i}号科技有限公司",
                                 phone=phone % i, city=city, province=city)
        make_contact(org.rep, customer, f"联系人{i}", mobile=f"139{i:08d}")
    counts = demo_generate(seed=3)
    assert counts["duplicate_customers"] == 4
    assert counts["duplicate_groups"] >= 3
    assert DuplicateGroup.objects.filter(status="open").count() == counts["duplicate_groups"]
    assert demo_generate(seed=3) == {}


def test_demo_finds_its_planted_pairs_in_a_demo_of_hundreds(db, settings, tmp_path):
    from qianke.core.demo import demo_generate as demo_customers
    from qianke.dedupe.models import DuplicateMember

    settings.QIANKE_HOME = tmp_path
    demo_customers(customers=1500, seed=2)
    counts = demo_generate(seed=2)
    assert counts["duplicate_customers"] >= 20  # enough records that value frequencies are counted
    assert counts["duplicate_customers"] == 40
    cores: dict[int, set[str]] = {}
    for group_id, name in DuplicateMember.objects.filter(group__decision="same").values_list("group_id",
                                                                                            "customer__name"):
        cores.setdefault(group_id, set()).add(parse_company_name(name).core)
    # The planted pairs: a company and its variant (region in brackets, other legal form) share a core name
    # (or one holds the other: 北京市政工程管理处 with 北京 taken off reads 政工程管理处).
    planted = [group for group in cores.values() if all(core in max(group, key=len) for core in group)]
    assert len(planted) >= 0.8 * counts["duplicate_customers"]
    assert len(planted) == len(cores)  # no "same" group of two different companies
