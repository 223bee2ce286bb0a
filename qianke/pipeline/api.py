"""REST API of the pipeline app: parse → call a service/selector → return a schema."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Query, Router, Schema, Status

from qianke.core.api import InSchema, PageOut, PageParams, TeamRef, UserRef, page_out, responses
from qianke.customers.schemas import CustomerRef
from qianke.pipeline import selectors, services

router = Router(tags=["deals and sales processes"])


class ChecklistItemOut(Schema):
    id: int
    order: int
    text: str
    required: bool = Field(..., description="Part of the stage's key node (exit criterion).")


class StageOut(Schema):
    id: int
    order: int
    name: str
    semantic: str = Field(..., description="open, won or lost: reports branch on this, never on the name.")
    probability: int
    participants: str
    work_content: str
    keyword: str
    key_node: str
    required_fields: list[str] = Field(..., description="Deal fields the key node requires.")
    normal_days: int | None
    checklist: list[ChecklistItemOut]

    @staticmethod
    def resolve_checklist(obj) -> list:
        return list(obj.checklist.all())


class ProcessOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    description: str
    active: bool
    stages: list[StageOut]

    @staticmethod
    def resolve_stages(obj) -> list:
        return list(obj.stages.all())


class StageRef(Schema):
    id: int
    name: str
    semantic: str
    order: int


class Ref(Schema):
    id: int
    name: str


class ReasonOut(Schema):
    id: int
    semantic: str
    name: str
    active: bool


class DealOut(Schema):
    id: int
    name: str
    customer: CustomerRef
    process: Ref
    stage: StageRef
    semantic: str
    owner: UserRef | None
    team: TeamRef | None
    products: str
    amount: Decimal | None
    expected_close_date: dt.date | None
    probability: int
    probability_overridden: bool
    quote_number: str
    next_step: str
    next_step_due: dt.date | None
    purchase_window: int | None = Field(..., description="Expected purchase within 1, 3, 6 or 12 months.")
    budget: Decimal | None
    result: str
    procurement_stage: str = Field(..., description="The customer's procurement stage a–f (PRODUCT.md §5).")
    reason: Ref | None
    reason_note: str
    stage_entered_at: dt.datetime
    closed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class DealPatch(InSchema):
    name: str | None = None
    owner: int | None = None
    products: str | None = None
    amount: Decimal | None = None
    expected_close_date: dt.date | None = None
    probability: int | None = Field(None, description="0–100; null follows the stage's default again.")
    quote_number: str | None = None
    next_step: str | None = None
    next_step_due: dt.date | None = None
    purchase_window: int | None = Field(None, description="1, 3, 6 or 12 (months).")
    budget: Decimal | None = None
    result: str | None = None
    procurement_stage: str | None = Field(None, description="a–f, or empty")


class DealIn(DealPatch):
    name: str
    customer: int
    process: int
    stage: int | None = Field(None, description="An open stage of the process; default its first.")


class DealQuery(PageParams):
    q: str = ""
    process: int | None = None
    stage: int | None = None
    semantic: str = Field("", description="open, won or lost")
    owner: int | None = None
    team: int | None = None
    customer: int | None = None
    close_from: dt.date | None = None
    close_to: dt.date | None = None
    sort: str = Field("newest", description="newest, close, amount or stage")


class MoveIn(InSchema):
    stage: int
    override_reason: str = Field("", description="Managers only: moves past an unmet key node, recorded.")
    reason: int | None = Field(None, description="Won/lost reason (required when moving to a lost stage).")
    reason_note: str = ""


class CloseIn(InSchema):
    reason: int | None = None
    reason_note: str = ""
    override_reason: str = ""


class UnmetOut(Schema):
    stage: int
    stage_name: str
    kind: str = Field(..., description="item (a checklist item) or field (a deal field)")
    id: int | None
    field: str | None
    text: str


class StageChangeOut(Schema):
    id: int
    from_stage: StageRef | None
    stage: StageRef
    entered_at: dt.datetime
    left_at: dt.datetime | None
    duration_seconds: int | None = Field(..., description="Time in the stage; null while the deal is still there.")
    actor: UserRef | None
    override_reason: str
    unmet: list[UnmetOut]


class ChecklistRowOut(Schema):
    item: ChecklistItemOut
    done: bool
    done_at: dt.datetime | None
    done_by: UserRef | None


class StageChecklistOut(Schema):
    stage: StageRef
    key_node: str
    current: bool
    passed: bool
    rows: list[ChecklistRowOut]


class TickIn(InSchema):
    done: bool = True


@router.get("/processes", response=responses(list[ProcessOut]), summary="Sales processes with stages and checklists")
def process_list(request, include_inactive: bool = False):
    return selectors.process_list(include_inactive=include_inactive)


@router.get("/processes/{process_id}", response=responses(ProcessOut), summary="One sales process")
def process_get(request, process_id: int):
    return selectors.process_get(process_id=process_id)


@router.get("/deal-reasons", response=responses(list[ReasonOut]), summary="The won/lost reasons")
def reason_list(request, semantic: str = ""):
    return selectors.reason_list(semantic=semantic or None)


@router.get("/deals", response=responses(PageOut[DealOut]), summary="Deals you may see")
def deal_list(request, params: Query[DealQuery]):
    filters = selectors.DealFilters(
        q=params.q, process=params.process, stage=params.stage, semantic=params.semantic, owner=params.owner,
        team=params.team, customer=params.customer, close_from=params.close_from, close_to=params.close_to)
    return page_out(selectors.deal_list(user=request.auth, filters=filters, offset=params.offset,
                                        limit=params.limit, sort=params.sort))


@router.post("/deals", response=responses(DealOut, 201, write=True), summary="Open a deal")
def deal_create(request, payload: DealIn):
    deal = services.deal_create(actor=request.auth, data=payload.model_dump(exclude_unset=True))
    return Status(201, selectors.deal_get(user=request.auth, deal_id=deal.pk))


@router.get("/deals/{deal_id}", response=responses(DealOut), summary="One deal")
def deal_get(request, deal_id: int):
    return selectors.deal_get(user=request.auth, deal_id=deal_id)


@router.patch("/deals/{deal_id}", response=responses(DealOut, write=True), summary="Change a deal's fields",
              description="Send only what changes. The stage changes through /move.")
def deal_update(request, deal_id: int, payload: DealPatch):
    services.deal_update(actor=request.auth, deal_id=deal_id, data=payload.model_dump(exclude_unset=True))
    return selectors.deal_get(user=request.auth, deal_id=deal_id)


@router.delete("/deals/{deal_id}", response=responses(None, 204, write=True),
               summary="Delete (archive) a deal: its owner or a manager")
def deal_delete(request, deal_id: int):
    services.deal_archive(actor=request.auth, deal_id=deal_id)
    return Status(204, None)


@router.post("/deals/{deal_id}/move", response=responses(DealOut, write=True), summary="Move a deal to a stage",
             description="Refused with 409 `key_node_unmet` and the `unmet` items when the key node of a stage "
                         "on the way is not met; a manager may pass `override_reason` to move anyway (recorded). "
                         "Moving to a lost stage needs `reason`.")
def deal_move(request, deal_id: int, payload: MoveIn):
    services.deal_move(actor=request.auth, deal_id=deal_id, stage_id=payload.stage,
                       override_reason=payload.override_reason, reason_id=payload.reason,
                       reason_note=payload.reason_note)
    return selectors.deal_get(user=request.auth, deal_id=deal_id)


@router.post("/deals/{deal_id}/win", response=responses(DealOut, write=True), summary="Mark a deal won",
             description="Moves to the process's won stage (the gate applies); the customer records a purchase.")
def deal_win(request, deal_id: int, payload: CloseIn):
    services.deal_win(actor=request.auth, deal_id=deal_id, reason_id=payload.reason,
                      reason_note=payload.reason_note, override_reason=payload.override_reason)
    return selectors.deal_get(user=request.auth, deal_id=deal_id)


@router.post("/deals/{deal_id}/lose", response=responses(DealOut, write=True), summary="Mark a deal lost")
def deal_lose(request, deal_id: int, payload: CloseIn):
    services.deal_lose(actor=request.auth, deal_id=deal_id, reason_id=payload.reason,
                       reason_note=payload.reason_note)
    return selectors.deal_get(user=request.auth, deal_id=deal_id)


@router.get("/deals/{deal_id}/history", response=responses(list[StageChangeOut]),
            summary="Stage history with time in each stage")
def deal_history(request, deal_id: int):
    return selectors.deal_history(deal=selectors.deal_get(user=request.auth, deal_id=deal_id))


def _checklist_out(deal) -> list[dict]:
    return [{"stage": s.stage, "key_node": s.stage.key_node, "current": s.current, "passed": s.passed,
             "rows": [{"item": r.item, "done": r.done, "done_at": r.done_at, "done_by": r.done_by} for r in s.rows]}
            for s in selectors.deal_checklist(deal=deal)]


@router.get("/deals/{deal_id}/checklist", response=responses(list[StageChecklistOut]),
            summary="The deal's checklist per open stage")
def deal_checklist(request, deal_id: int):
    return _checklist_out(selectors.deal_get(user=request.auth, deal_id=deal_id))


@router.put("/deals/{deal_id}/checklist/{item_id}", response=responses(list[StageChecklistOut], write=True),
            summary="Tick or untick a checklist item")
def checklist_tick(request, deal_id: int, item_id: int, payload: TickIn):
    services.checklist_tick(actor=request.auth, deal_id=deal_id, item_id=item_id, done=payload.done)
    return _checklist_out(selectors.deal_get(user=request.auth, deal_id=deal_id))


# ---------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------


class ForecastCellOut(Schema):
    deals: int
    amount: Decimal
    weighted: Decimal = Field(..., description="Sum of amount × probability.")


class ForecastRowOut(Schema):
    id: int | None
    name: str
    team: str
    months: list[ForecastCellOut]
    total: ForecastCellOut


class ForecastOut(Schema):
    months: list[dt.date]
    by_owner: list[ForecastRowOut]
    by_team: list[ForecastRowOut]
    totals: list[ForecastCellOut]
    total: ForecastCellOut
    won: list[Decimal] = Field(..., description="Amount won per month (deals closed won in it).")
    overdue: ForecastCellOut = Field(..., description="Open deals whose expected close date has passed.")


def _forecast_row(row) -> dict:
    return {"id": row.key, "name": row.label, "team": row.team, "months": row.cells, "total": row.total}


class FunnelStepOut(Schema):
    stage: StageRef
    reached: int = Field(..., description="Deals of the cohort that reached this stage or went beyond.")
    conversion: float | None = Field(..., description="Share of them that reached the next stage.")
    avg_days_in_stage: float | None = Field(..., description="Average over completed stays that began in the "
                                                             "last 90 days of the period.")
    stays: int = Field(..., description="Completed stays the average is taken over.")


class FunnelOut(Schema):
    process: Ref
    date_from: dt.date
    date_to: dt.date
    cohort: int = Field(..., description="Deals opened in the period.")
    open: int
    steps: list[FunnelStepOut]
    won: int = Field(..., description="Deals closed won in the period.")
    lost: int
    win_rate: float | None
    avg_cycle_days: float | None = Field(..., description="Average days from opening to winning.")


class StalledOut(Schema):
    deal: DealOut
    days_in_stage: int
    days_over: int | None = Field(..., description="Days beyond the stage's normal duration.")
    next_step_overdue_days: int | None


class ForecastVsActualOut(Schema):
    month: dt.date
    taken_on: dt.date | None = Field(..., description="The snapshot compared (the last before the month began).")
    forecast_weighted: Decimal | None
    forecast_amount: Decimal | None
    actual: Decimal


class FunnelQuery(Schema):
    process: int
    date_from: dt.date | None = None
    date_to: dt.date | None = None


@router.get("/deal-reports/forecast", response=responses(ForecastOut),
            summary="Weighted forecast by expected close month, per owner and team")
def report_forecast(request, start: dt.date | None = None, months: int = 6, process: int | None = None):
    from qianke.pipeline import reports

    f = reports.forecast(user=request.auth, start=start, months=months, process_id=process)
    return {"months": f.months, "by_owner": [_forecast_row(r) for r in f.by_owner],
            "by_team": [_forecast_row(r) for r in f.by_team], "totals": f.totals, "total": f.total,
            "won": f.won, "overdue": f.overdue}


@router.get("/deal-reports/funnel", response=responses(FunnelOut),
            summary="Funnel with stage-to-stage conversion, win rate, cycle length and time in stage")
def report_funnel(request, params: Query[FunnelQuery]):
    from qianke.pipeline import reports

    process = selectors.process_get(process_id=params.process)
    f = reports.funnel(user=request.auth, process=process, date_from=params.date_from, date_to=params.date_to)
    return {"process": process, "date_from": f.date_from, "date_to": f.date_to, "cohort": f.cohort,
            "open": f.open, "steps": f.steps, "won": f.won, "lost": f.lost, "win_rate": f.win_rate,
            "avg_cycle_days": f.avg_cycle_days}


@router.get("/deal-reports/stalled", response=responses(PageOut[StalledOut]),
            summary="Stalled deals: longer in a stage than its normal duration, or next step overdue")
def report_stalled(request, page: Query[PageParams], process: int | None = None):
    from qianke.pipeline import reports

    return page_out(reports.stalled(user=request.auth, process_id=process, offset=page.offset, limit=page.limit))


@router.get("/deal-reports/forecast-vs-actual", response=responses(list[ForecastVsActualOut]),
            summary="Forecast (weekly snapshots) versus amount won, per month")
def report_forecast_vs_actual(request, months: int = 6):
    from qianke.pipeline import reports

    return reports.forecast_vs_actual(user=request.auth, months=max(1, min(months, 24)))


# ---------------------------------------------------------------------------------------------
# Buying center, suppliers, value assessment, competitors
# ---------------------------------------------------------------------------------------------


class ContactRef(Schema):
    id: int
    name: str
    title: str


class MemberOut(Schema):
    id: int
    contact: ContactRef
    role: str = Field(..., description="decision_maker, influencer, purchaser, technical, user or insider")
    relationship: str = Field(..., description="acquainted → meeting → approval → trust → alliance (认识 → 约会 → "
                                               "认同 → 信赖 → 同盟), or empty")
    acquainted_on: dt.date | None
    meeting_on: dt.date | None
    approval_on: dt.date | None
    trust_on: dt.date | None
    alliance_on: dt.date | None
    notes: str


class MemberIn(InSchema):
    role: str
    relationship: str = ""
    acquainted_on: dt.date | None = None
    meeting_on: dt.date | None = None
    approval_on: dt.date | None = None
    trust_on: dt.date | None = None
    alliance_on: dt.date | None = None
    notes: str = ""


class SupplierIn(InSchema):
    name: str
    structure: str = ""
    problems: str = ""
    since_year: int | None = None
    willingness_to_change: str = Field("", description="low, medium or high")
    how_won: str = ""


class SupplierOut(SupplierIn):
    id: int
    customer_id: int


class ValueIn(InSchema):
    share: int = Field(..., ge=1, le=5, description="Share after the deal (5 = large)")
    share_note: str = ""
    effort: int = Field(..., ge=1, le=5, description="Time, effort and cost (5 = most)")
    effort_note: str = ""
    deal_risk: int = Field(..., ge=1, le=5, description="Deal risk (5 = riskiest)")
    deal_risk_note: str = ""
    value_to_us: int = Field(..., ge=1, le=5, description="Value to us (5 = most)")
    value_to_us_note: str = ""
    customer_risk: int = Field(..., ge=1, le=5, description="Customer risk (5 = riskiest)")
    customer_risk_note: str = ""
    difficulty: int = Field(..., ge=1, le=5, description="Our capability and technical difficulty (5 = hardest)")
    difficulty_note: str = ""


class ValueOut(ValueIn):
    value_score: Decimal
    difficulty_score: Decimal
    quadrant: str
    treatment: str
    assessed_at: dt.datetime


def _value_out(a) -> dict:
    key, _label, treatment = selectors.quadrant(a.value_score, a.difficulty_score)
    data = {name: getattr(a, name) for name in ValueIn.model_fields}
    return {**data, "value_score": a.value_score, "difficulty_score": a.difficulty_score, "quadrant": key,
            "treatment": str(treatment), "assessed_at": a.assessed_at}


class WeightsIO(Schema):
    share: int | None = None
    value_to_us: int | None = None
    customer_risk: int | None = None
    effort: int | None = None
    deal_risk: int | None = None
    difficulty: int | None = None


class CompetitorIn(InSchema):
    name: str | None = None
    products: str | None = None
    prices: str | None = None
    channels: str | None = None
    notes: str | None = None
    active: bool | None = None


class CompetitorOut(Schema):
    id: int
    name: str
    products: str
    prices: str
    channels: str
    notes: str
    active: bool


class DealCompetitorIn(InSchema):
    their_rep: str = ""
    relation_to_customer: str = ""
    satisfaction: int | None = Field(None, description="The customer's satisfaction with them, 1–5.")
    price_offered: Decimal | None = None
    took_the_deal: bool = Field(False, description="On a lost deal: this competitor took it.")
    notes: str = ""


class DealCompetitorOut(Schema):
    competitor: CompetitorOut
    their_rep: str
    relation_to_customer: str
    satisfaction: int | None
    price_offered: Decimal | None
    took_the_deal: bool
    notes: str


class MatrixPointOut(Schema):
    deal_id: int
    name: str
    amount: Decimal | None
    value: float
    difficulty: float
    quadrant: str


class CompetitorRecordOut(Schema):
    competitor_id: int
    name: str
    deals: int
    open: int
    won: int
    lost: int
    lost_to: int
    win_rate: float | None


@router.get("/deals/{deal_id}/buying-center", response=responses(list[MemberOut]),
            summary="The deal's buying center with roles and relationship ladder")
def buying_center_list(request, deal_id: int):
    return selectors.buying_center(deal=selectors.deal_get(user=request.auth, deal_id=deal_id))


@router.put("/deals/{deal_id}/buying-center/{contact_id}", response=responses(MemberOut, write=True),
            summary="Put a contact of the customer in the buying center (or change role/relationship)",
            description="Each ladder step reached gets a date (today unless given).")
def buying_center_set(request, deal_id: int, contact_id: int, payload: MemberIn):
    return services.buying_member_set(actor=request.auth, deal_id=deal_id, contact_id=contact_id,
                                      data=payload.model_dump(exclude_unset=True))


@router.delete("/deals/{deal_id}/buying-center/{contact_id}", response=responses(None, 204, write=True),
               summary="Take a contact out of the buying center")
def buying_center_remove(request, deal_id: int, contact_id: int):
    services.buying_member_remove(actor=request.auth, deal_id=deal_id, contact_id=contact_id)
    return Status(204, None)


@router.get("/customers/{customer_id}/suppliers", response=responses(list[SupplierOut]),
            summary="The customer's current suppliers")
def supplier_list(request, customer_id: int):
    from qianke.customers.selectors import customer_get

    customer_get(user=request.auth, customer_id=customer_id)
    return selectors.customer_suppliers(user=request.auth, customer_id=customer_id)


@router.post("/customers/{customer_id}/suppliers", response=responses(SupplierOut, 201, write=True),
             summary="Record a current supplier of the customer")
def supplier_create(request, customer_id: int, payload: SupplierIn):
    return Status(201, services.supplier_save(actor=request.auth, customer_id=customer_id,
                                              data=payload.model_dump()))


@router.put("/customers/{customer_id}/suppliers/{supplier_id}", response=responses(SupplierOut, write=True),
            summary="Change a current supplier")
def supplier_update(request, customer_id: int, supplier_id: int, payload: SupplierIn):
    return services.supplier_save(actor=request.auth, customer_id=customer_id, supplier_id=supplier_id,
                                  data=payload.model_dump())


@router.delete("/customers/{customer_id}/suppliers/{supplier_id}", response=responses(None, 204, write=True),
               summary="Remove a current supplier")
def supplier_delete(request, customer_id: int, supplier_id: int):
    services.supplier_delete(actor=request.auth, supplier_id=supplier_id, customer_id=customer_id)
    return Status(204, None)


@router.get("/deals/{deal_id}/value-assessment", response=responses(ValueOut),
            summary="The deal's value assessment (404 until scored)")
def value_get(request, deal_id: int):
    from qianke.core.errors import NotFound

    deal = selectors.deal_get(user=request.auth, deal_id=deal_id)
    assessment = selectors.value_assessment(deal=deal)
    if assessment is None:
        raise NotFound()
    return _value_out(assessment)


@router.put("/deals/{deal_id}/value-assessment", response=responses(ValueOut, write=True),
            summary="Score the deal on the six dimensions of seed 002")
def value_set(request, deal_id: int, payload: ValueIn):
    return _value_out(services.value_assessment_set(actor=request.auth, deal_id=deal_id, data=payload.model_dump()))


@router.get("/value-weights", response=responses(WeightsIO), summary="Weights of the six value dimensions")
def weights_get(request):
    from qianke.pipeline.models import ValueWeights

    return ValueWeights.load()


@router.put("/value-weights", response=responses(WeightsIO, write=True),
            summary="Change the weights (administrators; 0–10 each)")
def weights_set(request, payload: WeightsIO):
    return services.value_weights_set(actor=request.auth, data=payload.model_dump(exclude_none=True))


@router.get("/competitors", response=responses(list[CompetitorOut]), summary="Competitors")
def competitor_list(request, include_inactive: bool = False):
    return selectors.competitor_list(include_inactive=include_inactive)


@router.post("/competitors", response=responses(CompetitorOut, 201, write=True), summary="Record a competitor")
def competitor_create(request, payload: CompetitorIn):
    return Status(201, services.competitor_save(actor=request.auth, data=payload.model_dump(exclude_none=True)))


@router.patch("/competitors/{competitor_id}", response=responses(CompetitorOut, write=True),
              summary="Change a competitor")
def competitor_update(request, competitor_id: int, payload: CompetitorIn):
    return services.competitor_save(actor=request.auth, competitor_id=competitor_id,
                                    data=payload.model_dump(exclude_none=True))


@router.get("/deals/{deal_id}/competitors", response=responses(list[DealCompetitorOut]),
            summary="Competitors on the deal")
def deal_competitor_list(request, deal_id: int):
    return selectors.deal_competitors(deal=selectors.deal_get(user=request.auth, deal_id=deal_id))


@router.put("/deals/{deal_id}/competitors/{competitor_id}", response=responses(DealCompetitorOut, write=True),
            summary="Link a competitor to the deal (their rep, relation, the customer's satisfaction, price)")
def deal_competitor_set(request, deal_id: int, competitor_id: int, payload: DealCompetitorIn):
    return services.deal_competitor_set(actor=request.auth, deal_id=deal_id, competitor_id=competitor_id,
                                        data=payload.model_dump())


@router.delete("/deals/{deal_id}/competitors/{competitor_id}", response=responses(None, 204, write=True),
               summary="Unlink a competitor from the deal")
def deal_competitor_remove(request, deal_id: int, competitor_id: int):
    services.deal_competitor_remove(actor=request.auth, deal_id=deal_id, competitor_id=competitor_id)
    return Status(204, None)


@router.get("/deal-reports/value-matrix", response=responses(list[MatrixPointOut]),
            summary="Open deals on the value × difficulty matrix")
def report_value_matrix(request, process: int | None = None):
    return selectors.value_matrix(user=request.auth, process_id=process)


@router.get("/deal-reports/competitors", response=responses(list[CompetitorRecordOut]),
            summary="Win/loss against each competitor")
def report_competitors(request):
    return selectors.competitor_win_loss(user=request.auth)


# ---------------------------------------------------------------------------------------------
# Process configuration (administrators)
# ---------------------------------------------------------------------------------------------


class ProcessIn(InSchema):
    name: str | None = None
    kind: str | None = None
    description: str | None = None
    active: bool | None = None
    order: int | None = None


class StageIn(InSchema):
    name: str | None = None
    order: int | None = None
    semantic: str | None = Field(None, description="open, won or lost (fixed once deals are in the stage)")
    probability: int | None = None
    participants: str | None = None
    work_content: str | None = None
    keyword: str | None = None
    key_node: str | None = None
    required_fields: list[str] | None = Field(None, description="Deal fields the key node requires: " + ", ".join(
        ["products", "amount", "expected_close_date", "quote_number", "next_step", "next_step_due",
         "purchase_window", "budget"]))
    normal_days: int | None = None


class ChecklistItemIn(InSchema):
    text: str | None = None
    required: bool | None = None
    order: int | None = None


class ReasonIn(InSchema):
    name: str | None = None
    semantic: str | None = Field(None, description="won or lost")
    active: bool | None = None
    order: int | None = None


@router.post("/processes", response=responses(ProcessOut, 201, write=True),
             summary="Create a sales process (administrators)")
def process_create(request, payload: ProcessIn):
    process = services.process_save(actor=request.auth, data=payload.model_dump(exclude_none=True))
    return Status(201, selectors.process_get(process_id=process.pk))


@router.patch("/processes/{process_id}", response=responses(ProcessOut, write=True),
              summary="Change a sales process (administrators)")
def process_update(request, process_id: int, payload: ProcessIn):
    services.process_save(actor=request.auth, process_id=process_id, data=payload.model_dump(exclude_none=True))
    return selectors.process_get(process_id=process_id)


@router.post("/processes/{process_id}/stages", response=responses(ProcessOut, 201, write=True),
             summary="Add a stage (administrators)")
def stage_create(request, process_id: int, payload: StageIn):
    services.stage_save(actor=request.auth, process_id=process_id, data=payload.model_dump(exclude_none=True))
    return Status(201, selectors.process_get(process_id=process_id))


@router.patch("/processes/{process_id}/stages/{stage_id}", response=responses(ProcessOut, write=True),
              summary="Change a stage: name, order, probability, key node, … (administrators)")
def stage_update(request, process_id: int, stage_id: int, payload: StageIn):
    services.stage_save(actor=request.auth, process_id=process_id, stage_id=stage_id,
                        data=payload.model_dump(exclude_none=True))
    return selectors.process_get(process_id=process_id)


@router.delete("/processes/{process_id}/stages/{stage_id}", response=responses(None, 204, write=True),
               summary="Delete a stage no deal has been in (administrators)")
def stage_delete(request, process_id: int, stage_id: int):
    selectors.process_get(process_id=process_id)
    services.stage_delete(actor=request.auth, stage_id=stage_id)
    return Status(204, None)


@router.post("/stages/{stage_id}/checklist", response=responses(ChecklistItemOut, 201, write=True),
             summary="Add a checklist item (administrators)")
def checklist_item_create(request, stage_id: int, payload: ChecklistItemIn):
    return Status(201, services.checklist_item_save(actor=request.auth, stage_id=stage_id,
                                                    data=payload.model_dump(exclude_none=True)))


@router.patch("/stages/{stage_id}/checklist/{item_id}", response=responses(ChecklistItemOut, write=True),
              summary="Change a checklist item; `required` puts it in the key node (administrators)")
def checklist_item_update(request, stage_id: int, item_id: int, payload: ChecklistItemIn):
    return services.checklist_item_save(actor=request.auth, stage_id=stage_id, item_id=item_id,
                                        data=payload.model_dump(exclude_none=True))


@router.delete("/stages/{stage_id}/checklist/{item_id}", response=responses(None, 204, write=True),
               summary="Delete a checklist item (administrators)")
def checklist_item_delete(request, stage_id: int, item_id: int):
    services.checklist_item_delete(actor=request.auth, item_id=item_id)
    return Status(204, None)


@router.post("/deal-reasons", response=responses(ReasonOut, 201, write=True),
             summary="Add a won/lost reason (administrators)")
def reason_create(request, payload: ReasonIn):
    return Status(201, services.reason_save(actor=request.auth, data=payload.model_dump(exclude_none=True)))


@router.patch("/deal-reasons/{reason_id}", response=responses(ReasonOut, write=True),
              summary="Rename, reorder or deactivate a won/lost reason (administrators)")
def reason_update(request, reason_id: int, payload: ReasonIn):
    return services.reason_save(actor=request.auth, reason_id=reason_id, data=payload.model_dump(exclude_none=True))
