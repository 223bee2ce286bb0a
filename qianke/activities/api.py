"""Follow-ups (跟进记录): parse → service or selector → schema."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Query, Router, Schema, Status

from qianke.activities import selectors, services
from qianke.activities.models import ActivityKind
from qianke.core.api import InSchema, PageOut, PageParams, UserRef, page_out, responses

router = Router(tags=["activities"])


class ActivityCustomerRef(Schema):
    id: int
    code: str
    name: str


class ActivityContactRef(Schema):
    id: int
    name: str


class ActivityOut(Schema):
    id: int
    customer: ActivityCustomerRef
    contact: ActivityContactRef | None
    kind: str
    occurred_at: dt.datetime
    actor: UserRef | None
    content: str
    outcome: str
    next_step: str
    next_due: dt.date | None
    next_done_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    archived_at: dt.datetime | None


class ActivityPatch(InSchema):
    kind: str | None = Field(None, description="One of: " + ", ".join(ActivityKind.values) + ".")
    occurred_at: dt.datetime | None = Field(None, description="When it happened; now when left out.")
    contact: int | None = Field(None, description="Id of a contact of the same customer.")
    content: str | None = None
    outcome: str | None = None
    next_step: str | None = None
    next_due: dt.date | None = None


class ActivityIn(ActivityPatch):
    customer: int = Field(..., description="Id of the customer.")
    content: str


class ActivityQuery(PageParams):
    customer: int | None = None
    kind: str = ""


@router.get("", response=responses(PageOut[ActivityOut]), summary="List follow-ups (newest first)")
def activity_list(request, params: Query[ActivityQuery]):
    return page_out(selectors.activity_list(user=request.auth, customer_id=params.customer, kind=params.kind,
                                            offset=params.offset, limit=params.limit))


@router.post("", response=responses(ActivityOut, 201, write=True), summary="Record a follow-up")
def activity_create(request, payload: ActivityIn):
    data = payload.model_dump(exclude_unset=True)
    customer_id = data.pop("customer")
    activity = services.activity_create(actor=request.auth, customer_id=customer_id, data=data)
    return Status(201, selectors.activity_get(user=request.auth, activity_id=activity.pk))


@router.get("/{activity_id}", response=responses(ActivityOut), summary="One follow-up")
def activity_get(request, activity_id: int):
    return selectors.activity_get(user=request.auth, activity_id=activity_id)


@router.patch("/{activity_id}", response=responses(ActivityOut, write=True), summary="Change a follow-up",
              description="Only the fields sent are changed.")
def activity_update(request, activity_id: int, payload: ActivityPatch):
    services.activity_update(actor=request.auth, activity_id=activity_id,
                             data=payload.model_dump(exclude_unset=True))
    return selectors.activity_get(user=request.auth, activity_id=activity_id)


@router.post("/{activity_id}/complete", response=responses(ActivityOut, write=True),
             summary="Mark the follow-up's next step done")
def activity_complete(request, activity_id: int):
    services.activity_complete_next_step(actor=request.auth, activity_id=activity_id)
    return selectors.activity_get(user=request.auth, activity_id=activity_id)


@router.post("/{activity_id}/archive", response=responses(ActivityOut, write=True), summary="Archive a follow-up")
def activity_archive(request, activity_id: int):
    return services.activity_archive(actor=request.auth, activity_id=activity_id)
