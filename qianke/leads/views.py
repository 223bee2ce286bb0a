"""Pages: the origin panel and form on the customer page, referral trees, the source report and the
source-tree settings. Views parse, call a selector or service, and render."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qianke.core.errors import NotFound, ValidationFailed
from qianke.core.forms import add_service_errors
from qianke.core.views import query_date, query_int, ui_view
from qianke.customers import selectors as customer_selectors
from qianke.leads import selectors, services
from qianke.leads.forms import OriginForm, SourceForm

INTRODUCER_RESULTS = 10


def may_see_source_report(user) -> bool:
    return selectors.may_see_source_report(user)


def origin_panel_context(request, customer) -> dict:
    # `customer` was fetched through the user's visibility by the customer page.
    origin, summary = selectors.origin_panel(user=request.user, customer=customer)
    return {"customer": customer, "origin": origin, "summary": summary,
            "may_edit": not customer.is_archived}


def _introducer_contacts(user, customer_id: int | None):
    if not customer_id:
        return []
    try:
        return customer_selectors.customer_contacts(user=user, customer_id=customer_id)
    except NotFound:
        return []




@ui_view
def origin_edit(request, customer_id: int):
    user = request.user
    customer = customer_selectors.customer_get(user=user, customer_id=customer_id)
    origin = selectors.origin_get(user=user, customer_id=customer.pk)
    if request.method == "POST":
        introducer_id = query_int(request.POST.get("introducer_customer"))
        form = OriginForm(request.POST, origin=origin,
                          introducer_contacts=_introducer_contacts(user, introducer_id))
        if form.is_valid():
            try:
                services.origin_set(actor=user, customer_id=customer.pk, data=form.service_data())
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Source saved."))
                return redirect("customers:detail", customer_id=customer.pk)
    else:
        introducer_id = origin.introducer_customer_id if origin and origin.introducer_visible else None
        form = OriginForm(origin=origin, introducer_contacts=_introducer_contacts(user, introducer_id))
    introducer = None
    if introducer_id:
        try:
            introducer = customer_selectors.customer_get(user=user, customer_id=introducer_id)
        except NotFound:
            introducer = None
    return render(request, "leads/origin_form.html",
                  {"customer": customer, "form": form, "introducer": introducer})


@ui_view
def introducer_search(request, customer_id: int):
    """HTMX: customers matching `q` (name, pinyin, phone or code) to pick as the introducer."""
    user = request.user
    customer_selectors.customer_get(user=user, customer_id=customer_id)
    q = request.GET.get("introducer_q", "").strip()[:100]
    results = []
    if q:
        page = customer_selectors.customer_list(user=user, filters=customer_selectors.CustomerFilters(q=q),
                                                limit=INTRODUCER_RESULTS + 1)
        results = [c for c in page.items if c.pk != customer_id][:INTRODUCER_RESULTS]
    return render(request, "leads/_introducer_results.html",
                  {"results": results, "q": q, "customer_id": customer_id})


@ui_view
def introducer_pick(request, customer_id: int):
    """HTMX: the chosen introducer (hidden id, name, its contacts to choose from); empty to clear."""
    user = request.user
    customer_selectors.customer_get(user=user, customer_id=customer_id)
    introducer = None
    picked = query_int(request.GET.get("introducer"))
    if picked:
        introducer = customer_selectors.customer_get(user=user, customer_id=picked)
    form = OriginForm(initial={"introducer_customer": str(introducer.pk) if introducer else ""},
                      introducer_contacts=_introducer_contacts(user, introducer.pk if introducer else None))
    return render(request, "leads/_introducer_pick.html",
                  {"form": form, "introducer": introducer, "customer_id": customer_id})


@ui_view
def referral_tree(request, customer_id: int):
    depth = query_int(request.GET.get("depth")) or selectors.REFERRAL_DEFAULT_DEPTH
    tree = selectors.referral_tree(user=request.user, customer_id=customer_id, depth=depth)
    return render(request, "leads/referral_tree.html",
                  {"tree": tree, "customer": tree.root, "max_depth": selectors.REFERRAL_MAX_DEPTH})




@ui_view
def source_report(request):
    report = selectors.source_report(user=request.user, date_from=query_date(request.GET.get("date_from")),
                                     date_to=query_date(request.GET.get("date_to")))
    chart = {
        "labels": [g.total.name for g in report.groups] + [_("Not recorded")],
        "count": [g.total.count for g in report.groups] + [report.unrecorded.count],
        "converted": [g.total.converted for g in report.groups] + [report.unrecorded.converted],
        "series": {"count": _("Registered"), "converted": _("Became customers")},
    }
    return render(request, "leads/source_report.html", {"report": report, "chart_json": chart})


# ---------------------------------------------------------------------------------------------
# Source tree settings (administrators)
# ---------------------------------------------------------------------------------------------


def _require_admin(request) -> None:
    services.require_source_admin(request.user)


@ui_view
def source_settings(request):
    _require_admin(request)
    form = SourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            source = services.source_create(actor=request.user, name=form.cleaned_data["name"],
                                            parent_id=query_int(form.cleaned_data["parent"]),
                                            order=form.cleaned_data["order"])
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Source “%(name)s” added.") % {"name": source.name})
            return redirect("leads:source_settings")
    return render(request, "leads/source_settings.html",
                  {"nodes": selectors.source_flat(include_inactive=True), "form": form})


@ui_view
def source_edit(request, source_id: int):
    _require_admin(request)
    node = next((n for n in selectors.source_flat(include_inactive=True) if n.id == source_id), None)
    if node is None:
        raise NotFound(_("Source not found."))
    source = node.source
    initial = {"name": source.name, "parent": str(source.parent_id or ""), "order": source.order}
    form = SourceForm(request.POST or None, initial=initial, exclude_path=source.path)
    if request.method == "POST" and form.is_valid():
        data = {"name": form.cleaned_data["name"], "parent": query_int(form.cleaned_data["parent"])}
        if form.cleaned_data["order"] is not None:
            data["order"] = form.cleaned_data["order"]
        try:
            services.source_update(actor=request.user, source_id=source.pk, data=data)
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Source saved."))
            return redirect("leads:source_settings")
    return render(request, "leads/source_form.html", {"form": form, "source": source, "node": node})


@require_POST
@ui_view
def source_set_active(request, source_id: int, active: bool):
    _require_admin(request)
    try:
        source = services.source_update(actor=request.user, source_id=source_id, data={"active": active})
    except ValidationFailed as exc:
        for msgs in exc.fields.values():
            for message in msgs:
                messages.error(request, message)
    else:
        text = _("Source “%(name)s” activated.") if active else _("Source “%(name)s” deactivated.")
        messages.success(request, text % {"name": source.name})
    return redirect(reverse("leads:source_settings"))
