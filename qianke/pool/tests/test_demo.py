"""Demo data: a pool per sales team with some of the team's potential customers in it, once."""

from __future__ import annotations

import pytest

from qianke.core.demo import demo_capabilities, demo_generate
from qianke.customers.models import Customer
from qianke.pool.models import Pool, PoolEntry

pytestmark = pytest.mark.django_db


def test_demo_has_a_pool_per_sales_team_with_unowned_potential_customers(home):
    demo_generate(customers=300, seed=2)
    counts = demo_capabilities(seed=2, modules=("qianke.pool.demo",))["qianke.pool.demo"]
    assert counts["pools"] >= 2 and counts["pool_customers"] >= counts["pools"]
    for pool in Pool.objects.all():
        team = pool.teams.get()
        entries = PoolEntry.objects.filter(pool=pool, in_pool=True)
        assert entries.exists()
        assert not Customer.objects.filter(pk__in=entries.values("customer_id"), owner__isnull=False).exists()
        assert entries.filter(last_owner__team=team).count() == entries.count()
    again = demo_capabilities(seed=2, modules=("qianke.pool.demo",))["qianke.pool.demo"]
    assert again == {"pools": 0, "pool_customers": 0}
