"""Demo lifecycle histories: the status moves that lead to each demo customer's current status.

Demo customers are inserted directly (qianke.core.demo), so they have no StatusChange rows; this
writes a plausible chain (registered as potential → first purchase → repeat → dormant / lost) that
ends in the customer's status, so the funnel report has something to show. `qianke demo` writes
them with the customers (`demo_load_rows`, the core load's LoadRows: the lifecycle dates go into
the customer rows as they are inserted); `demo_status_histories` adds them afterwards, set-based:
one insert and one update statement per batch (core.bulk).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from qianke.core.bulk import insert_rows, update_rows
from qianke.customers.choices import Status
from qianke.customers.models import Customer, StatusChange

if TYPE_CHECKING:
    from qianke.core.demo import LoadedCustomer, LoadRows

BATCH = 5_000
DORMANCY = dt.timedelta(days=365)
# The path through the lifecycle that ends in each status, after registration as potential.
PATHS = {
    Status.POTENTIAL: [],
    Status.NEW: [Status.NEW],
    Status.REPEAT: [Status.NEW, Status.REPEAT],
    Status.DORMANT: [Status.NEW, Status.REPEAT, Status.DORMANT],
    Status.LOST: [Status.LOST],
}
TRIGGERS = {Status.NEW: StatusChange.Trigger.PURCHASE, Status.REPEAT: StatusChange.Trigger.PURCHASE,
            Status.DORMANT: StatusChange.Trigger.JOB, Status.LOST: StatusChange.Trigger.MANUAL}
REASONS = {Status.DORMANT: "一年内无采购", Status.LOST: "客户选择了竞争对手"}


def _history(rng: random.Random, customer_id: int, created: dt.datetime, status: str, owner_id: int | None,
             now: dt.datetime) -> tuple[list[dict], dt.datetime, dt.datetime | None]:
    changes = [{"customer_id": customer_id, "from_status": "", "to_status": Status.POTENTIAL, "at": created,
                "actor_id": owner_id, "trigger": StatusChange.Trigger.CREATE, "reason": ""}]
    at, previous, last_purchase = created, Status.POTENTIAL, None
    path = PATHS.get(status, [])
    # A dormant customer stopped buying a dormancy period before it went dormant.
    end = now - DORMANCY if status == Status.DORMANT and now - DORMANCY > created else now
    for step in path:
        if step == Status.DORMANT and last_purchase is not None:
            at = min(last_purchase + DORMANCY, now)
        else:
            room = max((end - at).total_seconds(), 60)
            # Spend up to a third of the remaining time in each stage, so the chain ends before `end`.
            at = at + dt.timedelta(seconds=rng.uniform(0.05, 0.33) * room)
        changes.append({"customer_id": customer_id, "from_status": previous, "to_status": step, "at": at,
                        "actor_id": owner_id, "trigger": TRIGGERS[step], "reason": REASONS.get(step, "")})
        if TRIGGERS[step] == StatusChange.Trigger.PURCHASE:
            last_purchase = at
        previous = step
    return changes, at, last_purchase


def demo_status_histories(*, customer_ids: list[int], rng: random.Random, now: dt.datetime | None = None) -> int:
    """Write histories for the given customers that have none; returns the number of moves written."""
    now = now or timezone.now()
    written = 0
    for first in range(0, len(customer_ids), BATCH):
        chunk = customer_ids[first : first + BATCH]
        done = set(StatusChange.objects.filter(customer_id__in=chunk).values_list("customer_id", flat=True))
        # In id order, as the load draws them (demo_load_rows): the same histories either way.
        rows = (Customer.objects.filter(pk__in=chunk).exclude(pk__in=done).order_by("pk")
                .values_list("pk", "created_at", "status", "owner_id"))
        changes: list[dict] = []
        updates: list[tuple] = []
        for pk, created, status, owner_id in rows:
            history, since, last_purchase = _history(rng, pk, created, status, owner_id, now)
            changes += history
            updates.append((pk, since, last_purchase))
        with transaction.atomic():
            insert_rows(StatusChange, changes)
            update_rows(Customer, ["status_changed_at", "last_purchase_at"], updates)
        written += len(changes)
    return written


def demo_load_rows(*, seed: int = 1, now: dt.datetime) -> LoadRows | None:
    """The histories as rows of the core load (core.demo.LoadRows): the same draws, in the same order,
    as demo_generate's pass over the same customers after the load."""
    from qianke.core.demo import LoadRows

    rng = random.Random(seed)

    def rows(customers: list[LoadedCustomer]) -> dict[str, list[dict]]:
        changes: list[dict] = []
        for c in customers:
            history, c.status_changed_at, c.last_purchase_at = _history(rng, c.id, c.created_at, c.status,
                                                                        c.owner_id, now)
            changes += history
        return {"status changes": changes}

    return LoadRows(tables={"status changes": StatusChange}, rows=rows)


def demo_generate(*, seed: int = 1, customers_from: int = 1) -> dict[str, int]:
    """`qianke demo` hook: histories for every customer from id `customers_from` on that has none (one anti-join)."""
    ids = list(Customer.objects.filter(pk__gte=customers_from, status_changes__isnull=True)
               .order_by("pk").values_list("pk", flat=True))
    return {"status changes": demo_status_histories(customer_ids=ids, rng=random.Random(seed))}
