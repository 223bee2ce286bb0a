"""The REST API at /api/v1/: authentication, the one error shape, and the routers.

Authentication: `Authorization: Bearer <token>` (personal API tokens) or the browser's Django
session; session-authenticated requests must pass Django's CSRF check like any form post.
Every error answers {"code", "message", "fields"?: {field: [messages]}, ...}.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from qianke.accounts.api import router as accounts_router
from qianke.accounts.services import api_token_authenticate
from qianke.activities.api import router as activities_router
from qianke.core.api import router as custom_fields_router
from qianke.core.audit import audit_source
from qianke.core.errors import QiankeError, ValidationFailed
from qianke.customers.api import contacts_router
from qianke.customers.api import reports_router as customer_reports_router
from qianke.customers.api import router as customers_router
from qianke.dataio.api import router as dataio_router
from qianke.dedupe.api import router as dedupe_router
from qianke.jobs.api import router as jobs_router
from qianke.leads.api import router as leads_router
from qianke.pipeline.api import router as pipeline_router
from qianke.pool.api import router as pool_router
from qianke.qualification.api import router as qualification_router

logger = logging.getLogger(__name__)


class CsrfFailed(HttpError):
    def __init__(self) -> None:
        super().__init__(403, "CSRF check failed")


class BearerToken(HttpBearer):
    """A personal API token. A token that is sent but not valid is a 401, never a fallback to the session."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_authenticate(token.strip())
        if user is None:
            raise AuthenticationError()
        return user


class Session(APIKeyCookie):
    """The browser's Django session; unsafe methods must carry the CSRF token (X-CSRFToken header)."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        # Only requests the session authenticates are checked, so a request without any credentials
        # answers 401 rather than a CSRF failure.
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise CsrfFailed()
        return user


class QiankeAPI(NinjaAPI):
    def _get_urls(self):
        """Every API view records its changes with audit source "api"; unknown paths answer 404 JSON."""
        patterns = super()._get_urls()
        for pattern in patterns:
            pattern.callback = _with_api_source(pattern.callback)
        patterns.append(re_path(r"^.*$", _unknown_path))
        return patterns


def _with_api_source(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        with audit_source("api"):
            response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith("application/json"):
            allowed = response.get("Allow", "")
            response = JsonResponse({"code": "method_not_allowed", "message": _("This method is not allowed here."),
                                     "allowed": [m.strip() for m in allowed.split(",") if m.strip()]}, status=405)
            response["Allow"] = allowed
        return response

    return wrapper


@csrf_exempt
def _unknown_path(request, *args, **kwargs):
    return JsonResponse({"code": "not_found", "message": _("There is no such API endpoint.")}, status=404)


api = QiankeAPI(
    title="Qianke API",
    version="1",
    description="Qianke (潜客) CRM. Authenticate with `Authorization: Bearer <token>` or a browser session "
                "(with the CSRF token on unsafe requests). Every error answers "
                '`{"code", "message", "fields"?}`; records you may not see are 404.',
    urls_namespace="api",
    auth=[BearerToken(), Session()],
)


# ---------------------------------------------------------------------------------------------
# Errors: one body for everything
# ---------------------------------------------------------------------------------------------


def _error(request, body: dict[str, Any], status: int) -> HttpResponse:
    return api.create_response(request, body, status=status)


@api.exception_handler(QiankeError)
def on_qianke_error(request, exc: QiankeError):
    return _error(request, exc.as_dict(), exc.status)


# Messages for pydantic's error types, in the user's language.
def _pydantic_message(error: dict[str, Any]) -> str:
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing":
        if len(error.get("loc", ())) <= 2 and tuple(error.get("loc", ()))[:1] == ("body",):
            return _("Send the request body as a JSON object.")
        return _("This field is required.")
    if kind == "extra_forbidden":
        return _("Unknown field.")
    if kind.startswith("int_"):
        return _("Enter a whole number.")
    if kind.startswith(("float_", "decimal_")):
        return _("Enter a number.")
    if kind.startswith("bool_"):
        return _("Answer yes or no.")
    if kind.startswith("datetime_"):
        return _("Enter a date and time such as 2026-11-22 14:30.")
    if kind.startswith("date_"):
        return _("Enter a date such as 2026-11-22.")
    if kind == "string_type":
        return _("Enter text.")
    if kind == "string_too_long":
        return _("At most %(n)d characters.") % {"n": ctx.get("max_length", 0)}
    if kind in ("greater_than_equal", "greater_than"):
        return _("Must be at least %(v)s.") % {"v": ctx.get("ge", ctx.get("gt"))}
    if kind in ("less_than_equal", "less_than"):
        return _("Must be at most %(v)s.") % {"v": ctx.get("le", ctx.get("lt"))}
    if kind == "list_type":
        return _("Enter a list.")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return _("Enter an object.")
    return _("Enter a valid value.")


# Parameter names of the handlers' body and query schemas, left out of field names.
_PARAM_NAMES = {"payload", "params", "page", "confirm"}


def _field_name(loc: list[Any] | tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "form", "header", "cookie"):
        parts = parts[1:]
    if parts and parts[0] in _PARAM_NAMES:
        parts = parts[1:]
    return ".".join(parts) or "__all__"


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        fields.setdefault(_field_name(error.get("loc", ())), []).append(_pydantic_message(error))
    for name, messages in _body_check(request, set(fields)).items():
        fields.setdefault(name, list(messages))
    return on_qianke_error(request, ValidationFailed(fields))


def _check_customer(request, data: dict[str, Any], kwargs: dict[str, Any]) -> None:
    from qianke.customers import selectors, services

    instance = None
    if "customer_id" in kwargs:
        instance = selectors.customer_get(user=request.auth, customer_id=int(kwargs["customer_id"]))
    services.clean_customer_data(actor=request.auth, data=data, instance=instance)


def _check_contact(request, data: dict[str, Any], kwargs: dict[str, Any]) -> None:
    from qianke.customers import selectors, services

    instance = None
    if "contact_id" in kwargs:
        instance = selectors.contact_get(user=request.auth, contact_id=int(kwargs["contact_id"]))
    data.pop("customer", None)
    services.clean_contact_data(data=data, instance=instance)


# When a body's types fail (pydantic), the service's checks still run on the fields that passed, so one
# answer lists every field's errors: a bad birthday does not hide a bad mobile and e-mail.
# (URL name, method) → check(request, data, path kwargs), raising ValidationFailed.
_BODY_CHECKS: dict[tuple[str, str], Callable[..., None]] = {
    ("customer_list", "POST"): _check_customer, ("customer_get", "PATCH"): _check_customer,
    ("contact_list", "POST"): _check_contact, ("contact_get", "PATCH"): _check_contact,
}


def _body_check(request, failed: set[str]) -> dict[str, list[str]]:
    match = getattr(request, "resolver_match", None)
    check = _BODY_CHECKS.get((getattr(match, "url_name", ""), request.method))
    # No body, or not an object: that one error is the answer.
    if check is None or getattr(request, "auth", None) is None or not request.body or "__all__" in failed:
        return {}
    try:
        data = json.loads(request.body)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    data = {k: v for k, v in data.items() if k not in failed and k != "confirm_duplicate"}
    try:
        check(request, data, dict(match.kwargs))
    except ValidationFailed as exc:
        return {name: [str(m) for m in messages] for name, messages in exc.fields.items()}
    except QiankeError:  # e.g. the customer is not there: the answer says so elsewhere
        return {}
    return {}


@api.exception_handler(Http404)
def on_not_found(request, exc: Http404):
    return _error(request, {"code": "not_found", "message": _("Not found.")}, 404)


@api.exception_handler(AuthenticationError)
def on_not_authenticated(request, exc: AuthenticationError):
    body = {"code": "not_authenticated",
            "message": _("Sign in, or send a valid API token as Authorization: Bearer <token>.")}
    response = _error(request, body, 401)
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(CsrfFailed)
def on_csrf_failed(request, exc: CsrfFailed):
    body = {"code": "csrf_failed",
            "message": _("The CSRF token is missing or wrong. Reload the page and try again.")}
    return _error(request, body, 403)


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    messages = {400: ("bad_request", _("The request could not be read; send JSON.")),
                405: ("method_not_allowed", _("This method is not allowed here.")),
                429: ("throttled", _("Too many requests; try again later."))}
    code, message = messages.get(exc.status_code, ("error", _("The request could not be completed.")))
    return _error(request, {"code": code, "message": message}, exc.status_code)


@api.exception_handler(Exception)
def on_unexpected(request, exc: Exception):
    logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
    body = {"code": "server_error", "message": _("Something went wrong on the server. Please try again.")}
    return _error(request, body, 500)


# ---------------------------------------------------------------------------------------------
# Routers
# ---------------------------------------------------------------------------------------------

api.add_router("/", accounts_router)
api.add_router("/custom-fields", custom_fields_router)
api.add_router("/customers", customers_router)
api.add_router("/contacts", contacts_router)
api.add_router("/reports", customer_reports_router)
api.add_router("/activities", activities_router)
api.add_router("/", leads_router)
api.add_router("/jobs", jobs_router)
api.add_router("/", qualification_router)
api.add_router("/", pool_router)
api.add_router("/", pipeline_router)
api.add_router("/", dataio_router)
api.add_router("/", dedupe_router)
