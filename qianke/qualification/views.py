"""Qualification UI: the customer-page panel, the home-page cadence section, the due list, settings."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qianke.core.errors import Conflict, PermissionDenied, ValidationFailed
from qianke.core.forms import add_service_errors
from qianke.core.views import ui_view
from qianke.customers.choices import Status
from qianke.customers.selectors import clamp_limit, customer_contacts
from qianke.qualification import selectors, services
from qianke.qualification.forms import (
    DueFilterForm,
    GradingSettingsForm,
    IdealProfileForm,
    QualificationForm,
    StopForm,
    ValueForm,
)


def _detail_url(customer_id: int) -> str:
    return reverse("customers:detail", args=[customer_id])


# ---------------------------------------------------------------------------------------------
# Extension points
# ---------------------------------------------------------------------------------------------


def panel_context(request, customer) -> dict | None:
    """The qualification panel: for potential customers, and for others once they have a row."""
    view = selectors.qualification_view(customer)
    if customer.is_archived or (customer.status != Status.POTENTIAL and not view.exists):
        return None
    return {"view": view, "q": view.qualification, "customer": customer,
            "may_override": services.may_override_stop(request.user), "stop_form": StopForm()}


def value_panel_context(request, customer) -> dict | None:
    """The value panel: for potential customers, and for others once a value is recorded (two queries)."""
    if customer.is_archived:
        return None
    view = selectors.value_view(customer)
    if customer.status != Status.POTENTIAL and not view.exists:
        return None
    return {"view": view, "v": view.value, "fit": view.fit, "customer": customer}


def home_context(request) -> dict | None:
    summary = selectors.cadence_summary(user=request.user)
    return {"blocks": [("today", summary["today"]), ("overdue", summary["overdue"])]}


# ---------------------------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------------------------


def _initial(q) -> dict:
    return {"money": q.money, "budget": q.budget, "authority": q.authority,
            "authority_contact": q.authority_contact_id, "need": q.need,
            "expected_purchase_date": q.expected_purchase_date, "ordered": q.ordered}


@ui_view
def qualification_edit(request, customer_id: int):
    view = selectors.qualification_get(user=request.user, customer_id=customer_id)
    contacts = customer_contacts(user=request.user, customer_id=customer_id)
    if request.method == "POST":
        form = QualificationForm(request.POST, contacts=contacts)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                services.qualification_update(actor=request.user, customer_id=customer_id, data=data)
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Qualification saved."))
                return redirect(_detail_url(customer_id))
    else:
        form = QualificationForm(initial=_initial(view.qualification), contacts=contacts)
    return render(request, "qualification/edit.html", {"form": form, "view": view, "customer": view.customer})


@ui_view
@require_POST
def stop_contacting(request, customer_id: int):
    form = StopForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    try:
        services.qualification_stop_contacting(actor=request.user, customer_id=customer_id,
                                               reason=data.get("reason", ""), override=data.get("override", False))
    except ValidationFailed as exc:
        messages.error(request, " ".join(str(m) for ms in exc.fields.values() for m in ms) or str(exc.message))
    except (Conflict, PermissionDenied) as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Contact stopped."))
    return redirect(_detail_url(customer_id))


@ui_view
@require_POST
def resume_contacting(request, customer_id: int):
    try:
        services.qualification_resume(actor=request.user, customer_id=customer_id)
    except Conflict as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Contact resumed."))
    return redirect(_detail_url(customer_id))


@ui_view
def due_list(request):
    form = DueFilterForm(request.GET or None)
    when, grade = "today", ""
    if form.is_valid():
        when = form.cleaned_data.get("when") or "today"
        grade = form.cleaned_data.get("grade") or ""
    try:
        page_number = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        page_number = 1
    limit = clamp_limit(None)
    page = selectors.follow_ups_due(user=request.user, when=when, grade=grade, offset=(page_number - 1) * limit,
                                    limit=limit)
    return render(request, "qualification/due_list.html",
                  {"form": form, "page": page, "page_number": page_number, "when": when, "grade": grade,
                   "today": timezone.localdate()})


@ui_view
def grading_settings(request):
    config = selectors.grading_settings_get(user=request.user)
    if request.method == "POST":
        form = GradingSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.grading_settings_update(actor=request.user, data=form.cleaned_data)
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Grading settings saved. Grades follow at the next daily run."))
                return redirect("qualification:settings")
    else:
        form = GradingSettingsForm(initial={name: getattr(config, name) for name in services.SETTINGS_FIELDS})
    return render(request, "qualification/settings.html", {"form": form})


@ui_view
def value_edit(request, customer_id: int):
    view = selectors.value_get(user=request.user, customer_id=customer_id)
    if request.method == "POST":
        form = ValueForm(request.POST)
        if form.is_valid():
            try:
                services.value_update(actor=request.user, customer_id=customer_id, data=dict(form.cleaned_data))
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Value saved."))
                return redirect(_detail_url(customer_id))
    else:
        form = ValueForm(initial={name: getattr(view.value, name) for name in services.VALUE_FIELDS})
    return render(request, "qualification/value_edit.html", {"form": form, "view": view, "customer": view.customer})


@ui_view
def ideal_profile_settings(request):
    if not request.user.is_admin:
        raise PermissionDenied(_("Only administrators change the ideal customer profile."))
    profile = selectors.ideal_profile_get(user=request.user)
    if request.method == "POST":
        form = IdealProfileForm(request.POST)
        if form.is_valid():
            try:
                services.ideal_profile_update(actor=request.user, data=form.service_data())
            except ValidationFailed as exc:
                add_service_errors(form, exc, aliases=IdealProfileForm.ALIASES)
            else:
                messages.success(request, _("Ideal customer profile saved. Fit scores follow at once."))
                return redirect("qualification:ideal_profile")
    else:
        form = IdealProfileForm(initial=IdealProfileForm.initial_for(profile))
    return render(request, "qualification/ideal_profile.html", {"form": form})
