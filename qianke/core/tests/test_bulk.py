"""Set-based inserts and updates (core.bulk) give the rows the ORM would, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from qianke.core.bulk import insert_rows, update_rows
from qianke.customers.models import Customer, StatusChange
from qianke.qualification.models import Qualification

pytestmark = pytest.mark.django_db


def test_inserted_rows_read_back_with_their_values_and_the_defaults(org, make_customer):
    customer = make_customer(org.rep)
    at = timezone.now() - dt.timedelta(days=3)
    written = insert_rows(StatusChange, [
        {"customer_id": customer.pk, "from_status": "", "to_status": "potential", "at": at, "actor_id": None},
        {"customer_id": customer.pk, "from_status": "potential", "to_status": "new", "at": at, "actor_id": org.rep.pk},
    ])
    rows = list(StatusChange.objects.filter(customer=customer, at=at).order_by("id")
                .values_list("from_status", "to_status", "actor_id", "trigger", "reason"))
    assert written == 2
    assert rows == [("", "potential", None, "manual", ""), ("potential", "new", org.rep.pk, "manual", "")]


def test_dates_decimals_and_booleans_are_stored_as_the_orm_stores_them(org, make_customer):
    customer = make_customer(org.rep)
    insert_rows(Qualification, [{"customer_id": customer.pk, "budget": Decimal("150000.50"), "ordered": True,
                                 "cadence_base_on": dt.date(2026, 11, 30), "last_follow_up_at": None}])
    q = Qualification.objects.get(customer=customer)
    assert (q.budget, q.ordered, q.cadence_base_on, q.last_follow_up_at, q.grade) == (
        Decimal("150000.50"), True, dt.date(2026, 11, 30), None, "D")


def test_a_column_without_value_or_default_is_refused_before_writing(org, make_customer):
    customer = make_customer(org.rep)
    with pytest.raises(ValueError, match="StatusChange.at"):
        insert_rows(StatusChange, [{"customer_id": customer.pk, "to_status": "new"}])
    assert not StatusChange.objects.filter(customer=customer, to_status="new").exists()


def test_updated_rows_get_their_own_values_and_the_others_keep_theirs(org, make_customer):
    a, b, untouched = (make_customer(org.rep) for _ in range(3))
    untouched_before = (untouched.status_changed_at, untouched.last_purchase_at)
    when = timezone.now().replace(microsecond=123456) - dt.timedelta(days=10)
    assert update_rows(Customer, ["status_changed_at", "last_purchase_at"],
                       [(a.pk, when, None), (b.pk, when + dt.timedelta(hours=1), when)]) == 2
    got = {c.pk: (c.status_changed_at, c.last_purchase_at) for c in Customer.objects.all()}
    assert got[a.pk] == (when, None) and got[b.pk] == (when + dt.timedelta(hours=1), when)
    assert got[untouched.pk] == untouched_before and untouched_before[1] is None


def test_a_key_that_is_not_a_column_is_refused_by_name_before_writing(org, make_customer):
    customer = make_customer(org.rep)
    at = timezone.now()
    with pytest.raises(ValueError, match=r"StatusChange: no column for reasn, to_stat\b"):
        insert_rows(StatusChange, [{"customer_id": customer.pk, "to_stat": "new", "reasn": "typo", "at": at}])
    with pytest.raises(ValueError, match="no column for customer "):  # the foreign key is customer_id
        insert_rows(StatusChange, [{"customer": customer.pk, "to_status": "new", "at": at}])
    assert not StatusChange.objects.filter(customer=customer).exclude(to_status="potential").exists()


def test_a_callable_default_is_called_for_every_row_but_timestamps_and_containers_once(org, make_customer,
                                                                                       monkeypatch):
    """A uuid- or code-like default must differ row by row; timezone.now gives the batch one instant (as
    auto_now does) and an empty dict or list is the same value for every row anyway."""
    from qianke.core.models import AuditLog

    customer = make_customer(org.rep)
    codes = iter(range(1, 100))
    field = StatusChange._meta.get_field("reason")
    monkeypatch.setattr(field, "default", lambda: f"R{next(codes)}")
    monkeypatch.delattr(field, "_get_default", raising=False)  # Django caches the default's getter
    at = timezone.now()
    insert_rows(StatusChange, [{"customer_id": customer.pk, "to_status": s, "at": at} for s in ("new", "repeat")])
    assert list(StatusChange.objects.filter(customer=customer, at=at).order_by("id")
                .values_list("to_status", "reason")) == [("new", "R1"), ("repeat", "R2")]

    insert_rows(AuditLog, [{"action": "update", "object_type": "customer", "object_id": customer.pk,
                            "object_repr": "x"} for _ in range(3)])
    logs = list(AuditLog.objects.filter(object_repr="x").values_list("created_at", "changes"))
    assert len(logs) == 3 and len({created for created, _ in logs}) == 1 and all(c == {} for _, c in logs)
