"""The duplicate-detection engine: decisions, evidence, blocking, clusters and the model adapter."""

import pytest

from qianke.dedupe.matching import (
    REVIEW_BAND,
    THRESHOLD_SAME,
    Record,
    cluster,
    compare,
    customer_record,
    find_matches,
    match_against,
)


def company(id, name, **values):
    return Record(id=id, kind="organization", values={"name": (name,), **{k: tuple(v) if isinstance(v, list)
                                                                          else (v,) for k, v in values.items()}})


def person(id, **values):
    return Record(id=id, kind="individual", values={k: (v,) for k, v in values.items()})


# ---------------------------------------------------------------------------------------------
# Organisations: the same company written differently
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (company("a", "北京华为技术有限公司", phone="010-6234 5678"), company("b", "华为技术（北京）有限公司", phone="+86 10 62345678")),
        (company("a", "華為技術有限公司", address="广东省深圳市龙岗区坂田"), company("b", "华为技术有限公司", address="深圳龙岗区坂田")),
        (company("a", "杭州娃哈哈集团有限公司", email="INFO@wahaha.com.cn"), company("b", "杭州娃哈哈集团", email="info@wahaha.com.cn")),
        (company("a", "上海联影医疗科技股份有限公司", mobile="13812345678"), company("b", "上海联影医疗科技有限公司", mobile="138 1234 5678")),
    ],
)
def test_same_company_written_differently_is_same(left, right):
    match = compare(left, right)
    assert match.decision == "same", match
    assert match.score >= THRESHOLD_SAME


def test_homophone_name_with_the_same_phone_is_same():
    match = compare(company("a", "深圳市华为电器有限公司", phone="0755-28780808"),
                    company("b", "深圳市华伟电器有限公司", phone="0755 2878 0808"))
    assert match.decision == "same"
    assert any(e.role == "name" and "pronunciation" in e.note for e in match.evidence)


# ---------------------------------------------------------------------------------------------
# Organisations: hard negatives
# ---------------------------------------------------------------------------------------------


def test_one_brand_in_two_cities_is_different():
    match = compare(company("a", "北京华为技术有限公司", phone="010-62345678", address="北京市海淀区中关村"),
                    company("b", "上海华为技术有限公司", phone="021-55551234", address="上海市浦东新区张江"))
    assert match.decision == "different"
    assert any(e.note == "different cities" for e in match.evidence)


def test_branch_offices_of_one_company_are_different():
    match = compare(company("a", "华为技术有限公司北京分公司"), company("b", "华为技术有限公司上海分公司"))
    assert match.decision == "different"
    head = compare(company("a", "华为技术有限公司"), company("b", "华为技术有限公司上海分公司"))
    assert head.decision != "same"


def test_sister_companies_of_one_group_are_different():
    match = compare(company("a", "华为技术有限公司", address="深圳市龙岗区坂田华为基地", phone="0755-28780808"),
                    company("b", "华为终端有限公司", address="深圳市龙岗区坂田华为基地", phone="0755-28560000"))
    assert match.decision == "different"


def test_a_differing_credit_code_means_different_whatever_else_agrees():
    match = compare(company("a", "北京华为技术有限公司", phone="010-62345678", credit_code="91110000802100433B"),
                    company("b", "北京华为技术有限公司", phone="010-62345678", credit_code="91110108MA01XXXX1X"))
    assert match.decision == "different"
    assert match.score == 0.0
    assert any(e.role == "credit_code" and e.weight < 0 for e in match.evidence)


def test_the_same_credit_code_outweighs_a_different_name():
    match = compare(company("a", "腾讯科技（深圳）有限公司", credit_code="91440300708461136T"),
                    company("b", "深圳市腾讯计算机系统有限公司", credit_code="91440300708461136t"))
    assert match.decision == "same"


def test_clearly_different_names_are_at_most_review_whatever_phone_contact_and_postcode_say():
    left = company("a", "北京华信精密机械有限公司", phone="010-62345678", contact="张伟", postcode="100080")
    right = company("b", "北京华威测控技术有限公司", phone="010 6234 5678", contact="张伟", postcode="100080")
    match = compare(left, right)
    assert match.decision == "review" and REVIEW_BAND[0] <= match.score < THRESHOLD_SAME, match
    assert any(e.role == "name" and e.note == "different names" for e in match.evidence)
    assert {"phone", "contact", "postcode"} <= {e.role for e in match.evidence if e.weight > 0}
    assert [len(c) for c in cluster([left, right])] == [1, 1]


def test_name_alone_is_review_not_same():
    match = compare(company("a", "北京星辰科技有限公司"), company("b", "北京星辰科技有限公司"))
    assert REVIEW_BAND[0] <= match.score or match.decision == "same"
    unrelated = compare(company("a", "北京星辰科技有限公司"), company("b", "广州白云山制药股份有限公司"))
    assert unrelated.decision == "different"


def test_every_match_carries_evidence_with_weights():
    match = compare(company("a", "北京华为技术有限公司", phone="010-62345678"), company("b", "华为技术(北京)有限公司",
                                                                       phone="01062345678"))
    roles = {e.role for e in match.evidence}
    assert {"name", "phone"} <= roles
    assert all(isinstance(e.weight, float) and 0.0 <= e.similarity <= 1.0 for e in match.evidence)
    assert match.evidence == tuple(sorted(match.evidence, key=lambda e: -abs(e.weight)))


# ---------------------------------------------------------------------------------------------
# Individuals
# ---------------------------------------------------------------------------------------------


def test_person_with_typos_and_swapped_birth_day_is_same():
    a = person("a", given_name="michaela", family_name="neumann", birth_date="19151211", postcode="4223",
               id_number="5304218", locality="winston hills")
    b = person("b", given_name="micheala", family_name="neumann", birth_date="19151112", postcode="4223",
               id_number="5304218", locality="winston hils")
    assert compare(a, b).decision == "same"


def test_namesakes_with_other_birth_dates_and_ids_are_different():
    a = person("a", given_name="james", family_name="smith", birth_date="19700101", id_number="1111111",
               postcode="2000")
    b = person("b", given_name="james", family_name="smith", birth_date="19851123", id_number="7654321",
               postcode="3000")
    assert compare(a, b).decision == "different"


def test_person_and_organisation_never_match():
    assert compare(person("a", name="华为"), company("b", "华为")).decision == "different"


# ---------------------------------------------------------------------------------------------
# Blocking, find_matches, match_against, cluster
# ---------------------------------------------------------------------------------------------


def _records():
    return [
        company("1", "北京华为技术有限公司", phone="010-62345678"),
        company("2", "华为技术（北京）有限公司", phone="+86 10 6234 5678"),
        company("3", "華為技術（北京）有限公司", email="sales@huawei.com", phone="010 62345678"),
        company("4", "上海华为技术有限公司", phone="021-55551234"),
        company("5", "广州白云山制药股份有限公司", phone="020-81218888"),
    ]


def test_find_matches_reports_duplicates_and_not_the_rest():
    pairs = {(m.left, m.right) if m.left < m.right else (m.right, m.left)
             for m in find_matches(_records()) if m.decision == "same"}
    assert pairs == {("1", "2"), ("1", "3"), ("2", "3")}


def test_cluster_groups_duplicates_and_keeps_singletons():
    groups = cluster(_records())
    assert sorted(groups[0]) == ["1", "2", "3"]
    assert groups[0].score >= THRESHOLD_SAME
    assert sorted(sorted(g) for g in groups[1:]) == [["4"], ["5"]]


def test_cluster_does_not_chain_through_a_shared_phone_into_a_plainly_different_company():
    # B shares A's name and C's phone; A and C have nothing in common but B.
    a = company("a", "北京星辰科技有限公司", phone="010-62345678", address="北京市海淀区中关村大街1号")
    b = company("b", "北京星辰科技有限公司", phone="010-62345678", mobile="13912345678", address="北京市海淀区中关村大街1号")
    c = company("c", "上海远洋贸易有限公司", mobile="13912345678", address="上海市浦东新区张江路100号")
    groups = cluster([a, b, c])
    assert not any({"a", "c"} <= set(g) for g in groups)


def test_match_against_pairs_new_with_existing_and_new_with_new_only():
    existing = [company("e1", "北京华为技术有限公司", phone="010-62345678"),
                company("e2", "华为技术（北京）有限公司", phone="010-62345678")]
    new = [company("n1", "華為技術(北京)有限公司", phone="01062345678"), company("n2", "北京华为技术公司", phone="010-62345678")]
    matches = match_against(new, existing)
    pairs = {(m.left, m.right) for m in matches}
    assert {("n1", "e1"), ("n1", "e2"), ("n2", "e1"), ("n2", "e2")} <= pairs
    assert ("n1", "n2") in pairs or ("n2", "n1") in pairs
    assert not any({m.left, m.right} == {"e1", "e2"} for m in matches)
    assert all(m.left.startswith("n") for m in matches)


def test_blocking_finds_a_typo_duplicate_without_any_shared_exact_key():
    records = [person(str(i), given_name=f"name{i:03d}x", family_name=f"fam{i:03d}", birth_date=f"19{i % 90 + 10}0101")
               for i in range(200)]
    records.append(person("dup", given_name="name042x", family_name="fam042", birth_date="19520110"))
    matches = find_matches(records)
    assert any({m.left, m.right} == {"42", "dup"} for m in matches)


# ---------------------------------------------------------------------------------------------
# Adapter from the customer model
# ---------------------------------------------------------------------------------------------


def test_customer_record_takes_names_phones_and_contacts(org, make_customer, make_contact):
    customer = make_customer(org.rep, name="北京华为技术有限公司", phone="010-62345678", province="北京市",
                             address="海淀区中关村", custom={})
    make_contact(org.rep, customer, name="李娜", mobile="13812345678", email="lina@huawei.com")
    record = customer_record(customer, customer.contacts.all())
    assert record.id == str(customer.pk)
    assert record.kind == "organization"
    assert record.values["contact"] == ("李娜",)
    assert "13812345678" in record.values["mobile"]
    twin = company("x", "华为技术（北京）有限公司", mobile="138-1234-5678", address="北京海淀区")
    assert compare(record, twin).decision == "same"


def test_cluster_keeps_apart_a_pair_passed_in_with_score_zero_even_through_a_third_record():
    from qianke.dedupe.matching import Match

    a = company("a", "北京华为技术有限公司", phone="010-62345678")
    b = company("b", "华为技术（北京）有限公司", phone="010-62345678")
    c = company("c", "华为技术北京有限公司", phone="010 6234 5678")
    matches = [m for m in find_matches([a, b, c]) if {m.left, m.right} != {"a", "b"}]
    labelled = Match(left="a", right="b", score=0.0, decision="different", evidence=())
    groups = cluster([a, b, c], matches=matches + [labelled])
    assert not any({"a", "b"} <= set(g) for g in groups)
    assert any(len(g) == 2 for g in groups)  # c still joins one of them


def test_calibrate_moves_the_threshold_to_where_labelled_pairs_split_and_back():
    from qianke.dedupe.matching import calibrate, scoring

    records = [company("a", "北京星辰科技有限公司"), company("b", "北京星辰科技有限公司"),
               company("c", "北京星辰科技有限公司", phone="010-62345678"),
               company("d", "北京星辰科技有限公司", phone="010-62345678")]
    before = scoring.PRIOR_WEIGHT
    try:
        # This user's lists repeat names of unrelated firms: a name alone is not enough, a phone is.
        prior = calibrate(records, [("a", "b", False), ("c", "d", True)])
        assert prior != before
        assert compare(records[0], records[1]).decision != "same"
        assert compare(records[2], records[3]).decision == "same"
        assert calibrate(records, [("a", "b", True)]) == prior  # one kind only: unchanged
    finally:
        scoring.PRIOR_WEIGHT = before


def test_two_valid_id_numbers_that_differ_are_a_conflict_but_a_typo_is_not():
    from qianke.core.normalize import id_number_check_char

    def valid(body):
        return body + id_number_check_char(body)

    base = dict(name="张伟", birth_date="1990-01-01", mobile="13812345678")
    a = person("a", id_number=valid("11010519900101001"), **base)
    b = person("b", id_number=valid("11010519900101002"), **base)
    conflict = next(e for e in compare(a, b).evidence if e.role == "id_number")
    typo = person("c", id_number=valid("11010519900101001")[:-1] + "0", **base)  # check character wrong
    slip = next(e for e in compare(a, typo).evidence if e.role == "id_number")
    assert conflict.weight < slip.weight
    assert conflict.note == "different valid ID numbers"
