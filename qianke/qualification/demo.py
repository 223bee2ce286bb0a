"""Plausible MAN qualifications and grades for demo customers, written in bulk.

`demo_qualifications(customer_ids=…, rng=random.Random(seed))` reads the customers in chunks
(one query each for their registration time, status, first contact and newest follow-up),
builds the rows in memory and inserts them set-based (core.bulk); customers that already have a
row are skipped. Grades and due dates come from the same rules as the services (qualification.grading).
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from qianke.activities.models import Activity
from qianke.core.bulk import insert_rows
from qianke.customers.choices import Status
from qianke.customers.models import Contact, Customer
from qianke.qualification import grading, man
from qianke.qualification.models import GradingSettings, Qualification, is_qualified

if TYPE_CHECKING:
    from qianke.core.demo import LoadedCustomer, LoadRows

MONEY = (("yes", 35), ("unknown", 45), ("no", 20))
AUTHORITY = (("yes", 30), ("unknown", 50), ("no", 20))
NEED = (("none", 20), ("latent", 35), ("explicit", 30), ("urgent", 15))
BUDGETS = (60_000, 80_000, 100_000, 120_000, 150_000, 180_000, 220_000, 300_000, 450_000)


def _cumulative(options: tuple[tuple[str, int], ...]) -> tuple[list[str], list[int]]:
    return [o for o, _ in options], list(itertools.accumulate(w for _, w in options))


class _Qualifications:
    """The qualification draws, one customer after another in id order. The grade and the due date
    depend on a few hundred distinct inputs (expected date, cadence base), so each is computed once
    through the grading rules, not once a customer."""

    def __init__(self, rng: random.Random, today: dt.date, now: dt.datetime) -> None:
        self.rng, self.today, self.now = rng, today, now
        self.config = GradingSettings.load()
        # rng.choices(…, cum_weights=…) draws as rng.choices(…, weights=…) does, without summing each time.
        self.money, self.authority, self.need = _cumulative(MONEY), _cumulative(AUTHORITY), _cumulative(NEED)
        self.grades: dict[tuple, str] = {}
        self.dues: dict[tuple, dt.date | None] = {}
        self.tz = timezone.get_current_timezone()

    def row(self, pk: int, created_at: dt.datetime, status: str, contact: int | None,
            last: dt.datetime | None) -> dict:
        rng, today, config = self.rng, self.today, self.config
        money = rng.choices(self.money[0], cum_weights=self.money[1])[0]
        authority = rng.choices(self.authority[0], cum_weights=self.authority[1])[0]
        need = rng.choices(self.need[0], cum_weights=self.need[1])[0]
        ordered = status != Status.POTENTIAL
        expected = None if rng.random() < 0.25 else today + dt.timedelta(days=rng.randint(-10, 420))
        base = (last or created_at).astimezone(self.tz).date()  # timezone.localdate
        grade = self.grades.get((ordered, expected))
        if grade is None:
            grade = self.grades[ordered, expected] = grading.grade_for(ordered=ordered, expected=expected,
                                                                       today=today, config=config)
        due = self.dues.get((grade, base), today)  # today: not yet computed (None is a due date: none)
        if due is today:
            due = self.dues[grade, base] = grading.due_for(grade=grade, base=base, config=config)
        stop = man.may_stop(money, authority, need) and rng.random() < 0.5
        return {
            "customer_id": pk, "money": money, "authority": authority, "need": need,
            "budget": Decimal(rng.choice(BUDGETS)) if money != "no" and rng.random() < 0.6 else None,
            "authority_contact_id": contact if authority == "yes" else None,
            "is_qualified": is_qualified(money, authority, need), "ordered": ordered,
            "expected_purchase_date": expected, "grade": grade, "grade_computed_on": today,
            "last_follow_up_at": last, "cadence_base_on": base, "next_follow_up_due": due,
            "stop_contacting": stop, "stop_reason": "无购买力、无决策权、无需求" if stop else "",
            "stopped_at": self.now if stop else None,
        }


def demo_qualifications(*, customer_ids: Iterable[int], rng: random.Random, today: dt.date | None = None,
                        batch_size: int = 5_000) -> int:
    """Create qualifications for the given customers that have none; returns the number created."""
    today = today or timezone.localdate()
    draws = _Qualifications(rng, today, timezone.now())
    ids = list(customer_ids)
    created = 0
    for first in range(0, len(ids), batch_size):
        chunk = ids[first : first + batch_size]
        existing = set(Qualification.objects.filter(customer_id__in=chunk).values_list("customer_id", flat=True))
        # In id order, as the load draws them (demo_load_rows): the same rows either way.
        customers = list(Customer.objects.filter(pk__in=chunk).exclude(pk__in=existing).order_by("pk")
                         .values_list("pk", "created_at", "status"))
        if not customers:
            continue
        pks = [c[0] for c in customers]
        contact_of = dict(Contact.objects.filter(customer_id__in=pks, archived_at__isnull=True)
                          .values("customer_id").annotate(first=Min("id")).values_list("customer_id", "first"))
        last_of = dict(Activity.objects.filter(customer_id__in=pks, archived_at__isnull=True)
                       .values("customer_id").annotate(last=Max("occurred_at")).values_list("customer_id", "last"))
        rows = [draws.row(pk, created_at, status, contact_of.get(pk), last_of.get(pk))
                for pk, created_at, status in customers]
        with transaction.atomic():
            insert_rows(Qualification, rows)
        created += len(rows)
    return created


def demo_load_rows(*, seed: int = 1, now: dt.datetime) -> LoadRows | None:
    """The qualifications as rows of the core load (core.demo.LoadRows): the same draws, in the same
    order, as demo_generate's pass over the same customers after the load (the load's customers have
    their first contact and last follow-up in hand: no queries)."""
    from qianke.core.demo import LoadRows

    draws = _Qualifications(random.Random(seed), timezone.localdate(now), now)

    def rows(customers: list[LoadedCustomer]) -> dict[str, list[dict]]:
        batch = []
        for c in customers:
            row = draws.row(c.id, c.created_at, c.status, c.first_contact_id, c.last_activity_at)
            row["created_at"] = row["updated_at"] = now
            batch.append(row)
        return {"qualifications": batch}

    return LoadRows(tables={"qualifications": Qualification}, rows=rows)


def demo_generate(*, seed: int = 1, customers_from: int = 1) -> dict[str, int]:
    """`qianke demo` hook: MAN answers and grades for every customer from id `customers_from` on that has
    none (one anti-join)."""
    ids = list(Customer.objects.filter(pk__gte=customers_from, qualification__isnull=True)
               .order_by("pk").values_list("pk", flat=True))
    return {"qualifications": demo_qualifications(customer_ids=ids, rng=random.Random(seed))}
