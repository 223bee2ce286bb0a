"""Lifecycle pages: the panel's transition and purchase buttons, and the funnel report.

Views parse, call the lifecycle service or the report selector, and render.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qianke.core.errors import Conflict, PermissionDenied, ValidationFailed
from qianke.core.views import query_date, ui_view
from qianke.customers import lifecycle, reports
from qianke.customers.choices import Status


def _error_text(exc: ValidationFailed | Conflict) -> str:
    details = [m for messages_ in getattr(exc, "fields", {}).values() for m in messages_]
    return " ".join([str(exc.message)] + details) if isinstance(exc, ValidationFailed) else str(exc.message)


@require_POST
@ui_view
def customer_transition(request, customer_id: int):
    post = request.POST
    try:
        if post.get("purchase"):
            customer = lifecycle.customer_record_purchase(actor=request.user, customer_id=customer_id,
                                                          reason=post.get("reason", ""))
        else:
            customer = lifecycle.customer_transition(
                actor=request.user, customer_id=customer_id, to_status=post.get("to_status", ""),
                reason=post.get("reason", ""),
                competitor=post.get("competitor", "") if post.get("to_status") == Status.LOST else "",
            )
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("“%(name)s” is now: %(status)s.")
                         % {"name": customer.name, "status": customer.get_status_display()})
    return redirect("customers:detail", customer_id=customer_id)




@ui_view
def funnel_report(request):
    if not reports.may_see_reports(request.user):
        raise PermissionDenied(_("Reports are for managers, the general manager and specialists."))
    default_from, default_to = reports.default_period()
    group_by = request.GET.get("group_by") or "team"
    date_from = query_date(request.GET.get("date_from")) or default_from
    date_to = query_date(request.GET.get("date_to")) or default_to
    funnel, errors = None, []
    try:
        funnel = reports.lifecycle_funnel(user=request.user, group_by=group_by, date_from=date_from,
                                          date_to=date_to)
    except ValidationFailed as exc:
        errors = [m for msgs in exc.fields.values() for m in msgs]
    chart = None
    if funnel is not None:
        rows = funnel.rows or [funnel.total]
        chart = {
            "groups": [r.label for r in rows],
            "series": [
                {"name": str(_("Entered potential")), "data": [r.entered for r in rows]},
                {"name": str(_("Reached new")), "data": [r.new for r in rows]},
                {"name": str(_("Reached repeat")), "data": [r.repeat for r in rows]},
                {"name": str(_("Lost")), "data": [r.lost for r in rows]},
            ],
        }
    return render(request, "customers/funnel_report.html", {
        "funnel": funnel, "errors": errors, "chart": chart, "group_by": group_by,
        "group_choices": reports.group_choices(), "date_from": date_from, "date_to": date_to,
    })
