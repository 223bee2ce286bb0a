"""Reads: which groups a user sees, and the candidates (with evidence) for the create/edit warning."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from qianke.core.errors import NeedsConfirmation, NotFound
from qianke.customers.services import customer_create, customer_update
from qianke.dedupe.models import DuplicateGroup, DuplicateMember
from qianke.dedupe.selectors import (
    GroupFilters,
    customer_duplicates,
    duplicate_group_get,
    duplicate_group_list,
    merge_get,
)
from qianke.dedupe.services import customer_merge


def _group(*customers, decision="same", score=0.97):
    group = DuplicateGroup.objects.create(decision=decision, score=score, size=len(customers), signature="x",
                                          pairs=[])
    DuplicateMember.objects.bulk_create([DuplicateMember(group=group, customer=c) for c in customers])
    return group


def test_a_group_is_visible_only_when_every_member_is(org, make_customer):
    mine = make_customer(org.rep, "甲公司")
    mine2 = make_customer(org.rep, "甲公司分号")
    theirs = make_customer(org.rep_north, "甲公司")
    own = _group(mine, mine2)
    mixed = _group(mine, theirs, decision="review", score=0.6)

    def visible(user, **filters):
        return [g.pk for g in duplicate_group_list(user=user, filters=GroupFilters(**filters)).items]

    assert visible(org.rep) == [own.pk]
    assert visible(org.rep_north) == []
    # The east team's manager does not see the north rep's customer either; the director sees both teams.
    assert visible(org.manager) == [own.pk]
    assert visible(org.director) == [own.pk, mixed.pk]
    assert visible(org.info, decision="review") == [mixed.pk]
    with pytest.raises(NotFound):
        duplicate_group_get(user=org.rep, group_id=mixed.pk)
    assert duplicate_group_get(user=org.gm, group_id=mixed.pk).pk == mixed.pk


def test_a_group_with_an_archived_member_is_no_longer_listed(org, make_customer):
    a, b = make_customer(org.rep, "甲公司"), make_customer(org.rep, "甲公司分号")
    group = _group(a, b)
    type(a).objects.filter(pk=b.pk).update(archived_at="2026-11-01T00:00:00Z")
    assert duplicate_group_list(user=org.admin, filters=GroupFilters()).items == []
    with pytest.raises(NotFound):
        duplicate_group_get(user=org.admin, group_id=group.pk)


def test_list_is_paginated_with_a_bounded_number_of_queries(org, make_customer, django_assert_max_num_queries):
    customers = [make_customer(org.rep, f"公司{i}") for i in range(12)]
    for i in range(0, 12, 2):
        _group(customers[i], customers[i + 1], score=0.9 + i / 100)
    with django_assert_max_num_queries(4):
        page = duplicate_group_list(user=org.rep, filters=GroupFilters(), limit=4, offset=2)
        names = [m.customer.owner.username for g in page.items for m in g.members.all()]
    assert page.count == 6 and len(page.items) == 4 and len(names) == 8
    assert [g.score for g in page.items] == sorted((g.score for g in page.items), reverse=True)


def test_merge_is_visible_to_who_sees_all_its_customers(org, make_customer):
    a, b = make_customer(org.rep, "甲公司"), make_customer(org.rep, "甲公司分号")
    merge = customer_merge(actor=org.rep, survivor_id=a.pk, merged_ids=[b.pk], field_choices={})
    assert merge_get(user=org.rep, merge_id=merge.pk) == merge
    assert merge_get(user=org.manager, merge_id=merge.pk) == merge
    with pytest.raises(NotFound):
        merge_get(user=org.rep2, merge_id=merge.pk)


def test_create_warns_with_candidates_and_evidence(org):
    existing = customer_create(actor=org.rep, data={"name": "北京华为技术有限公司", "phone": "010-62345678"})
    with pytest.raises(NeedsConfirmation) as info:
        customer_create(actor=org.rep, data={"name": "华为技术（北京）有限公司", "phone": "(010) 6234 5678"})
    body = info.value.as_dict()
    assert body["duplicates"] == [{"id": existing.pk, "code": existing.code, "name": existing.name}]
    candidate = body["candidates"][0]
    assert candidate["id"] == existing.pk and candidate["decision"] == "same"
    roles = {e["role"]: e for e in candidate["evidence"]}
    assert roles["phone"]["similarity"] == 1.0
    assert "name" in roles


def test_same_phone_under_another_name_is_found_through_the_phone_index(org):
    existing = customer_create(actor=org.rep, data={"name": "杭州娃哈哈集团有限公司", "mobile": "13912345678",
                                                    "city": "杭州"})
    with pytest.raises(NeedsConfirmation) as info:
        customer_create(actor=org.rep, data={"name": "娃哈哈集团", "mobile": "139 1234 5678", "city": "杭州"})
    assert [c["id"] for c in info.value.extra["candidates"]] == [existing.pk]


def test_branch_in_another_city_does_not_warn(org):
    customer_create(actor=org.rep, data={"name": "北京华为技术有限公司", "phone": "010-62345678"})
    customer_create(actor=org.rep, data={"name": "上海华为技术有限公司", "phone": "021-55551234"})


def test_edit_of_a_phone_that_makes_a_duplicate_warns(org):
    existing = customer_create(actor=org.rep, data={"name": "杭州娃哈哈集团有限公司", "mobile": "13912345678"})
    other = customer_create(actor=org.rep, data={"name": "娃哈哈饮料"}, confirm_duplicate=True)
    with pytest.raises(NeedsConfirmation) as info:
        customer_update(actor=org.rep, customer_id=other.pk, data={"mobile": "13912345678"})
    assert info.value.extra["duplicates"][0]["id"] == existing.pk
    customer_update(actor=org.rep, customer_id=other.pk, data={"mobile": "13912345678"}, confirm_duplicate=True)


def test_customer_duplicates_lists_candidates_the_user_may_see(org, make_customer):
    a = make_customer(org.rep, "北京华为技术有限公司", phone="010-62345678")
    b = make_customer(org.rep, "华为技术（北京）有限公司", phone="010 6234 5678")
    hidden = make_customer(org.rep_north, "华为技术北京有限公司", phone="01062345678")
    ids = [c.customer.pk for c in customer_duplicates(user=org.rep, customer_id=a.pk)]
    assert ids == [b.pk]
    assert hidden.pk in [c.customer.pk for c in customer_duplicates(user=org.admin, customer_id=a.pk)]
    with pytest.raises(NotFound):
        customer_duplicates(user=org.rep, customer_id=hidden.pk)


def test_pairs_marked_not_duplicates_are_not_proposed_again(org, make_customer):
    from qianke.dedupe.services import duplicate_group_dismiss

    a = make_customer(org.rep, "北京华为技术有限公司", phone="010-62345678")
    b = make_customer(org.rep, "华为技术（北京）有限公司", phone="010 6234 5678")
    assert [c.customer.pk for c in customer_duplicates(user=org.rep, customer_id=a.pk)] == [b.pk]
    duplicate_group_dismiss(actor=org.rep, group_id=_group(a, b).pk)
    assert customer_duplicates(user=org.rep, customer_id=a.pk) == []
    assert customer_duplicates(user=org.rep, customer_id=b.pk) == []


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the search budget is a PostgreSQL statement timeout")
def test_full_text_candidates_stay_within_their_budget_and_leave_the_transaction_usable(org, monkeypatch):
    from qianke.dedupe import selectors

    class SlowSearch:
        @staticmethod
        def match_ids(text, *, limit):
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(0.5)")
            return [1]

    monkeypatch.setattr(selectors, "SEARCH_BUDGET_MS", 20)
    with transaction.atomic():
        assert selectors._search_ids(SlowSearch, "华为") == []
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('statement_timeout')")
            assert cursor.fetchone()[0] == "0"
        # And a search within the budget gives its ids and restores the setting.
        assert selectors._search_ids(type("Fast", (), {"match_ids": staticmethod(lambda t, limit: [7])}), "x") == [7]
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('statement_timeout')")
            assert cursor.fetchone()[0] == "0"


def test_create_warns_on_name_variants_without_any_shared_phone(org):
    first = customer_create(actor=org.rep, data={"name": "北京华为技术有限公司"})
    for variant in ("华为技术（北京）有限公司", "北京市华为技术股份有限公司"):
        with pytest.raises(NeedsConfirmation) as info:
            customer_create(actor=org.rep, data={"name": variant})
        assert [c["id"] for c in info.value.extra["candidates"]] == [first.pk], variant
    # Same brand, another city: a branch is another customer.
    customer_create(actor=org.rep, data={"name": "上海华为技术有限公司"})


@pytest.mark.parametrize(("registered", "typed"), [("北京华为技术有限公司", "华为技术"),
                                                   ("北京华威测控技术有限公司", "华威测控技术"),
                                                   ("北京华威测控技术有限公司", "华威测控")])
def test_create_warns_on_the_name_without_its_region(org, registered, typed):
    existing = customer_create(actor=org.rep, data={"name": registered})
    with pytest.raises(NeedsConfirmation) as info:
        customer_create(actor=org.rep, data={"name": typed})
    candidates = {c["id"]: c for c in info.value.extra["candidates"]}
    assert candidates[existing.pk]["decision"] in ("same", "review")
    # The customer page lists it too.
    bare = customer_create(actor=org.rep, data={"name": typed}, confirm_duplicate=True)
    assert existing.pk in [c.customer.pk for c in customer_duplicates(user=org.rep, customer_id=bare.pk)]


def test_a_name_without_region_is_reviewed_against_each_city_while_cities_stay_apart(org):
    beijing = customer_create(actor=org.rep, data={"name": "北京华为技术有限公司"})
    shanghai = customer_create(actor=org.rep, data={"name": "上海华为技术有限公司"})
    with pytest.raises(NeedsConfirmation) as info:
        customer_create(actor=org.rep, data={"name": "华为技术有限公司"})
    assert {c["id"] for c in info.value.extra["candidates"]} == {beijing.pk, shanghai.pk}
    assert not any(c.customer.pk == beijing.pk for c in customer_duplicates(user=org.rep, customer_id=shanghai.pk))


@pytest.mark.parametrize(("first", "second"), [("深圳騰訊計算機系統有限公司", "深圳腾讯计算机系统有限公司"),
                                               ("深圳腾讯计算机系统有限公司", "深圳騰訊計算機系統有限公司")])
def test_create_warns_on_the_same_name_in_traditional_or_simplified_characters(org, first, second):
    existing = customer_create(actor=org.rep, data={"name": first})
    with pytest.raises(NeedsConfirmation) as info:
        customer_create(actor=org.rep, data={"name": second})
    assert [c["id"] for c in info.value.extra["candidates"]] == [existing.pk]
    assert info.value.extra["candidates"][0]["same_name"] is True
