"""Pages: the duplicate review list (查重), one group's comparison and merge form, the merge record with
its undo, and the "merged into" panel on an archived customer. Views parse, call, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from qianke.core.errors import Conflict, ValidationFailed
from qianke.core.views import query_int, ui_view
from qianke.customers.models import Customer
from qianke.dedupe import selectors, services
from qianke.dedupe.models import DuplicateGroup

PAGE_SIZE = 20
# Lazy: built at import, read per request in the user's language.
ROLE_LABELS = {
    "name": gettext_lazy("name"),
    "short_name": gettext_lazy("short name"),
    "contact": gettext_lazy("contact"),
    "mobile": gettext_lazy("mobile"),
    "phone": gettext_lazy("phone"),
    "email": gettext_lazy("e-mail"),
    "address": gettext_lazy("address"),
    "postcode": gettext_lazy("postcode"),
    "credit_code": gettext_lazy("credit code"),
    "birth_date": gettext_lazy("birthday"),
    "id_number": gettext_lazy("ID number"),
    "given_name": gettext_lazy("given name"),
    "family_name": gettext_lazy("family name"),
    "street": gettext_lazy("street"),
    "locality": gettext_lazy("city"),
    "region": gettext_lazy("province"),
}


def _display(customer: Customer, key: str) -> str:
    """The value as a person reads it: choice labels, names of people and teams."""
    if key.startswith("custom."):
        value = (customer.custom or {}).get(key[7:])
        if isinstance(value, list):
            return "、".join(str(v) for v in value)
        return "" if value in (None, "") else str(value)
    if key in ("owner", "team"):
        related = getattr(customer, key)
        return str(related) if related else ""
    field = Customer._meta.get_field(key)
    if field.choices:
        return str(getattr(customer, f"get_{key}_display")()) if getattr(customer, key) else ""
    value = getattr(customer, key)
    return "" if value in (None, "") else str(value)


def _readable(key: str, value: Any, names: dict[str, dict[int, str]]) -> str:
    """A stored snapshot value as a person reads it (`names`: selectors.snapshot_names)."""
    if value in (None, ""):
        return ""
    if key in ("owner", "team"):
        return names[key].get(value, str(value))
    if key.startswith("custom."):
        return "、".join(str(v) for v in value) if isinstance(value, list) else str(value)
    field = Customer._meta.get_field(key)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def _evidence_rows(pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for pair in pairs:
        pair["rows"] = [{**e, "label": ROLE_LABELS.get(e["role"], e["role"]),
                         "note": _(e["note"]) if e.get("note") else "",
                         "percent": round(max(0.0, min(1.0, e["similarity"])) * 100),
                         "agrees": e["weight"] > 0} for e in pair.get("evidence", [])]
    return pairs


def _agreeing(evidence: list[dict[str, Any]]) -> list[str]:
    """Labels of the fields that speak for the match, each once (an address agrees by its city and its
    street: two rows of evidence, one field)."""
    return list(dict.fromkeys(ROLE_LABELS.get(e["role"], e["role"]) for e in evidence if e.get("weight", 0) > 0))


def _compare_rows(customers: list[Customer], choices: dict[str, int]) -> tuple[list[dict], int]:
    """One row per field where the customers differ; the count of fields that are the same everywhere."""
    rows, same = [], 0
    keys = services.merge_field_keys(customers)
    labels = services.field_labels(keys)
    for key in keys:
        values = [_display(c, key) for c in customers]
        if all(v == "" for v in values):
            continue
        if len(set(values)) == 1:
            same += 1
            continue
        rows.append({"key": key, "label": labels[key],
                     "cells": [{"customer": c, "value": v, "chosen": choices.get(key) == c.pk}
                               for c, v in zip(customers, values, strict=True)]})
    return rows, same


def _merge_form(request, customers: list[Customer], group: DuplicateGroup | None) -> Any:
    user = request.user
    ids = [c.pk for c in customers]
    survivor_id = query_int(request.POST.get("survivor")) if request.method == "POST" else None
    if survivor_id not in ids:
        survivor_id = min(ids)  # the first registration, by default
    survivor = next(c for c in customers if c.pk == survivor_id)
    others = [c for c in customers if c.pk != survivor_id]
    keys = services.merge_field_keys(customers)
    choices = services.default_choices(survivor, others, keys)
    error = None
    if request.method == "POST" and request.POST.get("action") == "merge":
        posted = {key: query_int(request.POST.get(f"field:{key}")) for key in keys
                  if request.POST.get(f"field:{key}")}
        choices.update({k: v for k, v in posted.items() if v in ids})
        try:
            merge = services.customer_merge(actor=user, survivor_id=survivor_id,
                                            merged_ids=[c.pk for c in others], field_choices=posted,
                                            group_id=group.pk if group else None)
        except (ValidationFailed, Conflict) as exc:
            error = "; ".join([str(exc.message), *(str(m) for ms in exc.fields.values() for m in ms)])
        else:
            messages.success(request, _("Merged into %(name)s. You can undo the merge on this page.")
                             % {"name": merge.survivor.name})
            return redirect("dedupe:merge_detail", merge_id=merge.pk)
    rows, same = _compare_rows(customers, choices)
    pairs = _evidence_rows(selectors.pair_evidence(group)) if group else []
    return render(request, "dedupe/review.html", {
        "group": group, "customers": customers, "survivor_id": survivor_id, "rows": rows, "same_count": same,
        "pairs": pairs, "error": error, "ids": ids,
    })


@ui_view
def duplicate_list(request):
    status = request.GET.get("status", DuplicateGroup.Status.OPEN)
    decision = request.GET.get("decision", "")
    if status not in DuplicateGroup.Status.values:
        status = DuplicateGroup.Status.OPEN
    if decision not in DuplicateGroup.Decision.values:
        decision = ""
    page_number = max(query_int(request.GET.get("page")) or 1, 1)
    import_job = query_int(request.GET.get("import"))
    page = selectors.duplicate_group_list(
        user=request.user, filters=selectors.GroupFilters(status=status, decision=decision, import_job=import_job),
        limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE)
    for group in page.items:
        pairs = sorted(group.pairs or [], key=lambda p: -p.get("score", 0))
        best = pairs[0] if pairs else {}
        group.agreeing = _agreeing(best.get("evidence", []))
    return render(request, "dedupe/list.html", {
        "page": page, "page_number": page_number, "status": status, "decision": decision, "import_job": import_job,
        "statuses": DuplicateGroup.Status.choices, "decisions": DuplicateGroup.Decision.choices,
        "last_scan": selectors.last_scan(), "may_scan": request.user.is_admin,
    })


@ui_view
def group_review(request, group_id: int):
    group = selectors.duplicate_group_get(user=request.user, group_id=group_id)
    customers = selectors.group_customers(group)
    if group.status != DuplicateGroup.Status.OPEN:
        merges = list(group.merges.all())
        if merges:
            return redirect("dedupe:merge_detail", merge_id=merges[0].pk)
    return _merge_form(request, customers, group)


@ui_view
def customers_merge(request):
    """Merge customers picked by hand (e.g. from a customer's likely duplicates): ?ids=1&ids=2."""
    source = request.POST if request.method == "POST" else request.GET
    ids = [i for i in (query_int(v) for v in source.getlist("ids")) if i]
    ids = list(dict.fromkeys(ids))
    if len(ids) < 2:
        messages.error(request, _("Choose at least two customers to merge."))
        return redirect("dedupe:list")
    customers = selectors.customers_for_merge(user=request.user, ids=ids)
    return _merge_form(request, customers, None)


@require_POST
@ui_view
def group_dismiss(request, group_id: int):
    try:
        services.duplicate_group_dismiss(actor=request.user, group_id=group_id)
    except Conflict as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Marked as not duplicates. Later scans will not propose them again."))
    return redirect("dedupe:list")


@require_POST
@ui_view
def scan_now(request):
    from qianke.jobs.services import job_enqueue

    job_enqueue(actor=request.user, name="dedupe.scan")
    messages.success(request, _("The duplicate scan has been queued; the groups appear here when it is done."))
    return redirect("dedupe:list")


@ui_view
def merge_detail(request, merge_id: int):
    merge = selectors.merge_get(user=request.user, merge_id=merge_id)
    snap = merge.snapshot
    before, after = snap.get("before", {}), snap.get("after", {})
    merged = selectors.merged_customers(merge)
    keys = [k for k in dict.fromkeys([*services.merge_field_keys([merge.survivor]), *before, *after])
            if k in services.MERGE_FIELDS or k.startswith("custom.")]
    changed = [k for k in keys if before.get(k) != after.get(k)]
    labels = services.field_labels(changed)
    people = selectors.snapshot_names(merge)
    fields = [{"label": labels[k], "before": _readable(k, before.get(k), people),
               "after": _readable(k, after.get(k), people)}
              for k in changed]
    names = {c.pk: c for c in merged}
    moved = [{"label": selectors.table_label(m["model"]), "count": len(m["pks"]), "customer": names.get(m["customer"])}
             for m in snap.get("moved", [])]
    kept = [{"label": selectors.table_label(k["model"]), "customer": names.get(k["customer"]), "reason": k["reason"]}
            for k in snap.get("kept", [])]
    return render(request, "dedupe/merge_detail.html", {
        "merge": merge, "merged": merged, "fields": fields, "moved": moved, "kept": kept,
        "history_count": sum(len(ids) for ids in snap.get("audit_moved", {}).values()),
    })


@require_POST
@ui_view
def merge_undo(request, merge_id: int):
    try:
        merge = services.merge_undo(actor=request.user, merge_id=merge_id)
    except Conflict as exc:
        messages.error(request, str(exc.message))
        return redirect("dedupe:merge_detail", merge_id=merge_id)
    messages.success(request, _("The merge has been undone: %(name)s and the merged customers are as before.")
                     % {"name": merge.survivor.name})
    return redirect("customers:detail", customer_id=merge.survivor_id)


def merged_panel_context(request, customer) -> dict | None:
    """On an archived customer: where it was merged into. Active customers cost no query."""
    if not customer.is_archived:
        return None
    merge = selectors.merge_of_customer(customer=customer)
    if merge is None:
        return None
    return {"merge": merge, "survivor": merge.survivor}


FORM_FIELDS = ("name", "kind", "short_name", "province", "city", "district", "address", "postcode", "phone",
               "mobile", "email")


@require_POST
@ui_view
def form_evidence(request):
    """HTMX, from the customer form's duplicate warning: the evidence for each likely duplicate of the values
    being entered (nothing is saved)."""
    from qianke.customers.selectors import customer_get
    from qianke.customers.services import clean_customer_data

    data = {f: request.POST.get(f, "") for f in FORM_FIELDS if f in request.POST}
    instance = None
    exclude = query_int(request.POST.get("exclude"))
    if exclude:
        instance = customer_get(user=request.user, customer_id=exclude)
    try:
        values, _tags = clean_customer_data(actor=request.user, data=data, instance=instance)
    except ValidationFailed:
        values = {}
    candidates = []
    if values.get("name") or instance is not None:
        candidates = selectors.duplicate_candidates(user=request.user, values=values, instance=instance)
    for candidate in candidates:
        candidate.rows = _evidence_rows([{"evidence": candidate.evidence}])[0]["rows"]
    return render(request, "dedupe/_form_evidence.html", {"candidates": candidates})


def candidates_panel_context(request, customer) -> dict | None:
    """On an active customer: a placeholder that loads the likely duplicates with htmx, so the customer
    page itself runs no extra query."""
    if customer.is_archived:
        return None
    return {"customer": customer}


@ui_view
def customer_candidates(request, customer_id: int):
    """HTMX: the likely duplicates of one customer, each with a link to compare and merge."""
    candidates = selectors.customer_duplicates(user=request.user, customer_id=customer_id)
    for candidate in candidates:
        candidate.agreeing = _agreeing(candidate.evidence)
    return render(request, "dedupe/_candidates.html", {"candidates": candidates, "customer_id": customer_id,
                                                       "all_ids": [customer_id, *(c.customer.pk for c in candidates)]})
