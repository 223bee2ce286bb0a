"""Plausible MAN qualifications and grades for demo customers, written in bulk.

`demo_qualifications(customer_ids=…, rng=random.Random(seed))` reads the customers in chunks
(one query each for their registration time, status, first contact and newest follow-up),
builds the rows in memory and inserts them set-based (core.bulk); customers that already have a
row are skipped. Grades and due dates come from the same rules as the services (qualification.grading).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from qianke.activities.models import Activity
from qianke.core.bulk import insert_rows
from qianke.customers.choices import Status
from qianke.customers.models import Contact, Customer
from qianke.qualification import grading, man
from qianke.qualification.models import GradingSettings, Qualification, is_qualified

MONEY = (("yes", 35), ("unknown", 45), ("no", 20))
AUTHORITY = (("yes", 30), ("unknown", 50), ("no", 20))
NEED = (("none", 20), ("latent", 35), ("explicit", 30), ("urgent", 15))
BUDGETS = (60_000, 80_000, 100_000, 120_000, 150_000, 180_000, 220_000, 300_000, 450_000)


def _pick(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def demo_qualifications(*, customer_ids: Iterable[int], rng: random.Random, today: dt.date | None = None,
                        batch_size: int = 5_000) -> int:
    """Create qualifications for the given customers that have none; returns the number created."""
    today = today or timezone.localdate()
    config = GradingSettings.load()
    ids = list(customer_ids)
    created = 0
    for first in range(0, len(ids), batch_size):
        chunk = ids[first : first + batch_size]
        existing = set(Qualification.objects.filter(customer_id__in=chunk).values_list("customer_id", flat=True))
        customers = list(Customer.objects.filter(pk__in=chunk).exclude(pk__in=existing)
                         .values_list("pk", "created_at", "status"))
        if not customers:
            continue
        pks = [c[0] for c in customers]
        contact_of = dict(Contact.objects.filter(customer_id__in=pks, archived_at__isnull=True)
                          .values("customer_id").annotate(first=Min("id")).values_list("customer_id", "first"))
        last_of = dict(Activity.objects.filter(customer_id__in=pks, archived_at__isnull=True)
                       .values("customer_id").annotate(last=Max("occurred_at")).values_list("customer_id", "last"))
        rows = []
        for pk, created_at, status in customers:
            money, authority, need = _pick(rng, MONEY), _pick(rng, AUTHORITY), _pick(rng, NEED)
            ordered = status != Status.POTENTIAL
            expected = None if rng.random() < 0.25 else today + dt.timedelta(days=rng.randint(-10, 420))
            last = last_of.get(pk)
            base = timezone.localdate(last or created_at)
            grade = grading.grade_for(ordered=ordered, expected=expected, today=today, config=config)
            stop = man.may_stop(money, authority, need) and rng.random() < 0.5
            rows.append({
                "customer_id": pk, "money": money, "authority": authority, "need": need,
                "budget": Decimal(rng.choice(BUDGETS)) if money != "no" and rng.random() < 0.6 else None,
                "authority_contact_id": contact_of.get(pk) if authority == "yes" else None,
                "is_qualified": is_qualified(money, authority, need), "ordered": ordered,
                "expected_purchase_date": expected, "grade": grade, "grade_computed_on": today,
                "last_follow_up_at": last, "cadence_base_on": base,
                "next_follow_up_due": grading.due_for(grade=grade, base=base, config=config),
                "stop_contacting": stop, "stop_reason": "无购买力、无决策权、无需求" if stop else "",
                "stopped_at": timezone.now() if stop else None,
            })
        with transaction.atomic():
            insert_rows(Qualification, rows)
        created += len(rows)
    return created


def demo_generate(*, seed: int = 1) -> dict[str, int]:
    """`qianke demo` hook: MAN answers and grades for every customer that has none."""
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    return {"qualifications": demo_qualifications(customer_ids=ids, rng=random.Random(seed))}
