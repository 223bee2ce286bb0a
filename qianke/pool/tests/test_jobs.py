"""The daily jobs: return after N days without follow-up and after M days not converted, per grade; warnings
K days before, exactly once; cool-down after return; the open-deal exemption; idempotence."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from qianke.activities.services import activity_create
from qianke.core.models import AuditLog
from qianke.customers.models import Customer
from qianke.jobs.registry import get_job
from qianke.pipeline.models import Process
from qianke.pipeline.services import deal_create
from qianke.pool import selectors
from qianke.pool.jobs import run_returns, run_warnings
from qianke.pool.models import OwnerChange, PoolEntry, PoolWarning
from qianke.pool.services import PoolRefused, pool_claim, pool_update
from qianke.qualification.services import qualification_update

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

TODAY = timezone.localdate()


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


@pytest.fixture
def claimed(org, pool, pooled):
    """claimed(rep=org.rep) → a pool customer the rep claimed today."""

    def make(rep=None):
        customer = pooled(pool)
        pool_claim(actor=rep or org.rep, customer_id=customer.pk)
        return customer

    return make


def owner_of(customer) -> int | None:
    return Customer.objects.values_list("owner_id", flat=True).get(pk=customer.pk)


def test_jobs_are_registered():
    assert get_job("pool.returns").func is run_returns
    assert get_job("pool.warnings").func is run_warnings


def test_return_after_n_days_without_follow_up_counting_from_the_claim(org, claimed):
    customer = claimed()
    assert run_returns(today=days(30))["returned"] == 0  # 30 days without follow-up: not more than N
    assert owner_of(customer) == org.rep.pk
    assert run_returns(today=days(31))["returned"] == 1
    assert owner_of(customer) is None
    entry = PoolEntry.objects.get(customer=customer)
    assert entry.in_pool and entry.last_owner == org.rep and entry.entered_at is not None
    change = OwnerChange.objects.filter(customer=customer).first()
    assert (change.kind, change.from_owner, change.to_owner, change.actor) == ("return", org.rep, None, None)
    assert "30" in change.reason
    audit = AuditLog.objects.filter(customer_id=customer.pk, action="owner_change", source="job").get()
    assert audit.changes["owner"] == [str(org.rep), None]
    assert [e.customer_id for e in selectors.pool_customers(user=org.rep2, pool_id=entry.pool_id).items] == [
        customer.pk]


def test_a_follow_up_restarts_the_no_follow_up_clock(org, claimed):
    customer = claimed()
    activity_create(actor=org.rep, customer_id=customer.pk, data={"content": "电话沟通需求"})
    PoolEntry.objects.filter(customer=customer).update(owner_since_on=days(-20))
    assert run_returns(today=days(30))["returned"] == 0
    assert run_returns(today=days(31))["returned"] == 1


def test_return_after_m_days_not_converted_despite_follow_ups(org, claimed):
    customer = claimed()
    PoolEntry.objects.filter(customer=customer).update(owner_since_on=days(-91))
    activity_create(actor=org.rep, customer_id=customer.pk, data={"content": "上门拜访"})
    run_returns(today=TODAY)
    assert owner_of(customer) is None
    assert "90" in OwnerChange.objects.filter(customer=customer).first().reason


def test_rules_per_grade_override_the_default(org, pool, claimed):
    pool_update(actor=org.admin, pool_id=pool.pk, data={"rules": {"A": {"no_follow_up_days": 7}}})
    hot, cold = claimed(), claimed()
    qualification_update(actor=org.rep, customer_id=hot.pk, data={"expected_purchase_date": days(10)})
    run_returns(today=days(8))
    assert owner_of(hot) is None and owner_of(cold) == org.rep.pk


def test_a_grade_rule_without_a_day_count_never_returns_on_that_criterion(org, pool, claimed):
    pool_update(actor=org.admin, pool_id=pool.pk,
                data={"rules": {"D": {"no_follow_up_days": None, "not_converted_days": None}}})
    customer = claimed()
    run_returns(today=days(400))
    assert owner_of(customer) == org.rep.pk


def test_cool_down_after_a_return(org, claimed):
    customer = claimed()
    run_returns(today=days(31))
    with pytest.raises(PoolRefused) as info:
        pool_claim(actor=org.rep, customer_id=customer.pk)
    assert info.value.code == "cooldown"
    pool_claim(actor=org.rep2, customer_id=customer.pk)


def test_running_the_returns_job_twice_changes_nothing_the_second_time(org, claimed):
    customers = [claimed(), claimed()]
    assert run_returns(today=days(31)) == {"adopted": 0, "returned": 2}
    history, audits = OwnerChange.objects.count(), AuditLog.objects.count()
    assert run_returns(today=days(31)) == {"adopted": 0, "returned": 0}
    assert (OwnerChange.objects.count(), AuditLog.objects.count()) == (history, audits)
    assert all(owner_of(c) is None for c in customers)


def test_customers_registered_by_a_rep_join_the_teams_pool_and_return(org, pool, make_customer):
    customer = make_customer(org.rep)
    Customer.objects.filter(pk=customer.pk).update(created_at=timezone.now() - dt.timedelta(days=40))
    result = run_returns(today=TODAY)
    assert result == {"adopted": 1, "returned": 1}
    assert PoolEntry.objects.get(customer=customer).pool == pool


def test_customers_of_teams_without_a_pool_stay_with_their_owner(org, pool, make_customer):
    customer = make_customer(org.rep_north)
    Customer.objects.filter(pk=customer.pk).update(created_at=timezone.now() - dt.timedelta(days=400))
    assert run_returns(today=TODAY) == {"adopted": 0, "returned": 0}
    assert owner_of(customer) == org.rep_north.pk


def test_customers_with_open_deals_are_exempt_when_the_pool_says_so(org, pool, claimed):
    customer = claimed()
    process = Process.objects.filter(active=True).first()
    deal_create(actor=org.rep, data={"customer": customer.pk, "process": process.pk, "name": "年度采购"})
    run_returns(today=days(31))
    assert owner_of(customer) == org.rep.pk
    assert run_warnings(today=days(29))["warned"] == 0
    pool_update(actor=org.admin, pool_id=pool.pk, data={"exempt_open_deals": False})
    run_returns(today=days(31))
    assert owner_of(customer) is None


def test_warning_k_days_before_the_return_exactly_once(org, claimed):
    customer = claimed()
    assert run_warnings(today=days(27))["warned"] == 0  # returns on day 31: 4 days ahead, K = 3
    assert run_warnings(today=days(28))["warned"] == 1
    assert run_warnings(today=days(28))["warned"] == 0
    assert run_warnings(today=days(29))["warned"] == 0
    warning = PoolWarning.objects.get()
    assert (warning.customer_id, warning.owner, warning.deadline) == (customer.pk, org.rep, days(31))
    assert [w.customer_id for w in selectors.return_warnings(user=org.rep, today=days(28))] == [customer.pk]
    assert selectors.return_warnings(user=org.rep2, today=days(28)) == []


def test_a_follow_up_after_the_warning_clears_it_and_a_new_deadline_warns_again(org, claimed):
    customer = claimed()
    PoolEntry.objects.filter(customer=customer).update(owner_since_on=days(-28))
    assert run_warnings(today=TODAY)["warned"] == 1
    PoolWarning.objects.update(created_at=timezone.now() - dt.timedelta(hours=1))
    activity_create(actor=org.rep, customer_id=customer.pk, data={"content": "回访"})
    assert selectors.return_warnings(user=org.rep) == []
    assert run_warnings(today=days(28))["warned"] == 1
    assert sorted(PoolWarning.objects.values_list("deadline", flat=True)) == [days(3), days(31)]


def test_warnings_and_returns_follow_the_same_day(org, claimed):
    """The day a warning names is the day the returns job takes the customer."""
    customer = claimed()
    run_warnings(today=days(28))
    deadline = PoolWarning.objects.get(customer=customer).deadline
    run_returns(today=deadline - dt.timedelta(days=1))
    assert owner_of(customer) == org.rep.pk
    run_returns(today=deadline)
    assert owner_of(customer) is None


def test_each_pool_applies_its_own_rules_and_warning_days(org, pool, make_pool, pooled, claimed):
    north_pool = make_pool("华北公海", teams=[org.north], no_follow_up_days=10, warn_days=5)
    east = claimed()
    north = pooled(north_pool)
    pool_claim(actor=org.rep_north, customer_id=north.pk)
    assert run_warnings(today=days(6))["warned"] == 1  # north returns on day 11, 5 days ahead
    assert PoolWarning.objects.get().customer_id == north.pk
    assert run_returns(today=days(11))["returned"] == 1
    assert owner_of(north) is None and owner_of(east) == org.rep.pk
