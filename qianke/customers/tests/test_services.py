"""Customer and contact services: create, update, archive, owners, duplicates, contacts."""

import re

import pytest
from django.utils import timezone

from qianke.core.errors import NeedsConfirmation, NotFound, PermissionDenied, ValidationFailed
from qianke.core.models import AuditLog, CodeSequence
from qianke.customers.models import Contact, Customer
from qianke.customers.services import (
    assignable_owners,
    contact_archive,
    contact_create,
    contact_update,
    customer_archive,
    customer_change_owner,
    customer_create,
    customer_restore,
    customer_update,
)

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


def counts():
    return Customer.objects.count(), Contact.objects.count(), AuditLog.objects.count()


# ---------------------------------------------------------------------------------------------
# Create
# ---------------------------------------------------------------------------------------------


def test_create_saves_fields_and_defaults(org):
    customer = customer_create(actor=org.rep, data={
        "name": "北京华为技术有限公司", "enterprise_nature": "private", "industry": "it_software",
        "production_mode": "production", "province": "北京", "city": "北京", "address": "海淀区中关村 1 号",
        "tags": "重点, 华北，重点"})
    customer.refresh_from_db()
    assert customer.name == "北京华为技术有限公司"
    assert customer.name_norm == "北京华为技术"
    assert (customer.kind, customer.status, customer.potential_kind) == ("organization", "potential", "general")
    assert customer.created_by == org.rep
    assert sorted(customer.tags.values_list("name", flat=True)) == ["华北", "重点"]


def test_code_is_kh_year_month_and_six_digit_sequence(org, make_customer):
    first = make_customer(org.rep)
    second = make_customer(org.rep)
    period = f"{timezone.localtime():%Y%m}"
    assert re.fullmatch(rf"KH{period}\d{{6}}", first.code)
    assert int(second.code[-6:]) == int(first.code[-6:]) + 1
    assert CodeSequence.objects.get(prefix="KH", period=period).last == int(second.code[-6:])


def test_codes_are_unique_across_many_customers(org, make_customer):
    codes = [make_customer(org.rep).code for _ in range(12)]
    assert len(set(codes)) == 12


def test_a_rep_owns_what_they_create_and_the_team_follows_the_owner(org):
    customer = customer_create(actor=org.rep, data={"name": "甲"})
    assert (customer.owner, customer.team) == (org.rep, org.east)


def test_a_see_all_user_creates_unowned_customers_unless_an_owner_is_given(org):
    unowned = customer_create(actor=org.info, data={"name": "乙"})
    assert (unowned.owner, unowned.team) == (None, None)
    owned = customer_create(actor=org.admin, data={"name": "丙", "owner": org.rep_north.pk})
    assert (owned.owner, owned.team) == (org.rep_north, org.north)


def test_an_explicit_team_wins_over_the_owners_team(org):
    customer = customer_create(actor=org.admin, data={"name": "丁", "owner": org.rep.pk, "team": org.sales.pk})
    assert (customer.owner, customer.team) == (org.rep, org.sales)


def test_assignable_owners_per_role(org):
    def names(user):
        return set(assignable_owners(user).values_list("username", flat=True))

    everyone = {"rep_east", "rep_east2", "rep_north", "mgr_east", "mgr_sales", "gm", "info", "service", "admin"}
    assert names(org.rep) == {"rep_east"}
    assert names(org.manager) == {"rep_east", "rep_east2", "mgr_east"}
    assert names(org.director) == {"rep_east", "rep_east2", "rep_north", "mgr_east", "mgr_sales"}
    for user in (org.gm, org.info, org.service, org.admin):
        assert names(user) == everyone


def test_inactive_users_cannot_become_owners(org):
    org.rep2.is_active = False
    org.rep2.save()
    assert org.rep2 not in assignable_owners(org.manager)
    with pytest.raises(ValidationFailed) as info:
        customer_create(actor=org.manager, data={"name": "戊", "owner": org.rep2.pk})
    assert "owner" in info.value.fields


def test_a_manager_assigns_within_the_team_tree_only(org):
    customer = customer_create(actor=org.manager, data={"name": "己", "owner": org.rep2.pk})
    assert customer.owner == org.rep2
    before = counts()
    with pytest.raises(ValidationFailed) as info:
        customer_create(actor=org.manager, data={"name": "庚", "owner": org.rep_north.pk})
    assert "owner" in info.value.fields
    with pytest.raises(ValidationFailed) as info:
        customer_create(actor=org.manager, data={"name": "庚", "team": org.north.pk})
    assert "team" in info.value.fields
    assert counts() == before


def test_a_rep_cannot_give_a_customer_to_someone_else(org):
    with pytest.raises(ValidationFailed) as info:
        customer_create(actor=org.rep, data={"name": "辛", "owner": org.rep2.pk})
    assert "owner" in info.value.fields


def test_a_rep_cannot_create_a_customer_they_would_not_see(org):
    before = counts()
    with pytest.raises(PermissionDenied):
        customer_create(actor=org.rep, data={"name": "壬", "owner": None})
    assert counts() == before


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({}, "name"),
        ({"name": "甲", "mobile": "12345"}, "mobile"),
        ({"name": "甲", "phone": "010-123"}, "phone"),
        ({"name": "甲", "fax": "传真"}, "fax"),
        ({"name": "甲", "email": "not-an-email"}, "email"),
        ({"name": "甲", "postcode": "1000"}, "postcode"),
        ({"name": "甲", "kind": "robot"}, "kind"),
        ({"name": "甲", "status": ""}, "status"),
        ({"name": "甲", "industry": "space_mining"}, "industry"),
        ({"name": "甲", "birthday": "2999-01-01"}, "birthday"),
        ({"name": "甲", "birthday": "去年"}, "birthday"),
        ({"name": "甲", "annual_income": "-5"}, "annual_income"),
        ({"name": "甲", "annual_income": "很多"}, "annual_income"),
        ({"name": "甲" * 201}, "name"),
        ({"name": "甲", "colour": "red"}, "colour"),
        ({"name": "甲", "custom": {"nonexistent_field": "x"}}, "custom.nonexistent_field"),
        ({"name": "甲", "tags": ["标" * 51]}, "tags"),
    ],
)
def test_bad_input_is_refused_and_leaves_nothing_saved(org, data, field):
    before = counts()
    sequence_before = list(CodeSequence.objects.values_list("last", flat=True))
    with pytest.raises(ValidationFailed) as info:
        customer_create(actor=org.rep, data=data)
    assert field in info.value.fields
    assert counts() == before
    assert list(CodeSequence.objects.values_list("last", flat=True)) == sequence_before


def test_all_errors_are_reported_at_once(org):
    with pytest.raises(ValidationFailed) as info:
        customer_create(actor=org.rep, data={"name": "", "mobile": "1", "email": "x"})
    assert {"name", "mobile", "email"} <= set(info.value.fields)


def test_stored_values_keep_what_was_typed_and_norms_are_canonical(org):
    customer = customer_create(actor=org.rep, data={
        "name": "  北京 华为技术（中国）股份有限公司 ", "phone": "010-6234 5678 转 801",
        "mobile": "+86 138-1234-5678", "fax": "（010）6234 5679", "email": " Zhang.Wei@Example.COM ",
        "postcode": "１０００８０"})
    customer.refresh_from_db()
    assert customer.name == "北京 华为技术（中国）股份有限公司"
    assert customer.name_norm == "北京华为技术中国"
    assert customer.phone == "010-6234 5678 转 801"
    assert customer.phone_norm == "01062345678-801"
    assert customer.mobile == "+86 138-1234-5678"
    assert customer.mobile_norm == "13812345678"
    assert customer.fax == "（010）6234 5679"
    assert customer.email == "Zhang.Wei@Example.COM"
    assert customer.postcode == "100080"


def test_individual_names_are_normalised_as_person_names(org):
    customer = customer_create(actor=org.rep, data={"name": "张 伟", "kind": "individual", "gender": "male",
                                                    "birthday": "1985-03-04", "annual_income": "¥120,000"})
    customer.refresh_from_db()
    assert customer.name_norm == "张伟"
    assert str(customer.birthday) == "1985-03-04"
    assert str(customer.annual_income) == "120000.00"


# ---------------------------------------------------------------------------------------------
# Duplicate warning
# ---------------------------------------------------------------------------------------------


def test_same_normalised_name_needs_confirmation(org):
    first = customer_create(actor=org.rep, data={"name": "北京华为技术有限公司"})
    before = counts()
    with pytest.raises(NeedsConfirmation) as info:
        customer_create(actor=org.rep, data={"name": "北京 华为技术股份有限公司"})
    assert info.value.extra["duplicates"] == [{"id": first.pk, "code": first.code, "name": first.name}]
    assert counts() == before
    second = customer_create(actor=org.rep, data={"name": "北京 华为技术股份有限公司"}, confirm_duplicate=True)
    assert second.pk != first.pk and second.name_norm == first.name_norm


def test_different_names_do_not_warn(org):
    customer_create(actor=org.rep, data={"name": "北京华为技术有限公司"})
    customer_create(actor=org.rep, data={"name": "上海华为技术有限公司"})


def test_duplicate_warning_is_per_kind(org):
    customer_create(actor=org.rep, data={"name": "王芳", "kind": "individual"})
    # an organisation of the same name is another customer, not a likely duplicate
    customer_create(actor=org.rep, data={"name": "王芳", "kind": "organization"})
    with pytest.raises(NeedsConfirmation):
        customer_create(actor=org.rep, data={"name": "王 芳", "kind": "individual"})


def test_duplicate_warning_never_reveals_customers_the_actor_cannot_see(org):
    customer_create(actor=org.rep_north, data={"name": "保密科技有限公司"})
    customer = customer_create(actor=org.rep, data={"name": "保密科技有限公司"})
    assert customer.owner == org.rep
    with pytest.raises(NeedsConfirmation):
        customer_create(actor=org.gm, data={"name": "保密科技公司"})


def test_renaming_to_an_existing_name_needs_confirmation(org, make_customer):
    make_customer(org.rep, "杭州娃哈哈集团有限公司")
    other = make_customer(org.rep, "宁波某公司")
    with pytest.raises(NeedsConfirmation):
        customer_update(actor=org.rep, customer_id=other.pk, data={"name": "杭州娃哈哈集团公司"})
    other.refresh_from_db()
    assert other.name == "宁波某公司"
    customer_update(actor=org.rep, customer_id=other.pk, data={"name": "杭州娃哈哈集团公司"}, confirm_duplicate=True)
    # editing a customer without changing its canonical name does not warn about itself
    customer_update(actor=org.rep, customer_id=other.pk, data={"name": "杭州 娃哈哈集团公司", "city": "杭州"})


# ---------------------------------------------------------------------------------------------
# Update, owner change, archive, restore
# ---------------------------------------------------------------------------------------------


def test_update_changes_only_the_given_fields(org, make_customer):
    customer = make_customer(org.rep, "甲公司", city="北京", mobile="13812345678")
    customer_update(actor=org.rep, customer_id=customer.pk, data={"city": "天津", "mobile": ""})
    customer.refresh_from_db()
    assert (customer.name, customer.city, customer.mobile, customer.mobile_norm) == ("甲公司", "天津", "", "")


def test_update_with_bad_input_changes_nothing(org, make_customer):
    customer = make_customer(org.rep, "甲公司", city="北京")
    before = counts()
    with pytest.raises(ValidationFailed):
        customer_update(actor=org.rep, customer_id=customer.pk, data={"city": "天津", "email": "bad"})
    customer.refresh_from_db()
    assert customer.city == "北京" and counts() == before


def test_leaving_potential_clears_the_potential_kind(org, make_customer):
    from qianke.customers.lifecycle import customer_record_purchase

    customer = make_customer(org.rep, potential_kind="competitor")
    assert customer.potential_kind == "competitor"
    customer_record_purchase(actor=org.rep, customer_id=customer.pk)
    customer.refresh_from_db()
    assert (customer.status, customer.potential_kind) == ("new", "")


def test_update_refuses_a_status_change_but_accepts_the_same_status(org, make_customer):
    customer = make_customer(org.rep)
    with pytest.raises(ValidationFailed) as exc:
        customer_update(actor=org.rep, customer_id=customer.pk, data={"status": "new"})
    assert list(exc.value.fields) == ["status"]
    customer_update(actor=org.rep, customer_id=customer.pk, data={"status": "potential", "city": "天津"})
    customer.refresh_from_db()
    assert (customer.status, customer.city) == ("potential", "天津")


def test_changing_the_kind_renormalises_the_name(org, make_customer):
    customer = make_customer(org.rep, "李明有限公司")
    assert customer.name_norm == "李明"
    customer_update(actor=org.rep, customer_id=customer.pk, data={"kind": "individual"})
    customer.refresh_from_db()
    assert customer.name_norm == "李明有限公司"


def test_customers_outside_ones_view_are_not_found(org, make_customer):
    customer = make_customer(org.rep_north)
    with pytest.raises(NotFound):
        customer_update(actor=org.rep, customer_id=customer.pk, data={"city": "x"})
    with pytest.raises(NotFound):
        customer_update(actor=org.rep, customer_id=10**9, data={"city": "x"})


def test_a_manager_hands_a_customer_over_and_the_team_follows(org, make_customer):
    customer = make_customer(org.rep)
    customer_change_owner(actor=org.director, customer_id=customer.pk, owner_id=org.rep_north.pk)
    customer.refresh_from_db()
    assert (customer.owner, customer.team) == (org.rep_north, org.north)


def test_reps_do_not_hand_customers_over(org, make_customer):
    customer = make_customer(org.rep)
    with pytest.raises(PermissionDenied):
        customer_change_owner(actor=org.rep, customer_id=customer.pk, owner_id=org.rep2.pk)
    customer.refresh_from_db()
    assert customer.owner == org.rep


def test_a_manager_cannot_hand_a_customer_out_of_their_tree(org, make_customer):
    customer = make_customer(org.rep)
    with pytest.raises(ValidationFailed):
        customer_change_owner(actor=org.manager, customer_id=customer.pk, owner_id=org.rep_north.pk)


@pytest.mark.parametrize("role", ["info", "admin"])
def test_archive_and_restore(org, make_customer, role):
    actor = getattr(org, role)
    customer = make_customer(org.rep)
    customer_archive(actor=actor, customer_id=customer.pk)
    customer.refresh_from_db()
    assert customer.archived_at is not None and customer.archived_by == actor
    assert not Customer.objects.visible_to(actor).filter(pk=customer.pk).exists()
    assert Customer.objects.visible_to(actor, include_archived=True).filter(pk=customer.pk).exists()
    with pytest.raises(NotFound):
        customer_update(actor=org.rep, customer_id=customer.pk, data={"city": "x"})
    customer_restore(actor=actor, customer_id=customer.pk)
    customer.refresh_from_db()
    assert customer.archived_at is None and customer.archived_by is None
    assert Customer.objects.visible_to(org.rep).filter(pk=customer.pk).exists()


def test_restoring_an_active_customer_changes_nothing(org, make_customer):
    customer = make_customer(org.rep)
    before = counts()
    customer_restore(actor=org.admin, customer_id=customer.pk)
    assert counts() == before


# ---------------------------------------------------------------------------------------------
# Contacts
# ---------------------------------------------------------------------------------------------


def test_the_first_contact_is_primary_later_ones_are_not(org, make_customer, make_contact):
    customer = make_customer(org.rep)
    first = make_contact(org.rep, customer, "张伟")
    second = make_contact(org.rep, customer, "李娜")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_primary and not second.is_primary


def test_one_primary_contact_per_customer(org, make_customer, make_contact):
    customer = make_customer(org.rep)
    first = make_contact(org.rep, customer, "张伟")
    second = make_contact(org.rep, customer, "李娜", is_primary=True)
    assert list(Contact.objects.filter(customer=customer, is_primary=True)) == [second]
    contact_update(actor=org.rep, contact_id=first.pk, data={"is_primary": True})
    assert list(Contact.objects.filter(customer=customer, is_primary=True)) == [first]


def test_other_customers_primary_contacts_are_untouched(org, make_customer, make_contact):
    a, b = make_customer(org.rep), make_customer(org.rep)
    a_primary = make_contact(org.rep, a, "张伟")
    make_contact(org.rep, b, "李娜", is_primary=True)
    a_primary.refresh_from_db()
    assert a_primary.is_primary


def test_archiving_the_primary_contact_clears_its_flag(org, make_customer, make_contact):
    customer = make_customer(org.rep)
    first = make_contact(org.rep, customer)
    contact_archive(actor=org.rep, contact_id=first.pk)
    first.refresh_from_db()
    assert first.archived_at is not None and not first.is_primary
    # the next contact of a customer without active contacts becomes primary
    assert make_contact(org.rep, customer, "王强").is_primary


def test_contact_values_keep_what_was_typed(org, make_customer):
    customer = make_customer(org.rep)
    contact = contact_create(actor=org.rep, customer_id=customer.pk, data={
        "name": " 张伟 ", "mobile": "138 1234 5678", "phone": "021-5555 1234", "email": "ZW@Example.com",
        "years_in_company": "12", "birthday": "1980-05-06", "title": "采购经理"})
    contact.refresh_from_db()
    assert (contact.name, contact.mobile, contact.mobile_norm) == ("张伟", "138 1234 5678", "13812345678")
    assert (contact.phone, contact.phone_norm) == ("021-5555 1234", "02155551234")
    assert contact.years_in_company == 12 and contact.email == "ZW@Example.com"


@pytest.mark.parametrize(
    ("data", "field"),
    [({"name": ""}, "name"), ({"name": "张", "mobile": "123"}, "mobile"), ({"name": "张", "gender": "x"}, "gender"),
     ({"name": "张", "years_in_company": "99"}, "years_in_company"), ({"name": "张", "shoe_size": 42}, "shoe_size")],
)
def test_bad_contact_input_saves_nothing(org, make_customer, data, field):
    customer = make_customer(org.rep)
    before = counts()
    with pytest.raises(ValidationFailed) as info:
        contact_create(actor=org.rep, customer_id=customer.pk, data=data)
    assert field in info.value.fields
    assert counts() == before


def test_contacts_of_invisible_customers_cannot_be_added_or_changed(org, make_customer, make_contact):
    customer = make_customer(org.rep_north)
    contact = make_contact(org.rep_north, customer)
    with pytest.raises(NotFound):
        contact_create(actor=org.rep, customer_id=customer.pk, data={"name": "张"})
    with pytest.raises(NotFound):
        contact_update(actor=org.rep, contact_id=contact.pk, data={"name": "李"})
    with pytest.raises(NotFound):
        contact_archive(actor=org.rep, contact_id=contact.pk)


def test_a_month_past_999999_codes_goes_on_with_seven_digits(org, make_customer):
    from qianke.core.codes import allocate_codes
    from qianke.customers.selectors import CustomerFilters, customer_list

    period = f"{timezone.localtime():%Y%m}"
    CodeSequence.objects.create(prefix="KH", period=period, last=999_998)
    assert allocate_codes(prefix="KH", count=3) == [f"KH{period}999999", f"KH{period}1000000", f"KH{period}1000001"]
    customer = make_customer(org.rep)
    assert customer.code == f"KH{period}1000002"
    found = customer_list(user=org.rep, filters=CustomerFilters(q=customer.code.lower())).items
    assert [c.pk for c in found] == [customer.pk]
