"""Pages: deal list, deal page (stage path, checklist, history, moves), deal form, kanban board, the
customer-page panel. Views parse, call a selector or service, and render."""

from __future__ import annotations

import contextlib

from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qianke.core.errors import Conflict, NotFound, ValidationFailed
from qianke.core.forms import add_service_errors
from qianke.core.views import is_htmx, query_date, query_int, ui_view
from qianke.customers import selectors as customer_selectors
from qianke.customers.selectors import Page
from qianke.pipeline import reports, selectors, services
from qianke.pipeline.forms import DealForm, MoveForm
from qianke.pipeline.models import (
    BuyingCenterMember,
    ChecklistItem,
    Competitor,
    CurrentSupplier,
    Deal,
    DealCompetitor,
    DealReason,
    DealStageChange,
    Process,
    Semantic,
    Stage,
)

PAGE_SIZE = 25
BOARD_CARDS = 60


def customer_panel_context(request, customer) -> dict:
    # No query here: the customer page has a query budget, so the list comes in by htmx after the page.
    return {"customer": customer, "may_add": not customer.is_archived}


@ui_view
def customer_deals_panel(request, customer_id: int):
    """HTMX: the deals of a customer for its page (two queries: the customer's visibility, its deals)."""
    customer = customer_selectors.customer_get(user=request.user, customer_id=customer_id)
    return render(request, "pipeline/_customer_deals.html", {
        "customer": customer, "deals": selectors.customer_deals(user=request.user, customer_id=customer.pk)})


@ui_view
def deal_list(request):
    user = request.user
    filters = selectors.DealFilters(
        q=request.GET.get("q", "").strip()[:100], process=query_int(request.GET.get("process")),
        semantic=request.GET.get("semantic", ""), owner=query_int(request.GET.get("owner")),
        customer=query_int(request.GET.get("customer")))
    sort = request.GET.get("sort", "newest")
    page_number = max(query_int(request.GET.get("page")) or 1, 1)
    page: Page = selectors.deal_list(user=user, filters=filters, offset=(page_number - 1) * PAGE_SIZE,
                                     limit=PAGE_SIZE, sort=sort)
    context = {"page": page, "page_number": page_number, "filters": filters, "sort": sort,
               "processes": selectors.process_list(include_inactive=True), "semantics": Semantic.choices,
               "sorts": [("newest", _("Newest")), ("close", _("Expected close date")),
                         ("amount", _("Amount")), ("stage", _("Stage"))]}
    return render(request, "pipeline/deal_list.html", context)


def _detail_context(request, deal, *, refused: Conflict | None = None, move_form: MoveForm | None = None,
                    target=None) -> dict:
    stages = list(deal.process.stages.order_by("order"))
    open_stages = [s for s in stages if s.semantic == Semantic.OPEN]
    next_stage = None
    if deal.semantic == Semantic.OPEN:
        next_stage = next((s for s in open_stages if s.order > deal.stage.order), None)
        if next_stage is None:
            next_stage = next((s for s in stages if s.semantic == Semantic.WON), None)
    reasons = selectors.reason_list()
    return {
        "deal": deal, "stages": stages, "next_stage": next_stage,
        "checklist": selectors.deal_checklist(deal=deal),
        "history": selectors.deal_history(deal=deal),
        "won_reasons": [r for r in reasons if r.semantic == Semantic.WON],
        "lost_reasons": [r for r in reasons if r.semantic == Semantic.LOST],
        "may_override": services.may_override(request.user),
        "refused": refused, "move_form": move_form, "target": target,
        "won_stage": next((s for s in stages if s.semantic == Semantic.WON), None),
        **_extras_context(request, deal),
        "lost_stage": next((s for s in stages if s.semantic == Semantic.LOST), None),
    }


def _extras_context(request, deal) -> dict:
    from qianke.pipeline.models import LADDER, BuyingRole, ProcurementStage, Willingness

    assessment = selectors.value_assessment(deal=deal)
    return {
        "members": selectors.buying_center(deal=deal),
        "contacts": selectors.buying_center_candidates(user=request.user, deal=deal),
        "buying_roles": BuyingRole.choices, "ladder": [(v, label) for v, label, _f in LADDER],
        "procurement_stages": ProcurementStage.choices,
        "suppliers": selectors.customer_suppliers(user=request.user, customer_id=deal.customer_id),
        "willingness": Willingness.choices,
        "assessment": assessment,
        "quadrant": selectors.quadrant(assessment.value_score, assessment.difficulty_score) if assessment else None,
        "deal_competitors": selectors.deal_competitors(deal=deal),
        "competitors": selectors.competitor_list(),
    }


@ui_view
def deal_detail(request, deal_id: int):
    deal = selectors.deal_get(user=request.user, deal_id=deal_id)
    return render(request, "pipeline/deal_detail.html", _detail_context(request, deal))


@ui_view
def deal_create(request):
    user = request.user
    customer_id = query_int(request.GET.get("customer") or request.POST.get("customer"))
    customer = customer_selectors.customer_get(user=user, customer_id=customer_id) if customer_id else None
    processes = selectors.process_list()
    if request.method == "POST":
        form = DealForm(request.POST, processes=processes)
        if form.is_valid():
            data = form.service_data()
            data["customer"] = customer.pk if customer else None
            data.setdefault("owner", user.pk)
            try:
                deal = services.deal_create(actor=user, data=data)
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Deal opened."))
                return redirect("pipeline:deal_detail", deal_id=deal.pk)
    else:
        initial = {"process": str(query_int(request.GET.get("process")) or (processes[0].pk if processes else ""))}
        if customer:
            initial["name"] = _("%(customer)s project") % {"customer": customer.short_name or customer.name}
        form = DealForm(initial=initial, processes=processes)
    return render(request, "pipeline/deal_form.html", {"form": form, "customer": customer, "deal": None})


@ui_view
def deal_edit(request, deal_id: int):
    user = request.user
    deal = selectors.deal_get(user=user, deal_id=deal_id)
    if request.method == "POST":
        form = DealForm(request.POST, deal=deal)
        if form.is_valid():
            try:
                services.deal_update(actor=user, deal_id=deal.pk, data=form.service_data())
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Deal saved."))
                return redirect("pipeline:deal_detail", deal_id=deal.pk)
    else:
        form = DealForm(deal=deal)
    return render(request, "pipeline/deal_form.html", {"form": form, "customer": deal.customer, "deal": deal})


@ui_view
@require_POST
def deal_move(request, deal_id: int):
    user = request.user
    deal = selectors.deal_get(user=user, deal_id=deal_id)
    form = MoveForm(request.POST, reasons=selectors.reason_list())
    stage_id = query_int(request.POST.get("stage"))
    target = deal.process.stages.filter(pk=stage_id).first()
    if target is None or not form.is_valid():
        messages.error(request, _("Choose a stage of the deal's process."))
        return redirect("pipeline:deal_detail", deal_id=deal.pk)
    data = form.cleaned_data
    try:
        services.deal_move(actor=user, deal_id=deal.pk, stage_id=target.pk,
                           override_reason=data["override_reason"], reason_id=query_int(data["reason"]),
                           reason_note=data["reason_note"])
    except Conflict as exc:
        if exc.code != "key_node_unmet":
            messages.error(request, str(exc.message))
            return redirect("pipeline:deal_detail", deal_id=deal.pk)
        context = _detail_context(request, deal, refused=exc, move_form=form, target=target)
        return render(request, "pipeline/deal_detail.html", context, status=409)
    except ValidationFailed as exc:
        _report_errors(request, exc, (DealStageChange, Deal))
        return redirect("pipeline:deal_detail", deal_id=deal.pk)
    messages.success(request, _("Moved to %(stage)s.") % {"stage": target.name})
    return redirect("pipeline:deal_detail", deal_id=deal.pk)


@ui_view
@require_POST
def deal_tick(request, deal_id: int):
    item_id = query_int(request.POST.get("item"))
    try:
        services.checklist_tick(actor=request.user, deal_id=deal_id, item_id=item_id or 0,
                                done=request.POST.get("done") == "1")
    except NotFound:
        deal = selectors.deal_get(user=request.user, deal_id=deal_id)  # 404 if the deal is not visible
        messages.error(request, _("Checklist item not found."))
        return redirect("pipeline:deal_detail", deal_id=deal.pk)
    if is_htmx(request):
        deal = selectors.deal_get(user=request.user, deal_id=deal_id)
        return render(request, "pipeline/_checklist.html", {"deal": deal,
                                                            "checklist": selectors.deal_checklist(deal=deal)})
    return redirect(reverse("pipeline:deal_detail", args=[deal_id]) + "#checklist")


@ui_view
def board(request):
    user = request.user
    processes = selectors.process_list()
    if not processes:
        return render(request, "pipeline/board.html", {"processes": [], "process": None, "columns": []})
    # Without a choice, open the board of the process the user's latest open deal follows.
    process_id = query_int(request.GET.get("process")) or selectors.latest_open_deal_process_id(user=user)
    process = next((p for p in processes if p.pk == process_id), processes[0])
    columns = selectors.board_columns(user=user, process=process, per_column=BOARD_CARDS)
    reasons = selectors.reason_list(semantic=Semantic.LOST)
    return render(request, "pipeline/board.html", {
        "processes": processes, "process": process, "columns": columns,
        "board_data": {"lost_reasons": [{"id": r.pk, "name": r.name} for r in reasons],
                       "may_override": services.may_override(user),
                       "move_url": "/api/v1/deals/{id}/move"},
        "board_texts": {
            "refused": _("Cannot move to %(stage)s yet: the key node is not met."),
            "override_label": _("Override reason (recorded)"),
            "move_anyway": _("Move anyway"),
            "ask_manager": _("Complete these items on the deal's page, or ask your manager to move the deal "
                             "with an override."),
            "lose_title": _("Why was the deal lost?"),
            "reason": _("Reason"),
            "details": _("Details"),
            "mark_lost": _("Mark lost"),
            "moved": _("Moved to %(stage)s."),
            "failed": _("The deal could not be moved."),
            "fill_in": _("fill in"),
        },
    })


# ---------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------


def may_see_team_reports(user) -> bool:
    return services.may_override(user)


def home_stalled_context(request) -> dict | None:
    """Managers' home page: the deals that stalled in the teams they see."""
    if not may_see_team_reports(request.user):
        return None
    page = reports.stalled(user=request.user, limit=5)
    return {"page": page}


def _chart_money(value) -> float:
    return float(value or 0)


@ui_view
def report_page(request):
    user = request.user
    processes = selectors.process_list(include_inactive=True)
    process_id = query_int(request.GET.get("process")) or selectors.latest_open_deal_process_id(user=user)
    process = next((p for p in processes if p.pk == process_id), processes[0] if processes else None)
    months = min(max(query_int(request.GET.get("months")) or 6, 1), 24)
    forecast = reports.forecast(user=user, months=months)
    funnel = reports.funnel(user=user, process=process, date_from=query_date(request.GET.get("date_from")),
                            date_to=query_date(request.GET.get("date_to"))) if process else None
    history = reports.forecast_vs_actual(user=user, months=6)
    matrix = selectors.value_matrix(user=user, process_id=process.pk if process else None)
    quadrant_labels = {key: (str(label), str(treatment)) for key, label, treatment in selectors.QUADRANTS.values()}
    chart = {
        "matrix": {"points": [{"value": [p.difficulty, p.value, float(p.amount or 0)], "name": p.name,
                               "quadrant": p.quadrant, "url": reverse("pipeline:deal_detail", args=[p.deal_id])}
                              for p in matrix],
                   "quadrants": quadrant_labels,
                   "axes": {"x": _("Difficulty"), "y": _("Value")}},
        "forecast": {"months": [m.strftime("%Y-%m") for m in forecast.months],
                     "amount": [_chart_money(c.amount) for c in forecast.totals],
                     "weighted": [_chart_money(c.weighted) for c in forecast.totals],
                     "won": [_chart_money(w) for w in forecast.won],
                     "labels": {"amount": _("Open amount"), "weighted": _("Weighted forecast"), "won": _("Won")}},
        "funnel": {"steps": [{"name": s.stage.name, "value": s.reached} for s in funnel.steps] if funnel else []},
        "history": {"months": [r.month.strftime("%Y-%m") for r in history],
                    "forecast": [_chart_money(r.forecast_weighted) if r.forecast_weighted is not None else None
                                 for r in history],
                    "actual": [_chart_money(r.actual) for r in history],
                    "labels": {"forecast": _("Forecast (weighted)"), "actual": _("Won")}},
    }
    return render(request, "pipeline/reports.html", {
        "forecast": forecast, "funnel": funnel, "history": history, "processes": processes, "process": process,
        "months": months, "chart": chart, "matrix_count": len(matrix),
        "quadrants": list(selectors.QUADRANTS.values()),
        "competitor_records": selectors.competitor_win_loss(user=user)})


@ui_view
def stalled_list(request):
    page_number = max(query_int(request.GET.get("page")) or 1, 1)
    process_id = query_int(request.GET.get("process"))
    page = reports.stalled(user=request.user, process_id=process_id, offset=(page_number - 1) * PAGE_SIZE,
                           limit=PAGE_SIZE)
    return render(request, "pipeline/stalled.html", {"page": page, "page_number": page_number,
                                                     "processes": selectors.process_list(), "process_id": process_id})


# ---------------------------------------------------------------------------------------------
# Buying center, suppliers, value assessment, competitors (forms on the deal page)
# ---------------------------------------------------------------------------------------------


def _back(deal_id: int, anchor: str):
    return redirect(reverse("pipeline:deal_detail", args=[deal_id]) + f"#{anchor}")


def _field_label(field: str, models_: tuple) -> str:
    for model in models_:
        with contextlib.suppress(FieldDoesNotExist):
            return capfirst(model._meta.get_field(field).verbose_name)
    return ""


def _report_errors(request, exc: ValidationFailed, models_: tuple = ()) -> None:
    """Each error of the form as a message, named by the field's label (looked up on `models_`) when it has one."""
    for field, messages_ in exc.fields.items():
        label = _field_label(field, models_)
        for message in messages_:
            messages.error(request, _("%(field)s: %(message)s") % {"field": label, "message": message} if label
                           else str(message))
    if not exc.fields:
        messages.error(request, str(exc.message))


@ui_view
@require_POST
def member_save(request, deal_id: int):
    data = {k: request.POST.get(k, "") for k in ("role", "relationship", "notes")}
    try:
        services.buying_member_set(actor=request.user, deal_id=deal_id,
                                   contact_id=query_int(request.POST.get("contact")) or 0, data=data)
    except ValidationFailed as exc:
        _report_errors(request, exc, (BuyingCenterMember,))
    return _back(deal_id, "buying-center")


@ui_view
@require_POST
def member_remove(request, deal_id: int, contact_id: int):
    services.buying_member_remove(actor=request.user, deal_id=deal_id, contact_id=contact_id)
    return _back(deal_id, "buying-center")


@ui_view
@require_POST
def supplier_save(request, deal_id: int):
    deal = selectors.deal_get(user=request.user, deal_id=deal_id)
    data = {k: request.POST.get(k, "") for k in ("name", "structure", "problems", "since_year",
                                                   "willingness_to_change", "how_won")}
    try:
        services.supplier_save(actor=request.user, customer_id=deal.customer_id, data=data)
    except ValidationFailed as exc:
        _report_errors(request, exc, (CurrentSupplier,))
    return _back(deal_id, "suppliers")


@ui_view
@require_POST
def supplier_delete(request, deal_id: int, supplier_id: int):
    deal = selectors.deal_get(user=request.user, deal_id=deal_id)
    services.supplier_delete(actor=request.user, supplier_id=supplier_id, customer_id=deal.customer_id)
    return _back(deal_id, "suppliers")


@ui_view
@require_POST
def competitor_link(request, deal_id: int):
    data = {k: request.POST.get(k, "") for k in ("their_rep", "relation_to_customer", "satisfaction",
                                                   "price_offered", "notes")}
    data["took_the_deal"] = request.POST.get("took_the_deal") == "1"
    try:
        services.deal_competitor_link(actor=request.user, deal_id=deal_id,
                                      competitor_id=query_int(request.POST.get("competitor")),
                                      new_name=request.POST.get("new_competitor", ""), data=data)
    except ValidationFailed as exc:
        _report_errors(request, exc, (DealCompetitor, Competitor))
    return _back(deal_id, "competitors")


@ui_view
@require_POST
def competitor_unlink(request, deal_id: int, competitor_id: int):
    services.deal_competitor_remove(actor=request.user, deal_id=deal_id, competitor_id=competitor_id)
    return _back(deal_id, "competitors")


@ui_view
def value_edit(request, deal_id: int):
    from qianke.pipeline.forms import ValueForm

    deal = selectors.deal_get(user=request.user, deal_id=deal_id)
    current = selectors.value_assessment(deal=deal)
    if request.method == "POST":
        form = ValueForm(request.POST)
        if form.is_valid():
            try:
                services.value_assessment_set(actor=request.user, deal_id=deal.pk, data=form.cleaned_data)
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Value assessment saved."))
                return _back(deal.pk, "value")
    else:
        form = ValueForm(initial={f: getattr(current, f) for f in ValueForm.base_fields} if current else None)
    return render(request, "pipeline/value_form.html", {"deal": deal, "form": form})


# ---------------------------------------------------------------------------------------------
# Process settings (administrators)
# ---------------------------------------------------------------------------------------------


def _is_admin(user) -> bool:
    return bool(getattr(user, "is_admin", False))


@ui_view
def process_settings(request):
    services.require_process_admin(request.user)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "reason":
                services.reason_save(actor=request.user, data={"name": request.POST.get("name", ""),
                                                               "semantic": request.POST.get("semantic", "")})
                messages.success(request, _("Reason added."))
            elif request.POST.get("action") == "reason_toggle":
                reason_id = query_int(request.POST.get("reason")) or 0
                services.reason_save(actor=request.user, reason_id=reason_id,
                                     data={"active": request.POST.get("active") == "1"})
            else:
                process = services.process_save(actor=request.user, data={
                    "name": request.POST.get("name", ""), "kind": request.POST.get("kind", ""),
                    "description": request.POST.get("description", "")})
                messages.success(request, _("Sales process created: add its stages."))
                return redirect("pipeline:process_edit", process_id=process.pk)
        except ValidationFailed as exc:
            _report_errors(request, exc, (Process, DealReason))
        return redirect("pipeline:process_settings")
    return render(request, "pipeline/process_settings.html", {
        "processes": selectors.process_list(include_inactive=True),
        "reasons": selectors.reason_list(include_inactive=True)})


def _stage_data(post) -> dict:
    return {"name": post.get("name", ""), "order": post.get("order", ""), "semantic": post.get("semantic", "open"),
            "probability": post.get("probability", "0"), "participants": post.get("participants", ""),
            "work_content": post.get("work_content", ""), "keyword": post.get("keyword", ""),
            "key_node": post.get("key_node", ""), "required_fields": post.getlist("required_fields"),
            "normal_days": post.get("normal_days", "")}


@ui_view
def process_edit(request, process_id: int):
    from qianke.pipeline.models import REQUIRABLE_FIELDS

    user = request.user
    services.require_process_admin(user)
    process = selectors.process_get(process_id=process_id)
    if request.method == "POST":
        action = request.POST.get("action", "")
        stage_id = query_int(request.POST.get("stage"))
        item_id = query_int(request.POST.get("item"))
        try:
            if action == "process":
                services.process_save(actor=user, process_id=process.pk, data={
                    "name": request.POST.get("name", ""), "kind": request.POST.get("kind", ""),
                    "description": request.POST.get("description", ""),
                    "active": request.POST.get("active") == "1"})
            elif action == "stage":
                services.stage_save(actor=user, process_id=process.pk, stage_id=stage_id,
                                    data=_stage_data(request.POST))
            elif action == "stage_delete" and stage_id:
                services.stage_delete(actor=user, stage_id=stage_id)
            elif action == "item" and stage_id:
                services.checklist_item_save(actor=user, stage_id=stage_id, item_id=item_id, data={
                    "text": request.POST.get("text", ""), "required": request.POST.get("required") == "1"})
            elif action == "item_delete" and item_id:
                services.checklist_item_delete(actor=user, item_id=item_id)
            messages.success(request, _("Saved."))
        except ValidationFailed as exc:
            _report_errors(request, exc, (Stage, ChecklistItem, Process))
        except Conflict as exc:
            messages.error(request, str(exc.message))
        return redirect("pipeline:process_edit", process_id=process.pk)
    return render(request, "pipeline/process_edit.html", {
        "process": process, "semantics": Semantic.choices,
        "requirable": [(k, str(v)) for k, v in REQUIRABLE_FIELDS.items()]})
