"""API schemas of customers and contacts.

Input schemas only check types; every business rule (choices, phone and e-mail formats, custom
fields, duplicates, who may own what) is checked by the services, which answer 422 / 409.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from qianke.core.api import InSchema, PageParams, TeamRef, UserRef
from qianke.customers.choices import (
    Education,
    EnterpriseNature,
    Gender,
    Industry,
    Kind,
    PotentialKind,
    ProductionMode,
    RelationClass,
    Scale,
    Status,
)
from qianke.customers.selectors import SORTS


def _one_of(choices) -> str:
    return "One of: " + ", ".join(choices.values) + "."


# ---------------------------------------------------------------------------------------------
# Customers
# ---------------------------------------------------------------------------------------------


class CustomerOut(Schema):
    id: int
    code: str
    kind: str
    name: str
    short_name: str
    credit_code: str
    status: str
    potential_kind: str
    relation_class: str
    enterprise_nature: str
    industry: str
    production_mode: str
    scale: str
    province: str
    city: str
    district: str
    address: str
    postcode: str
    phone: str
    mobile: str
    fax: str
    email: str
    website: str
    owner: UserRef | None
    team: TeamRef | None
    tags: list[str]
    notes: str
    gender: str
    birthday: dt.date | None
    occupation: str
    annual_income: Decimal | None
    education: str
    custom: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
    archived_at: dt.datetime | None
    status_changed_at: dt.datetime | None
    last_purchase_at: dt.datetime | None

    @staticmethod
    def resolve_tags(obj) -> list[str]:
        # Uses the selectors' prefetch_related("tags"); sorted in Python to keep the prefetch.
        return sorted(t.name for t in obj.tags.all())


class CustomerPatch(InSchema):
    """Every field is optional; only the fields sent are changed."""

    kind: str | None = Field(None, description=_one_of(Kind))
    name: str | None = None
    short_name: str | None = None
    credit_code: str | None = Field(None, description="Unified social credit code (统一社会信用代码) of an "
                                    "organisation: 18 characters with a correct check character.",
                                    examples=["91440300708461136T"])
    status: str | None = Field(None, description=_one_of(Status))
    potential_kind: str | None = Field(None, description=_one_of(PotentialKind))
    relation_class: str | None = Field(None, description=_one_of(RelationClass))
    enterprise_nature: str | None = Field(None, description=_one_of(EnterpriseNature))
    industry: str | None = Field(None, description=_one_of(Industry))
    production_mode: str | None = Field(None, description=_one_of(ProductionMode))
    scale: str | None = Field(None, description=_one_of(Scale))
    province: str | None = None
    city: str | None = None
    district: str | None = None
    address: str | None = None
    postcode: str | None = Field(None, examples=["200120"])
    phone: str | None = Field(None, examples=["021-5888 1234"])
    mobile: str | None = Field(None, examples=["138 0013 8000"])
    fax: str | None = None
    email: str | None = None
    website: str | None = None
    owner: int | None = Field(None, description="User id of the owner.")
    team: int | None = Field(None, description="Team id.")
    tags: list[str] | None = None
    notes: str | None = None
    gender: str | None = Field(None, description=_one_of(Gender))
    birthday: dt.date | None = None
    occupation: str | None = None
    annual_income: Decimal | None = None
    education: str | None = Field(None, description=_one_of(Education))
    custom: dict[str, Any] | None = Field(
        None, description="Custom-field values by key (see /custom-fields); null or \"\" clears a value.")
    confirm_duplicate: bool = Field(False, description="Save even though a customer with the same name exists.")


class CustomerIn(CustomerPatch):
    name: str


class CustomerQuery(PageParams):
    q: str = Field("", description="Search names, pinyin, phone numbers, e-mail, code and credit code.")
    status: str = ""
    kind: str = ""
    industry: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    owner: int | None = None
    team: int | None = Field(None, description="The team and all teams below it.")
    tag: str = ""
    archived: bool = Field(False, description="Archived customers instead (administrators and specialists).")
    sort: str = Field("newest", description="One of: " + ", ".join(SORTS) + ".")


class ConfirmQuery(Schema):
    confirm_duplicate: bool = False


class AuditEntryOut(Schema):
    id: int
    created_at: dt.datetime
    actor: UserRef | None
    action: str
    object_type: str
    object_id: int
    object_repr: str
    changes: dict[str, Any]
    source: str


# ---------------------------------------------------------------------------------------------
# Contacts
# ---------------------------------------------------------------------------------------------


class CustomerRef(Schema):
    id: int
    code: str
    name: str


class ContactOut(Schema):
    id: int
    customer: CustomerRef
    name: str
    title: str
    department: str
    gender: str
    phone: str
    mobile: str
    email: str
    wechat: str
    birthday: dt.date | None
    birthplace: str
    interests: str
    personality: str
    working_style: str
    years_in_company: int | None
    authority: str
    family_notes: str
    notes: str
    is_primary: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    archived_at: dt.datetime | None


class ContactPatch(InSchema):
    name: str | None = None
    title: str | None = None
    department: str | None = None
    gender: str | None = Field(None, description=_one_of(Gender))
    phone: str | None = None
    mobile: str | None = None
    email: str | None = None
    wechat: str | None = None
    birthday: dt.date | None = None
    birthplace: str | None = None
    interests: str | None = None
    personality: str | None = None
    working_style: str | None = None
    years_in_company: int | None = None
    authority: str | None = None
    family_notes: str | None = None
    notes: str | None = None
    is_primary: bool | None = None


class ContactIn(ContactPatch):
    customer: int = Field(..., description="Id of the customer the contact belongs to.")
    name: str


class ContactQuery(PageParams):
    customer: int | None = None
    q: str = Field("", description="Part of the name, mobile number or e-mail.")


# ---------------------------------------------------------------------------------------------
# Lifecycle
# ---------------------------------------------------------------------------------------------


class TransitionIn(InSchema):
    to_status: str = Field(..., description=_one_of(Status))
    reason: str = Field("", description="Required when declaring lost or dormant and when winning back.")
    competitor: str = Field("", description="The competitor that took the customer (to lost), if any.")
    at: dt.datetime | None = Field(None, description="When it happened; now when left out.")


class PurchaseIn(InSchema):
    at: dt.datetime | None = Field(None, description="When the customer bought; now when left out.")
    reason: str = Field("", description="E.g. the order or deal number.")


class StatusChangeOut(Schema):
    id: int
    from_status: str
    to_status: str
    at: dt.datetime
    actor: UserRef | None
    reason: str
    competitor: str
    trigger: str


class FunnelQuery(Schema):
    group_by: str = Field("none", description="none, team, owner or source (when customer sources are installed).")
    date_from: dt.date | None = Field(None, description="First day of the period; a year before date_to by default.")
    date_to: dt.date | None = Field(None, description="Last day of the period; today by default.")


class FunnelRowOut(Schema):
    key: int | None
    label: str
    entered: int = Field(..., description="Customers that entered potential in the period.")
    new: int = Field(..., description="Of those, how many reached new (first purchase) since.")
    repeat: int = Field(..., description="Of those, how many reached repeat after new.")
    lost: int = Field(..., description="Of those, how many were declared lost since.")
    rate_new: float | None
    rate_repeat: float | None = Field(..., description="repeat / new.")
    rate_lost: float | None
    avg_days_to_new: float | None
    median_days_to_new: float | None
    avg_days_to_repeat: float | None
    median_days_to_repeat: float | None


class FunnelOut(Schema):
    group_by: str
    date_from: dt.date
    date_to: dt.date
    rows: list[FunnelRowOut]
    total: FunnelRowOut
