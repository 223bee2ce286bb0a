"""Demo data: a public pool per sales team with a tenth of the team's potential customers in it."""

from __future__ import annotations

import random

from django.db import transaction
from django.db.models import Q

from qianke.accounts.models import Role, Team, User
from qianke.customers.choices import Status
from qianke.customers.models import Customer
from qianke.pool.models import Pool, PoolEntry, PoolRule
from qianke.pool.services import pool_add_customers


def demo_generate(*, seed: int = 1, customers_from: int = 1) -> dict[str, int]:
    """`qianke demo` hook; a second run adds nothing to a pool that already has customers. Only customers
    from id `customers_from` on go into the pools. One transaction (a commit per pool and rule cost more
    than their rows on SQLite)."""
    with transaction.atomic():
        return _fill_pools(random.Random(seed), customers_from)


def _fill_pools(rng: random.Random, customers_from: int) -> dict[str, int]:
    actor = (User.objects.filter(Q(role__in=[Role.ADMIN, Role.GM]) | Q(is_superuser=True), is_active=True)
             .order_by("pk").first())
    if actor is None:
        return {}
    pools = added = 0
    teams = list(Team.objects.filter(members__role=Role.SALES).distinct().order_by("path"))
    # Each team's potential customers from one query (the teams' own lists, in id order): right after a
    # large load (demo_before_indexes) the table has no index on the team yet, and each team's query
    # read all of it. Putting one team's customers into its pool leaves the other teams' lists as they are.
    candidates: dict[int, list[int]] | None = None  # read when a pool first needs them
    for team in teams:
        pool, created = Pool.objects.get_or_create(
            name=f"{team.name}公海", defaults={"description": f"{team.name}的公共客户池", "cap_per_rep": 200,
                                             "cooldown_days": 30, "warn_days": 3, "no_follow_up_days": 60,
                                             "not_converted_days": 365})
        if created:
            pool.teams.add(team)
            PoolRule.objects.create(pool=pool, grade="A", no_follow_up_days=15, not_converted_days=120)
            PoolRule.objects.create(pool=pool, grade="B", no_follow_up_days=30, not_converted_days=180)
            pools += 1
        if PoolEntry.objects.filter(pool=pool, in_pool=True).exists():
            continue
        if candidates is None:
            candidates = {t.pk: [] for t in teams}
            for team_id, pk in (Customer.objects.filter(pk__gte=customers_from, team__in=teams,
                                                        status=Status.POTENTIAL, archived_at__isnull=True)
                                .order_by("pk").values_list("team_id", "pk")):
                candidates[team_id].append(pk)
        ids = candidates[team.pk]
        chosen = rng.sample(ids, k=max(1, len(ids) // 10)) if ids else []
        added += pool_add_customers(actor=actor, pool=pool, customer_ids=chosen)
    return {"pools": pools, "pool_customers": added}


def demo_before_indexes(*, seed: int = 1) -> dict[str, int]:
    """The same step, run by a large PostgreSQL demo load after its rows and before it builds the
    customer table's indexes (core.demo.CAPABILITY_EARLY_FUNCTION): putting ~44,000 of 1,000,000
    customers into the pools then updates their rows without a new entry in each of 20 indexes (10 s
    after the load, ~130 µs a customer). The call after the load then finds the pools filled. Only
    after a load into an empty customer table (core.demo: started_empty): every customer is the load's own."""
    return demo_generate(seed=seed)
