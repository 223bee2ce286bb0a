"""Shared API pieces: the error body, references to users and teams, pagination, custom-field endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, TypeVar

from django.db.models import QuerySet
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from qianke.core.custom_fields import definition_get, definition_list, definitions_for
from qianke.core.services import custom_field_create, custom_field_update
from qianke.customers.selectors import Page, page_of

T = TypeVar("T")


# ---------------------------------------------------------------------------------------------
# Shared schemas
# ---------------------------------------------------------------------------------------------


class ErrorOut(Schema):
    """Every error answer has this shape (some codes add keys, e.g. `duplicates` with needs_confirmation)."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(..., examples=["validation_error"])
    message: str
    fields: dict[str, list[str]] | None = Field(
        None, description="Messages per field; custom fields are keyed custom.<key>.",
        examples=[{"email": ["Enter a valid e-mail address."]}],
    )


# Error answers every endpoint may give; listed in the OpenAPI document.
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS: dict[int, Any] = {**ERRORS, 400: ErrorOut, 409: ErrorOut}


def responses(ok: Any, status: int = 200, *, write: bool = False) -> dict[int, Any]:
    return {status: ok, **(WRITE_ERRORS if write else ERRORS)}


class InSchema(Schema):
    """Request bodies refuse keys they do not know, like the services do."""

    model_config = ConfigDict(extra="forbid")


class UserRef(Schema):
    id: int
    username: str
    name: str

    @staticmethod
    def resolve_name(obj) -> str:
        return str(obj)


class TeamRef(Schema):
    id: int
    name: str


class PageOut(Schema, Generic[T]):
    count: int = Field(..., description="Number of matches; a lower bound when count_capped is true.")
    count_capped: bool = Field(..., description="True when counting stopped early: there are at least "
                               "`count` matches, maybe more (the cap of 10,000, or a search that stopped "
                               "reading its matches once the page was full).")
    limit: int
    offset: int
    items: list[T]


class PageParams(Schema):
    limit: int | None = Field(None, ge=1, description="Page size (default 25, at most 200).")
    offset: int = Field(0, ge=0)


def page_out(page: Page) -> dict[str, Any]:
    return {"count": page.count, "count_capped": page.count_capped, "limit": page.limit,
            "offset": page.offset, "items": page.items}


def paginate(qs: QuerySet, params: PageParams) -> Page:
    """A bounded page of a selector's queryset (for the short lists: users, teams)."""
    return page_of(qs, offset=params.offset, limit=params.limit)


# ---------------------------------------------------------------------------------------------
# Custom fields
# ---------------------------------------------------------------------------------------------

router = Router(tags=["custom fields"])


class CustomFieldOut(Schema):
    id: int
    model: str
    applies_to: str
    key: str
    label: str
    label_en: str
    group: str
    group_en: str
    field_type: str
    choices: list[str]
    required: bool
    min_value: float | None
    max_value: float | None
    max_length: int | None
    unit: str
    help_text: str
    filterable: bool
    order: int
    active: bool
    created_at: dt.datetime


class CustomFieldPatch(InSchema):
    applies_to: str | None = Field(None, description="organization, individual or all")
    label: str | None = None
    label_en: str | None = None
    group: str | None = None
    group_en: str | None = None
    choices: list[str] | None = None
    required: bool | None = None
    min_value: float | None = None
    max_value: float | None = None
    max_length: int | None = None
    unit: str | None = None
    help_text: str | None = None
    filterable: bool | None = None
    order: int | None = None
    active: bool | None = None
    # Fixed once created; accepted so a client may send the whole record back unchanged.
    model: str | None = None
    key: str | None = None
    field_type: str | None = None


class CustomFieldIn(CustomFieldPatch):
    key: str = Field(..., examples=["annual_output"])
    label: str
    field_type: str = Field(..., description="text, longtext, number, date, choice, multichoice or boolean")


class CustomFieldQuery(Schema):
    model: str = "customer"
    kind: str | None = Field(None, description="Only fields that apply to this customer kind.")
    include_inactive: bool = Field(False, description="Every definition of the model, inactive ones included "
                                                      "(the settings page); `kind` is then ignored.")


@router.get("", response=responses(list[CustomFieldOut]), summary="List the custom-field definitions",
            description="The active definitions in form order, unless include_inactive is set.")
def custom_field_list(request, params: Query[CustomFieldQuery]):
    if params.include_inactive:
        return definition_list(model=params.model)
    return definitions_for(model=params.model, kind=params.kind or None)


@router.get("/{field_id}", response=responses(CustomFieldOut), summary="One custom-field definition")
def custom_field_get(request, field_id: int):
    return definition_get(field_id=field_id)


@router.post("", response=responses(CustomFieldOut, 201, write=True),
             summary="Define a custom field (administrators)")
def custom_field_post(request, payload: CustomFieldIn):
    return Status(201, custom_field_create(actor=request.auth, data=payload.model_dump(exclude_unset=True)))


@router.patch("/{field_id}", response=responses(CustomFieldOut, write=True),
              summary="Change a custom field (administrators)")
def custom_field_patch(request, field_id: int, payload: CustomFieldPatch):
    return custom_field_update(actor=request.auth, field_id=field_id, data=payload.model_dump(exclude_unset=True))
