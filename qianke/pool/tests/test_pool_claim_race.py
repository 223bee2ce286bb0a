"""Two reps claiming the same customer at the same moment: exactly one gets it, the other hears "taken".

Real concurrent connections: each thread has its own database connection; a barrier releases them
together. On PostgreSQL the conditional UPDATE decides; on SQLite write transactions queue (IMMEDIATE).
"""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from qianke.core.tests.sqlite_file import in_memory_sqlite, rerun_on_sqlite_file
from qianke.customers.models import Customer
from qianke.pool.models import OwnerChange
from qianke.pool.services import PoolRefused, pool_claim

pytestmark = [pytest.mark.usefixtures("fast_password_hashing"), pytest.mark.django_db(transaction=True)]


def race(claims: list[tuple]) -> list[str]:
    """Run pool_claim(actor, customer_id) for each pair in its own thread at the same moment."""
    barrier = threading.Barrier(len(claims))
    results: list[str] = []
    lock = threading.Lock()

    def run(actor, customer_id):
        try:
            barrier.wait()
            try:
                pool_claim(actor=actor, customer_id=customer_id)
                outcome = "ok"
            except PoolRefused as exc:
                outcome = exc.code
            with lock:
                results.append(outcome)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=pair) for pair in claims]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return sorted(results)


@pytest.fixture
def racing(org, make_user, pool, pooled):
    if in_memory_sqlite():
        pytest.skip("threads need a database file (QIANKE_SQLITE_TEST_PATH); an in-memory SQLite is shared-cache")
    return org


def test_two_reps_claim_the_same_customer_exactly_one_gets_it(racing, pool, pooled):
    org = racing
    for _ in range(5):
        customer = pooled(pool)
        assert race([(org.rep, customer.pk), (org.rep2, customer.pk)]) == ["ok", "taken"]
        assert Customer.objects.get(pk=customer.pk).owner_id in (org.rep.pk, org.rep2.pk)
        assert OwnerChange.objects.filter(customer=customer, kind="claim").count() == 1


def test_many_reps_racing_for_one_customer_one_wins(racing, make_user, pool, pooled):
    org = racing
    reps = [org.rep, org.rep2, *[make_user("sales", org.east) for _ in range(4)]]
    customer = pooled(pool)
    assert race([(rep, customer.pk) for rep in reps]) == ["ok"] + ["taken"] * 5


def test_one_rep_claiming_several_at_once_stays_within_the_cap(racing, make_pool, pooled):
    org = racing
    pool = make_pool("限额公海", cap_per_rep=2)
    customers = pooled(pool, 5)
    assert race([(org.rep, c.pk) for c in customers]) == ["cap_reached"] * 3 + ["ok"] * 2
    assert Customer.objects.filter(owner=org.rep).count() == 2


def test_the_race_on_a_sqlite_database_file(tmp_path):
    """The default SQLite test database lives in memory, where threads share one cache and fail with "table
    locked" instead of queueing; so on SQLite the race tests above run again against a database file."""
    if not in_memory_sqlite():
        pytest.skip("the race tests above ran on this database already")
    result = rerun_on_sqlite_file(__file__, tmp_path / "race.sqlite3", select="not sqlite_database_file", timeout=300)
    assert "3 passed" in result.stdout, result.stdout[-2000:] + result.stderr[-2000:]
