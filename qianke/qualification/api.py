"""Qualification, stop/resume contacting, cadence lists and grading settings: parse → service/selector → schema."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from ninja import Field, Query, Router, Schema

from qianke.core.api import InSchema, PageOut, PageParams, UserRef, page_out, responses
from qianke.qualification import selectors, services
from qianke.qualification.models import GradingSettings, Qualification

router = Router(tags=["qualification"])

AnswerT = Literal["yes", "unknown", "no"]
NeedT = Literal["none", "latent", "explicit", "urgent"]
GradeT = Literal["O", "A", "B", "C", "D"]


class ContactRef(Schema):
    id: int
    name: str


class NextActionOut(Schema):
    kind: str = Field(..., description="close, develop, qualify, nurture or stop")
    text: str


class WhyOut(Schema):
    grade: str
    ordered: bool
    expected_purchase_date: dt.date | None
    days_left: int | None = Field(..., description="Days from today to the expected purchase date.")
    within_days: int | None = Field(..., description="The grade's window in days (A/B/C); null for O and D.")


class QualificationOut(Schema):
    customer_id: int
    money: str
    budget: Decimal | None
    authority: str
    authority_contact: ContactRef | None
    need: str
    is_qualified: bool = Field(..., description="money = yes, authority = yes and need explicit or urgent.")
    combination: str = Field(..., examples=["M+a+N (urgent)"])
    next_action: NextActionOut
    may_stop: bool = Field(..., description="True when all three are no: contact may stop without an override.")
    stop_contacting: bool
    stop_reason: str
    stopped_at: dt.datetime | None
    stopped_by: UserRef | None
    stop_overridden_by: UserRef | None
    stop_override_reason: str
    grade: GradeT
    ordered: bool
    expected_purchase_date: dt.date | None
    why: WhyOut
    grade_computed_on: dt.date | None
    last_follow_up_at: dt.datetime | None
    next_follow_up_due: dt.date | None


class QualificationIn(InSchema):
    money: AnswerT | None = None
    budget: Decimal | None = Field(None, ge=0, description="Yuan.")
    authority: AnswerT | None = None
    authority_contact: int | None = None
    need: NeedT | None = None
    expected_purchase_date: dt.date | None = None
    ordered: bool | None = None


class StopIn(InSchema):
    reason: str = ""
    override: bool = False


class DueQuery(PageParams):
    when: Literal["today", "overdue"] = "today"
    grade: GradeT | None = None


class CustomerRef(Schema):
    id: int
    code: str
    name: str
    owner: UserRef | None


class DueOut(Schema):
    customer: CustomerRef
    grade: str
    next_follow_up_due: dt.date | None
    last_follow_up_at: dt.datetime | None
    next_action: NextActionOut


class GradingSettingsIO(Schema):
    a_within_days: int = Field(..., ge=1, le=3650)
    b_within_days: int = Field(..., ge=1, le=3650)
    c_within_days: int = Field(..., ge=1, le=3650)
    cadence_o_days: int | None = Field(None, ge=1, le=3650)
    cadence_a_days: int = Field(..., ge=1, le=3650)
    cadence_b_days: int = Field(..., ge=1, le=3650)
    cadence_c_days: int = Field(..., ge=1, le=3650)
    cadence_d_days: int = Field(..., ge=1, le=3650)


class GradingSettingsIn(InSchema, GradingSettingsIO):
    pass


def _action_out(action) -> dict:
    return {"kind": action.kind, "text": str(action.text)}


def _action(q: Qualification) -> dict:
    from qianke.qualification import man

    return _action_out(man.next_action(q.money, q.authority, q.need))


def _out(view: selectors.QualificationView) -> dict:
    q = view.qualification
    data = {name: getattr(q, name) for name in (
        "money", "budget", "authority", "authority_contact", "need", "is_qualified", "stop_contacting",
        "stop_reason", "stopped_at", "stopped_by", "stop_overridden_by", "stop_override_reason", "grade",
        "ordered", "expected_purchase_date", "grade_computed_on", "last_follow_up_at", "next_follow_up_due")}
    w = view.why
    data.update(customer_id=view.customer.pk, combination=view.combination, may_stop=view.may_stop,
                next_action=_action_out(view.next_action),
                why={"grade": w.grade, "ordered": w.ordered, "expected_purchase_date": w.expected,
                     "days_left": w.days_left, "within_days": w.threshold})
    return data


@router.get("/customers/{customer_id}/qualification", response=responses(QualificationOut),
            summary="MAN qualification, next action and grade of a customer")
def qualification_get(request, customer_id: int):
    return _out(selectors.qualification_get(user=request.auth, customer_id=customer_id))


@router.put("/customers/{customer_id}/qualification", response=responses(QualificationOut, write=True),
            summary="Change MAN answers, budget, decision maker, expected purchase date or the ordered flag",
            description="Only the fields sent change; the grade and next follow-up due date follow.")
def qualification_update(request, customer_id: int, payload: QualificationIn):
    services.qualification_update(actor=request.auth, customer_id=customer_id,
                                  data=payload.model_dump(exclude_unset=True))
    return _out(selectors.qualification_get(user=request.auth, customer_id=customer_id))


@router.post("/customers/{customer_id}/stop-contacting", response=responses(QualificationOut, write=True),
             summary="Stop contacting a customer",
             description="Refused (409 `man_not_all_no`) unless money, authority and need are all no; a manager, "
                         "general manager or administrator may override with `override: true` and a reason.")
def stop_contacting(request, customer_id: int, payload: StopIn):
    services.qualification_stop_contacting(actor=request.auth, customer_id=customer_id, reason=payload.reason,
                                           override=payload.override)
    return _out(selectors.qualification_get(user=request.auth, customer_id=customer_id))


@router.post("/customers/{customer_id}/resume-contacting", response=responses(QualificationOut, write=True),
             summary="Resume contacting a customer")
def resume_contacting(request, customer_id: int):
    services.qualification_resume(actor=request.auth, customer_id=customer_id)
    return _out(selectors.qualification_get(user=request.auth, customer_id=customer_id))


@router.get("/follow-ups/due", response=responses(PageOut[DueOut]),
            summary="Potential customers whose follow-up cadence is due today or overdue")
def follow_ups_due(request, params: Query[DueQuery]):
    page = selectors.follow_ups_due(user=request.auth, when=params.when, grade=params.grade or "",
                                    offset=params.offset, limit=params.limit)
    page.items = [{"customer": q.customer, "grade": q.grade, "next_follow_up_due": q.next_follow_up_due,
                   "last_follow_up_at": q.last_follow_up_at, "next_action": _action(q)} for q in page.items]
    return page_out(page)


def _settings_out(config: GradingSettings) -> dict:
    return {name: getattr(config, name) for name in services.SETTINGS_FIELDS}


@router.get("/settings/grading", response=responses(GradingSettingsIO), summary="Grading settings (administrators)")
def grading_settings_get(request):
    return _settings_out(selectors.grading_settings_get(user=request.auth))


@router.put("/settings/grading", response=responses(GradingSettingsIO, write=True),
            summary="Change grading settings (administrators)",
            description="Grades and due dates follow at the next daily run of `qualification.grades`.")
def grading_settings_update(request, payload: GradingSettingsIn):
    return _settings_out(services.grading_settings_update(actor=request.auth, data=payload.model_dump()))


# ---------------------------------------------------------------------------------------------
# Explicit and hidden value (信息提纯)
# ---------------------------------------------------------------------------------------------

GrowthT = Literal["low", "medium", "high", ""]
PositionT = Literal["leader", "major", "follower", "niche", ""]


class FitPartOut(Schema):
    criterion: str = Field(..., description="industry, scale, nature or region")
    label: str
    matched: bool
    points: Decimal
    max: int
    detail: str = Field(..., description='For the region: "tier 1" or "tier 2".')


class AdjustmentOut(Schema):
    kind: str = Field(..., examples=["competition"])
    label: str
    points: int


class FitOut(Schema):
    score: int | None = Field(..., description="0–100 after adjustments; null when the profile sets no criterion.")
    base: int | None = Field(..., description="round(100 × points / max_points), before adjustments.")
    points: Decimal
    max_points: int
    parts: list[FitPartOut]
    adjustments: list[AdjustmentOut]


class ValueOut(Schema):
    customer_id: int
    competitor: str
    competition_present: bool
    growth_potential: str
    industry_position: str
    bottleneck: str
    estimated_annual_value: Decimal | None = Field(..., description="Yuan per year.")
    years_to_realise: int | None
    updated_at: dt.datetime | None
    updated_by: UserRef | None
    fit: FitOut
    discount_rate: Decimal = Field(..., description="Percent per year.")
    present_value: Decimal | None = Field(
        ..., description="V × (1 − (1 + r)^−N) / r: the annual value V received at the end of each of the "
                         "N years to realise it, discounted at r; null when V or N is unknown.")


class ValueIn(InSchema):
    competitor: str | None = Field(None, max_length=200)
    competition_present: bool | None = None
    growth_potential: GrowthT | None = None
    industry_position: PositionT | None = None
    bottleneck: str | None = Field(None, max_length=2000)
    estimated_annual_value: Decimal | None = Field(None, ge=0, description="Yuan per year.")
    years_to_realise: int | None = Field(None, ge=0, le=20)


class WeightsIO(Schema):
    industry: int = Field(..., ge=0, le=100)
    scale: int = Field(..., ge=0, le=100)
    nature: int = Field(..., ge=0, le=100)
    region: int = Field(..., ge=0, le=100)


class IdealProfileIO(Schema):
    industries: list[str] = Field(..., description="Target industries (values of the customer's industry).")
    scales: list[str]
    natures: list[str] = Field(..., description="Target enterprise natures.")
    tier1_provinces: list[str] = Field(..., description="Full region points, e.g. 浙江省.")
    tier2_provinces: list[str] = Field(..., description="Half the region points.")
    weights: WeightsIO
    competition_penalty: int = Field(..., ge=0, le=100, description="Points subtracted when competition is present.")
    discount_rate: Decimal = Field(..., ge=0, le=100, description="Percent per year, for present values.")


class IdealProfileIn(InSchema, IdealProfileIO):
    pass


def _value_out(view: selectors.ValueView) -> dict:
    row = view.value
    data = {name: getattr(row, name) for name in services.VALUE_FIELDS}
    fit = view.fit
    data.update(
        customer_id=view.customer.pk, updated_at=row.updated_at if view.exists else None,
        updated_by=row.updated_by if view.exists else None,
        fit={"score": fit.score, "base": fit.base, "points": fit.points, "max_points": fit.max_points,
             "parts": [{"criterion": p.criterion, "label": str(p.label), "matched": p.matched, "points": p.points,
                        "max": p.max, "detail": p.detail} for p in fit.parts],
             "adjustments": [{"kind": a.kind, "label": str(a.label), "points": a.points} for a in fit.adjustments]},
        discount_rate=view.profile.discount_rate, present_value=view.present_value)
    return data


@router.get("/customers/{customer_id}/value", response=responses(ValueOut),
            summary="Fit score (with its parts), competition and hidden value of a customer")
def value_get(request, customer_id: int):
    return _value_out(selectors.value_get(user=request.auth, customer_id=customer_id))


@router.put("/customers/{customer_id}/value", response=responses(ValueOut, write=True),
            summary="Record competition and hidden value of a customer",
            description="Only the fields sent change; the fit score and present value follow.")
def value_update(request, customer_id: int, payload: ValueIn):
    services.value_update(actor=request.auth, customer_id=customer_id, data=payload.model_dump(exclude_unset=True))
    return _value_out(selectors.value_get(user=request.auth, customer_id=customer_id))


def _profile_out(profile) -> dict:
    data = {name: getattr(profile, name) for name in services.PROFILE_FIELDS}
    data["weights"] = {key: int((profile.weights or {}).get(key, 0)) for key in ("industry", "scale", "nature",
                                                                                  "region")}
    return data


@router.get("/settings/ideal-profile", response=responses(IdealProfileIO), summary="The ideal customer profile")
def ideal_profile_get(request):
    return _profile_out(selectors.ideal_profile_get(user=request.auth))


@router.put("/settings/ideal-profile", response=responses(IdealProfileIO, write=True),
            summary="Change the ideal customer profile (administrators)",
            description="Fit scores are computed on read, so they follow at once.")
def ideal_profile_update(request, payload: IdealProfileIn):
    return _profile_out(services.ideal_profile_update(actor=request.auth, data=payload.model_dump()))
