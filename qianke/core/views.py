"""Site-wide views: health check, home page, custom-field settings; the one error translation for the UI."""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qianke.core import custom_fields
from qianke.core.errors import NotFound, PermissionDenied, ValidationFailed
from qianke.core.forms import CustomFieldForm, add_service_errors
from qianke.core.services import custom_field_create, custom_field_update, require_custom_field_admin


def healthz(request):
    """200 when the application and its database answer; 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any database failure means "not healthy"
        return JsonResponse({"status": "error", "database": str(exc)[:200]}, status=503)
    return JsonResponse({"status": "ok", "database": connection.vendor})


def ui_view(view):
    """Log-in required; a record the user may not see is a 404, a forbidden action a 403 page."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(str(exc.message)) from exc
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc.message)) from exc

    return wrapper


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


@ui_view
def home(request):
    from qianke.activities.selectors import follow_ups_due_today, follow_ups_overdue
    from qianke.core.extensions import home_sections
    from qianke.customers.selectors import CustomerFilters, customer_list

    recent = customer_list(
        user=request.user, filters=CustomerFilters(owner=request.user.pk, sort="updated"), limit=10
    )
    return render(
        request,
        "core/home.html",
        {
            "recent": recent,
            "due_today": follow_ups_due_today(user=request.user),
            "overdue": follow_ups_overdue(user=request.user),
            "sections": home_sections(request),
        },
    )


@ui_view
def custom_field_list(request):
    require_custom_field_admin(request.user)
    return render(request, "core/custom_field_list.html", {"definitions": custom_fields.definition_list()})


@ui_view
def custom_field_edit(request, field_id: int | None = None):
    require_custom_field_admin(request.user)
    instance = custom_fields.definition_get(field_id=field_id) if field_id else None
    if request.method == "POST":
        form = CustomFieldForm(request.POST, instance=instance)
        if form.is_valid():
            try:
                if instance is None:
                    definition = custom_field_create(actor=request.user, data=form.service_data())
                else:
                    definition = custom_field_update(
                        actor=request.user, field_id=instance.pk, data=form.service_data()
                    )
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Custom field “%(label)s” saved.") % {"label": definition.label})
                return redirect("custom_fields")
    else:
        form = CustomFieldForm(instance=instance)
    return render(request, "core/custom_field_form.html", {"form": form, "instance": instance})


@require_POST
@ui_view
def custom_field_set_active(request, field_id: int, active: bool):
    definition = custom_field_update(actor=request.user, field_id=field_id, data={"active": active})
    if active:
        messages.success(
            request, _("Custom field “%(label)s” is active again.") % {"label": definition.label}
        )
    else:
        messages.success(
            request,
            _("Custom field “%(label)s” deactivated; stored values are kept.") % {"label": definition.label},
        )
    return redirect("custom_fields")


def query_int(value) -> int | None:
    """A whole number from a query parameter, or None when it is missing or not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def query_date(value) -> dt.date | None:
    """A date from a query parameter (see normalize.parse_date), or None when it is missing or invalid."""
    from qianke.core.normalize import parse_date

    if not value:
        return None
    try:
        return parse_date(value)
    except ValueError:
        return None
