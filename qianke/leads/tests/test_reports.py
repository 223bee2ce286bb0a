"""The source-effectiveness report on a small hand-computed data set."""

import datetime as dt

import pytest
from django.apps import apps
from django.utils import timezone

from qianke.customers.models import Customer
from qianke.leads.selectors import conversion_time_available, qualification_available, source_report
from qianke.leads.services import origin_set

TZ = timezone.get_current_timezone()


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=TZ)


@pytest.fixture
def data(org, make_customer, src):
    """Five customers of the rep registered in March 2026, one outside the period, one of another rep.

    来店: A (new, bought after 4 days), B (potential), C (repeat, after 10 days)
    来电: D (dormant, after 7 days)
    no source: E (potential)
    out of period: F (来店, new);  rep_north's G (来店, new)
    """
    rows = {}
    spec = [("A", org.rep, "来店", "new", 1, 4), ("B", org.rep, "来店", "potential", 2, None),
            ("C", org.rep, "来店", "repeat", 3, 10), ("D", org.rep, "来电", "dormant", 5, 7),
            ("E", org.rep, None, "potential", 6, None)]
    out = [("F", org.rep, "来店", "new", None, 1), ("G", org.rep_north, "来店", "new", 4, 2)]
    StatusChange = apps.get_model("customers", "StatusChange") if conversion_time_available() else None
    for name, owner, source, status, day, days in spec + out:
        c = make_customer(owner, f"客户{name}")
        if source:
            origin_set(actor=owner, customer_id=c.pk, data={"source": src(source).pk})
        created = at(day) if day else dt.datetime(2025, 12, 1, tzinfo=TZ)
        Customer.objects.filter(pk=c.pk).update(created_at=created, status=status)
        if StatusChange and days is not None:
            StatusChange.objects.create(customer=c, from_status="potential", to_status="new",
                                        at=created + dt.timedelta(days=days))
        rows[name] = c
    return rows


def _row(report, name):
    for group in report.groups:
        if group.total.name == name:
            return group.total
        for row in group.rows:
            if row.name == name:
                return row
    raise AssertionError(name)


def test_counts_conversion_and_rollup(org, data):
    report = source_report(user=org.rep, date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 31))
    shop, phone, showroom = _row(report, "来店"), _row(report, "来电"), _row(report, "展厅客源")
    assert (shop.count, shop.converted) == (3, 2)
    assert shop.conversion_rate == pytest.approx(2 / 3)
    assert (phone.count, phone.converted) == (1, 1)
    assert (showroom.count, showroom.converted) == (4, 3)
    assert _row(report, "外拓客源").count == 0 and _row(report, "外拓客源").conversion_rate is None
    assert (report.unrecorded.count, report.unrecorded.converted) == (1, 0)
    assert (report.total.count, report.total.converted) == (5, 3)
    assert report.has_value_won is False
    if conversion_time_available():
        assert report.has_median_days
        assert shop.median_days == 7.0  # median of 4 and 10
        assert phone.median_days == 7.0
        assert showroom.median_days == 7.0  # 4, 7, 10
        assert report.unrecorded.median_days is None
    if qualification_available():
        assert shop.qualified == 0
    else:
        assert shop.qualified is None and not report.has_qualified


def test_visibility_and_period(org, data):
    manager = source_report(user=org.gm, date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 31))
    assert _row(manager, "来店").count == 4  # G of the north rep too
    day = source_report(user=org.rep, date_from=dt.date(2026, 3, 2), date_to=dt.date(2026, 3, 2))
    assert day.total.count == 1 and _row(day, "来店").count == 1
    swapped = source_report(user=org.rep, date_from=dt.date(2026, 3, 31), date_to=dt.date(2026, 3, 1))
    assert swapped.total.count == 5


def test_report_runs_in_a_fixed_number_of_queries(org, data, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        source_report(user=org.rep, date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 31))
