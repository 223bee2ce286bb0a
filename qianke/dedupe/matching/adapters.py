"""Records from Qianke's own models (imported lazily: the engine itself needs no database)."""

from __future__ import annotations

from collections.abc import Iterable

from .records import INDIVIDUAL, ORGANIZATION, Record

# Custom-field keys under which a credit code or ID number may be kept (seed forms, imports).
CREDIT_CODE_KEYS = ("credit_code", "unified_social_credit_code", "uscc", "统一社会信用代码")
ID_NUMBER_KEYS = ("id_number", "id_card", "身份证号")


def _custom(customer, keys: tuple[str, ...]) -> tuple[str, ...]:
    custom = getattr(customer, "custom", None) or {}
    return tuple(str(custom[k]) for k in keys if custom.get(k))


def customer_record(customer, contacts: Iterable = ()) -> Record:
    """A Record for a Customer and (optionally) its contacts; the id is the customer's primary key."""
    contacts = list(contacts)
    address = "".join(x for x in (customer.province, customer.city, customer.district, customer.address) if x)
    values: dict[str, tuple[str, ...]] = {
        "name": (customer.name,),
        "mobile": tuple(v for v in [customer.mobile, *(c.mobile for c in contacts)] if v),
        "phone": tuple(v for v in [customer.phone, *(c.phone for c in contacts)] if v),
        "email": tuple(v for v in [customer.email, *(c.email for c in contacts)] if v),
        "address": (address,) if address else (),
        "postcode": (customer.postcode,) if customer.postcode else (),
    }
    if customer.kind == INDIVIDUAL:
        if customer.birthday:
            values["birth_date"] = (customer.birthday.isoformat(),)
        values["id_number"] = _custom(customer, ID_NUMBER_KEYS)
        return Record(id=str(customer.pk), kind=INDIVIDUAL, values=values)
    values["short_name"] = (customer.short_name,) if customer.short_name else ()
    values["contact"] = tuple(c.name for c in contacts if c.name)
    values["credit_code"] = _custom(customer, CREDIT_CODE_KEYS)
    return Record(id=str(customer.pk), kind=ORGANIZATION, values=values)
