"""Follow-up pages: add (quick form on the customer page), edit, archive, mark the next step done."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qianke.activities import selectors, services
from qianke.activities.forms import ActivityForm
from qianke.core.errors import ValidationFailed
from qianke.core.forms import add_service_errors
from qianke.core.views import is_htmx, ui_view
from qianke.customers.selectors import customer_contacts, customer_get


def _timeline_url(customer_id: int) -> str:
    return reverse("customers:detail", args=[customer_id]) + "#timeline"


@ui_view
def activity_edit(request, customer_id: int | None = None, activity_id: int | None = None):
    user = request.user
    activity = selectors.activity_get(user=user, activity_id=activity_id) if activity_id else None
    customer = customer_get(user=user, customer_id=activity.customer_id if activity else customer_id)
    contacts = customer_contacts(user=user, customer_id=customer.pk)
    if request.method == "POST":
        form = ActivityForm(request.POST, contacts=contacts, instance=activity)
        if form.is_valid():
            try:
                if activity is None:
                    services.activity_create(actor=user, customer_id=customer.pk, data=form.service_data())
                else:
                    services.activity_update(actor=user, activity_id=activity.pk, data=form.service_data())
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Follow-up saved."))
                return redirect(_timeline_url(customer.pk))
    else:
        form = ActivityForm(contacts=contacts, instance=activity)
    return render(
        request, "activities/activity_form.html", {"form": form, "customer": customer, "activity": activity}
    )


@require_POST
@ui_view
def activity_archive(request, activity_id: int):
    activity = services.activity_archive(actor=request.user, activity_id=activity_id)
    messages.success(request, _("Follow-up removed from the timeline."))
    return redirect(_timeline_url(activity.customer_id))


@require_POST
@ui_view
def activity_done(request, activity_id: int):
    activity = services.activity_complete_next_step(actor=request.user, activity_id=activity_id)
    if is_htmx(request):
        return render(request, "activities/_follow_up_row.html", {"item": activity, "done": True})
    messages.success(request, _("Marked as done: %(step)s") % {"step": activity.next_step})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("home")
    return redirect(target)
