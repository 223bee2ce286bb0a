"""Pool fixtures: a pool for the east team (via the sales department above it) and customers in it."""

from __future__ import annotations

import pytest

from qianke.pool.services import pool_add_customers, pool_create


@pytest.fixture
def make_pool(org):
    def make(name: str = "华东公海", teams=None, **data):
        data.setdefault("cap_per_rep", 5)
        data.setdefault("cooldown_days", 7)
        data.setdefault("warn_days", 3)
        data.setdefault("no_follow_up_days", 30)
        data.setdefault("not_converted_days", 90)
        teams = [org.east] if teams is None else teams
        return pool_create(actor=org.admin, data={"name": name, "teams": [t.pk for t in teams], **data})

    return make


@pytest.fixture
def pool(make_pool):
    return make_pool()


@pytest.fixture
def pooled(org, make_customer):
    """pooled(pool, n=1) → customers registered by the admin and put into `pool`."""

    def make(pool, n: int = 1, **data):
        customers = [make_customer(org.admin, **data) for _ in range(n)]
        pool_add_customers(actor=org.admin, pool=pool, customer_ids=[c.pk for c in customers])
        for c in customers:
            c.refresh_from_db()
        return customers if n > 1 else customers[0]

    return make
