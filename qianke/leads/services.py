"""Writes for sources and customer origins.

Keyword-only, the actor passed in, one transaction each, audited inside it. A customer origin is
audited with the customer's id so it shows on the customer's history tab.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qianke.accounts.models import User
from qianke.core.audit import audit_record, diff, snapshot
from qianke.core.errors import NotFound, PermissionDenied, ValidationFailed
from qianke.customers.models import Contact, Customer
from qianke.leads.models import CollectionMethod, CustomerOrigin, InformationSource, Source

ORIGIN_FIELDS = ("source", "information_source", "collection_method", "introducer_customer", "introducer_contact")
AUDITED_ORIGIN_FIELDS = list(ORIGIN_FIELDS)
# Referral chains longer than this are refused, which also bounds the cycle check's walk.
MAX_CHAIN = 100


def _add(errors: dict[str, list[str]], field: str, message: Any) -> None:
    errors.setdefault(field, []).append(str(message))


models_with_pk = (Source, InformationSource, CollectionMethod, Customer, Contact)


def _int_or_none(errors: dict, field: str, value: Any) -> int | None:
    if value in (None, "", 0, "0"):
        return None
    if isinstance(value, models_with_pk):
        return value.pk
    try:
        return int(value)
    except (TypeError, ValueError):
        _add(errors, field, _("Enter a whole number."))
        return None


# ---------------------------------------------------------------------------------------------
# Customer origins
# ---------------------------------------------------------------------------------------------


def _clean_origin(*, actor: User, customer: Customer, data: dict[str, Any],
                  current: CustomerOrigin | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    for field in sorted(set(data) - set(ORIGIN_FIELDS)):
        _add(errors, field, _("Unknown field."))
    ids = {f: _int_or_none(errors, f, data.get(f)) for f in ORIGIN_FIELDS}
    cleaned: dict[str, Any] = {}

    def keeps(field: str) -> bool:  # an unchanged (possibly since deactivated) choice may stay
        return current is not None and ids[field] is not None and getattr(current, f"{field}_id") == ids[field]

    if ids["source"] is None:
        if "source" not in errors:
            _add(errors, "source", _("Choose the source."))
    else:
        source = Source.objects.filter(pk=ids["source"]).first()
        if source is None or not (source.active or keeps("source")):
            _add(errors, "source", _("Choose an active source."))
        cleaned["source"] = source
    for field, model in (("information_source", InformationSource), ("collection_method", CollectionMethod)):
        cleaned[field] = None
        if ids[field] is not None:
            item = model.objects.filter(pk=ids[field]).first()
            if item is None or not (item.active or keeps(field)):
                _add(errors, field, _("Choose an active entry."))
            cleaned[field] = item

    contact = None
    if ids["introducer_contact"] is not None:
        contact = Contact.objects.visible_to(actor).filter(pk=ids["introducer_contact"]).first()
        if contact is None:
            _add(errors, "introducer_contact", _("Contact not found."))
    introducer_id = ids["introducer_customer"]
    if contact is not None:
        if introducer_id is not None and introducer_id != contact.customer_id:
            _add(errors, "introducer_contact", _("The contact does not belong to the introducing customer."))
        introducer_id = contact.customer_id
    introducer = None
    if introducer_id is not None:
        introducer = Customer.objects.visible_to(actor).filter(pk=introducer_id).first()
        if introducer is None and not keeps("introducer_customer"):
            _add(errors, "introducer_customer", _("Customer not found."))
        elif introducer is None:
            introducer = Customer.objects.filter(pk=introducer_id).first()
        elif introducer.pk == customer.pk:
            _add(errors, "introducer_customer", _("A customer cannot introduce itself."))
    cleaned["introducer_customer"] = introducer
    cleaned["introducer_contact"] = contact
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _refuse_cycle(*, customer_id: int, introducer_id: int) -> None:
    """Follow the introducer's own introducers upwards; meeting the customer would close a cycle."""
    seen = {introducer_id}
    current: int | None = introducer_id
    for _step in range(MAX_CHAIN):
        current = CustomerOrigin.objects.filter(customer_id=current).values_list(
            "introducer_customer_id", flat=True).first()
        if current is None:
            return
        if current == customer_id:
            raise ValidationFailed({"introducer_customer": [
                _("This customer was itself (directly or indirectly) introduced by the customer being "
                  "edited; a referral chain cannot go round in a circle.")]})
        if current in seen:  # an old cycle in the data; never extend it
            break
        seen.add(current)
    raise ValidationFailed({"introducer_customer": [_("The referral chain is too long.")]})


def origin_set(*, actor: User, customer_id: int, data: dict[str, Any]) -> CustomerOrigin:
    """Record or replace the customer's origin (source required; the rest optional)."""
    with transaction.atomic():
        customer = Customer.objects.visible_to(actor).filter(pk=customer_id).first()
        if customer is None:
            raise NotFound(_("Customer not found."))
        current = CustomerOrigin.objects.filter(customer_id=customer.pk).first()
        cleaned = _clean_origin(actor=actor, customer=customer, data=data, current=current)
        introducer = cleaned["introducer_customer"]
        if introducer is not None:
            # Serialise concurrent edits of the two ends (A→B and B→A at once), then check for a cycle.
            list(Customer.objects.select_for_update().filter(pk__in=[customer.pk, introducer.pk])
                 .order_by("pk").values_list("pk", flat=True))
            _refuse_cycle(customer_id=customer.pk, introducer_id=introducer.pk)
        before = snapshot(current, AUDITED_ORIGIN_FIELDS) if current else {}
        origin = current or CustomerOrigin(customer=customer, recorded_by=actor if actor.pk else None,
                                           recorded_at=timezone.now())
        for field, value in cleaned.items():
            setattr(origin, field, value)
        origin.save()
        changes = diff(before, snapshot(origin, AUDITED_ORIGIN_FIELDS))
        if current is None or changes:
            audit_record(actor=actor, action="update" if current else "create", instance=origin,
                         changes=changes, customer_id=customer.pk)
        if not Customer.objects.visible_to(actor).filter(pk=customer.pk).exists():
            raise NotFound(_("Customer not found."))
    return origin


def customer_create_with_origin(*, actor: User, data: dict[str, Any], confirm_duplicate: bool = False,
                                origin: dict[str, Any] | None = None) -> Customer:
    """Register a customer and, when a source is given, its origin — both or neither."""
    from qianke.customers.services import customer_create

    with transaction.atomic():
        customer = customer_create(actor=actor, data=data, confirm_duplicate=confirm_duplicate)
        if origin and origin.get("source"):
            origin_set(actor=actor, customer_id=customer.pk, data=origin)
    return customer


# ---------------------------------------------------------------------------------------------
# The source tree (administrators)
# ---------------------------------------------------------------------------------------------


def require_source_admin(actor: User) -> None:
    if not getattr(actor, "is_admin", False):
        raise PermissionDenied(_("Only administrators change the source tree."))


def _clean_name(errors: dict, name: Any) -> str:
    name = str(name or "").strip()
    if not name:
        _add(errors, "name", _("Enter a name."))
    elif len(name) > 100:
        _add(errors, "name", _("At most %(n)d characters.") % {"n": 100})
    return name


def _name_taken(name: str, parent_id: int | None, exclude_id: int | None = None) -> bool:
    return Source.objects.filter(name=name, parent_id=parent_id).exclude(pk=exclude_id).exists()


def _get_parent(errors: dict, parent_id: Any) -> Source | None:
    pid = _int_or_none(errors, "parent", parent_id)
    if pid is None:
        return None
    parent = Source.objects.filter(pk=pid).first()
    if parent is None:
        _add(errors, "parent", _("Source not found."))
    return parent


def source_create(*, actor: User, name: str, parent_id: int | None = None, order: int | None = None) -> Source:
    require_source_admin(actor)
    errors: dict[str, list[str]] = {}
    name = _clean_name(errors, name)
    parent = _get_parent(errors, parent_id)
    if name and not errors and _name_taken(name, parent.pk if parent else None):
        _add(errors, "name", _("A source with this name already exists here."))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        if order is None:
            last = Source.objects.filter(parent=parent).order_by("-order").values_list("order", flat=True).first()
            order = (last or 0) + 10
        source = Source.objects.create(name=name, parent=parent, order=order, depth=parent.depth + 1 if parent else 0,
                                       active=parent.active if parent else True)
        source.path = f"{parent.path if parent else '/'}{source.pk}/"
        source.save(update_fields=["path"])
        audit_record(actor=actor, action="create", instance=source,
                     changes=diff({}, snapshot(source, ["name", "parent", "order", "active"])))
    return source


def source_update(*, actor: User, source_id: int, data: dict[str, Any]) -> Source:
    """Rename (`name`), move (`parent`: an id or None for the top level), reorder (`order`),
    deactivate or reactivate (`active`). Deactivating a source deactivates everything below it."""
    require_source_admin(actor)
    errors: dict[str, list[str]] = {}
    for field in sorted(set(data) - {"name", "parent", "order", "active"}):
        _add(errors, field, _("Unknown field."))
    with transaction.atomic():
        source = Source.objects.select_for_update().filter(pk=source_id).first()
        if source is None:
            raise NotFound(_("Source not found."))
        before = snapshot(source, ["name", "parent", "order", "active"])
        name = _clean_name(errors, data["name"]) if "name" in data else source.name
        parent = source.parent
        if "parent" in data:
            parent = _get_parent(errors, data["parent"])
            if parent is not None and parent.path.startswith(source.path):
                _add(errors, "parent", _("A source cannot move below itself."))
        if name and "name" not in errors and _name_taken(name, parent.pk if parent else None, source.pk):
            _add(errors, "name", _("A source with this name already exists here."))
        if "order" in data:
            try:
                source.order = int(data["order"])
            except (TypeError, ValueError):
                _add(errors, "order", _("Enter a whole number."))
        active = source.active
        if "active" in data:
            active = bool(data["active"])
            if active and parent is not None and not parent.active:
                _add(errors, "active", _("Activate the parent source first."))
        if errors:
            raise ValidationFailed(errors)
        source.name = name
        if parent != source.parent:
            old_path, old_depth = source.path, source.depth
            source.parent = parent
            source.path = f"{parent.path if parent else '/'}{source.pk}/"
            source.depth = parent.depth + 1 if parent else 0
            descendants = list(Source.objects.filter(path__startswith=old_path).exclude(pk=source.pk))
            for node in descendants:
                node.path = source.path + node.path[len(old_path):]
                node.depth = node.depth - old_depth + source.depth
            Source.objects.bulk_update(descendants, ["path", "depth"])
        if active != source.active:
            source.active = active
            if not active:
                Source.objects.filter(path__startswith=source.path).exclude(pk=source.pk).update(active=False)
        source.save()
        changes = diff(before, snapshot(source, ["name", "parent", "order", "active"]))
        if changes:
            audit_record(actor=actor, action="update", instance=source, changes=changes)
    return source
