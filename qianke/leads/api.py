"""Sources, collection methods, customer origins, referral trees and the source report: parse → call → schema."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Query, Router, Schema, Status

from qianke.core.api import InSchema, UserRef, responses
from qianke.leads import selectors, services

router = Router(tags=["sources and referrals"])


class SourceOut(Schema):
    id: int
    name: str
    path: str = Field(..., description="Names from the structural source down, e.g. 展厅客源 › 来店.")
    parent: int | None
    depth: int = Field(..., description="0 structural source (结构来源), 1 first source (第一来源), 2+ detail.")
    active: bool
    order: int
    children: list[SourceOut] = []


def _source_out(node: selectors.SourceNode) -> dict:
    s = node.source
    return {"id": s.pk, "name": s.name, "path": node.label, "parent": s.parent_id, "depth": s.depth,
            "active": s.active, "order": s.order, "children": [_source_out(c) for c in node.children]}


class SourceIn(InSchema):
    name: str
    parent: int | None = None
    order: int | None = None


class SourcePatch(InSchema):
    name: str | None = None
    parent: int | None = None
    order: int | None = None
    active: bool | None = None


class ListItemOut(Schema):
    id: int
    name: str
    active: bool


class CollectionMethodOut(ListItemOut):
    code: str
    description: str


class Ref(Schema):
    id: int
    name: str


class IntroducerOut(Schema):
    id: int | None
    name: str | None = Field(None, description="Null when you may not see the introducing customer.")
    code: str | None = None


class OriginOut(Schema):
    customer: int
    source: SourceOut | None
    information_source: Ref | None
    collection_method: Ref | None
    introducer_customer: IntroducerOut | None
    introducer_contact: Ref | None
    recorded_at: dt.datetime | None
    recorded_by: UserRef | None


class OriginIn(InSchema):
    source: int
    information_source: int | None = None
    collection_method: int | None = None
    introducer_customer: int | None = Field(None, description="A customer you can see.")
    introducer_contact: int | None = Field(None, description="A contact you can see; its customer is the "
                                                             "introducing customer.")


class ReferralNodeOut(Schema):
    customer_id: int
    name: str
    code: str
    status: str
    converted: bool
    depth: int
    via_contact: str
    hidden: int = Field(..., description="Introduced customers below this one you may not see.")
    children: list[ReferralNodeOut]


class ReferralTreeOut(Schema):
    customer: Ref
    introduced: int = Field(..., description="All customers introduced, at every level shown (seen or not).")
    converted: int = Field(..., description="How many of them became customers (status new or beyond).")
    direct_introduced: int
    direct_converted: int
    hidden: int
    depth: int
    truncated: bool
    children: list[ReferralNodeOut]


class ReportQuery(Schema):
    date_from: dt.date | None = None
    date_to: dt.date | None = None


class ReportRowOut(Schema):
    source: int | None
    path: str
    depth: int
    count: int = Field(..., description="Customers registered in the period.")
    qualified: int | None = Field(..., description="Null when the qualification module is not installed.")
    converted: int
    conversion_rate: float | None
    median_days_to_convert: float | None


class ReportGroupOut(Schema):
    total: ReportRowOut
    rows: list[ReportRowOut]


class ReportOut(Schema):
    date_from: dt.date
    date_to: dt.date
    columns: list[str] = Field(..., description="The columns this installation can fill.")
    groups: list[ReportGroupOut]
    unrecorded: ReportRowOut = Field(..., description="Customers without a recorded source.")
    total: ReportRowOut


def _row(row: selectors.SourceRow) -> dict:
    return {"source": row.source_id, "path": row.label, "depth": row.depth, "count": row.count,
            "qualified": row.qualified, "converted": row.converted, "conversion_rate": row.conversion_rate,
            "median_days_to_convert": row.median_days}


def _origin_out(origin, customer_id: int) -> dict:
    if origin is None:
        return {"customer": customer_id, "source": None, "information_source": None, "collection_method": None,
                "introducer_customer": None, "introducer_contact": None, "recorded_at": None, "recorded_by": None}
    source = origin.source
    intro = None
    if origin.introducer_customer_id:
        visible = origin.introducer_visible
        intro = {"id": origin.introducer_customer_id if visible else None,
                 "name": origin.introducer_customer.name if visible else None,
                 "code": origin.introducer_customer.code if visible else None}
    return {
        "customer": customer_id,
        "source": {"id": source.pk, "name": source.name, "path": origin.source_path, "parent": source.parent_id,
                   "depth": source.depth, "active": source.active, "order": source.order, "children": []},
        "information_source": origin.information_source,
        "collection_method": origin.collection_method,
        "introducer_customer": intro,
        "introducer_contact": origin.introducer_contact if intro and intro["id"] else None,
        "recorded_at": origin.recorded_at,
        "recorded_by": origin.recorded_by,
    }


@router.get("/sources", response=responses(list[SourceOut]), summary="The source tree (客户来源)")
def source_tree(request, include_inactive: bool = False):
    return [_source_out(n) for n in selectors.source_tree(include_inactive=include_inactive)]


@router.post("/sources", response=responses(SourceOut, 201, write=True), summary="Add a source (administrators)")
def source_create(request, payload: SourceIn):
    source = services.source_create(actor=request.auth, name=payload.name, parent_id=payload.parent,
                                    order=payload.order)
    return Status(201, _source_out(selectors.SourceNode(source, selectors.source_label(source))))


@router.patch("/sources/{source_id}", response=responses(SourceOut, write=True),
              summary="Rename, move, reorder, deactivate or reactivate a source (administrators)",
              description="Send only what changes; `parent: null` moves to the top level.")
def source_update(request, source_id: int, payload: SourcePatch):
    source = services.source_update(actor=request.auth, source_id=source_id,
                                    data=payload.model_dump(exclude_unset=True))
    return _source_out(selectors.SourceNode(source, selectors.source_label(source)))


@router.get("/information-sources", response=responses(list[ListItemOut]), summary="Information sources (信息来源)")
def information_sources(request, include_inactive: bool = False):
    return selectors.information_source_list(include_inactive=include_inactive)


@router.get("/collection-methods", response=responses(list[CollectionMethodOut]),
            summary="Collection methods (搜集方法)")
def collection_methods(request, include_inactive: bool = False):
    return selectors.collection_method_list(include_inactive=include_inactive)


@router.get("/customers/{customer_id}/origin", response=responses(OriginOut),
            summary="Where the customer came from (all fields null when not recorded)")
def origin_get(request, customer_id: int):
    return _origin_out(selectors.origin_get(user=request.auth, customer_id=customer_id), customer_id)


@router.put("/customers/{customer_id}/origin", response=responses(OriginOut, write=True),
            summary="Record or replace the customer's origin")
def origin_set(request, customer_id: int, payload: OriginIn):
    services.origin_set(actor=request.auth, customer_id=customer_id, data=payload.model_dump())
    return _origin_out(selectors.origin_get(user=request.auth, customer_id=customer_id), customer_id)


@router.get("/customers/{customer_id}/referrals", response=responses(ReferralTreeOut),
            summary="Referral tree: customers introduced by this customer or its contacts (连锁介绍)")
def referrals(request, customer_id: int, depth: int = Query(selectors.REFERRAL_DEFAULT_DEPTH, ge=1,
                                                               le=selectors.REFERRAL_MAX_DEPTH)):
    tree = selectors.referral_tree(user=request.auth, customer_id=customer_id, depth=depth)
    return {"customer": {"id": tree.root.pk, "name": tree.root.name}, "introduced": tree.introduced,
            "converted": tree.converted, "direct_introduced": tree.direct_introduced,
            "direct_converted": tree.direct_converted, "hidden": tree.hidden, "depth": tree.depth,
            "truncated": tree.truncated, "children": tree.children}


@router.get("/reports/sources", response=responses(ReportOut), summary="Source effectiveness",
            description="Per source and per structural source, for customers registered between date_from and "
                        "date_to (inclusive; default the last 365 days). Covers the customers you may see. "
                        "`qualified` is null without the qualification module; there is no value-won column "
                        "until deals exist.")
def source_report(request, params: Query[ReportQuery]):
    report = selectors.source_report(user=request.auth, date_from=params.date_from, date_to=params.date_to)
    columns = ["count", "converted", "conversion_rate"]
    if report.has_qualified:
        columns.insert(1, "qualified")
    if report.has_median_days:
        columns.append("median_days_to_convert")
    return {"date_from": report.date_from, "date_to": report.date_to, "columns": columns,
            "groups": [{"total": _row(g.total), "rows": [_row(r) for r in g.rows]} for g in report.groups],
            "unrecorded": _row(report.unrecorded), "total": _row(report.total)}
