"""Pool UI: the pool page with claim buttons, assign/release/transfer, pool settings, and the extension
points (owner-history panel on the customer page, the home page's "about to return" section)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qianke.core.errors import Conflict, ValidationFailed
from qianke.core.forms import add_service_errors
from qianke.core.views import is_htmx, query_int, ui_view
from qianke.customers.selectors import clamp_limit
from qianke.customers.services import assignable_owners
from qianke.pool import selectors, services
from qianke.pool.forms import OwnerChoiceForm, PoolFilterForm, PoolForm, ReleaseForm

# ---------------------------------------------------------------------------------------------
# Extension points
# ---------------------------------------------------------------------------------------------


def owner_panel_context(request, customer) -> dict | None:
    """The owner panel costs the customer page no query: the history (and the transfer form's list of
    reps) load into it with htmx from `owner_history_fragment` (the page is bounded in queries)."""
    return {"customer": customer, "may_release": services.may_release(request.user, customer),
            "release_form": ReleaseForm()}


@ui_view
def owner_history_fragment(request, customer_id: int):
    history = selectors.owner_history(user=request.user, customer_id=customer_id, limit=20)
    users = selectors.transfer_targets(user=request.user, customer_id=customer_id)
    may_transfer = users is not None
    return render(request, "pool/_owner_history.html",
                  {"history": history, "customer_id": customer_id, "may_transfer": may_transfer, "users": users})


def home_warnings_context(request) -> dict | None:
    warnings = selectors.return_warnings(user=request.user, limit=10)
    if not warnings:
        return None
    return {"warnings": warnings, "today": timezone.localdate()}


# ---------------------------------------------------------------------------------------------
# The pool page
# ---------------------------------------------------------------------------------------------


def _page_number(request) -> int:
    return max(1, query_int(request.GET.get("page")) or 1)


@ui_view
def pool_list(request):
    pools = list(selectors.pool_list(user=request.user))
    pool = None
    if pools:
        wanted = request.GET.get("pool")
        pool = next((p for p in pools if str(p.pk) == wanted), None) or pools[0]
    form = PoolFilterForm(request.GET or None)
    filters = selectors.PoolFilters()
    if form.is_valid():
        filters = selectors.PoolFilters(**{k: v or "" for k, v in form.cleaned_data.items()})
    page_number = _page_number(request)
    page = None
    if pool is not None:
        limit = clamp_limit(None)
        page = selectors.pool_customers(user=request.user, pool_id=pool.pk, filters=filters,
                                        offset=(page_number - 1) * limit, limit=limit)
    members = selectors.assignable_members(user=request.user, pool=pool) if pool is not None else None
    return render(request, "pool/list.html", {
        "pools": pools, "pool": pool, "form": form, "page": page, "page_number": page_number,
        "is_member": pool is not None and services.is_member(request.user, pool),
        "members": members, "held": services.held_count(user=request.user),
    })


def _row_response(request, customer_id: int, *, result: str, message: str, ok: bool):
    return render(request, "pool/_claim_result.html",
                  {"customer_id": customer_id, "result": result, "message": message, "ok": ok})


@ui_view
@require_POST
def claim(request, customer_id: int):
    try:
        customer = services.pool_claim(actor=request.user, customer_id=customer_id)
    except services.PoolRefused as exc:
        if is_htmx(request):
            return _row_response(request, customer_id, result=exc.code, message=str(exc.message), ok=False)
        messages.error(request, str(exc.message))
        return redirect(request.POST.get("next") or reverse("pool:list"))
    message = _("%(name)s is now yours.") % {"name": customer.name}
    if is_htmx(request):
        return _row_response(request, customer_id, result="claimed", message=message, ok=True)
    messages.success(request, message)
    return redirect(reverse("customers:detail", args=[customer_id]))


@ui_view
@require_POST
def assign(request, customer_id: int):
    form = OwnerChoiceForm(request.POST, users=assignable_owners(request.user))
    back = request.POST.get("next") or reverse("pool:list")
    if not form.is_valid():
        messages.error(request, _("Choose a rep."))
        return redirect(back)
    try:
        customer = services.pool_assign(actor=request.user, customer_id=customer_id,
                                        to_user_id=form.cleaned_data["to"].pk, reason=form.cleaned_data["reason"])
    except (Conflict, ValidationFailed) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("%(name)s assigned to %(user)s.") % {"name": customer.name,
                                                                         "user": customer.owner})
    return redirect(back)


def _error_text(exc) -> str:
    return " ".join(str(m) for ms in exc.fields.values() for m in ms) or str(exc.message)


@ui_view
@require_POST
def release(request, customer_id: int):
    reason = request.POST.get("reason", "")
    try:
        customer = services.pool_release(actor=request.user, customer_id=customer_id, reason=reason)
    except (Conflict, ValidationFailed) as exc:
        messages.error(request, _error_text(exc))
        return redirect(reverse("customers:detail", args=[customer_id]))
    messages.success(request, _("%(name)s is back in the public pool.") % {"name": customer.name})
    return redirect(reverse("pool:list"))


@ui_view
@require_POST
def transfer(request, customer_id: int):
    form = OwnerChoiceForm(request.POST, users=assignable_owners(request.user))
    if not form.is_valid():
        messages.error(request, _("Choose a rep."))
        return redirect(reverse("customers:detail", args=[customer_id]))
    try:
        customer = services.pool_transfer(actor=request.user, customer_id=customer_id,
                                          to_user_id=form.cleaned_data["to"].pk, reason=form.cleaned_data["reason"])
    except (Conflict, ValidationFailed) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("%(name)s transferred to %(user)s.") % {"name": customer.name,
                                                                            "user": customer.owner})
    return redirect(reverse("customers:detail", args=[customer_id]))


# ---------------------------------------------------------------------------------------------
# Settings (administrators)
# ---------------------------------------------------------------------------------------------


@ui_view
def pool_settings(request):
    pools = selectors.pool_settings_list(user=request.user)
    return render(request, "pool/settings.html", {"pools": pools})


@ui_view
def pool_edit(request, pool_id: int | None = None):
    pool = selectors.pool_for_settings(user=request.user, pool_id=pool_id)
    if request.method == "POST":
        form = PoolForm(request.POST)
        if form.is_valid():
            try:
                if pool.pk:
                    services.pool_update(actor=request.user, pool_id=pool.pk, data=form.service_data())
                else:
                    services.pool_create(actor=request.user, data=form.service_data())
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Pool saved."))
                return redirect("pool:settings")
    else:
        form = PoolForm(initial=PoolForm.initial_for(pool))
    return render(request, "pool/edit.html", {"form": form, "pool": pool})
