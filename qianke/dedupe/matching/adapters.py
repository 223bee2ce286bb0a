"""Records from Qianke's own models (imported lazily: the engine itself needs no database)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from .records import INDIVIDUAL, ORGANIZATION, Record

# Custom-field keys under which a credit code or ID number may be kept (seed forms, imports).
CREDIT_CODE_KEYS = ("credit_code", "unified_social_credit_code", "uscc", "统一社会信用代码")
ID_NUMBER_KEYS = ("id_number", "id_card", "身份证号")


def _custom(custom: Mapping | None, keys: tuple[str, ...]) -> tuple[str, ...]:
    if not custom:
        return ()
    return tuple(str(custom[k]) for k in keys if custom.get(k))


def customer_record(customer, contacts: Iterable = ()) -> Record:
    """A Record for a Customer and (optionally) its contacts; the id is the customer's primary key."""
    return record_from_values(
        customer.pk, customer.kind, customer.name, getattr(customer, "short_name", ""), customer.province, customer.city,
        customer.district, customer.address, customer.postcode, customer.phone, customer.mobile, customer.email,
        getattr(customer, "birthday", None), getattr(customer, "custom", None),
        getattr(customer, "credit_code_norm", ""), [(c.name, c.phone, c.mobile, c.email) for c in contacts],
    )


def record_from_values(pk, kind: str, name: str, short_name: str, province: str, city: str, district: str,
                       address: str, postcode: str, phone: str, mobile: str, email: str,
                       birthday: dt.date | None, custom: Mapping | None, credit_code_norm: str = "",
                       contacts: Sequence[tuple[str, str, str, str]] = ()) -> Record:
    """A Record from a customer's columns and its contacts' (name, phone, mobile, email).

    The credit code is the customer's column (canonical), and any kept in a custom field before there
    was one.

    The scan reads a million customers as plain tuples and builds their records here, without a model
    instance or a namespace per row; customer_record gives the same Record from objects.
    """
    # filter(None, …) and zip keep the per-value loops in C: this runs once per customer of a scan.
    full_address = "".join(filter(None, (province, city, district, address)))
    if contacts:
        names, phones, mobiles, emails = zip(*contacts, strict=True)
        mobile_values = tuple(filter(None, (mobile, *mobiles)))
        phone_values = tuple(filter(None, (phone, *phones)))
        email_values = tuple(filter(None, (email, *emails)))
    else:
        names = ()
        mobile_values, phone_values, email_values = ((v,) if v else () for v in (mobile, phone, email))
    values: dict[str, tuple[str, ...]] = {
        "name": (name,),
        "mobile": mobile_values,
        "phone": phone_values,
        "email": email_values,
        "address": (full_address,) if full_address else (),
        "postcode": (postcode,) if postcode else (),
    }
    if kind == INDIVIDUAL:
        if birthday:
            values["birth_date"] = (birthday.isoformat(),)
        values["id_number"] = _custom(custom, ID_NUMBER_KEYS)
        return Record(id=str(pk), kind=INDIVIDUAL, values=values)
    values["short_name"] = (short_name,) if short_name else ()
    values["contact"] = tuple(filter(None, names))
    codes = _custom(custom, CREDIT_CODE_KEYS)
    values["credit_code"] = (credit_code_norm, *codes) if credit_code_norm else codes
    return Record(id=str(pk), kind=ORGANIZATION, values=values)
