"""Who sees which customers, contacts and follow-ups; who may archive."""

import pytest

from qianke.accounts.models import Role
from qianke.activities.models import Activity
from qianke.activities.selectors import activity_get, activity_list
from qianke.activities.services import activity_create
from qianke.core.errors import NotFound, PermissionDenied
from qianke.customers.models import Contact, Customer
from qianke.customers.selectors import (
    CustomerFilters,
    contact_get,
    contact_list,
    customer_get,
    customer_list,
)
from qianke.customers.services import customer_archive, customer_restore

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


@pytest.fixture
def world(org, make_team, make_user, make_customer, make_contact):
    """Customers spread over the team tree, each with a contact and a follow-up."""
    org.east_a = make_team("华东一组", parent=org.east)
    org.rep_east_a = make_user(Role.SALES, org.east_a, "rep_east_a")
    c = {}
    c["rep"] = make_customer(org.rep, "华东甲公司")
    c["rep2"] = make_customer(org.rep2, "华东乙公司")
    c["manager"] = make_customer(org.manager, "华东丙公司")
    c["east_a"] = make_customer(org.rep_east_a, "华东一组公司")
    c["north"] = make_customer(org.rep_north, "华北甲公司")
    c["director"] = make_customer(org.director, "销售部公司")
    c["unowned"] = make_customer(org.info, "公海公司")
    # owned by an east rep but filed under the north team, and the other way round
    c["east_owner_north_team"] = make_customer(org.admin, "交叉甲公司", owner=org.rep2.pk, team=org.north.pk)
    c["north_owner_east_team"] = make_customer(org.admin, "交叉乙公司", owner=org.rep_north.pk, team=org.east.pk)
    for customer in c.values():
        make_contact(org.admin, customer, f"{customer.name}联系人")
        activity_create(actor=org.admin, customer_id=customer.pk, data={"content": "电话沟通"})
    org.customers = c
    return org


def visible(world, user, **kw) -> set[str]:
    """The fixture's names of the customers `user` sees."""
    keys = {v.pk: k for k, v in world.customers.items()}
    return {keys[pk] for pk in Customer.objects.visible_to(user, **kw).values_list("pk", flat=True)}


ALL = {"rep", "rep2", "manager", "east_a", "north", "director", "unowned", "east_owner_north_team",
       "north_owner_east_team"}


def test_a_rep_sees_only_their_own_customers(world):
    assert visible(world, world.rep) == {"rep"}
    assert visible(world, world.rep2) == {"rep2", "east_owner_north_team"}
    assert visible(world, world.rep_north) == {"north", "north_owner_east_team"}


def test_a_manager_sees_their_team_its_sub_teams_and_customers_owned_by_their_people(world):
    assert visible(world, world.manager) == {"rep", "rep2", "manager", "east_a", "east_owner_north_team",
                                      "north_owner_east_team"}


def test_a_manager_does_not_see_the_parent_team_or_a_sibling_team(world):
    seen = visible(world, world.manager)
    assert "director" not in seen and "north" not in seen and "unowned" not in seen


def test_the_director_of_the_parent_team_sees_every_sub_team(world):
    assert visible(world, world.director) == ALL - {"unowned"}


@pytest.mark.parametrize("role", ["gm", "info", "service", "admin"])
def test_see_all_roles_see_every_customer_including_unowned(world, role):
    assert visible(world, getattr(world, role)) == ALL


def test_a_manager_without_a_team_sees_only_their_own(world, make_user, make_customer):
    loner = make_user(Role.MANAGER, None, "mgr_loner")
    make_customer(loner, "独立公司")
    assert {c.name for c in Customer.objects.visible_to(loner)} == {"独立公司"}


def test_inactive_and_anonymous_users_see_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    world.gm.is_active = False
    world.gm.save()
    assert visible(world, world.gm) == set()
    assert not Customer.objects.visible_to(AnonymousUser()).exists()
    assert not Customer.objects.visible_to(None).exists()


def test_contacts_and_follow_ups_are_visible_exactly_when_their_customer_is(world):
    for user in (world.rep, world.rep2, world.rep_north, world.manager, world.director, world.gm,
                 world.rep_east_a):
        customers = set(Customer.objects.visible_to(user).values_list("pk", flat=True))
        contacts = set(Contact.objects.visible_to(user).values_list("customer_id", flat=True))
        activities = set(Activity.objects.visible_to(user).values_list("customer_id", flat=True))
        assert contacts == customers == activities, user.username
        assert contact_list(user=user).count == len(customers)
        assert activity_list(user=user).count == len(customers)


def test_records_one_may_not_see_are_not_found(world):
    north = world.customers["north"]
    contact = Contact.objects.get(customer=north)
    activity = Activity.objects.get(customer=north)
    with pytest.raises(NotFound):
        customer_get(user=world.rep, customer_id=north.pk)
    with pytest.raises(NotFound):
        contact_get(user=world.rep, contact_id=contact.pk)
    with pytest.raises(NotFound):
        activity_get(user=world.rep, activity_id=activity.pk)
    assert customer_get(user=world.director, customer_id=north.pk) == north
    assert contact_get(user=world.director, contact_id=contact.pk) == contact
    assert activity_get(user=world.director, activity_id=activity.pk) == activity


def test_the_customer_list_respects_visibility(world):
    for user in (world.rep, world.manager, world.director, world.admin):
        page = customer_list(user=user, filters=CustomerFilters(), limit=100)
        assert {c.pk for c in page.items} == set(Customer.objects.visible_to(user).values_list("pk", flat=True))


# ---------------------------------------------------------------------------------------------
# Archiving
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["rep", "manager", "director", "gm", "service"])
def test_only_admin_and_info_archive(world, role):
    customer = world.customers["rep"]
    with pytest.raises(PermissionDenied):
        customer_archive(actor=getattr(world, role), customer_id=customer.pk)
    customer.refresh_from_db()
    assert customer.archived_at is None


def test_archiving_an_invisible_customer_is_not_found(world):
    with pytest.raises(NotFound):
        customer_archive(actor=world.rep_north, customer_id=world.customers["rep"].pk)


def test_only_admin_and_info_restore(world):
    customer = world.customers["rep"]
    customer_archive(actor=world.info, customer_id=customer.pk)
    with pytest.raises(PermissionDenied):
        customer_restore(actor=world.gm, customer_id=customer.pk)
    with pytest.raises(PermissionDenied):
        customer_restore(actor=world.rep, customer_id=customer.pk)
    with pytest.raises(NotFound):
        customer_restore(actor=world.rep_north, customer_id=customer.pk)
    customer.refresh_from_db()
    assert customer.archived_at is not None
    customer_restore(actor=world.admin, customer_id=customer.pk)
    customer.refresh_from_db()
    assert customer.archived_at is None


def test_archived_customers_their_contacts_and_follow_ups_are_left_out_by_default(world):
    customer = world.customers["rep"]
    customer_archive(actor=world.admin, customer_id=customer.pk)
    for user in (world.rep, world.manager, world.admin):
        assert "rep" not in visible(world, user)
        assert not Contact.objects.visible_to(user).filter(customer=customer).exists()
        assert not Activity.objects.visible_to(user).filter(customer=customer).exists()
        assert customer.pk not in {c.pk for c in customer_list(user=user, filters=CustomerFilters()).items}
    assert "rep" in visible(world, world.rep, include_archived=True)
    assert Contact.objects.visible_to(world.rep, include_archived=True).filter(customer=customer).exists()
    with pytest.raises(NotFound):
        customer_get(user=world.rep, customer_id=customer.pk)


def test_only_archivers_open_or_list_archived_customers(world):
    customer = world.customers["rep"]
    customer_archive(actor=world.admin, customer_id=customer.pk)
    assert customer_get(user=world.info, customer_id=customer.pk, include_archived=True) == customer
    with pytest.raises(NotFound):
        customer_get(user=world.manager, customer_id=customer.pk, include_archived=True)
    archived = customer_list(user=world.info, filters=CustomerFilters(archived=True)).items
    assert [c.pk for c in archived] == [customer.pk]
    # for anyone else the archive filter shows the ordinary list, never archived rows
    manager_view = customer_list(user=world.manager, filters=CustomerFilters(archived=True)).items
    assert customer.pk not in {c.pk for c in manager_view}


def test_an_archived_contact_disappears_but_its_customer_stays(world):
    from qianke.customers.services import contact_archive

    customer = world.customers["rep"]
    contact = Contact.objects.get(customer=customer)
    contact_archive(actor=world.rep, contact_id=contact.pk)
    assert not Contact.objects.visible_to(world.rep).filter(pk=contact.pk).exists()
    assert Customer.objects.visible_to(world.rep).filter(pk=customer.pk).exists()
