"""Customers and contacts: parse → service or selector → schema. No rules live here."""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from qianke.activities.api import ActivityOut
from qianke.activities.selectors import activity_list
from qianke.core.api import PageOut, PageParams, page_out, responses
from qianke.core.errors import ValidationFailed
from qianke.customers import lifecycle, reports, selectors, services
from qianke.customers.schemas import (
    AuditEntryOut,
    ConfirmQuery,
    ContactIn,
    ContactOut,
    ContactPatch,
    ContactQuery,
    CustomerIn,
    CustomerOut,
    CustomerPatch,
    CustomerQuery,
    FunnelOut,
    FunnelQuery,
    PurchaseIn,
    StatusChangeOut,
    TransitionIn,
)

router = Router(tags=["customers"])
contacts_router = Router(tags=["contacts"])
reports_router = Router(tags=["reports"])

CUSTOM_PREFIX = "cf_"


def custom_filters(request) -> dict[str, str]:
    """Custom-field filters arrive as cf_<key>=value query parameters."""
    return {k.removeprefix(CUSTOM_PREFIX): v for k, v in request.GET.items() if k.startswith(CUSTOM_PREFIX)}


def _body(payload) -> tuple[dict, bool]:
    data = payload.model_dump(exclude_unset=True)
    return data, bool(data.pop("confirm_duplicate", False))


@router.get("", response=responses(PageOut[CustomerOut]), summary="List and search customers",
            description="Custom fields filter as `cf_<key>=value` query parameters (e.g. `cf_budget=50`).")
def customer_list(request, params: Query[CustomerQuery]):
    if params.sort not in selectors.SORTS:
        raise ValidationFailed({"sort": [_("Choose one of: %(options)s.") % {"options": ", ".join(selectors.SORTS)}]})
    filters = selectors.CustomerFilters(
        q=params.q, status=params.status, kind=params.kind, industry=params.industry,
        province=params.province, city=params.city, district=params.district, owner=params.owner,
        team=params.team, tag=params.tag, archived=params.archived, sort=params.sort,
        custom=custom_filters(request),
    )
    return page_out(selectors.customer_list(user=request.auth, filters=filters, offset=params.offset,
                                            limit=params.limit))


@router.post("", response=responses(CustomerOut, 201, write=True), summary="Create a customer",
             description="A likely duplicate answers 409 `needs_confirmation` with `duplicates`; "
                         "repeat with `confirm_duplicate` (query or body) to save anyway.")
def customer_create(request, payload: CustomerIn, confirm: Query[ConfirmQuery]):
    data, confirmed = _body(payload)
    customer = services.customer_create(actor=request.auth, data=data,
                                        confirm_duplicate=confirmed or confirm.confirm_duplicate)
    return Status(201, selectors.customer_get(user=request.auth, customer_id=customer.pk))


@router.get("/{int:customer_id}", response=responses(CustomerOut), summary="One customer")
def customer_get(request, customer_id: int, include_archived: bool = False):
    return selectors.customer_get(user=request.auth, customer_id=customer_id, include_archived=include_archived)


@router.patch("/{int:customer_id}", response=responses(CustomerOut, write=True), summary="Change a customer",
              description="Only the fields sent are changed.")
def customer_update(request, customer_id: int, payload: CustomerPatch, confirm: Query[ConfirmQuery]):
    data, confirmed = _body(payload)
    services.customer_update(actor=request.auth, customer_id=customer_id, data=data,
                             confirm_duplicate=confirmed or confirm.confirm_duplicate)
    return selectors.customer_get(user=request.auth, customer_id=customer_id)


@router.post("/{customer_id}/archive", response=responses(CustomerOut, write=True),
             summary="Archive a customer (administrators and specialists)")
def customer_archive(request, customer_id: int):
    services.customer_archive(actor=request.auth, customer_id=customer_id)
    return selectors.customer_get(user=request.auth, customer_id=customer_id, include_archived=True)


@router.post("/{customer_id}/restore", response=responses(CustomerOut, write=True),
             summary="Restore an archived customer (administrators and specialists)")
def customer_restore(request, customer_id: int):
    services.customer_restore(actor=request.auth, customer_id=customer_id)
    return selectors.customer_get(user=request.auth, customer_id=customer_id)


@router.get("/{customer_id}/history", response=responses(PageOut[AuditEntryOut]),
            summary="Audit trail of the customer, its contacts and follow-ups (newest first)")
def customer_history(request, customer_id: int, page: Query[PageParams]):
    return page_out(selectors.customer_history_page(user=request.auth, customer_id=customer_id,
                                                    offset=page.offset, limit=page.limit))


@router.post("/{customer_id}/transition", response=responses(CustomerOut, write=True),
             summary="Move the customer to another lifecycle status",
             description="Legal moves: potential → new | lost; new → repeat | dormant | lost; repeat → dormant | "
                         "lost; dormant → repeat | lost; lost → potential (win-back). An illegal move answers 409 "
                         "`illegal_transition` with `allowed` (the legal targets).")
def customer_transition(request, customer_id: int, payload: TransitionIn):
    lifecycle.customer_transition(actor=request.auth, customer_id=customer_id, **payload.model_dump())
    return selectors.customer_get(user=request.auth, customer_id=customer_id)


@router.post("/{customer_id}/purchase", response=responses(CustomerOut, write=True),
             summary="Record a purchase (potential → new, new → repeat, dormant → repeat)")
def customer_purchase(request, customer_id: int, payload: PurchaseIn):
    lifecycle.customer_record_purchase(actor=request.auth, customer_id=customer_id, **payload.model_dump())
    return selectors.customer_get(user=request.auth, customer_id=customer_id)


@router.get("/{customer_id}/status-history", response=responses(PageOut[StatusChangeOut]),
            summary="Lifecycle moves of the customer (newest first)")
def customer_status_history(request, customer_id: int, page: Query[PageParams]):
    return page_out(lifecycle.status_history_page(user=request.auth, customer_id=customer_id,
                                                  offset=page.offset, limit=page.limit))


@router.get("/{customer_id}/timeline", response=responses(PageOut[ActivityOut]),
            summary="Follow-ups of the customer (newest first)")
def customer_timeline(request, customer_id: int, page: Query[PageParams]):
    selectors.customer_get(user=request.auth, customer_id=customer_id)  # 404 for customers one may not see
    return page_out(activity_list(user=request.auth, customer_id=customer_id, offset=page.offset,
                                  limit=page.limit))


@router.get("/{customer_id}/contacts", response=responses(PageOut[ContactOut]),
            summary="Contacts of the customer")
def customer_contacts(request, customer_id: int, page: Query[PageParams]):
    selectors.customer_get(user=request.auth, customer_id=customer_id)  # 404 for customers one may not see
    return page_out(selectors.contact_list(user=request.auth, customer_id=customer_id, offset=page.offset,
                                           limit=page.limit))


# ---------------------------------------------------------------------------------------------
# Contacts
# ---------------------------------------------------------------------------------------------


@contacts_router.get("", response=responses(PageOut[ContactOut]), summary="List contacts")
def contact_list(request, params: Query[ContactQuery]):
    return page_out(selectors.contact_list(user=request.auth, customer_id=params.customer, q=params.q,
                                           offset=params.offset, limit=params.limit))


@contacts_router.post("", response=responses(ContactOut, 201, write=True), summary="Add a contact to a customer")
def contact_create(request, payload: ContactIn):
    data = payload.model_dump(exclude_unset=True)
    customer_id = data.pop("customer")
    contact = services.contact_create(actor=request.auth, customer_id=customer_id, data=data)
    return Status(201, selectors.contact_get(user=request.auth, contact_id=contact.pk))


@contacts_router.get("/{contact_id}", response=responses(ContactOut), summary="One contact")
def contact_get(request, contact_id: int):
    return selectors.contact_get(user=request.auth, contact_id=contact_id)


@contacts_router.patch("/{contact_id}", response=responses(ContactOut, write=True), summary="Change a contact",
                       description="Only the fields sent are changed.")
def contact_update(request, contact_id: int, payload: ContactPatch):
    services.contact_update(actor=request.auth, contact_id=contact_id, data=payload.model_dump(exclude_unset=True))
    return selectors.contact_get(user=request.auth, contact_id=contact_id)


@contacts_router.post("/{contact_id}/archive", response=responses(ContactOut, write=True),
                      summary="Archive a contact")
def contact_archive(request, contact_id: int):
    return services.contact_archive(actor=request.auth, contact_id=contact_id)


# ---------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------


@reports_router.get("/funnel", response=responses(FunnelOut), summary="Conversion funnel of the customer lifecycle",
                    description="The cohort is the customers that entered potential in the period; counts, rates "
                                "and days to new and repeat per group. Managers, general manager, specialists.")
def funnel(request, params: Query[FunnelQuery]):
    default_from, default_to = reports.default_period()
    date_to = params.date_to or default_to
    date_from = params.date_from or (date_to - (default_to - default_from))
    return reports.lifecycle_funnel(user=request.auth, group_by=params.group_by, date_from=date_from,
                                    date_to=date_to)
