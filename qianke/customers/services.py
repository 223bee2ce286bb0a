"""Writes for customers and contacts.

Every function takes the acting user, validates everything before writing, owns one transaction,
writes the audit row inside it, and re-checks that the actor can still see what was written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qianke.accounts.models import Role, Team, User
from qianke.core import normalize
from qianke.core.audit import audit_record, diff, snapshot
from qianke.core.codes import allocate_codes
from qianke.core.custom_fields import clean_custom_values, definitions_for
from qianke.core.errors import NeedsConfirmation, NotFound, PermissionDenied, ValidationFailed
from qianke.core.models import AuditLog
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
from qianke.customers.lifecycle import record_initial_status
from qianke.customers.models import Contact, Customer, CustomerSearch, Tag

CODE_PREFIX = "KH"

# Fields a user edits directly (owner, team, tags and custom have their own handling).
CUSTOMER_TEXT_FIELDS = {
    "name": 200, "short_name": 100, "province": 30, "city": 30, "district": 30, "address": 300,
    "phone": 40, "mobile": 30, "fax": 40, "email": 254, "website": 200, "postcode": 6,
    "occupation": 100, "notes": 20000, "credit_code": 30,
}
CUSTOMER_CHOICE_FIELDS = {
    "kind": Kind, "status": Status, "potential_kind": PotentialKind, "relation_class": RelationClass,
    "enterprise_nature": EnterpriseNature, "industry": Industry, "production_mode": ProductionMode,
    "scale": Scale, "gender": Gender, "education": Education,
}
CUSTOMER_OTHER_FIELDS = {"birthday", "annual_income", "owner", "team", "tags", "custom"}
CUSTOMER_FIELDS = set(CUSTOMER_TEXT_FIELDS) | set(CUSTOMER_CHOICE_FIELDS) | CUSTOMER_OTHER_FIELDS
AUDITED_CUSTOMER_FIELDS = sorted((set(CUSTOMER_FIELDS) - {"tags", "owner", "team"}) | {"owner", "team"})
REQUIRED_CHOICES = {"kind", "status", "relation_class"}

CONTACT_TEXT_FIELDS = {
    "name": 100, "title": 100, "department": 100, "phone": 40, "mobile": 30, "email": 254, "wechat": 60,
    "birthplace": 60, "interests": 300, "personality": 300, "working_style": 300, "authority": 300,
    "family_notes": 5000, "notes": 5000,
}
CONTACT_FIELDS = set(CONTACT_TEXT_FIELDS) | {"gender", "birthday", "years_in_company", "is_primary"}


# ---------------------------------------------------------------------------------------------
# Validation helpers shared by customers and contacts
# ---------------------------------------------------------------------------------------------


def _add(errors: dict[str, list[str]], field: str, message: Any) -> None:
    errors.setdefault(field, []).append(str(message))


def _messages(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _clean_text(errors: dict, field: str, value: Any, limit: int) -> str:
    text = normalize.clean_text(value) if field not in ("notes", "family_notes") else str(value or "").strip()
    if len(text) > limit:
        _add(errors, field, _("At most %(n)d characters.") % {"n": limit})
    return text


def _clean_date(errors: dict, field: str, value: Any, *, not_future: bool = False) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        value = normalize.parse_date(value)
    except ValueError:
        _add(errors, field, _("Enter a date such as 2026-11-22."))
        return None
    if not_future and value > timezone.localdate():
        _add(errors, field, _("The date cannot be in the future."))
    return value


def _clean_contact_channels(errors: dict, data: dict, cleaned: dict) -> None:
    """mobile/phone/fax/email/postcode: keep what was typed, store the canonical form beside it."""
    for field, func, norm_field in (
        ("mobile", normalize.normalize_mobile, "mobile_norm"),
        ("phone", normalize.normalize_phone, "phone_norm"),
        ("fax", normalize.normalize_phone, None),
        ("email", normalize.normalize_email, None),
        ("postcode", normalize.normalize_postcode, None),
    ):
        if field not in cleaned:
            continue
        value = cleaned[field]
        if not value:
            if norm_field:
                cleaned[norm_field] = ""
            continue
        try:
            canonical = func(value)
        except ValidationError as exc:
            errors.setdefault(field, []).extend(_messages(exc))
            continue
        if norm_field:
            cleaned[norm_field] = canonical
        if field in ("email", "postcode"):
            cleaned[field] = normalize.to_halfwidth(value).strip()


def _clean_credit_code(errors: dict, cleaned: dict, kind: str) -> None:
    """credit_code: an organisation's, checked with its check character; the canonical 18 characters
    go beside what was typed."""
    if "credit_code" not in cleaned:
        return
    value = cleaned["credit_code"]
    cleaned["credit_code_norm"] = ""
    if not value:
        return
    if kind != Kind.ORGANIZATION:
        _add(errors, "credit_code", _("Only organisations have a unified social credit code."))
        return
    try:
        cleaned["credit_code_norm"] = normalize.normalize_credit_code(value)
    except ValidationError as exc:
        errors.setdefault("credit_code", []).extend(_messages(exc))


DIVISION_FIELDS = ("province", "city", "district")


def _fill_divisions(cleaned: dict, instance: Customer | None) -> None:
    """Province, city and district left empty are read from the address (with the parts given put before
    it: 天河区 and 天河路 100 号 tell 广州市), as core.normalize.address_divisions gives them; what the user
    gave is never changed. Only when the address or one of the parts is being saved, and there is an
    address."""
    if instance is not None and not any(f in cleaned for f in ("address", *DIVISION_FIELDS)):
        return
    current = {f: cleaned.get(f, getattr(instance, f, "") if instance else "") for f in ("address", *DIVISION_FIELDS)}
    if all(current[f] for f in DIVISION_FIELDS) or not current["address"]:
        return
    found = normalize.address_divisions("".join(current[f] for f in (*DIVISION_FIELDS, "address")))
    for field, value in zip(DIVISION_FIELDS, found, strict=True):
        if value and not current[field]:
            cleaned[field] = value


# ---------------------------------------------------------------------------------------------
# Owners
# ---------------------------------------------------------------------------------------------


def assignable_owners(actor: User):
    """Users the actor may make responsible for a customer."""
    users = User.objects.filter(is_active=True)
    if actor.sees_all_customers:
        return users
    if actor.role == Role.MANAGER and actor.team_id:
        return users.filter(team__path__startswith=actor.team.path) | users.filter(pk=actor.pk)
    return users.filter(pk=actor.pk)


def _resolve_owner(errors: dict, actor: User, value: Any) -> User | None:
    if value in (None, ""):
        return None
    owner_id = value.pk if isinstance(value, User) else value
    try:
        owner = assignable_owners(actor).filter(pk=int(owner_id)).first()
    except (TypeError, ValueError):
        owner = None
    if owner is None:
        _add(errors, "owner", _("You cannot make this user the owner."))
    return owner


def _resolve_team(errors: dict, actor: User, value: Any) -> Team | None:
    if value in (None, ""):
        return None
    team_id = value.pk if isinstance(value, Team) else value
    try:
        team = Team.objects.filter(pk=int(team_id)).first()
    except (TypeError, ValueError):
        team = None
    if team is None:
        _add(errors, "team", _("No such team."))
    elif not actor.sees_all_customers and not (
        actor.role == Role.MANAGER and actor.team_id and team.path.startswith(actor.team.path)
    ) and team.pk != actor.team_id:
        _add(errors, "team", _("You cannot assign customers to this team."))
    return team


# ---------------------------------------------------------------------------------------------
# Customers
# ---------------------------------------------------------------------------------------------


def clean_customer_data(
    *, actor: User, data: dict[str, Any], instance: Customer | None = None
) -> tuple[dict[str, Any], list[str] | None]:
    """Validated values (model field names) and the tag names to set; raises ValidationFailed."""
    errors: dict[str, list[str]] = {}
    unknown = set(data) - CUSTOMER_FIELDS
    for field in sorted(unknown):
        _add(errors, field, _("Unknown field."))
    cleaned: dict[str, Any] = {}
    for field, limit in CUSTOMER_TEXT_FIELDS.items():
        if field in data:
            cleaned[field] = _clean_text(errors, field, data[field], limit)
    for field, choices in CUSTOMER_CHOICE_FIELDS.items():
        if field not in data:
            continue
        value = data[field] or ""
        if value == "" and field in REQUIRED_CHOICES:
            _add(errors, field, _("This field is required."))
        elif value != "" and value not in choices.values:
            _add(errors, field, _("Choose one of: %(options)s.") % {"options": ", ".join(choices.values)})
        cleaned[field] = value
    if "name" in cleaned and not cleaned["name"] or instance is None and "name" not in data:
        _add(errors, "name", _("Enter the customer's name."))
    if "birthday" in data:
        cleaned["birthday"] = _clean_date(errors, "birthday", data["birthday"], not_future=True)
    if "annual_income" in data:
        value = data["annual_income"]
        if value in (None, ""):
            cleaned["annual_income"] = None
        else:
            try:
                amount = Decimal(str(value).replace(",", "").replace("¥", "").replace("￥", "").strip())
                if not amount.is_finite() or amount < 0:
                    raise InvalidOperation
                cleaned["annual_income"] = amount.quantize(Decimal("0.01"))
            except InvalidOperation:
                _add(errors, "annual_income", _("Enter an amount of 0 or more, e.g. 120000."))
    _clean_contact_channels(errors, data, cleaned)
    if "owner" in data:
        cleaned["owner"] = _resolve_owner(errors, actor, data["owner"])
    if "team" in data:
        cleaned["team"] = _resolve_team(errors, actor, data["team"])
    kind = cleaned.get("kind") or (instance.kind if instance else Kind.ORGANIZATION)
    _clean_credit_code(errors, cleaned, kind)
    status = cleaned.get("status") or (instance.status if instance else Status.POTENTIAL)
    if status != Status.POTENTIAL:
        cleaned["potential_kind"] = ""
    elif not cleaned.get("potential_kind") and not (instance and instance.potential_kind):
        cleaned["potential_kind"] = PotentialKind.GENERAL
    if "custom" in data or instance is None or "kind" in cleaned:
        definitions = definitions_for(model="customer", kind=kind)
        custom, custom_errors = clean_custom_values(
            definitions=definitions, values=data.get("custom") or {},
            existing=instance.custom if instance else None,
        )
        errors.update(custom_errors)
        cleaned["custom"] = custom
    tags = None
    if "tags" in data:
        raw = data["tags"] or []
        if isinstance(raw, str):
            raw = raw.replace("，", ",").split(",")
        tags = sorted({normalize.clean_text(t) for t in raw if normalize.clean_text(t)})
        for tag in tags:
            if len(tag) > 50:
                _add(errors, "tags", _("A tag has at most 50 characters."))
    if errors:
        raise ValidationFailed(errors)
    _fill_divisions(cleaned, instance)
    if "name" in cleaned or (instance is not None and "kind" in cleaned):
        # A kind change alone re-normalises the stored name: people and companies normalise differently.
        name = cleaned.get("name", instance.name if instance else "")
        cleaned["name_norm"] = _name_norm(name, kind)
    return cleaned, tags


def _name_norm(name: str, kind: str) -> str:
    """People and companies normalise differently."""
    if kind == Kind.ORGANIZATION:
        return normalize.normalize_company_name(name)
    return normalize.normalize_person_name(name)


def _check_duplicate(*, actor: User, customer_name: str, kind: str, values: dict[str, Any] | None = None,
                     instance: Customer | None = None) -> None:
    """Same canonical name, or what the matching engine takes for the same customer (or asks to review)
    among the customers the actor can see: `duplicates` names them, `candidates` adds score and evidence."""
    from qianke.dedupe.selectors import duplicate_candidates

    values = {**(values or {}), "name": customer_name, "kind": kind}
    values.setdefault("name_norm", _name_norm(customer_name, kind))
    candidates = duplicate_candidates(user=actor, values=values, instance=instance)
    same = [c.customer for c in candidates]
    if same:
        raise NeedsConfirmation(
            _("A customer that looks the same already exists: %(names)s. Save anyway?")
            % {"names": "、".join(f"{c.name} ({c.code})" for c in same)},
            extra={"duplicates": [{"id": c.pk, "code": c.code, "name": c.name} for c in same],
                   "candidates": [c.as_dict() for c in candidates]},
        )


def _set_tags(customer: Customer, names: list[str]) -> None:
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=n) for n in names if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    customer.tags.set([existing[n] for n in names])


def _ensure_visible(actor: User, customer_id: int) -> None:
    if not Customer.objects.visible_to(actor).filter(pk=customer_id).exists():
        raise PermissionDenied(_("After this change you would no longer see the customer; choose another owner."))


def customer_create(*, actor: User, data: dict[str, Any], confirm_duplicate: bool = False) -> Customer:
    cleaned, tags = clean_customer_data(actor=actor, data=data)
    if "owner" not in data and not actor.sees_all_customers:
        cleaned["owner"] = actor
    if cleaned.get("owner") is not None and not cleaned.get("team"):
        cleaned["team"] = cleaned["owner"].team
    if not confirm_duplicate:
        _check_duplicate(actor=actor, customer_name=cleaned["name"],
                         kind=cleaned.get("kind", Kind.ORGANIZATION), values=cleaned)
    with transaction.atomic():
        customer = Customer(created_by=actor, code=allocate_codes(prefix=CODE_PREFIX)[0], **cleaned)
        customer.save()
        if tags is not None:
            _set_tags(customer, tags)
        record_initial_status(actor=actor, customer=customer)
        audit_record(actor=actor, action=AuditLog.Action.CREATE, instance=customer,
                     changes=diff({}, _customer_snapshot(customer)), customer_id=customer.pk)
        customer_search_sync(customer_ids=[customer.pk])
        _ensure_visible(actor, customer.pk)
    return customer


def _customer_snapshot(customer: Customer) -> dict[str, Any]:
    values = snapshot(customer, [f for f in AUDITED_CUSTOMER_FIELDS if f not in ("owner", "team")])
    values["owner"] = str(customer.owner) if customer.owner_id else None
    values["team"] = str(customer.team) if customer.team_id else None
    values["tags"] = sorted(customer.tags.values_list("name", flat=True)) if customer.pk else []
    return values


def _get_for_change(actor: User, customer_id: int, *, include_archived: bool = False) -> Customer:
    customer = (
        Customer.objects.visible_to(actor, include_archived=include_archived)
        # Lock the customer row only: PostgreSQL refuses FOR UPDATE on the nullable side of the
        # outer joins that select_related and a manager's visibility rule add.
        .select_for_update(of=("self",))
        .select_related("owner", "team")
        .filter(pk=customer_id)
        .first()
    )
    if customer is None:
        raise NotFound(_("Customer not found."))
    return customer


def customer_update(
    *, actor: User, customer_id: int, data: dict[str, Any], confirm_duplicate: bool = False
) -> Customer:
    with transaction.atomic():
        customer = _get_for_change(actor, customer_id)
        if data.get("status", customer.status) != customer.status:
            # The lifecycle has one place that knows the legal moves (customers.lifecycle).
            raise ValidationFailed({"status": [_("Change the status with a lifecycle transition.")]})
        cleaned, tags = clean_customer_data(actor=actor, data=data, instance=customer)
        owner_changed = "owner" in cleaned and cleaned["owner"] != customer.owner
        if owner_changed and cleaned["owner"] is not None and "team" not in data:
            cleaned["team"] = cleaned["owner"].team
        if not confirm_duplicate and any(
            key in cleaned and cleaned[key] != getattr(customer, key) for key in ("name_norm", "mobile_norm",
                                                                                 "phone_norm", "credit_code_norm")):
            _check_duplicate(actor=actor, customer_name=cleaned.get("name", customer.name),
                             kind=cleaned.get("kind", customer.kind), values=cleaned,
                             instance=customer)
        before = _customer_snapshot(customer)
        previous_owner = customer.owner
        for field, value in cleaned.items():
            setattr(customer, field, value)
        customer.save()
        if tags is not None:
            _set_tags(customer, tags)
        if owner_changed:
            from qianke.pool.services import pool_owner_changed

            pool_owner_changed(actor=actor, customer=customer, from_owner=previous_owner, to_owner=customer.owner)
        changes = diff(before, _customer_snapshot(customer))
        if changes:
            action = AuditLog.Action.OWNER_CHANGE if set(changes) <= {"owner", "team"} else AuditLog.Action.UPDATE
            audit_record(actor=actor, action=action, instance=customer, changes=changes, customer_id=customer.pk)
            customer_search_sync(customer_ids=[customer.pk])
        _ensure_visible(actor, customer.pk)
    return customer


def customer_change_owner(*, actor: User, customer_id: int, owner_id: int | None) -> Customer:
    if not (actor.sees_all_customers or actor.role == Role.MANAGER):
        raise PermissionDenied(_("Only managers and administrators hand customers over."))
    return customer_update(actor=actor, customer_id=customer_id, data={"owner": owner_id})


def customer_archive(*, actor: User, customer_id: int) -> Customer:
    with transaction.atomic():
        customer = _get_for_change(actor, customer_id)
        if not actor.may_archive:
            raise PermissionDenied(_("Only administrators and the customer-information specialist archive customers."))
        customer.archived_at = timezone.now()
        customer.archived_by = actor
        customer.save(update_fields=["archived_at", "archived_by", "updated_at"])
        audit_record(actor=actor, action=AuditLog.Action.ARCHIVE, instance=customer,
                     changes={"archived_at": [None, customer.archived_at.isoformat()]}, customer_id=customer.pk)
        customer_search_sync(customer_ids=[customer.pk])
    return customer


def customer_restore(*, actor: User, customer_id: int) -> Customer:
    with transaction.atomic():
        customer = _get_for_change(actor, customer_id, include_archived=True)
        if not actor.may_archive:
            raise PermissionDenied(_("Only administrators and the customer-information specialist restore customers."))
        if customer.archived_at is None:
            return customer
        old = customer.archived_at.isoformat()
        customer.archived_at = None
        customer.archived_by = None
        customer.save(update_fields=["archived_at", "archived_by", "updated_at"])
        audit_record(actor=actor, action=AuditLog.Action.RESTORE, instance=customer,
                     changes={"archived_at": [old, None]}, customer_id=customer.pk)
        customer_search_sync(customer_ids=[customer.pk])
    return customer


# ---------------------------------------------------------------------------------------------
# Search index
# ---------------------------------------------------------------------------------------------


def customer_search_document(customer: Customer, contacts: Iterable[Contact]) -> normalize.SearchDocument:
    names = [customer.name, customer.short_name]
    phones = [customer.phone, customer.mobile, customer.fax]
    # The credit code is searched like the customer code (core.demo passes namespaces without one).
    others = [customer.email, customer.code, getattr(customer, "credit_code_norm", "")]
    for contact in contacts:
        names.append(contact.name)
        phones += [contact.phone, contact.mobile]
        others.append(contact.email)
    return normalize.search_document(names=names, phones=phones, others=others)


def customer_search_sync(*, customer_ids: Iterable[int]) -> None:
    """Rebuild the search entries of these customers (none for archived ones)."""
    ids = list(customer_ids)
    customers = Customer.objects.filter(pk__in=ids, archived_at__isnull=True)
    contacts: dict[int, list[Contact]] = {}
    for contact in Contact.objects.filter(customer_id__in=ids, archived_at__isnull=True).only(
        "customer_id", "name", "phone", "mobile", "email"
    ):
        contacts.setdefault(contact.customer_id, []).append(contact)
    CustomerSearch.objects.filter(customer_id__in=ids).delete()
    entries = []
    for customer in customers:
        doc = customer_search_document(customer, contacts.get(customer.pk, []))
        entries.append(CustomerSearch(customer_id=customer.pk, names=doc.names, pinyin=doc.pinyin,
                                      digits=doc.digits, other=doc.other))
    CustomerSearch.objects.bulk_create(entries)


# ---------------------------------------------------------------------------------------------
# Contacts
# ---------------------------------------------------------------------------------------------


def clean_contact_data(*, data: dict[str, Any], instance: Contact | None = None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    for field in sorted(set(data) - CONTACT_FIELDS):
        _add(errors, field, _("Unknown field."))
    cleaned: dict[str, Any] = {}
    for field, limit in CONTACT_TEXT_FIELDS.items():
        if field in data:
            cleaned[field] = _clean_text(errors, field, data[field], limit)
    if ("name" in cleaned and not cleaned["name"]) or (instance is None and "name" not in data):
        _add(errors, "name", _("Enter the contact's name."))
    if "gender" in data:
        gender = data["gender"] or ""
        if gender and gender not in Gender.values:
            _add(errors, "gender", _("Choose one of: %(options)s.") % {"options": ", ".join(Gender.values)})
        cleaned["gender"] = gender
    if "birthday" in data:
        cleaned["birthday"] = _clean_date(errors, "birthday", data["birthday"], not_future=True)
    if "years_in_company" in data:
        value = data["years_in_company"]
        if value in (None, ""):
            cleaned["years_in_company"] = None
        else:
            try:
                years = int(value)
                if not 0 <= years <= 80:
                    raise ValueError
                cleaned["years_in_company"] = years
            except (TypeError, ValueError):
                _add(errors, "years_in_company", _("Enter a whole number of years between 0 and 80."))
    if "is_primary" in data:
        cleaned["is_primary"] = bool(data["is_primary"])
    _clean_contact_channels(errors, data, cleaned)
    if errors:
        raise ValidationFailed(errors)
    return cleaned


CONTACT_AUDITED = sorted(CONTACT_FIELDS)


def contact_create(*, actor: User, customer_id: int, data: dict[str, Any]) -> Contact:
    cleaned = clean_contact_data(data=data)
    with transaction.atomic():
        customer = _get_for_change(actor, customer_id)
        if cleaned.get("is_primary") or not customer.contacts.filter(archived_at__isnull=True).exists():
            cleaned["is_primary"] = True
            customer.contacts.filter(is_primary=True).update(is_primary=False)
        contact = Contact.objects.create(customer=customer, created_by=actor, **cleaned)
        audit_record(actor=actor, action=AuditLog.Action.CREATE, instance=contact,
                     changes=diff({}, snapshot(contact, CONTACT_AUDITED)), customer_id=customer.pk)
        customer_search_sync(customer_ids=[customer.pk])
    return contact


def _get_contact_for_change(actor: User, contact_id: int) -> Contact:
    contact = Contact.objects.visible_to(actor).select_for_update(of=("self",)).filter(pk=contact_id).first()
    if contact is None:
        raise NotFound(_("Contact not found."))
    return contact


def contact_update(*, actor: User, contact_id: int, data: dict[str, Any]) -> Contact:
    with transaction.atomic():
        contact = _get_contact_for_change(actor, contact_id)
        cleaned = clean_contact_data(data=data, instance=contact)
        before = snapshot(contact, CONTACT_AUDITED)
        if cleaned.get("is_primary"):
            Contact.objects.filter(customer_id=contact.customer_id, is_primary=True).exclude(
                pk=contact.pk).update(is_primary=False)
        for field, value in cleaned.items():
            setattr(contact, field, value)
        contact.save()
        changes = diff(before, snapshot(contact, CONTACT_AUDITED))
        if changes:
            audit_record(actor=actor, action=AuditLog.Action.UPDATE, instance=contact, changes=changes,
                         customer_id=contact.customer_id)
            customer_search_sync(customer_ids=[contact.customer_id])
    return contact


def contact_archive(*, actor: User, contact_id: int) -> Contact:
    with transaction.atomic():
        contact = _get_contact_for_change(actor, contact_id)
        contact.archived_at = timezone.now()
        contact.archived_by = actor
        contact.is_primary = False
        contact.save(update_fields=["archived_at", "archived_by", "is_primary", "updated_at"])
        audit_record(actor=actor, action=AuditLog.Action.ARCHIVE, instance=contact,
                     changes={"archived_at": [None, contact.archived_at.isoformat()]},
                     customer_id=contact.customer_id)
        customer_search_sync(customer_ids=[contact.customer_id])
    return contact
