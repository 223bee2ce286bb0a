"""Claim, release, assign, transfer and owner history: every refusal reason, caps, cool-down, permissions."""

from __future__ import annotations

import datetime as dt

import pytest

from qianke.core.errors import NotFound, PermissionDenied, ValidationFailed
from qianke.core.models import AuditLog
from qianke.customers.lifecycle import customer_transition
from qianke.customers.models import Customer
from qianke.customers.services import customer_update
from qianke.pool import selectors
from qianke.pool.models import OwnerChange, PoolEntry
from qianke.pool.services import (
    PoolRefused,
    pool_add_customers,
    pool_assign,
    pool_claim,
    pool_release,
    pool_transfer,
    pool_update,
)

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


def claim_refusal(**kwargs) -> str:
    with pytest.raises(PoolRefused) as info:
        pool_claim(**kwargs)
    return info.value.code


def test_pool_customers_have_no_owner_and_are_invisible_to_reps(org, pool, pooled):
    customer = pooled(pool)
    assert customer.owner_id is None and customer.team_id is None
    assert not Customer.objects.visible_to(org.rep).filter(pk=customer.pk).exists()
    assert not Customer.objects.visible_to(org.manager).filter(pk=customer.pk).exists()
    page = selectors.pool_customers(user=org.rep, pool_id=pool.pk)
    assert [e.customer_id for e in page.items] == [customer.pk]


def test_claim_makes_the_customer_the_reps_own_and_records_history(org, pool, pooled):
    customer = pooled(pool)
    pool_claim(actor=org.rep, customer_id=customer.pk)
    customer.refresh_from_db()
    assert customer.owner == org.rep and customer.team == org.east
    assert Customer.objects.visible_to(org.rep).filter(pk=customer.pk).exists()
    entry = PoolEntry.objects.get(customer=customer)
    assert not entry.in_pool and entry.owner_since is not None
    change = OwnerChange.objects.filter(customer=customer).first()
    assert (change.kind, change.from_owner, change.to_owner, change.actor) == ("claim", None, org.rep, org.rep)
    audit = AuditLog.objects.filter(customer_id=customer.pk, action="owner_change").first()
    assert audit.changes["owner"] == [None, str(org.rep)]
    assert selectors.pool_customers(user=org.rep, pool_id=pool.pk).count == 0


def test_a_sub_team_of_a_member_team_is_a_member(org, make_pool, pooled):
    pool = make_pool("销售部公海", teams=[org.sales])
    customer = pooled(pool)
    pool_claim(actor=org.rep_north, customer_id=customer.pk)
    assert Customer.objects.get(pk=customer.pk).owner == org.rep_north


def test_claim_of_a_taken_customer_is_refused_as_taken(org, pool, pooled):
    customer = pooled(pool)
    pool_claim(actor=org.rep, customer_id=customer.pk)
    assert claim_refusal(actor=org.rep2, customer_id=customer.pk) == "taken"
    assert claim_refusal(actor=org.rep, customer_id=customer.pk) == "taken"


def test_claim_from_a_pool_of_another_team_is_404_for_a_rep_and_not_member_for_an_admin(org, make_pool, pooled):
    north_pool = make_pool("华北公海", teams=[org.north])
    customer = pooled(north_pool)
    with pytest.raises(NotFound):
        pool_claim(actor=org.rep, customer_id=customer.pk)
    assert claim_refusal(actor=org.admin, customer_id=customer.pk) == "not_member"


def test_claim_of_a_real_customer_is_refused_as_not_potential(org, pool, pooled):
    customer = pooled(pool)
    customer_transition(actor=org.admin, customer_id=customer.pk, to_status="new", reason="首单")
    assert claim_refusal(actor=org.rep, customer_id=customer.pk) == "not_potential"


def test_cap_per_rep_counts_all_potential_customers_held(org, make_pool, pooled, make_customer):
    pool = make_pool(cap_per_rep=2)
    make_customer(org.rep)  # one registered by the rep counts too
    first, second = pooled(pool, 2)
    pool_claim(actor=org.rep, customer_id=first.pk)
    assert claim_refusal(actor=org.rep, customer_id=second.pk) == "cap_reached"
    pool_claim(actor=org.rep2, customer_id=second.pk)


def test_cap_per_team_counts_the_teams_reps_together(org, make_pool, pooled):
    pool = make_pool(cap_per_rep=10, cap_per_team=2)
    a, b, c = pooled(pool, 3)
    pool_claim(actor=org.rep, customer_id=a.pk)
    pool_claim(actor=org.rep2, customer_id=b.pk)
    assert claim_refusal(actor=org.rep, customer_id=c.pk) == "cap_reached"


def test_no_cap_when_the_cap_is_empty(org, make_pool, pooled):
    pool = make_pool(cap_per_rep=None)
    for customer in pooled(pool, 3):
        pool_claim(actor=org.rep, customer_id=customer.pk)
    assert Customer.objects.filter(owner=org.rep).count() == 3


def test_release_needs_a_reason_and_starts_the_cool_down_for_the_former_owner(org, pool, pooled):
    customer = pooled(pool)
    pool_claim(actor=org.rep, customer_id=customer.pk)
    with pytest.raises(ValidationFailed):
        pool_release(actor=org.rep, customer_id=customer.pk, reason="  ")
    pool_release(actor=org.rep, customer_id=customer.pk, reason="今年无需求")
    customer.refresh_from_db()
    assert customer.owner_id is None and customer.team_id is None
    entry = PoolEntry.objects.get(customer=customer)
    assert entry.in_pool and entry.last_owner == org.rep
    change = OwnerChange.objects.filter(customer=customer).first()
    assert (change.kind, change.from_owner, change.to_owner, change.reason) == ("release", org.rep, None, "今年无需求")
    assert claim_refusal(actor=org.rep, customer_id=customer.pk) == "cooldown"
    pool_claim(actor=org.rep2, customer_id=customer.pk)  # others may claim at once


def test_cool_down_ends_after_the_pools_days(org, pool, pooled):
    customer = pooled(pool)
    pool_claim(actor=org.rep, customer_id=customer.pk)
    pool_release(actor=org.rep, customer_id=customer.pk, reason="换人跟进")
    PoolEntry.objects.filter(customer=customer).update(
        left_at=PoolEntry.objects.get(customer=customer).left_at - dt.timedelta(days=pool.cooldown_days, seconds=1))
    pool_claim(actor=org.rep, customer_id=customer.pk)


def test_another_rep_cannot_release_a_customer_they_do_not_see(org, pool, pooled):
    customer = pooled(pool)
    pool_claim(actor=org.rep, customer_id=customer.pk)
    with pytest.raises(NotFound):
        pool_release(actor=org.rep2, customer_id=customer.pk, reason="x")


def test_release_of_a_customer_registered_by_a_rep_goes_to_the_teams_pool(org, pool, make_customer):
    customer = make_customer(org.rep)
    pool_release(actor=org.rep, customer_id=customer.pk, reason="不再跟进")
    entry = PoolEntry.objects.get(customer=customer)
    assert entry.pool == pool and entry.in_pool and entry.last_owner == org.rep


def test_release_without_a_pool_for_the_team_is_refused(org, make_customer):
    customer = make_customer(org.rep_north)
    with pytest.raises(PoolRefused) as info:
        pool_release(actor=org.rep_north, customer_id=customer.pk, reason="x")
    assert info.value.code == "no_pool"


def test_manager_assigns_from_the_pool_to_a_rep_of_the_team(org, pool, pooled):
    customer = pooled(pool)
    pool_assign(actor=org.manager, customer_id=customer.pk, to_user_id=org.rep2.pk, reason="熟悉该行业")
    customer.refresh_from_db()
    assert customer.owner == org.rep2
    change = OwnerChange.objects.filter(customer=customer).first()
    assert (change.kind, change.actor, change.to_owner) == ("assign", org.manager, org.rep2)


def test_rep_may_not_assign_and_manager_may_not_assign_outside_the_team(org, pool, pooled):
    customer = pooled(pool)
    with pytest.raises(PermissionDenied):
        pool_assign(actor=org.rep, customer_id=customer.pk, to_user_id=org.rep2.pk)
    with pytest.raises(ValidationFailed):
        pool_assign(actor=org.manager, customer_id=customer.pk, to_user_id=org.rep_north.pk)


def test_assign_respects_the_targets_cap(org, make_pool, pooled):
    pool = make_pool(cap_per_rep=1)
    a, b = pooled(pool, 2)
    pool_assign(actor=org.admin, customer_id=a.pk, to_user_id=org.rep.pk)
    with pytest.raises(PoolRefused) as info:
        pool_assign(actor=org.admin, customer_id=b.pk, to_user_id=org.rep.pk)
    assert info.value.code == "cap_reached"


def test_manager_transfers_between_reps_and_the_clock_restarts(org, pool, pooled):
    customer = pooled(pool)
    pool_claim(actor=org.rep, customer_id=customer.pk)
    PoolEntry.objects.filter(customer=customer).update(owner_since_on=dt.date(2020, 1, 1))
    pool_transfer(actor=org.manager, customer_id=customer.pk, to_user_id=org.rep2.pk, reason="调岗")
    customer.refresh_from_db()
    assert customer.owner == org.rep2
    assert PoolEntry.objects.get(customer=customer).owner_since_on > dt.date(2020, 1, 1)
    change = OwnerChange.objects.filter(customer=customer).first()
    assert (change.kind, change.from_owner, change.to_owner, change.reason) == ("transfer", org.rep, org.rep2, "调岗")


def test_rep_may_not_transfer(org, pool, pooled):
    customer = pooled(pool)
    pool_claim(actor=org.rep, customer_id=customer.pk)
    with pytest.raises(PermissionDenied):
        pool_transfer(actor=org.rep, customer_id=customer.pk, to_user_id=org.rep2.pk)


def test_editing_the_owner_field_is_recorded_in_the_owner_history(org, pool, make_customer):
    customer = make_customer(org.rep)
    customer_update(actor=org.manager, customer_id=customer.pk, data={"owner": org.rep2.pk})
    change = OwnerChange.objects.get(customer=customer)
    assert (change.kind, change.from_owner, change.to_owner, change.actor) == ("edit", org.rep, org.rep2, org.manager)
    entry = PoolEntry.objects.get(customer=customer)
    assert entry.pool == pool and not entry.in_pool


def test_pool_add_customers_counts_only_visible_potential_customers(org, pool, make_customer):
    mine = make_customer(org.rep)
    real = make_customer(org.admin)
    customer_transition(actor=org.admin, customer_id=real.pk, to_status="new", reason="首单")
    other = make_customer(org.rep_north)
    assert pool_add_customers(actor=org.manager, pool=pool, customer_ids=[mine.pk, real.pk, other.pk]) == 1
    mine.refresh_from_db()
    assert mine.owner_id is None
    assert OwnerChange.objects.get(customer=mine).from_owner == org.rep
    with pytest.raises(PermissionDenied):
        pool_add_customers(actor=org.rep, pool=pool, customer_ids=[other.pk])


def test_pool_add_customers_writes_history_and_audit_rows_field_by_field(org, pool, make_customer):
    """The set-wise rows (core.bulk) hold what one owner change at a time would: who, what, from whom,
    which pool, when, from where."""
    from django.utils import timezone

    from qianke.core.audit import set_audit_source

    owned = make_customer(org.rep, "有主客户有限公司")
    unowned = make_customer(org.admin, "无主客户有限公司")
    Customer.objects.filter(pk=unowned.pk).update(owner=None, team=None)
    before = timezone.now()
    set_audit_source("cli")
    try:
        assert pool_add_customers(actor=org.admin, pool=pool, customer_ids=[unowned.pk, owned.pk]) == 2
    finally:
        set_audit_source("web")
    after = timezone.now()

    changes = list(OwnerChange.objects.filter(customer__in=[owned, unowned]).order_by("customer_id")
                   .values_list("customer_id", "from_owner_id", "to_owner_id", "kind", "actor_id", "pool_id",
                                "reason", "at"))
    at = changes[0][-1]
    assert before <= at <= after
    assert changes == [(owned.pk, org.rep.pk, None, "pool_add", org.admin.pk, pool.pk, "", at),
                       (unowned.pk, None, None, "pool_add", org.admin.pk, pool.pk, "", at)]
    # One instant for the whole move: the history, the entries and the customers' rows.
    assert set(PoolEntry.objects.filter(customer__in=[owned, unowned]).values_list("entered_at", flat=True)) == {at}
    assert set(Customer.objects.filter(pk__in=[owned.pk, unowned.pk]).values_list("updated_at", flat=True)) == {at}

    logs = list(AuditLog.objects.filter(action=AuditLog.Action.OWNER_CHANGE, customer_id__in=[owned.pk, unowned.pk])
                .order_by("object_id")
                .values_list("actor_id", "action", "object_type", "object_id", "object_repr", "customer_id",
                             "changes", "source", "created_at"))
    assert [log[:-1] for log in logs] == [
        (org.admin.pk, "owner_change", "customer", owned.pk, "有主客户有限公司", owned.pk,
         {"owner": [str(org.rep), None], "pool": [None, pool.name]}, "cli"),
        (org.admin.pk, "owner_change", "customer", unowned.pk, "无主客户有限公司", unowned.pk,
         {"pool": [None, pool.name]}, "cli")]
    assert all(before <= log[-1] <= after for log in logs) and len({log[-1] for log in logs}) == 1


def test_pool_get_by_name(pool):
    assert selectors.pool_get_by_name("华东公海") == pool
    assert selectors.pool_get_by_name("无此公海") is None


def test_pool_rules_and_member_teams_are_saved(org, pool):
    pool_update(actor=org.admin, pool_id=pool.pk,
                data={"rules": {"A": {"no_follow_up_days": 7, "not_converted_days": 30}},
                      "teams": [org.east.pk, org.north.pk]})
    assert {r.grade: (r.no_follow_up_days, r.not_converted_days) for r in pool.rules.all()} == {"A": (7, 30)}
    assert set(pool.teams.all()) == {org.east, org.north}
    with pytest.raises(PermissionDenied):
        pool_update(actor=org.manager, pool_id=pool.pk, data={"cap_per_rep": 100})
    with pytest.raises(ValidationFailed) as info:
        pool_update(actor=org.admin, pool_id=pool.pk, data={"rules": {"X": {}}, "warn_days": -1})
    assert set(info.value.fields) == {"rules.X", "warn_days"}


def test_pools_visible_to_members_managers_below_and_everyone_seeing_all(org, make_pool):
    east = make_pool()
    north = make_pool("华北公海", teams=[org.north])
    assert set(selectors.pool_list(user=org.rep)) == {east}
    assert set(selectors.pool_list(user=org.director)) == {east, north}
    assert set(selectors.pool_list(user=org.gm)) == {east, north}
    assert list(selectors.pool_list(user=org.service)) == [east, north]
    with pytest.raises(NotFound):
        selectors.pool_get(user=org.rep, pool_id=north.pk)
