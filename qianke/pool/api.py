"""REST API of the pool app: parse → call a service/selector → return a schema."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Query, Router, Schema, Status

from qianke.core.api import InSchema, PageOut, PageParams, TeamRef, UserRef, page_out, responses
from qianke.customers import selectors as customer_selectors
from qianke.customers.schemas import CustomerOut
from qianke.pool import selectors, services

router = Router(tags=["public pool"])

GradeT = Literal["O", "A", "B", "C", "D"]


class RuleIO(Schema):
    no_follow_up_days: int | None = Field(None, ge=1, le=3650,
                                          description="Return after this many days without follow-up.")
    not_converted_days: int | None = Field(None, ge=1, le=3650,
                                           description="Return when still potential this many days after the claim.")


class PoolOut(Schema):
    id: int
    name: str
    description: str
    teams: list[TeamRef]
    cap_per_rep: int | None
    cap_per_team: int | None
    cooldown_days: int
    warn_days: int
    exempt_open_deals: bool
    no_follow_up_days: int | None
    not_converted_days: int | None
    rules: dict[str, RuleIO] = Field(..., description="Return rules per grade; other grades use the defaults.")
    active: bool

    @staticmethod
    def resolve_teams(obj) -> list:
        return list(obj.teams.all())

    @staticmethod
    def resolve_rules(obj) -> dict:
        return {r.grade: {"no_follow_up_days": r.no_follow_up_days, "not_converted_days": r.not_converted_days}
                for r in obj.rules.all()}


class PoolPatch(InSchema):
    name: str | None = None
    description: str | None = None
    teams: list[int] | None = Field(None, description="Ids of the member teams (their sub-teams belong too).")
    cap_per_rep: int | None = Field(None, ge=0)
    cap_per_team: int | None = Field(None, ge=0)
    cooldown_days: int | None = Field(None, ge=0, le=3650)
    warn_days: int | None = Field(None, ge=0, le=365)
    exempt_open_deals: bool | None = None
    no_follow_up_days: int | None = Field(None, ge=1, le=3650)
    not_converted_days: int | None = Field(None, ge=1, le=3650)
    rules: dict[GradeT, RuleIO] | None = None
    active: bool | None = None


class PoolIn(PoolPatch):
    name: str


class PoolCustomerOut(Schema):
    id: int
    code: str
    name: str
    province: str
    city: str
    industry: str
    grade: str
    source: str | None
    in_pool_since: dt.datetime | None
    last_owner: UserRef | None


class PoolCustomerQuery(PageParams):
    q: str = Field("", description="Name fragment, customer code or city.")
    province: str = ""
    industry: str = ""
    grade: GradeT | None = None


class ReasonIn(InSchema):
    reason: str = Field(..., description="Why the customer goes back to the pool.")


class OwnerIn(InSchema):
    to: int = Field(..., description="Id of the rep who becomes the owner.")
    reason: str = ""


class ReleaseOut(Schema):
    customer_id: int
    pool: str
    owner: None = None


class OwnerChangeOut(Schema):
    at: dt.datetime
    kind: str
    from_owner: UserRef | None
    to_owner: UserRef | None
    actor: UserRef | None
    pool: str | None
    reason: str

    @staticmethod
    def resolve_pool(obj) -> str | None:
        return obj.pool.name if obj.pool_id else None


class WarningOut(Schema):
    customer_id: int
    customer_name: str
    pool: str
    deadline: dt.date = Field(..., description="The day the customer returns to the pool without a follow-up.")
    warned_at: dt.datetime


def _customer_row(entry) -> dict:
    c = entry.customer
    source = selectors.entry_source(entry)
    return {"id": c.pk, "code": c.code, "name": c.name, "province": c.province, "city": c.city,
            "industry": c.industry, "grade": selectors.entry_grade(entry),
            "source": source.name if source else None, "in_pool_since": entry.entered_at,
            "last_owner": entry.last_owner}


@router.get("/pools", response=responses(list[PoolOut]), summary="The pools you may open")
def pool_list(request):
    return list(selectors.pool_list(user=request.auth))


@router.get("/pools/{pool_id}", response=responses(PoolOut), summary="One pool")
def pool_get(request, pool_id: int):
    return selectors.pool_get(user=request.auth, pool_id=pool_id)


@router.post("/pools", response=responses(PoolOut, 201, write=True), summary="Create a pool (administrators)")
def pool_create(request, payload: PoolIn):
    pool = services.pool_create(actor=request.auth, data=_data(payload))
    return Status(201, selectors.pool_get(user=request.auth, pool_id=pool.pk))


@router.patch("/pools/{pool_id}", response=responses(PoolOut, write=True), summary="Change a pool (administrators)")
def pool_update(request, pool_id: int, payload: PoolPatch):
    services.pool_update(actor=request.auth, pool_id=pool_id, data=_data(payload))
    return selectors.pool_get(user=request.auth, pool_id=pool_id)


def _data(payload) -> dict:
    data = payload.model_dump(exclude_unset=True)
    if data.get("rules") is not None:
        data["rules"] = {grade: dict(rule) for grade, rule in data["rules"].items()}
    return data


@router.get("/pools/{pool_id}/customers", response=responses(PageOut[PoolCustomerOut]),
            summary="Customers in a pool, newest arrivals first")
def pool_customers(request, pool_id: int, params: Query[PoolCustomerQuery]):
    filters = selectors.PoolFilters(q=params.q, province=params.province, industry=params.industry,
                                    grade=params.grade or "")
    page = selectors.pool_customers(user=request.auth, pool_id=pool_id, filters=filters, offset=params.offset,
                                    limit=params.limit)
    page.items = [_customer_row(entry) for entry in page.items]
    return page_out(page)


CLAIM_DOC = ("409 with `code`: `taken` (someone has it), `cap_reached`, `cooldown` (you released it or lost it "
             "recently), `not_member` (not your team's pool), `not_potential`. 404 when you may see neither the "
             "customer nor its pool.")


@router.post("/customers/{customer_id}/claim", response=responses(CustomerOut, write=True),
             summary="Claim a customer from the public pool", description=CLAIM_DOC)
def claim(request, customer_id: int):
    services.pool_claim(actor=request.auth, customer_id=customer_id)
    return customer_selectors.customer_get(user=request.auth, customer_id=customer_id)


@router.post("/customers/{customer_id}/release", response=responses(ReleaseOut, write=True),
             summary="Give a customer back to its public pool, with a reason")
def release(request, customer_id: int, payload: ReasonIn):
    services.pool_release(actor=request.auth, customer_id=customer_id, reason=payload.reason)
    pool = selectors.customer_pool(customer_id=customer_id)
    return {"customer_id": customer_id, "pool": pool.name}


@router.post("/customers/{customer_id}/assign", response=responses(CustomerOut, write=True),
             summary="Assign a pool customer to a rep (managers, administrators)", description=CLAIM_DOC)
def assign(request, customer_id: int, payload: OwnerIn):
    services.pool_assign(actor=request.auth, customer_id=customer_id, to_user_id=payload.to, reason=payload.reason)
    return customer_selectors.customer_get(user=request.auth, customer_id=customer_id)


@router.post("/customers/{customer_id}/transfer", response=responses(CustomerOut, write=True),
             summary="Transfer a customer to another rep (managers, administrators)")
def transfer(request, customer_id: int, payload: OwnerIn):
    services.pool_transfer(actor=request.auth, customer_id=customer_id, to_user_id=payload.to,
                           reason=payload.reason)
    return customer_selectors.customer_get(user=request.auth, customer_id=customer_id)


@router.get("/customers/{customer_id}/owner-history", response=responses(PageOut[OwnerChangeOut]),
            summary="Who owned a customer, newest change first")
def owner_history(request, customer_id: int, page: Query[PageParams]):
    return page_out(selectors.owner_history_page(user=request.auth, customer_id=customer_id, offset=page.offset,
                                                 limit=page.limit))


@router.get("/pool-warnings", response=responses(list[WarningOut]),
            summary="Your customers about to return to the pool")
def warnings(request):
    return [{"customer_id": w.customer_id, "customer_name": w.customer.name, "pool": w.pool.name,
             "deadline": w.deadline, "warned_at": w.created_at}
            for w in selectors.return_warnings(user=request.auth)]
