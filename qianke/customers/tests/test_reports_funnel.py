"""The conversion funnel on a small hand-computed data set: cohort, counts, rates, average and median days,
groups, visibility and who may see reports."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from qianke.core.errors import PermissionDenied, ValidationFailed
from qianke.customers.lifecycle import customer_transition
from qianke.customers.models import Customer, StatusChange
from qianke.customers.reports import lifecycle_funnel

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

PERIOD = {"date_from": dt.date(2025, 1, 1), "date_to": dt.date(2025, 3, 31)}


def day(month: int, d: int, year: int = 2025) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, month, d, 12, 0))


@pytest.fixture
def data(org, make_customer):
    """
    A  rep        registered 01-10, new +10 days, repeat +30 days
    B  rep        registered 02-01, new +20 days
    C  rep2       registered 03-01, lost 03-11
    D  rep_north  registered 01-05, new +40 days, repeat +10 days
    E  rep_north  registered 2024-12-20 (before the period), new 2025-01-10: not in the cohort
    F  rep_north  registered 04-02 (after the period): not in the cohort
    G  rep        lost since 2024-06-01, won back 03-15 (enters potential), new 04-14 (+30, after the period)
    """

    def registered(actor, at, **extra):
        customer = make_customer(actor, **extra)
        Customer.objects.filter(pk=customer.pk).update(created_at=at, status_changed_at=at)
        StatusChange.objects.filter(customer=customer).update(at=at)
        return customer

    def move(customer, to_status, at, actor=None):
        customer_transition(actor=actor or org.admin, customer_id=customer.pk, to_status=to_status,
                            reason="测试", at=at)

    a = registered(org.rep, day(1, 10))
    move(a, "new", day(1, 20))
    move(a, "repeat", day(2, 19))
    b = registered(org.rep, day(2, 1))
    move(b, "new", day(2, 21))
    c = registered(org.rep2, day(3, 1))
    move(c, "lost", day(3, 11))
    d = registered(org.rep_north, day(1, 5))
    move(d, "new", day(2, 14))
    move(d, "repeat", day(2, 24))
    e = registered(org.rep_north, day(12, 20, 2024))
    move(e, "new", day(1, 10))
    registered(org.rep_north, day(4, 2))
    g = registered(org.rep, day(6, 1, 2024), status="lost")
    move(g, "potential", day(3, 15))
    move(g, "new", day(4, 14))
    return org


def as_tuple(row):
    return (row.entered, row.new, row.repeat, row.lost, row.rate_new, row.rate_repeat, row.rate_lost,
            row.avg_days_to_new, row.median_days_to_new, row.avg_days_to_repeat, row.median_days_to_repeat)


def test_the_total_counts_the_cohort_and_its_later_stages(data):
    funnel = lifecycle_funnel(user=data.gm, group_by="none", **PERIOD)
    assert funnel.rows == []
    # Cohort A B C D G; new A B D G (10, 20, 40, 30 days); repeat A D (30, 10 days); lost C.
    assert as_tuple(funnel.total) == (5, 4, 2, 1, 0.8, 0.5, 0.2, 25.0, 25.0, 20.0, 20.0)


def test_by_team(data):
    funnel = lifecycle_funnel(user=data.gm, group_by="team", **PERIOD)
    rows = {r.label: as_tuple(r) for r in funnel.rows}
    assert rows == {
        "华东组": (4, 3, 1, 1, 0.75, 0.3333, 0.25, 20.0, 20.0, 30.0, 30.0),
        "华北组": (1, 1, 1, 0, 1.0, 1.0, 0.0, 40.0, 40.0, 10.0, 10.0),
    }
    assert [r.label for r in funnel.rows] == ["华东组", "华北组"]  # biggest cohort first
    assert funnel.total.entered == 5


def test_by_owner(data):
    funnel = lifecycle_funnel(user=data.gm, group_by="owner", **PERIOD)
    rows = {r.key: (r.entered, r.new, r.repeat, r.lost, r.median_days_to_new) for r in funnel.rows}
    assert rows == {data.rep.pk: (3, 3, 1, 0, 20.0), data.rep2.pk: (1, 0, 0, 1, None),
                    data.rep_north.pk: (1, 1, 1, 0, 40.0)}


def test_a_manager_sees_only_the_team_below(data):
    funnel = lifecycle_funnel(user=data.manager, group_by="team", **PERIOD)
    assert [(r.label, r.entered) for r in funnel.rows] == [("华东组", 4)]
    assert funnel.total.entered == 4


def test_a_customer_entering_potential_twice_in_the_period_counts_once(data, make_customer):
    h = make_customer(data.rep)
    for at, status in ((day(1, 2), None), (day(1, 3), "lost"), (day(1, 4), "potential")):
        if status is None:
            Customer.objects.filter(pk=h.pk).update(created_at=at, status_changed_at=at)
            StatusChange.objects.filter(customer=h).update(at=at)
        else:
            customer_transition(actor=data.rep, customer_id=h.pk, to_status=status, reason="x", at=at)
    total = lifecycle_funnel(user=data.gm, **PERIOD).total
    assert (total.entered, total.lost) == (6, 2)


def test_an_empty_period_has_no_rates(data):
    total = lifecycle_funnel(user=data.gm, date_from=dt.date(2020, 1, 1), date_to=dt.date(2020, 12, 31)).total
    assert as_tuple(total) == (0, 0, 0, 0, None, None, None, None, None, None, None)


def test_reps_do_not_see_reports_and_bad_parameters_are_field_errors(org):
    with pytest.raises(PermissionDenied):
        lifecycle_funnel(user=org.rep, **PERIOD)
    with pytest.raises(ValidationFailed) as exc:
        lifecycle_funnel(user=org.gm, group_by="colour", **PERIOD)
    assert list(exc.value.fields) == ["group_by"]
    with pytest.raises(ValidationFailed) as exc:
        lifecycle_funnel(user=org.gm, date_from=dt.date(2025, 2, 1), date_to=dt.date(2025, 1, 1))
    assert list(exc.value.fields) == ["date_from"]


def test_the_funnel_takes_a_bounded_number_of_queries(data, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        lifecycle_funnel(user=data.gm, group_by="owner", **PERIOD)


def test_by_source_when_the_leads_app_records_origins(data):
    from django.apps import apps

    if not apps.is_installed("qianke.leads"):
        pytest.skip("the leads app (customer sources) is not installed")
    source_model = apps.get_model("leads", "Source")
    origin_model = apps.get_model("leads", "CustomerOrigin")
    exhibition = source_model.objects.create(name="展会测试")
    for customer in Customer.objects.filter(owner=data.rep):  # A, B, G
        origin_model.objects.create(customer=customer, source=exhibition)
    funnel = lifecycle_funnel(user=data.gm, group_by="source", **PERIOD)
    rows = {r.label: (r.entered, r.new, r.repeat) for r in funnel.rows}
    assert rows["展会测试"] == (3, 3, 1)
    assert sum(r.entered for r in funnel.rows) == 5  # the rest under "(none)"
