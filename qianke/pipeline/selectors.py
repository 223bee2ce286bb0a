"""Reads for processes and deals, always through `Deal.objects.visible_to(user)`.

A deal is visible exactly when its customer is (CustomerRelatedQuerySet).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from qianke.accounts.models import User
from qianke.core.errors import NotFound
from qianke.customers.models import Contact
from qianke.customers.selectors import COUNT_CAP, Page, clamp_limit
from qianke.pipeline.models import (
    REQUIRABLE_FIELDS,
    BuyingCenterMember,
    ChecklistItem,
    Competitor,
    CurrentSupplier,
    Deal,
    DealCompetitor,
    DealReason,
    DealStageChange,
    Process,
    Semantic,
    Stage,
    ValueAssessment,
)


def open_deal_customer_ids() -> QuerySet:
    """Customers with at least one live deal in an open stage (a subquery; no visibility: for jobs and rules)."""
    return Deal.objects.filter(semantic=Semantic.OPEN, archived_at__isnull=True).values_list("customer_id",
                                                                                          flat=True)


def _with_stages(qs: QuerySet) -> QuerySet:
    stages = Stage.objects.order_by("order").prefetch_related(
        Prefetch("checklist", queryset=ChecklistItem.objects.order_by("order", "id")))
    return qs.prefetch_related(Prefetch("stages", queryset=stages))


def process_list(*, include_inactive: bool = False) -> list[Process]:
    qs = Process.objects.all() if include_inactive else Process.objects.filter(active=True)
    return list(_with_stages(qs))


def process_get(*, process_id: int) -> Process:
    process = _with_stages(Process.objects.filter(pk=process_id)).first()
    if process is None:
        raise NotFound(_("Sales process not found."))
    return process


def reason_list(*, semantic: str | None = None, include_inactive: bool = False) -> list[DealReason]:
    qs = DealReason.objects.all()
    if semantic:
        qs = qs.filter(semantic=semantic)
    if not include_inactive:
        qs = qs.filter(active=True)
    return list(qs)


@dataclass
class DealFilters:
    q: str = ""
    process: int | None = None
    stage: int | None = None
    semantic: str = ""
    owner: int | None = None
    team: int | None = None
    customer: int | None = None
    close_from: Any = None
    close_to: Any = None


SORTS = {
    "newest": ("-id",),
    "close": ("expected_close_date", "id"),
    "amount": ("-amount", "-id"),
    "stage": ("stage__order", "-id"),
}


def deal_queryset(*, user: User, filters: DealFilters | None = None) -> QuerySet:
    qs = Deal.objects.visible_to(user)
    f = filters or DealFilters()
    if f.q:
        term = f.q.strip()
        qs = qs.filter(Q(name__icontains=term) | Q(customer__name__icontains=term) | Q(products__icontains=term)
                       | Q(quote_number__icontains=term) | Q(customer__code=term))
    for name in ("process", "stage", "owner", "team", "customer"):
        value = getattr(f, name)
        if value:
            qs = qs.filter(**{f"{name}_id": value})
    if f.semantic in Semantic.values:
        qs = qs.filter(semantic=f.semantic)
    if f.close_from:
        qs = qs.filter(expected_close_date__gte=f.close_from)
    if f.close_to:
        qs = qs.filter(expected_close_date__lte=f.close_to)
    return qs


def deal_list(*, user: User, filters: DealFilters | None = None, offset: int = 0, limit: int | None = None,
              sort: str = "newest") -> Page:
    limit = clamp_limit(limit)
    offset = max(offset, 0)
    qs = deal_queryset(user=user, filters=filters)
    count = qs.order_by()[: COUNT_CAP + 1].count()
    items = list(qs.select_related("customer", "process", "stage", "owner", "team", "reason")
                 .order_by(*SORTS.get(sort, SORTS["newest"]))[offset : offset + limit])
    return Page(items, min(count, COUNT_CAP), count > COUNT_CAP, offset, limit)


def deal_get(*, user: User, deal_id: int) -> Deal:
    deal = (Deal.objects.visible_to(user).select_related("customer", "process", "stage", "owner", "team", "reason")
            .filter(pk=deal_id).first())
    if deal is None:
        raise NotFound(_("Deal not found."))
    return deal


def deal_history(*, deal: Deal) -> list[DealStageChange]:
    return list(deal.stage_changes.select_related("stage", "from_stage", "actor").order_by("entered_at", "id"))


@dataclass
class ChecklistRow:
    item: ChecklistItem
    done: bool
    done_at: Any
    done_by: Any


@dataclass
class StageChecklist:
    stage: Stage
    rows: list[ChecklistRow]
    current: bool
    passed: bool

    @property
    def required_field_labels(self) -> list[str]:
        return [str(REQUIRABLE_FIELDS[f]) for f in self.stage.required_fields or [] if f in REQUIRABLE_FIELDS]


def deal_checklist(*, deal: Deal) -> list[StageChecklist]:
    """The process's open stages with their checklist and what the deal has ticked."""
    ticks = {t.item_id: t for t in deal.ticks.select_related("done_by")}
    stages = (Stage.objects.filter(process_id=deal.process_id).order_by("order")
              .prefetch_related(Prefetch("checklist", queryset=ChecklistItem.objects.order_by("order", "id"))))
    out = []
    for stage in stages:
        if stage.semantic != Semantic.OPEN:
            continue
        rows = [ChecklistRow(item, item.pk in ticks, getattr(ticks.get(item.pk), "done_at", None),
                             getattr(ticks.get(item.pk), "done_by", None)) for item in stage.checklist.all()]
        out.append(StageChecklist(stage, rows, stage.pk == deal.stage_id,
                                  deal.semantic == Semantic.WON or stage.order < deal.stage.order))
    return out


def latest_open_deal_process_id(*, user: User) -> int | None:
    return (Deal.objects.visible_to(user).filter(semantic=Semantic.OPEN).order_by("-id")
            .values_list("process_id", flat=True).first())


def customer_deals(*, user: User, customer_id: int, limit: int = 10) -> list[Deal]:
    """The customer's deals for its page: one query."""
    return list(Deal.objects.visible_to(user).filter(customer_id=customer_id)
                .select_related("stage", "process", "owner").order_by("-id")[:limit])


@dataclass
class BoardColumn:
    stage: Stage
    deals: list[Deal]
    count: int
    amount: Any


def board_columns(*, user: User, process: Process, per_column: int = 60) -> list[BoardColumn]:
    """The kanban board of one process: per stage, its count, total amount and the first cards.

    Open stages show their deals longest-waiting first; won and lost columns the most recently closed.
    One grouped query for the totals and one query per stage for the cards.
    """
    from django.db.models import Count, Sum

    visible = Deal.objects.visible_to(user).filter(process=process)
    totals = {row["stage_id"]: row for row in visible.order_by().values("stage_id")
              .annotate(n=Count("id"), amount=Sum("amount"))}
    columns = []
    for stage in process.stages.all():
        order = ("stage_entered_at", "id") if stage.semantic == Semantic.OPEN else ("-closed_at", "-id")
        total = totals.get(stage.pk, {})
        deals = []
        if total.get("n"):
            deals = list(visible.filter(stage=stage).select_related("customer", "owner")
                         .order_by(*order)[:per_column])
        columns.append(BoardColumn(stage, deals, total.get("n", 0), total.get("amount")))
    return columns


# ---------------------------------------------------------------------------------------------
# Buying center, suppliers, value assessment, competitors
# ---------------------------------------------------------------------------------------------

# The value × difficulty matrix (seed 002: classify targets by value and difficulty), split at the
# middle of the 1–5 scale: (key, quadrant, recommended treatment).
QUADRANTS = {
    (True, False): ("develop_first", _lazy("High value, low difficulty"),
                    _lazy("Develop first: quick win, put the rep's time here.")),
    (True, True): ("invest", _lazy("High value, high difficulty"),
                   _lazy("Invest: senior-level contact, technical and system support, a development program.")),
    (False, False): ("opportunistic", _lazy("Low value, low difficulty"),
                     _lazy("Develop along the way at low cost (phone, samples, standard offer).")),
    (False, True): ("defer", _lazy("Low value, high difficulty"),
                    _lazy("Defer or drop: keep in touch only while nothing better is open.")),
}
MIDDLE = 3


def quadrant(value: Any, difficulty: Any) -> tuple[str, Any, Any]:
    return QUADRANTS[(float(value) >= MIDDLE, float(difficulty) > MIDDLE)]


def buying_center(*, deal: Deal) -> list[BuyingCenterMember]:
    return list(deal.buying_center.select_related("contact").order_by("role", "id"))


def buying_center_candidates(*, user: User, deal: Deal, limit: int = 200) -> list[Contact]:
    """The visible contacts of the deal's customer, primary first: who can join the buying center."""
    return list(Contact.objects.visible_to(user).filter(customer_id=deal.customer_id)
                .order_by("-is_primary", "id")[:limit])


def value_assessment(*, deal: Deal) -> ValueAssessment | None:
    return ValueAssessment.objects.filter(deal=deal).first()


def customer_suppliers(*, user: User, customer_id: int) -> list[CurrentSupplier]:
    return list(CurrentSupplier.objects.visible_to(user).filter(customer_id=customer_id).order_by("id"))


def competitor_list(*, include_inactive: bool = False) -> list[Competitor]:
    qs = Competitor.objects.all() if include_inactive else Competitor.objects.filter(active=True)
    return list(qs)


def deal_competitors(*, deal: Deal) -> list[DealCompetitor]:
    return list(deal.competitors.select_related("competitor"))


@dataclass
class MatrixPoint:
    deal_id: int
    name: str
    amount: Any
    value: float
    difficulty: float
    quadrant: str


def value_matrix(*, user: User, process_id: int | None = None, limit: int = 500) -> list[MatrixPoint]:
    """Open deals with a value assessment, for the value × difficulty chart (the largest `limit`)."""
    qs = Deal.objects.visible_to(user).filter(semantic=Semantic.OPEN, value_assessment__isnull=False)
    if process_id:
        qs = qs.filter(process_id=process_id)
    rows = qs.order_by("-amount", "-id").values_list(
        "pk", "name", "amount", "value_assessment__value_score", "value_assessment__difficulty_score")[:limit]
    return [MatrixPoint(pk, name, amount, float(v), float(d), quadrant(v, d)[0]) for pk, name, amount, v, d in rows]


@dataclass
class CompetitorRecord:
    competitor_id: int
    name: str
    deals: int
    open: int
    won: int  # deals we won where it competed
    lost: int
    lost_to: int  # lost deals it took
    win_rate: float | None


def competitor_win_loss(*, user: User) -> list[CompetitorRecord]:
    """Per competitor, over the deals you may see where it competed: our wins and losses against it."""
    from django.db.models import Count

    visible = Deal.objects.visible_to(user)
    rows = (DealCompetitor.objects.filter(deal__in=visible).order_by()
            .values("competitor_id", "competitor__name")
            .annotate(n=Count("id"), open=Count("id", filter=Q(deal__semantic=Semantic.OPEN)),
                      won=Count("id", filter=Q(deal__semantic=Semantic.WON)),
                      lost=Count("id", filter=Q(deal__semantic=Semantic.LOST)),
                      lost_to=Count("id", filter=Q(deal__semantic=Semantic.LOST, took_the_deal=True))))
    out = [CompetitorRecord(r["competitor_id"], r["competitor__name"], r["n"], r["open"], r["won"], r["lost"],
                            r["lost_to"], round(r["won"] / (r["won"] + r["lost"]), 4) if r["won"] + r["lost"]
                            else None) for r in rows]
    return sorted(out, key=lambda r: (-r.deals, r.name))
