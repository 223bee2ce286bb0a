"""Demo deals: plausible deals with stage history and ticked checklists, written in bulk.

`demo_generate(seed=…, customers=…)` opens deals for about a quarter of the owned customers that have
none (a few thousand at most), walks each through its process with realistic stays, closes some as won
or lost, ticks the key-node items of the stages passed, and takes this week's forecast snapshot.
Rows go in set-based as plain rows (core.bulk; the deals' ids taken as a block first, so their stays
and ticks can name them); no model instance and no per-deal service call.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from qianke.core.bulk import insert_rows, reserve_ids
from qianke.pipeline.models import (
    ChecklistItem,
    Deal,
    DealChecklistTick,
    DealReason,
    DealStageChange,
    Process,
    Semantic,
    Stage,
)

PROCESS_WEIGHTS = {"big_account_sales": 50, "big_account_development": 35, "regional_agent": 15}
PRODUCTS = ["ERP 系统", "MES 系统", "工业传感器", "数控机床", "仓储软件", "办公家具", "空压机", "检测设备", "代理产品线"]
NEXT_STEPS = ["电话回访", "寄送样品", "约见采购经理", "提交方案", "技术交流", "商务报价", "安排考察", "合同评审"]
MAX_DEALS = 3000


def demo_generate(*, seed: int = 1, customers: int | None = None, now: dt.datetime | None = None,
                  customers_from: int = 1) -> dict[str, int]:
    """`qianke demo` hook: deals (with their stage stays and checklist ticks) for customers from id
    `customers_from` on that have none."""
    from qianke.customers.models import Customer
    from qianke.pipeline.reports import snapshot_forecast

    rng = random.Random(seed)
    now = now or timezone.now()
    processes = {p.code: p for p in Process.objects.filter(active=True, code__in=PROCESS_WEIGHTS)}
    if not processes:
        return {"deals": 0}
    stages = {code: list(Stage.objects.filter(process=p).order_by("order")) for code, p in processes.items()}
    required = {}
    for item in ChecklistItem.objects.filter(required=True, stage__process__in=processes.values()):
        required.setdefault(item.stage_id, []).append(item.pk)
    reasons = {sem: list(DealReason.objects.filter(semantic=sem, active=True).values_list("pk", flat=True))
               for sem in (Semantic.WON, Semantic.LOST)}
    limit = min(MAX_DEALS, max((customers or MAX_DEALS * 4) // 4, 1))
    # Won deals only where the customer has bought (new, repeat, dormant), so deals and lifecycle agree;
    # lost customers get no new deal.
    # The ids alone are read and `limit` of them drawn (rng.sample: the draw depends only on their number,
    # and costs the few thousand drawn, not a shuffle of a million), then the chosen
    # few thousand customers' details: a million customers' names and times cost seconds to read.
    candidates = list(Customer.objects.filter(pk__gte=customers_from, owner__isnull=False, archived_at__isnull=True,
                                              deals__isnull=True)
                      .exclude(status="lost").order_by("pk").values_list("pk", flat=True))
    picked = rng.sample(candidates, k=min(limit, len(candidates)))
    details = {row[0]: row for row in Customer.objects.filter(pk__in=picked)
               .values_list("pk", "owner_id", "team_id", "name", "created_at", "status")}
    chosen = [details[pk] for pk in picked]
    codes = [c for c in PROCESS_WEIGHTS if c in processes]
    weights = [PROCESS_WEIGHTS[c] for c in codes]
    owner_teams = dict(_owner_teams({c[1] for c in chosen}))
    deals, stays_by_deal, ticks_by_deal = [], [], []
    for customer_id, owner_id, team_id, name, created_at, status in chosen:
        code = rng.choices(codes, weights=weights)[0]
        open_stages = [s for s in stages[code] if s.semantic == Semantic.OPEN]
        won = next(s for s in stages[code] if s.semantic == Semantic.WON)
        lost = next(s for s in stages[code] if s.semantic == Semantic.LOST)
        opened = max(created_at, now - dt.timedelta(days=rng.randint(3, 330), hours=rng.randint(0, 23)))
        bought = status in ("new", "repeat", "dormant")
        outcome = rng.choices([Semantic.OPEN, Semantic.WON, Semantic.LOST],
                              weights=[45, 40, 15] if bought else [80, 0, 20])[0]
        reach = len(open_stages) if outcome == Semantic.WON else rng.randint(1, len(open_stages))
        path = open_stages[:reach] + ([won] if outcome == Semantic.WON else [lost] if outcome == Semantic.LOST else [])
        moments = [opened]
        for stage in path[:-1]:
            normal = stage.normal_days or 14
            moments.append(moments[-1] + dt.timedelta(days=max(1, int(rng.gauss(normal * 0.8, normal * 0.5))),
                                                      hours=rng.randint(0, 12)))
        if moments[-1] > now:  # squeeze the walk into the time that has passed
            span = (now - opened) * 0.98
            moments = [opened + span * i / max(len(path) - 1, 1) for i in range(len(path))]
        current = path[-1]
        amount = Decimal(rng.choice([3, 5, 8, 12, 18, 25, 40, 60, 90, 150]) * 10_000 + rng.randint(0, 99) * 100)
        closed_at = moments[-1] if current.semantic != Semantic.OPEN else None
        close_date = (closed_at.date() if closed_at else
                      (now + dt.timedelta(days=rng.randint(-20, 200))).date())
        due = (now + dt.timedelta(days=rng.randint(-12, 21))).date() if current.semantic == Semantic.OPEN else None
        deal = dict(
            name=f"{name[:40]} · {rng.choice(PRODUCTS)}", customer_id=customer_id, process_id=processes[code].pk,
            stage_id=current.pk, semantic=current.semantic, owner_id=owner_id,
            team_id=owner_teams.get(owner_id, team_id), products=rng.choice(PRODUCTS), amount=amount,
            expected_close_date=close_date, probability=current.probability,
            quote_number=f"BJ{close_date:%Y%m}{rng.randint(100, 999)}" if current.order >= open_stages[-1].order
            or current.semantic != Semantic.OPEN else "",
            next_step=rng.choice(NEXT_STEPS) if due else "", next_step_due=due,
            purchase_window=rng.choice([1, 3, 6, 12, None]),
            budget=(amount * Decimal(rng.choice(["0.8", "1", "1.2"]))).quantize(Decimal("0.01")),
            reason_id=rng.choice(reasons[current.semantic]) if current.semantic != Semantic.OPEN and
            reasons.get(current.semantic) else None,
            stage_entered_at=moments[-1], opened_at=opened, closed_at=closed_at,
            furthest_order=max(s.order for s in path if s.semantic != Semantic.LOST),
            created_by_id=owner_id,
        )
        deals.append(deal)
        stays = []
        for i, stage in enumerate(path):
            left = moments[i + 1] if i + 1 < len(path) else None
            stays.append({"from_stage_id": path[i - 1].pk if i else None, "stage_id": stage.pk,
                          "entered_at": moments[i], "left_at": left,
                          "duration_seconds": int((left - moments[i]).total_seconds()) if left else None,
                          "actor_id": owner_id})
        stays_by_deal.append(stays)
        ticks = []
        for i, stage in enumerate(path):
            done = required.get(stage.pk, []) if i + 1 < len(path) else \
                [p for p in required.get(stage.pk, []) if rng.random() < 0.5]
            ticks += [(item, moments[min(i + 1, len(moments) - 1)]) for item in done]
        ticks_by_deal.append(ticks)
    with transaction.atomic():
        with connection.cursor() as cursor:
            first = reserve_ids(cursor, Deal._meta.db_table, len(deals))
        rows, tick_rows = [], []
        for deal_id, deal, stays, ticks in zip(itertools.count(first), deals, stays_by_deal, ticks_by_deal, strict=False):
            deal["id"] = deal_id
            for stay in stays:
                stay["deal_id"] = deal_id
            rows += stays
            tick_rows += [{"deal_id": deal_id, "item_id": item, "done_at": at, "done_by_id": deal["owner_id"]}
                          for item, at in ticks]
        insert_rows(Deal, deals)
        insert_rows(DealStageChange, rows)
        insert_rows(DealChecklistTick, tick_rows)
    snapshots = snapshot_forecast(today=timezone.localdate(now))
    return {"deals": len(deals), "stage_changes": len(rows), "checklist_ticks": len(tick_rows),
            "forecast_snapshot_rows": snapshots}


def _owner_teams(owner_ids: set[int]):
    from qianke.accounts.models import User

    return User.objects.filter(pk__in=owner_ids).values_list("pk", "team_id")
