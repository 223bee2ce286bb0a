"""Reports on a small hand-computed data set: forecast, funnel/conversion/win rate/cycle/time in stage,
stalled detection, forecast snapshots and forecast versus actual."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from qianke.pipeline import reports
from qianke.pipeline.models import DealReason, ForecastSnapshot
from qianke.pipeline.services import deal_lose, deal_move, deal_update, deal_win

DAY = dt.timedelta(days=1)


def lost_reason():
    return DealReason.objects.get(semantic="lost", name="价格偏高")


@pytest.fixture
def forecast_set(org, make_deal, stage, process):
    """Open deals this month (M), M+1, M+2; plus a lost and a won deal (never in the open forecast)."""
    m = reports.month_start(timezone.localdate())
    m1, m2 = reports.add_months(m, 1), reports.add_months(m, 2)
    make_deal(org.rep, amount="100000", expected_close_date=m + dt.timedelta(days=27))  # 10 %
    make_deal(org.rep, amount="200000", expected_close_date=m1, probability=50)
    d3 = make_deal(org.rep2, amount="300000", expected_close_date=m)
    deal_move(actor=org.manager, deal_id=d3.pk, stage_id=stage(d3.process, "立项").pk, override_reason="t")  # 25 %
    make_deal(org.rep_north, amount="50000", expected_close_date=m2)  # 10 %
    d5 = make_deal(org.rep, amount="999999", expected_close_date=m)
    deal_lose(actor=org.rep, deal_id=d5.pk, reason_id=lost_reason().pk)
    d6 = make_deal(org.rep, amount="70000", expected_close_date=m)
    deal_win(actor=org.manager, deal_id=d6.pk, override_reason="t")
    make_deal(org.rep, amount="40000", expected_close_date=reports.add_months(m, 7))  # beyond six months
    return m, m1, m2


def test_forecast_sums_weighted_amounts_per_month_owner_and_team(org, forecast_set):
    m, m1, m2 = forecast_set
    f = reports.forecast(user=org.gm)
    assert f.months[:3] == [m, m1, m2] and len(f.months) == 6
    assert [(c.deals, c.amount, c.weighted) for c in f.totals[:3]] == [
        (2, Decimal("400000.00"), Decimal("85000.00")),
        (1, Decimal("200000.00"), Decimal("100000.00")),
        (1, Decimal("50000.00"), Decimal("5000.00"))]
    assert (f.total.deals, f.total.amount, f.total.weighted) == (4, Decimal("650000.00"), Decimal("190000.00"))
    owners = {r.label: r.total.weighted for r in f.by_owner}
    assert owners == {"rep_east": Decimal("110000.00"), "rep_east2": Decimal("75000.00"),
                      "rep_north": Decimal("5000.00")}
    teams = {r.label: r.total.weighted for r in f.by_team}
    assert teams == {"华东组": Decimal("185000.00"), "华北组": Decimal("5000.00")}
    assert f.won[0] == Decimal("70000.00") and sum(f.won[1:]) == 0


def test_forecast_follows_visibility(org, forecast_set):
    assert reports.forecast(user=org.manager).total.weighted == Decimal("185000.00")
    assert reports.forecast(user=org.rep).total.weighted == Decimal("110000.00")
    assert reports.forecast(user=org.rep_north).total.weighted == Decimal("5000.00")


def test_forecast_counts_open_deals_past_their_close_date(org, make_deal):
    make_deal(org.rep, amount="10000", expected_close_date=timezone.localdate() - 3 * DAY)
    f = reports.forecast(user=org.rep)
    assert (f.overdue.deals, f.overdue.amount, f.overdue.weighted) == (1, Decimal("10000.00"), Decimal("1000.00"))


@pytest.fixture
def funnel_set(org, make_deal, stage, process):
    """Five deals of the sales process opened ten days ago (see the module doc of the test)."""
    sales = process("big_account_sales")
    now = timezone.now()
    t0 = now - 10 * DAY

    def move(deal, name, at):
        return deal_move(actor=org.manager, deal_id=deal.pk, stage_id=stage(sales, name).pk, override_reason="t",
                         at=at)

    make_deal(org.rep, at=t0)  # A: stays in 客户开发
    b = make_deal(org.rep, at=t0)
    move(b, "立项", now - 8 * DAY)  # 客户开发 2 days
    c = make_deal(org.rep, at=t0)
    move(c, "提案", now - 6 * DAY)  # 客户开发 4 days
    move(c, "客户开发", now - 5 * DAY)  # 提案 1 day; furthest stays 提案
    d = make_deal(org.rep, at=t0)
    deal_win(actor=org.manager, deal_id=d.pk, override_reason="t", at=now - 1 * DAY)  # 客户开发 9 days
    e = make_deal(org.rep, at=t0)
    move(e, "立项", now - 9 * DAY)  # 客户开发 1 day
    deal_lose(actor=org.rep, deal_id=e.pk, reason_id=lost_reason().pk, at=now - 3 * DAY)  # 立项 6 days
    return sales


def test_funnel_reached_conversion_win_rate_cycle_and_time_in_stage(org, funnel_set):
    f = reports.funnel(user=org.gm, process=funnel_set)
    names = [s.stage.name for s in f.steps]
    assert names == ["客户开发", "立项", "提案", "招投标", "商务谈判", "工程实施", "赢单"]
    assert f.cohort == 5 and f.open == 3
    assert [s.reached for s in f.steps] == [5, 4, 2, 1, 1, 1, 1]
    assert [s.conversion for s in f.steps] == [0.8, 0.5, 0.5, 1.0, 1.0, 1.0, None]
    assert (f.won, f.lost, f.win_rate) == (1, 1, 0.5)
    assert f.avg_cycle_days == 9.0
    days = {s.stage.name: (s.avg_days_in_stage, s.stays) for s in f.steps}
    assert days["客户开发"] == (4.0, 4)  # (2 + 4 + 9 + 1) / 4
    assert days["立项"] == (6.0, 1)  # B is still there
    assert days["提案"] == (1.0, 1)
    assert days["招投标"] == (None, 0)


def test_funnel_period_and_visibility(org, funnel_set, make_deal):
    make_deal(org.rep_north)  # opened now, by someone the east manager cannot see
    assert reports.funnel(user=org.manager, process=funnel_set).cohort == 5
    assert reports.funnel(user=org.gm, process=funnel_set).cohort == 6
    today = timezone.localdate()
    later = reports.funnel(user=org.gm, process=funnel_set, date_from=today - 2 * DAY, date_to=today)
    assert (later.cohort, later.won, later.lost, later.win_rate) == (1, 1, 0, 1.0)


def test_stalled_detects_overdue_stage_and_next_step(org, make_deal, stage):
    now = timezone.now()
    today = timezone.localdate()
    old = make_deal(org.rep, name="超期商机", at=now - 31 * DAY)  # 客户开发: normal 30 days
    make_deal(org.rep, name="正常商机", at=now - 29 * DAY, next_step_due=today + DAY)
    late_step = make_deal(org.rep, name="下一步逾期", at=now - 2 * DAY, next_step_due=today - 2 * DAY)
    lost = make_deal(org.rep, name="已输单", at=now - 60 * DAY)
    deal_lose(actor=org.rep, deal_id=lost.pk, reason_id=lost_reason().pk)
    won = make_deal(org.rep, name="已赢单", at=now - 60 * DAY, next_step_due=today - 10 * DAY)
    deal_win(actor=org.manager, deal_id=won.pk, override_reason="t")
    page = reports.stalled(user=org.rep)
    assert [r.deal.name for r in page.items] == ["超期商机", "下一步逾期"] and page.count == 2
    first, second = page.items
    assert (first.days_in_stage, first.days_over, first.next_step_overdue_days) == (31, 1, None)
    assert (second.days_over, second.next_step_overdue_days) == (None, 2)
    # A move resets the time in stage; a stage without a normal duration never stalls by time.
    deal_update(actor=org.rep, deal_id=old.pk, data={"next_step_due": None})
    deal_move(actor=org.manager, deal_id=old.pk, stage_id=stage(old.process, "立项").pk, override_reason="t")
    assert [r.deal.name for r in reports.stalled(user=org.rep).items] == ["下一步逾期"]
    assert reports.stalled(user=org.rep_north).count == 0
    assert reports.stalled(user=org.manager).count == 1
    assert reports.stalled_queryset(user=org.rep, process_id=late_step.process_id).count() == 1


def test_snapshot_is_weekly_and_idempotent_and_feeds_forecast_vs_actual(org, forecast_set):
    m, m1, _ = forecast_set
    today = timezone.localdate()
    written = reports.snapshot_forecast(today=today)
    assert written == ForecastSnapshot.objects.count() == 5  # (month, owner) pairs within twelve months
    assert reports.snapshot_forecast(today=today) == 0
    assert reports.snapshot_forecast(today=today + 6 * DAY) == 0
    assert reports.snapshot_forecast(today=today + 7 * DAY) == 5  # next week: a new photograph
    # A snapshot taken before this month began is the one compared for this month.
    ForecastSnapshot.objects.create(taken_on=m - DAY, month=m, owner=org.rep, team=org.east, deals=1,
                                    amount=Decimal("500000"), weighted=Decimal("123000"))
    rows = reports.forecast_vs_actual(user=org.gm, months=2)
    assert [r.month for r in rows] == [reports.add_months(m, -1), m]
    assert rows[0].forecast_weighted is None and rows[0].actual == 0
    assert rows[1].taken_on == m - DAY and rows[1].forecast_weighted == Decimal("123000.00")
    assert rows[1].actual == Decimal("70000.00")
    mine = reports.forecast_vs_actual(user=org.rep_north, months=1)[0]
    assert mine.forecast_weighted is None and mine.actual == 0


def test_the_job_is_registered(org):
    from qianke.jobs.registry import get_job

    job = get_job("pipeline.forecast_snapshot")
    assert job is not None
    assert job.func(today=timezone.localdate()) == {"rows": 0}


def test_reports_leave_out_archived_deals_and_customers_for_every_role(org, make_deal, make_customer):
    from django.utils import timezone as tz

    from qianke.customers.services import customer_archive
    from qianke.pipeline.services import deal_archive

    close = tz.localdate()
    kept = make_deal(org.rep, amount="1000", expected_close_date=close)
    archived_deal = make_deal(org.rep, amount="2000", expected_close_date=close)
    deal_archive(actor=org.rep, deal_id=archived_deal.pk)
    gone_customer = make_customer(org.rep)
    make_deal(org.rep, customer=gone_customer, amount="4000", expected_close_date=close)
    customer_archive(actor=org.admin, customer_id=gone_customer.pk)
    for user in (org.gm, org.manager, org.rep):
        assert set(reports.visible_deals(user).values_list("pk", flat=True)) == {kept.pk}
        assert reports.forecast(user=user).total.amount == Decimal("1000.00")
        assert reports.funnel(user=user, process=kept.process).cohort == 1
