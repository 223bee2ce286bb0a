"""Customer pages: list with search and filters, detail with tabs, create/edit, contacts, archive.

Views parse, call a selector or service, and render. Visibility lives in the selectors and services.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qianke.accounts.selectors import teams_visible_to, users_visible_to
from qianke.core.custom_fields import definition_list
from qianke.core.errors import NeedsConfirmation, PermissionDenied, ValidationFailed
from qianke.core.extensions import customer_panels
from qianke.core.forms import add_service_errors
from qianke.core.views import is_htmx, query_int, ui_view
from qianke.customers import selectors, services
from qianke.customers.choices import Kind
from qianke.customers.forms import ContactForm, CustomerForm, CustomerSearchForm

PAGE_SIZE = 25
TABS = ("timeline", "profile", "contacts", "history")




def list_filters_from(request, form: CustomerSearchForm) -> selectors.CustomerFilters:
    get = request.GET
    custom = {d.key: get.get(f"cf_{d.key}", "").strip() for d in form.custom_definitions}
    return selectors.CustomerFilters(
        q=get.get("q", "").strip()[:100],
        status=get.get("status", ""),
        kind=get.get("kind", ""),
        industry=get.get("industry", ""),
        province=get.get("province", "").strip(),
        city=get.get("city", "").strip(),
        district=get.get("district", "").strip(),
        owner=query_int(get.get("owner")),
        team=query_int(get.get("team")),
        tag=get.get("tag", "").strip(),
        archived=get.get("archived") in ("on", "1", "true") and request.user.may_archive,
        custom={k: v for k, v in custom.items() if v},
        sort=get.get("sort") if get.get("sort") in selectors.SORTS else "newest",
    )


def _clean_url(request) -> str:
    """The list URL with only the parameters that say something, for the address bar."""
    params = request.GET.copy()
    for name in list(params):
        values = [v for v in params.getlist(name) if v.strip()]
        if not values or (name == "sort" and values == ["newest"]):
            del params[name]
        else:
            params.setlist(name, values)
    query = params.urlencode()
    return request.path + (f"?{query}" if query else "")


@ui_view
def customer_list(request):
    user = request.user
    form = CustomerSearchForm(
        request.GET or None,
        owners=users_visible_to(user)[:500],
        teams=teams_visible_to(user)[:500],
        may_archive=user.may_archive,
    )
    filters = list_filters_from(request, form)
    page_number = max(query_int(request.GET.get("page")) or 1, 1)
    try:
        page = selectors.customer_list(
            user=user, filters=filters, offset=(page_number - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
    except ValidationFailed as exc:
        page = selectors.Page([], 0, False, 0, PAGE_SIZE)
        for name, msgs in exc.fields.items():
            key = name.replace("custom.", "cf_")
            for message in msgs:
                form.add_error(key if key in form.fields else None, message)
    context = {
        "form": form,
        "page": page,
        "page_number": page_number,
        "filters": filters,
        "filters_open": form.active_filter_count() > 0,
    }
    if is_htmx(request) and request.headers.get("HX-Target") == "results":
        response = render(request, "customers/_results.html", context)
        response["HX-Push-Url"] = _clean_url(request)
        return response
    return render(request, "customers/customer_list.html", context)


@ui_view
def customer_detail(request, customer_id: int):
    user = request.user
    customer = selectors.customer_get(user=user, customer_id=customer_id, include_archived=True)
    tab = request.GET.get("tab") if request.GET.get("tab") in TABS else "timeline"
    context = {"customer": customer, "tab": tab}
    if tab == "timeline" and not customer.is_archived:
        from qianke.activities.forms import ActivityForm
        from qianke.activities.selectors import customer_timeline

        contacts = selectors.customer_contacts(user=user, customer_id=customer.pk)
        context["timeline"] = customer_timeline(user=user, customer_id=customer.pk)
        context["activity_form"] = ActivityForm(contacts=contacts)
    elif tab == "profile":
        context["profile"] = _profile_rows(customer)
        context["custom_groups"] = _custom_groups(customer)
    elif tab == "contacts" and not customer.is_archived:
        context["contacts"] = selectors.customer_contacts(user=user, customer_id=customer.pk)
    elif tab == "history":
        context["history"] = history_rows(selectors.customer_history(user=user, customer_id=customer.pk))
    if is_htmx(request) and request.headers.get("HX-Target") == "tab-panel":
        return render(request, "customers/_tab_panel.html", context)
    context["panels"] = customer_panels(request, customer)
    return render(request, "customers/customer_detail.html", context)


PROFILE_FIELDS = {
    Kind.ORGANIZATION: [
        "code",
        "name",
        "short_name",
        "credit_code",
        "kind",
        "status",
        "potential_kind",
        "relation_class",
        "enterprise_nature",
        "industry",
        "production_mode",
        "scale",
    ],
    Kind.INDIVIDUAL: [
        "code",
        "name",
        "kind",
        "status",
        "potential_kind",
        "relation_class",
        "gender",
        "birthday",
        "occupation",
        "annual_income",
        "education",
        "industry",
    ],
}
PROFILE_CONTACT_FIELDS = [
    "phone",
    "mobile",
    "fax",
    "email",
    "website",
    "province",
    "city",
    "district",
    "address",
    "postcode",
]
PROFILE_OTHER_FIELDS = ["owner", "team", "created_by", "created_at", "updated_at", "archived_at", "notes"]


def _profile_rows(customer) -> list[tuple[str, list[tuple[str, str]]]]:
    """The filled standard fields as (section, [(label, value)])."""

    def rows(names):
        result = []
        for name in names:
            field = customer._meta.get_field(name)
            value = getattr(customer, name)
            if value in (None, ""):
                continue
            if field.choices:
                value = getattr(customer, f"get_{name}_display")()
            elif isinstance(value, dt.datetime):
                value = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
            elif isinstance(value, dt.date):
                value = value.isoformat()
            result.append((capfirst(str(field.verbose_name)), str(value)))
        return result

    kind = customer.kind if customer.kind in PROFILE_FIELDS else Kind.ORGANIZATION
    sections = [
        (_("Basic information"), rows(PROFILE_FIELDS[kind])),
        (_("Contact details"), rows(PROFILE_CONTACT_FIELDS)),
        (_("Responsibility and record"), rows(PROFILE_OTHER_FIELDS)),
    ]
    return [(title, items) for title, items in sections if items]


def _custom_groups(customer) -> list[tuple[str, list]]:
    """Filled custom fields as (group, [(definition, value)]), groups in the order they first appear."""
    from qianke.core.templatetags.qianke_ui import cf_group

    groups: dict[str, list] = {}
    for definition, value in selectors.customer_custom_values(customer):
        if value in (None, "", []):
            continue
        groups.setdefault(cf_group(definition) or _("More information"), []).append((definition, value))
    return list(groups.items())


def _customer_form(request, *, kind: str, instance=None, data=None) -> CustomerForm:
    user = request.user
    initial = None if instance is not None else {"owner": str(user.pk), "team": str(user.team_id or "")}
    return CustomerForm(
        data,
        kind=kind,
        instance=instance,
        initial=initial,
        owners=services.assignable_owners(user).order_by("username")[:500],
        teams=teams_visible_to(user)[:500],
    )


@ui_view
def customer_edit(request, customer_id: int | None = None):
    user = request.user
    instance = selectors.customer_get(user=user, customer_id=customer_id) if customer_id else None
    kind = (
        request.POST.get("kind")
        or request.GET.get("kind")
        or (instance.kind if instance else Kind.ORGANIZATION)
    )
    duplicates = None
    if request.method == "POST":
        form = _customer_form(request, kind=kind, instance=instance, data=request.POST)
        if form.is_valid():
            confirm = request.POST.get("confirm_duplicate") in ("1", "on", "true")
            try:
                if instance is None:
                    from qianke.leads.services import customer_create_with_origin

                    customer = customer_create_with_origin(
                        actor=user, data=form.service_data(), confirm_duplicate=confirm,
                        origin={"source": form.cleaned_data.get("source")},
                    )
                else:
                    customer = services.customer_update(
                        actor=user,
                        customer_id=instance.pk,
                        data=form.service_data(),
                        confirm_duplicate=confirm,
                    )
            except NeedsConfirmation as exc:
                duplicates = exc.extra.get("duplicates", [])
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            except PermissionDenied as exc:  # e.g. an owner change that would hide the customer
                form.add_error("owner" if "owner" in form.fields else None, str(exc.message))
            else:
                messages.success(request, _("Customer “%(name)s” saved.") % {"name": customer.name})
                return redirect("customers:detail", customer_id=customer.pk)
    else:
        form = _customer_form(request, kind=kind, instance=instance)
    return render(
        request,
        "customers/customer_form.html",
        {
            "form": form,
            "instance": instance,
            "kind": form.kind,
            "kinds": Kind.choices,
            "duplicates": duplicates,
        },
    )


@require_POST
@ui_view
def customer_archive(request, customer_id: int):
    customer = services.customer_archive(actor=request.user, customer_id=customer_id)
    messages.success(request, _("Customer “%(name)s” archived.") % {"name": customer.name})
    return redirect("customers:detail", customer_id=customer.pk)


@require_POST
@ui_view
def customer_restore(request, customer_id: int):
    customer = services.customer_restore(actor=request.user, customer_id=customer_id)
    messages.success(request, _("Customer “%(name)s” restored.") % {"name": customer.name})
    return redirect("customers:detail", customer_id=customer.pk)


# ---------------------------------------------------------------------------------------------
# Contacts
# ---------------------------------------------------------------------------------------------


def _contacts_url(customer_id: int) -> str:
    return reverse("customers:detail", args=[customer_id]) + "?tab=contacts"


@ui_view
def contact_edit(request, customer_id: int | None = None, contact_id: int | None = None):
    user = request.user
    contact = selectors.contact_get(user=user, contact_id=contact_id) if contact_id else None
    customer = selectors.customer_get(user=user, customer_id=contact.customer_id if contact else customer_id)
    if request.method == "POST":
        form = ContactForm(request.POST, instance=contact)
        if form.is_valid():
            try:
                if contact is None:
                    saved = services.contact_create(
                        actor=user, customer_id=customer.pk, data=form.service_data()
                    )
                else:
                    saved = services.contact_update(
                        actor=user, contact_id=contact.pk, data=form.service_data()
                    )
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Contact “%(name)s” saved.") % {"name": saved.name})
                return redirect(_contacts_url(customer.pk))
    else:
        form = ContactForm(instance=contact)
    return render(
        request, "customers/contact_form.html", {"form": form, "customer": customer, "contact": contact}
    )


@require_POST
@ui_view
def contact_archive(request, contact_id: int):
    contact = services.contact_archive(actor=request.user, contact_id=contact_id)
    messages.success(request, _("Contact “%(name)s” archived.") % {"name": contact.name})
    return redirect(_contacts_url(contact.customer_id))


# ---------------------------------------------------------------------------------------------
# History tab: audit entries as "who, when, field: from → to"
# ---------------------------------------------------------------------------------------------


@dataclass
class HistoryRow:
    entry: object
    object_label: str
    changes: list[tuple[str, str, str]]


def _history_models() -> dict:
    """Audited object types (model_name) to their models, for field labels and choice names."""
    from django.apps import apps

    return {model._meta.model_name: model for model in apps.get_models()}


def _display(field, value) -> str:
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, dict):
        return str(value.get("repr", value.get("id", "")))
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if field is not None and getattr(field, "choices", None):
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, str) and "T" in value and len(value) >= 19:
        moment = parse_datetime(value)
        if moment is not None:
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return moment.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def history_rows(entries) -> list[HistoryRow]:
    from qianke.core.templatetags.qianke_ui import cf_label

    models = _history_models()
    definitions = {d.key: d for d in definition_list()} if entries else {}
    rows = []
    for entry in entries:
        model = models.get(entry.object_type)
        changes = []
        for name, pair in (entry.changes or {}).items():
            old, new = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
            field = None
            if name.startswith("custom."):
                definition = definitions.get(name.removeprefix("custom."))
                label = cf_label(definition) if definition else name
            else:
                try:
                    field = model._meta.get_field(name) if model else None
                    label = capfirst(str(field.verbose_name)) if field is not None else name
                except FieldDoesNotExist:  # a field that no longer exists keeps its stored name
                    label = name
                if field is not None and getattr(field, "many_to_many", False):
                    field = None
            changes.append((label, _display(field, old), _display(field, new)))
        object_label = str(model._meta.verbose_name) if model else entry.object_type
        rows.append(HistoryRow(entry, object_label, changes))
    return rows
