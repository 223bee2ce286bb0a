"""Pipeline reports: weighted forecast, funnel with stage-to-stage conversion, win rate, cycle length,
time in stage, stalled deals, forecast versus actual.

Every report is a handful of set-based queries (GROUP BY in the database, no Python loop per deal) over
`Deal.objects.visible_to(user)`, so a rep sees his own pipeline, a manager his teams', a director all.
Reports branch on a stage's semantic type and order, never on its name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    Avg,
    Count,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from qianke.accounts.models import Role, Team, User
from qianke.customers.models import Customer
from qianke.customers.selectors import COUNT_CAP, Page, clamp_limit
from qianke.pipeline.models import Deal, DealStageChange, ForecastSnapshot, Process, Semantic, Stage

ZERO = Decimal("0.00")
STAY_WINDOW_DAYS = 90
HIDDEN_LIMIT = 5000
MONEY = DecimalField(max_digits=20, decimal_places=2)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, n: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def visible_deals(user: User) -> QuerySet:
    """The deals the user may see, as `Deal.objects.visible_to(user)`, written for big aggregates: for users who
    see every customer, "not archived, customer not archived" leaves out the (few) archived customers by id
    instead of joining every deal with its customer."""
    if user.sees_all_customers and user.is_active:
        archived = list(Customer.objects.filter(archived_at__isnull=False).order_by()
                        .values_list("pk", flat=True)[:HIDDEN_LIMIT + 1])
        if len(archived) <= HIDDEN_LIMIT:
            live = Deal.objects.filter(archived_at__isnull=True)
            return live.exclude(customer_id__in=archived) if archived else live
    return Deal.objects.visible_to(user)


def _weighted_expr():
    return ExpressionWrapper(Coalesce(F("amount"), Value(ZERO)) * F("probability") / Value(100), output_field=MONEY)


# ---------------------------------------------------------------------------------------------
# Weighted forecast by expected close month
# ---------------------------------------------------------------------------------------------


@dataclass
class ForecastCell:
    deals: int = 0
    amount: Decimal = ZERO
    weighted: Decimal = ZERO

    def add(self, deals: int, amount: Decimal, weighted: Decimal) -> None:
        self.deals += deals
        self.amount += amount
        self.weighted += weighted


@dataclass
class ForecastRow:
    key: int | None
    label: str
    team: str
    cells: list[ForecastCell]
    total: ForecastCell


@dataclass
class Forecast:
    months: list[dt.date]
    by_owner: list[ForecastRow]
    by_team: list[ForecastRow]
    totals: list[ForecastCell]
    total: ForecastCell
    won: list[Decimal]  # amount won per month (closed in it), for the chart
    overdue: ForecastCell  # open deals whose expected close date has already passed


def forecast(*, user: User, start: dt.date | None = None, months: int = 6, process_id: int | None = None) -> Forecast:
    """Open deals by expected close month (amount, probability-weighted amount), per owner and per team."""
    start = month_start(start or timezone.localdate())
    months = max(1, min(months, 24))
    month_list = [add_months(start, i) for i in range(months)]
    end = add_months(start, months)
    base = visible_deals(user)
    if process_id:
        base = base.filter(process_id=process_id)
    open_deals = base.filter(semantic=Semantic.OPEN)
    rows = (open_deals.filter(expected_close_date__gte=start, expected_close_date__lt=end)
            .annotate(month=TruncMonth("expected_close_date")).order_by()
            .values("month", "owner_id", "team_id")
            .annotate(n=Count("probability"), total=Sum(Coalesce(F("amount"), Value(ZERO))),
                      weighted=Sum(_weighted_expr())))
    index = {m: i for i, m in enumerate(month_list)}
    owners: dict[int | None, ForecastRow] = {}
    teams: dict[int | None, ForecastRow] = {}
    totals = [ForecastCell() for _ in month_list]
    total = ForecastCell()
    rows = list(rows)
    users = {u.pk: u for u in User.objects.filter(pk__in={r["owner_id"] for r in rows if r["owner_id"]})
             .select_related("team")}
    team_names = dict(Team.objects.filter(pk__in={r["team_id"] for r in rows if r["team_id"]})
                      .values_list("pk", "name"))
    for r in rows:
        month = r["month"].date() if isinstance(r["month"], dt.datetime) else r["month"]
        i = index[month]
        amount, weighted = r["total"] or ZERO, (r["weighted"] or ZERO)
        owner = users.get(r["owner_id"])
        o = owners.setdefault(r["owner_id"], ForecastRow(
            r["owner_id"], str(owner) if owner else "—", team_names.get(r["team_id"], ""),
            [ForecastCell() for _ in month_list], ForecastCell()))
        t = teams.setdefault(r["team_id"], ForecastRow(
            r["team_id"], team_names.get(r["team_id"], "—"), "", [ForecastCell() for _ in month_list], ForecastCell()))
        for row in (o, t):
            row.cells[i].add(r["n"], amount, weighted)
            row.total.add(r["n"], amount, weighted)
        totals[i].add(r["n"], amount, weighted)
        total.add(r["n"], amount, weighted)
    for row in (*owners.values(), *teams.values(), *totals, total):
        _round(row)
    won_rows = (base.filter(semantic=Semantic.WON, closed_at__gte=_local_midnight(start),
                            closed_at__lt=_local_midnight(end))
                .annotate(month=TruncMonth("closed_at")).order_by().values("month")
                .annotate(total=Sum(Coalesce(F("amount"), Value(ZERO)))))
    won = [ZERO for _ in month_list]
    for r in won_rows:
        month = r["month"].date() if isinstance(r["month"], dt.datetime) else r["month"]
        if month in index:
            won[index[month]] = r["total"] or ZERO
    late = open_deals.filter(expected_close_date__lt=timezone.localdate()).aggregate(
        n=Count("probability"), total=Sum(Coalesce(F("amount"), Value(ZERO))), weighted=Sum(_weighted_expr()))
    overdue = ForecastCell(late["n"] or 0, late["total"] or ZERO, late["weighted"] or ZERO)
    _round(overdue)
    by_owner = sorted(owners.values(), key=lambda r: -r.total.weighted)
    by_team = sorted(teams.values(), key=lambda r: -r.total.weighted)
    return Forecast(month_list, by_owner, by_team, totals, total, won, overdue)


def _round(item: Any) -> None:
    cells = item.cells + [item.total] if isinstance(item, ForecastRow) else [item]
    for cell in cells:
        cell.amount = Decimal(cell.amount).quantize(Decimal("0.01"))
        cell.weighted = Decimal(cell.weighted).quantize(Decimal("0.01"))


# ---------------------------------------------------------------------------------------------
# Funnel, conversion, win rate, cycle length, time in stage
# ---------------------------------------------------------------------------------------------


@dataclass
class FunnelStep:
    stage: Stage
    reached: int
    conversion: float | None  # share of the deals reaching this stage that reached the next one
    avg_days_in_stage: float | None  # over completed stays that began in the period's last 90 days
    stays: int


@dataclass
class Funnel:
    process: Process
    date_from: dt.date
    date_to: dt.date
    cohort: int
    steps: list[FunnelStep]
    won: int
    lost: int
    win_rate: float | None
    avg_cycle_days: float | None
    open: int = 0


def _period(date_from: dt.date | None, date_to: dt.date | None) -> tuple[dt.date, dt.date]:
    date_to = date_to or timezone.localdate()
    date_from = date_from or date_to - dt.timedelta(days=365)
    if date_from > date_to:
        date_from, date_to = date_to, date_from
    return date_from, date_to


def funnel(*, user: User, process: Process, date_from: dt.date | None = None,
           date_to: dt.date | None = None) -> Funnel:
    """Deals opened in the period in this process: how many reached each stage (or went beyond), the
    stage-to-stage conversion; deals closed in the period: win rate and average cycle; completed stays
    that began in the period's last 90 days: average time in each stage."""
    date_from, date_to = _period(date_from, date_to)
    lo, hi = _local_midnight(date_from), _local_midnight(date_to + dt.timedelta(days=1))
    stages = [s for s in process.stages.order_by("order") if s.semantic != Semantic.LOST]
    deals = visible_deals(user).filter(process=process)
    cohort = deals.filter(opened_at__gte=lo, opened_at__lt=hi)
    by_order: dict[int, int] = {}
    states: dict[str, int] = {}
    # Counting an indexed column (not the id) keeps these aggregates index-only on PostgreSQL.
    for order, semantic, n in (cohort.order_by().values_list("furthest_order", "semantic")
                               .annotate(n=Count("opened_at"))):
        by_order[order] = by_order.get(order, 0) + n
        states[semantic] = states.get(semantic, 0) + n
    total = sum(by_order.values())
    reached = [sum(n for order, n in by_order.items() if order >= s.order) for s in stages]
    # Time in stage: completed stays that began in the last STAY_WINDOW_DAYS of the period (the current pace,
    # and a bounded read of the covering index (stage, entered_at) INCLUDE (duration, deal)).
    stay_lo = max(lo, hi - dt.timedelta(days=STAY_WINDOW_DAYS))
    stay_rows = DealStageChange.objects.filter(stage__in=stages, entered_at__gte=stay_lo, entered_at__lt=hi,
                                               duration_seconds__isnull=False)
    hidden_ids: list[int] | None = None
    if user.sees_all_customers and user.is_active:
        # Everything but the stays of archived deals: leave out the few, rather than join with all.
        in_process = Deal.objects.filter(process=process).order_by()
        hidden_ids = list(in_process.filter(archived_at__isnull=False).values_list("pk", flat=True)[:HIDDEN_LIMIT + 1])
        hidden_ids += list(in_process.filter(customer__archived_at__isnull=False, archived_at__isnull=True)
                           .values_list("pk", flat=True)[:HIDDEN_LIMIT + 1])
    if hidden_ids is not None and len(hidden_ids) <= HIDDEN_LIMIT:
        stay_rows = stay_rows.exclude(deal_id__in=hidden_ids) if hidden_ids else stay_rows
    else:
        stay_rows = stay_rows.filter(deal__in=deals)
    # Count a column of the index (not the id) so the scan stays index-only.
    stays = {row["stage_id"]: row for row in stay_rows.order_by().values("stage_id")
             .annotate(n=Count("duration_seconds"), avg=Avg("duration_seconds"))}
    steps = []
    for i, stage in enumerate(stages):
        nxt = reached[i + 1] if i + 1 < len(stages) else None
        stay = stays.get(stage.pk, {})
        avg = stay.get("avg")
        steps.append(FunnelStep(stage, reached[i], round(nxt / reached[i], 4) if nxt is not None and reached[i]
                                else None, round(float(avg) / 86400, 1) if avg is not None else None,
                                stay.get("n", 0)))
    closed = deals.filter(closed_at__gte=lo, closed_at__lt=hi).aggregate(
        won=Count("closed_at", filter=Q(semantic=Semantic.WON)),
        lost=Count("closed_at", filter=Q(semantic=Semantic.LOST)),
        cycle=Avg(ExpressionWrapper(F("closed_at") - F("opened_at"), output_field=DurationField()),
                  filter=Q(semantic=Semantic.WON)))
    won, lost, cycle = closed["won"], closed["lost"], closed["cycle"]
    return Funnel(process, date_from, date_to, total, steps, won, lost,
                  round(won / (won + lost), 4) if won + lost else None,
                  round(cycle.total_seconds() / 86400, 1) if cycle is not None else None,
                  open=states.get(Semantic.OPEN, 0))


# ---------------------------------------------------------------------------------------------
# Stalled deals
# ---------------------------------------------------------------------------------------------


def stalled_queryset(*, user: User, process_id: int | None = None, now: dt.datetime | None = None) -> QuerySet:
    """Open deals longer in their stage than its normal duration, or whose next step is overdue."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    stages = Stage.objects.filter(semantic=Semantic.OPEN, normal_days__isnull=False)
    if process_id:
        stages = stages.filter(process_id=process_id)
    condition = Q(next_step_due__lt=today)
    for stage_id, days in stages.values_list("pk", "normal_days"):
        # One range per stage, so each is an index range on (stage, stage_entered_at).
        condition |= Q(stage_id=stage_id, stage_entered_at__lt=now - dt.timedelta(days=days))
    qs = visible_deals(user).filter(semantic=Semantic.OPEN).filter(condition)
    if process_id:
        qs = qs.filter(process_id=process_id)
    return qs


@dataclass
class StalledDeal:
    deal: Deal
    days_in_stage: int
    days_over: int | None  # beyond the stage's normal duration; None when within it
    next_step_overdue_days: int | None


def stalled(*, user: User, process_id: int | None = None, offset: int = 0, limit: int | None = None,
            now: dt.datetime | None = None) -> Page:
    """Stalled deals, longest waiting first (a page; the count stops at COUNT_CAP)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    limit = clamp_limit(limit)
    qs = stalled_queryset(user=user, process_id=process_id, now=now)
    count = qs.order_by()[: COUNT_CAP + 1].count()
    # The page's ids first (a narrow walk in waiting order), then their rows with what the page shows.
    ids = list(qs.order_by("stage_entered_at", "id").values_list("id", flat=True)[offset : offset + limit])
    deals = {d.pk: d for d in Deal.objects.filter(pk__in=ids).select_related("customer", "stage", "process", "owner")}
    items = []
    for deal in (deals[pk] for pk in ids):
        in_stage = (now - deal.stage_entered_at).days
        normal = deal.stage.normal_days
        items.append(StalledDeal(
            deal, in_stage, in_stage - normal if normal is not None and in_stage > normal else None,
            (today - deal.next_step_due).days if deal.next_step_due and deal.next_step_due < today else None))
    return Page(items, min(count, COUNT_CAP), count > COUNT_CAP, offset, limit)


# ---------------------------------------------------------------------------------------------
# Forecast history
# ---------------------------------------------------------------------------------------------


def snapshot_forecast(*, today: dt.date, months: int = 12) -> int:
    """Store this week's forecast (all open deals, per owner and close month). Idempotent: a week that
    already has a snapshot is left alone. Returns the rows written."""
    if ForecastSnapshot.objects.filter(taken_on__gt=today - dt.timedelta(days=7), taken_on__lte=today).exists():
        return 0
    start = month_start(today)
    end = add_months(start, months)
    rows = (Deal.objects.filter(semantic=Semantic.OPEN, archived_at__isnull=True, customer__archived_at__isnull=True,
                                expected_close_date__gte=start, expected_close_date__lt=end)
            .annotate(month=TruncMonth("expected_close_date")).order_by()
            .values("month", "owner_id", "team_id")
            .annotate(n=Count("id"), total=Sum(Coalesce(F("amount"), Value(ZERO))), weighted=Sum(_weighted_expr())))
    snapshots = [ForecastSnapshot(taken_on=today, month=r["month"].date() if isinstance(r["month"], dt.datetime)
                                  else r["month"], owner_id=r["owner_id"], team_id=r["team_id"], deals=r["n"],
                                  amount=r["total"] or ZERO, weighted=r["weighted"] or ZERO) for r in rows]
    ForecastSnapshot.objects.bulk_create(snapshots, batch_size=1000)
    return len(snapshots)


def _snapshot_visibility(user: User) -> Q:
    if user.sees_all_customers:
        return Q()
    if user.role == Role.MANAGER and user.team_id is not None:
        return Q(owner=user) | Q(team__path__startswith=user.team.path)
    return Q(owner=user)


@dataclass
class ForecastVsActualRow:
    month: dt.date
    taken_on: dt.date | None
    forecast_weighted: Decimal | None
    forecast_amount: Decimal | None
    actual: Decimal


def forecast_vs_actual(*, user: User, months: int = 6, today: dt.date | None = None) -> list[ForecastVsActualRow]:
    """For each of the last `months` months (this one included): the weighted forecast of the last snapshot
    taken before the month began, against the amount actually won in it."""
    today = today or timezone.localdate()
    current = month_start(today)
    month_list = [add_months(current, -i) for i in range(months - 1, -1, -1)]
    visible = ForecastSnapshot.objects.filter(_snapshot_visibility(user))
    out = []
    won = dict(visible_deals(user).filter(
        semantic=Semantic.WON, closed_at__gte=_local_midnight(month_list[0]),
        closed_at__lt=_local_midnight(add_months(current, 1)))
        .annotate(month=TruncMonth("closed_at")).order_by().values_list("month")
        .annotate(total=Sum(Coalesce(F("amount"), Value(ZERO)))))
    won = {(k.date() if isinstance(k, dt.datetime) else k): v for k, v in won.items()}
    # One grouped query: per (month, snapshot date) the sums; the choice of snapshot is made here.
    sums: dict[dt.date, list[tuple[dt.date, Decimal, Decimal]]] = {}
    for month, taken_on, w, a in (visible.filter(month__in=month_list).order_by().values_list("month", "taken_on")
                                  .annotate(w=Sum("weighted"), a=Sum("amount")).order_by("taken_on")):
        sums.setdefault(month, []).append((taken_on, w, a))
    for month in month_list:
        taken = sums.get(month, [])
        before = [t for t in taken if t[0] <= month]
        # The last photograph before the month began; failing that, the first taken during it.
        during = [t for t in taken if month < t[0] < add_months(month, 1)]
        pick = before[-1] if before else (during[0] if during else None)
        out.append(ForecastVsActualRow(month, pick[0] if pick else None, pick[1] if pick else None,
                                       pick[2] if pick else None, won.get(month) or ZERO))
    return out
