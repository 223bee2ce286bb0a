"""The daily job recomputes grades and due dates set-wise, creates missing rows, and is idempotent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from qianke.customers.models import Customer
from qianke.jobs.registry import get_job
from qianke.qualification import grading
from qianke.qualification.jobs import recompute_grades
from qianke.qualification.models import GradingSettings, Qualification
from qianke.qualification.services import grading_settings_update, qualification_update

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def test_job_is_registered_daily():
    job = get_job("qualification.grades")
    assert job is not None and job.func is recompute_grades
    assert job.schedule.at == dt.time(2, 0)


def test_job_creates_missing_rows_for_potential_customers_only(org, make_customer):
    potential = [make_customer(org.rep) for _ in range(3)]
    real = make_customer(org.rep)
    Customer.objects.filter(pk=real.pk).update(status="new")
    today = timezone.localdate()
    counts = recompute_grades(today=today)
    assert counts["created"] == 3
    rows = Qualification.objects.filter(customer__in=potential)
    assert rows.count() == 3 and not Qualification.objects.filter(customer=real).exists()
    for q in rows:
        assert (q.money, q.authority, q.need, q.grade) == ("unknown", "unknown", "none", "D")
        assert q.cadence_base_on == timezone.localdate(q.customer.created_at)
        assert q.next_follow_up_due == q.cadence_base_on + dt.timedelta(days=30)
    assert recompute_grades(today=today) == {"created": 0, "changed": 0}


def test_job_follows_the_calendar_and_matches_the_python_rule(org, make_customer):
    today = timezone.localdate()
    customers = [make_customer(org.rep) for _ in range(6)]
    dates = [None, today + dt.timedelta(days=10), today + dt.timedelta(days=45), today + dt.timedelta(days=120),
             today + dt.timedelta(days=200), today + dt.timedelta(days=35)]
    for customer, date in zip(customers, dates, strict=True):
        qualification_update(actor=org.rep, customer_id=customer.pk, data={"expected_purchase_date": date})
    qualification_update(actor=org.rep, customer_id=customers[0].pk, data={"ordered": True})
    assert recompute_grades(today=today) == {"created": 0, "changed": 0}

    later = today + dt.timedelta(days=20)  # 45 → 25 days (A), 120 → 100 (C), 200 → 180 (C), 35 → 15 (A)
    with CaptureQueriesContext(connection) as queries:
        counts = recompute_grades(today=later)
    assert counts == {"created": 0, "changed": 3}
    assert len([q for q in queries.captured_queries if "UPDATE" in q["sql"]]) == 1
    config = GradingSettings.load()
    for q in Qualification.objects.all():
        expected = grading.grade_for(ordered=q.ordered, expected=q.expected_purchase_date, today=later,
                                     config=config)
        assert q.grade == expected
        assert q.next_follow_up_due == grading.due_for(grade=expected, base=q.cadence_base_on, config=config)
    assert dict(Qualification.objects.values_list("customer_id", "grade")) == {
        customers[0].pk: "O", customers[1].pk: "A", customers[2].pk: "A", customers[3].pk: "C",
        customers[4].pk: "C", customers[5].pk: "A"}
    assert Qualification.objects.get(customer=customers[2]).grade_computed_on == later
    assert recompute_grades(today=later) == {"created": 0, "changed": 0}


def test_cadence_settings_apply_at_the_next_run(org, make_customer):
    customer = make_customer(org.rep)
    today = timezone.localdate()
    q = qualification_update(actor=org.rep, customer_id=customer.pk, data={"ordered": True})
    assert q.next_follow_up_due is None
    grading_settings_update(actor=org.admin, data={"cadence_o_days": 90, "cadence_d_days": 10})
    other = make_customer(org.rep)
    assert recompute_grades(today=today) == {"created": 1, "changed": 2}
    assert Qualification.objects.get(customer=customer).next_follow_up_due == q.cadence_base_on + dt.timedelta(90)
    fresh = Qualification.objects.get(customer=other)
    assert fresh.next_follow_up_due == fresh.cadence_base_on + dt.timedelta(days=10)
    assert recompute_grades(today=today) == {"created": 0, "changed": 0}
