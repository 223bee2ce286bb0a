"""Writes of the dedupe app: merge two or more customers, undo a merge, dismiss a duplicate group.

A merge moves every row that points at a merged customer to the survivor. The tables are discovered from
Customer's reverse relations (hidden ones included), so tables added by other apps move without this
module knowing them. Where a row cannot move — a one-to-one the survivor already has, a unique
constraint the survivor's own row already fills, a row that would then point at the survivor twice —
it stays with the archived merged customer and the merge records it. The snapshot stored with the
merge (field values before and after, the primary keys moved per table and field) is what undo replays
backwards.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qianke.accounts.models import User
from qianke.core.audit import audit_record, diff
from qianke.core.custom_fields import definitions_for
from qianke.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from qianke.core.models import AuditLog, CustomFieldDefinition
from qianke.customers.models import Contact, Customer, CustomerSearch
from qianke.customers.services import customer_search_sync
from qianke.dedupe.models import DuplicateGroup, DuplicateMember, Merge, MergedCustomer, NotDuplicatePair
from qianke.pool.services import pool_owner_history_add

MAX_MERGE = 20

# Fields a merge chooses a surviving value for. Kind and status are not among them: a merge joins records
# of one kind, and the lifecycle changes only through its transition function.
MERGE_FIELDS = [
    "name", "short_name", "credit_code", "relation_class", "enterprise_nature", "industry", "production_mode", "scale",
    "province", "city", "district", "address", "postcode", "phone", "mobile", "fax", "email", "website",
    "owner", "team", "gender", "birthday", "occupation", "annual_income", "education", "notes",
]
# Canonical forms travel with the value they were computed from.
COMPANIONS = {"name": ("name_norm",), "phone": ("phone_norm",), "mobile": ("mobile_norm",),
              "credit_code": ("credit_code_norm",)}
CANONICAL = tuple(c for companions in COMPANIONS.values() for c in companions)


# ---------------------------------------------------------------------------------------------
# Field values
# ---------------------------------------------------------------------------------------------


def _json(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _attname(field: str) -> str:
    return Customer._meta.get_field(field).attname


def field_value(customer: Customer, key: str) -> Any:
    """The JSON-able stored value of a merge field (`owner` → the owner's id) or of `custom.<key>`."""
    if key.startswith("custom."):
        return (customer.custom or {}).get(key[7:])
    return _json(getattr(customer, _attname(key)))


def raw_values(customer: Customer) -> dict[str, Any]:
    """Every value a merge may change, companions and custom fields included (custom as custom.<key>)."""
    values = {}
    for field in MERGE_FIELDS:
        values[field] = field_value(customer, field)
        for companion in COMPANIONS.get(field, ()):
            values[companion] = getattr(customer, companion)
    for key, value in (customer.custom or {}).items():
        values[f"custom.{key}"] = value
    return values


def _set_value(customer: Customer, key: str, value: Any) -> None:
    if key.startswith("custom."):
        custom = dict(customer.custom or {})
        if value is None:
            custom.pop(key[7:], None)
        else:
            custom[key[7:]] = value
        customer.custom = custom
        return
    field = Customer._meta.get_field(key)
    setattr(customer, field.attname, None if value is None else field.to_python(value))


def _empty(value: Any) -> bool:
    return value in (None, "", [], {})


def merge_field_keys(customers: list[Customer]) -> list[str]:
    """The merge fields plus every custom field any of these customers has a value for, definitions first."""
    keys = list(MERGE_FIELDS)
    kind = customers[0].kind if customers else None
    seen = set()
    for definition in definitions_for(model="customer", kind=kind):
        seen.add(definition.key)
        keys.append(f"custom.{definition.key}")
    for customer in customers:
        for key in sorted(customer.custom or {}):
            if key not in seen:
                seen.add(key)
                keys.append(f"custom.{key}")
    return keys


def default_choices(survivor: Customer, others: list[Customer], keys: list[str]) -> dict[str, int]:
    """The survivor's value, or where it has none the first merged customer that has one."""
    choices = {}
    for key in keys:
        chosen = survivor
        if _empty(field_value(survivor, key)):
            chosen = next((c for c in others if not _empty(field_value(c, key))), survivor)
        choices[key] = chosen.pk
    return choices


def field_labels(keys: list[str]) -> dict[str, str]:
    """Labels of merge fields and custom fields (one query for all custom ones)."""
    custom = {}
    if any(k.startswith("custom.") for k in keys):
        custom = {d.key: d.label for d in CustomFieldDefinition.objects.filter(model="customer")}
    return {k: custom.get(k[7:], k[7:]) if k.startswith("custom.") else str(Customer._meta.get_field(k).verbose_name)
            for k in keys}


# ---------------------------------------------------------------------------------------------
# Related rows
# ---------------------------------------------------------------------------------------------


def _relations() -> list[models.ForeignKey]:
    """Every foreign key (one-to-one included) to Customer that a merge moves."""
    skip = {CustomerSearch, DuplicateMember, NotDuplicatePair, Merge, MergedCustomer}
    # A table whose migration has not run yet (an app being installed) has no rows to move.
    tables = set(connection.introspection.table_names())
    fields = []
    for rel in Customer._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
            continue
        if rel.related_model in skip or rel.related_model is Customer or \
                rel.related_model._meta.db_table not in tables:
            continue
        fields.append(rel.field)
    return sorted(fields, key=lambda f: (f.model._meta.label, f.name))


def _unique_sets(model: type[models.Model], field: models.Field) -> list[tuple[str, ...]]:
    """The other columns of each unconditional unique constraint that includes `field`."""
    sets = []
    groups = [tuple(u) for u in model._meta.unique_together]
    groups += [tuple(c.fields) for c in model._meta.constraints
               if isinstance(c, models.UniqueConstraint) and c.fields and c.condition is None]
    for names in groups:
        if field.name in names:
            sets.append(tuple(model._meta.get_field(n).attname for n in names if n != field.name))
    return sets


def _move_rows(survivor: Customer, merged: list[Customer]) -> tuple[list[dict], list[dict]]:
    """Point every related row of the merged customers at the survivor; returns (moved, kept)."""
    group_ids = {survivor.pk} | {c.pk for c in merged}
    moved, kept = [], []
    for field in _relations():
        model = field.model
        manager = model._base_manager
        label = model._meta.label
        others = [f.attname for f in model._meta.concrete_fields
                  if f is not field and isinstance(f, models.ForeignKey)
                  and f.related_model is Customer]
        unique_sets = [] if field.unique else _unique_sets(model, field)
        columns = {model._meta.pk.attname, field.attname, *others, *(c for s in unique_sets for c in s)}
        rows = list(manager.filter(**{f"{field.attname}__in": [c.pk for c in merged]}).order_by().values(*columns))
        if not rows:
            continue
        survivor_rows = list(manager.filter(**{field.attname: survivor.pk}).order_by().values(*columns))
        taken = [{tuple(r[c] for c in s) for r in survivor_rows} for s in unique_sets]
        survivor_has_one = field.unique and bool(survivor_rows)
        order = {c.pk: i for i, c in enumerate(merged)}
        rows.sort(key=lambda r: (order[r[field.attname]], r[model._meta.pk.attname]))
        by_origin: dict[int, list] = {}
        for row in rows:
            origin, pk = row[field.attname], row[model._meta.pk.attname]
            reason = None
            if field.unique and survivor_has_one:
                reason = "one_to_one"
            elif label == "pool.PoolEntry" and survivor.owner_id and manager.filter(pk=pk, in_pool=True).exists():
                # A customer waiting in a public pool has no owner: its pool state cannot become the state
                # of an owned survivor.
                reason = "in_pool"
            elif any(row[o] in group_ids for o in others):
                reason = "self_reference"
            elif any(tuple(row[c] for c in s) in taken[i] for i, s in enumerate(unique_sets)):
                reason = "unique"
            if reason:
                kept.append({"model": label, "field": field.name, "customer": origin, "pk": pk, "reason": reason})
                continue
            for i, s in enumerate(unique_sets):
                taken[i].add(tuple(row[c] for c in s))
            survivor_has_one = field.unique
            by_origin.setdefault(origin, []).append(pk)
        for origin, pks in by_origin.items():
            manager.filter(pk__in=pks).update(**{field.attname: survivor.pk})
            if field.primary_key:  # the row's key is the customer: it now is the survivor's id
                pks = [survivor.pk]
            moved.append({"model": label, "field": field.name, "customer": origin, "pks": pks})
    return moved, kept


# ---------------------------------------------------------------------------------------------
# Merge
# ---------------------------------------------------------------------------------------------


def _lock_visible(actor: User, ids: list[int], *, include_archived: bool = False) -> dict[int, Customer]:
    customers = {
        c.pk: c
        for c in Customer.objects.visible_to(actor, include_archived=include_archived)
        .select_for_update(of=("self",)).filter(pk__in=ids)
    }
    if len(customers) != len(set(ids)):
        raise NotFound(_("Customer not found."))
    return customers


def _clean_ids(survivor_id: Any, merged_ids: Any) -> tuple[int, list[int]]:
    errors: dict[str, list[str]] = {}
    try:
        survivor = int(survivor_id)
    except (TypeError, ValueError):
        survivor = 0
        errors["survivor"] = [_("Choose the customer that stays.")]
    try:
        merged = list(dict.fromkeys(int(i) for i in merged_ids or []))
    except (TypeError, ValueError):
        merged = []
    if not merged:
        errors["merged"] = [_("Choose at least one customer to merge into the one that stays.")]
    elif survivor in merged:
        errors["merged"] = [_("The customer that stays cannot also be merged away.")]
    elif len(merged) >= MAX_MERGE:
        errors["merged"] = [_("Merge at most %(n)d customers at once.") % {"n": MAX_MERGE - 1}]
    if errors:
        raise ValidationFailed(errors)
    return survivor, merged


def _clean_choices(field_choices: dict[str, Any] | None, keys: list[str], ids: set[int]) -> dict[str, int]:
    errors: dict[str, list[str]] = {}
    choices = {}
    for key, value in (field_choices or {}).items():
        if key not in keys:
            errors.setdefault("fields", []).append(_("Unknown field: %(field)s.") % {"field": key})
            continue
        try:
            chosen = int(value)
        except (TypeError, ValueError):
            chosen = 0
        if chosen not in ids:
            errors.setdefault("fields", []).append(
                _("%(field)s: choose the value of one of the customers being merged.") % {"field": key})
            continue
        choices[key] = chosen
    if errors:
        raise ValidationFailed(errors)
    return choices


def _audit_values(customer: Customer, keys: list[str]) -> dict[str, Any]:
    """Readable values for the audit row: people and teams by name rather than by id."""
    values = {}
    for key in keys:
        if key in ("owner", "team"):
            related = getattr(customer, key)
            values[key] = str(related) if related else None
        else:
            values[key] = field_value(customer, key)
    return values


@transaction.atomic
def customer_merge(
    *, actor: User, survivor_id: int, merged_ids: list[int], field_choices: dict[str, Any] | None = None,
    group_id: int | None = None,
) -> Merge:
    """Merge `merged_ids` into `survivor_id`, choosing per field (name → customer id) the surviving value."""
    survivor_id, merged_ids = _clean_ids(survivor_id, merged_ids)
    locked = _lock_visible(actor, [survivor_id, *merged_ids])
    survivor = locked[survivor_id]
    merged = [locked[i] for i in merged_ids]
    if any(c.kind != survivor.kind for c in merged):
        raise ValidationFailed({"merged": [_("Only customers of the same kind can be merged.")]})
    everyone = [survivor, *merged]
    keys = merge_field_keys(everyone)
    explicit = _clean_choices(field_choices, keys, set(locked))
    if "owner" in explicit and "team" not in explicit:
        explicit["team"] = explicit["owner"]  # the team goes with the owner unless chosen on its own
    choices = {**default_choices(survivor, merged, keys), **explicit}

    before = raw_values(survivor)
    previous_owner_id = survivor.owner_id
    audit_before = _audit_values(survivor, keys)
    for key, chosen in choices.items():
        if chosen == survivor.pk:
            continue
        source = locked[chosen]
        _set_value(survivor, key, field_value(source, key))
        for companion in COMPANIONS.get(key, ()):
            setattr(survivor, companion, getattr(source, companion))
    survivor.save()
    after = raw_values(survivor)

    had_primary = Contact.objects.filter(customer=survivor, is_primary=True, archived_at__isnull=True).exists()
    moved, kept = _move_rows(survivor, merged)
    primary_reset: list[int] = []
    if had_primary:
        # One primary contact per customer: the survivor's stays primary.
        moved_contacts = [pk for m in moved if m["model"] == Contact._meta.label for pk in m["pks"]]
        primary_reset = list(Contact.objects.filter(pk__in=moved_contacts, is_primary=True)
                             .values_list("pk", flat=True))
        Contact.objects.filter(pk__in=primary_reset).update(is_primary=False)
    audit_moved = {}
    for customer in merged:
        ids = list(AuditLog.objects.filter(customer_id=customer.pk).values_list("pk", flat=True))
        if ids:
            AuditLog.objects.filter(pk__in=ids).update(customer_id=survivor.pk)
            audit_moved[str(customer.pk)] = ids

    now = timezone.now()
    Customer.objects.filter(pk__in=merged_ids).update(archived_at=now, archived_by=actor, updated_at=now)
    merge = Merge.objects.create(
        survivor=survivor, actor=actor,
        snapshot={"before": before, "after": after, "choices": {k: v for k, v in choices.items()},
                  "moved": moved, "kept": kept, "primary_reset": primary_reset, "audit_moved": audit_moved,
                  "archived_at": now.isoformat(), "merged": merged_ids},
    )
    MergedCustomer.objects.bulk_create([MergedCustomer(merge=merge, customer=c) for c in merged])
    _resolve_groups(merge=merge, ids=[survivor_id, *merged_ids], group_id=group_id, actor=actor, now=now)
    if survivor.owner_id != previous_owner_id:
        pool_owner_history_add(actor=actor, customer=survivor, from_owner_id=previous_owner_id,
                               reason=_("Merge of %(codes)s") % {"codes": "、".join(c.code for c in merged)})

    changes = diff(audit_before, _audit_values(survivor, keys))
    changes["merged"] = [None, [f"{c.code} {c.name}" for c in merged]]
    audit_record(actor=actor, action=AuditLog.Action.MERGE, instance=survivor, changes=changes,
                 customer_id=survivor.pk)
    for customer in merged:
        audit_record(actor=actor, action=AuditLog.Action.MERGE, instance=customer, customer_id=customer.pk,
                     changes={"merged_into": [None, f"{survivor.code} {survivor.name}"],
                              "archived_at": [None, now.isoformat()]})
    customer_search_sync(customer_ids=[survivor_id, *merged_ids])
    if not Customer.objects.visible_to(actor).filter(pk=survivor.pk).exists():
        raise PermissionDenied(_("After this merge you would no longer see the customer; choose another owner."))
    return merge


def _resolve_groups(*, merge: Merge, ids: list[int], group_id: int | None, actor: User, now) -> None:
    """The reviewed group becomes "merged"; other open groups with a merged customer are out of date and
    go (the next scan finds what is left of them, against the survivor)."""
    group = None
    if group_id is not None:
        # Only an open group is resolved by a merge: a dismissed one keeps its decision (an undo would
        # otherwise reopen it), a merged one belongs to its own merge.
        group = DuplicateGroup.objects.filter(pk=group_id, status=DuplicateGroup.Status.OPEN,
                                              members__customer_id=ids[0]).first()
    if group is None:
        candidates = DuplicateGroup.objects.filter(status=DuplicateGroup.Status.OPEN, size=len(ids),
                                                   members__customer_id=ids[0]).prefetch_related("members")
        for candidate in candidates:
            if {m.customer_id for m in candidate.members.all()} == set(ids):
                group = candidate
                break
    if group is not None:
        DuplicateGroup.objects.filter(pk=group.pk).update(status=DuplicateGroup.Status.MERGED, resolved_at=now,
                                                          resolved_by=actor)
        Merge.objects.filter(pk=merge.pk).update(group=group)
        merge.group = group
    stale = DuplicateGroup.objects.filter(status=DuplicateGroup.Status.OPEN,
                                          members__customer_id__in=ids[1:]).exclude(pk=getattr(group, "pk", None))
    DuplicateGroup.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).delete()


# ---------------------------------------------------------------------------------------------
# Undo
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def merge_undo(*, actor: User, merge_id: int) -> Merge:
    """Put everything back: field values, rows, archived customers. Refused when later edits conflict."""
    merge = Merge.objects.select_for_update().filter(pk=merge_id).first()
    if merge is None:
        raise NotFound(_("Merge not found."))
    snap = merge.snapshot
    merged_ids = [int(i) for i in snap["merged"]]
    locked = _lock_visible(actor, [merge.survivor_id, *merged_ids], include_archived=True)
    if merge.undone_at is not None:
        raise Conflict(_("This merge has been undone already."), code="already_undone")
    survivor = locked[merge.survivor_id]
    if survivor.archived_at is not None:
        raise Conflict(_("The customer that stayed has been archived or merged since; restore it first."),
                       code="undo_conflict")
    archived_at = dt.datetime.fromisoformat(snap["archived_at"])
    restored = [locked[i] for i in merged_ids if locked[i].archived_at != archived_at]
    if restored:
        raise Conflict(_("%(names)s changed after the merge (restored or archived again); the merge cannot be "
                         "undone.") % {"names": "、".join(c.name for c in restored)}, code="undo_conflict")
    before, after = snap["before"], snap["after"]
    changed = [k for k in set(before) | set(after) if before.get(k) != after.get(k)]
    current = raw_values(survivor)
    edited = sorted(k for k in changed if current.get(k) != after.get(k))
    if edited:
        names = field_labels([k for k in edited if k not in CANONICAL])
        labels = "、".join(names.values())
        raise Conflict(_("The customer was edited after the merge (%(fields)s); undoing would overwrite those "
                         "edits. Change the fields back or edit the records by hand.") % {"fields": labels},
                       code="undo_conflict", fields={k: [_("Edited after the merge.")] for k in edited})

    audit_before = _audit_values(survivor, [k for k in changed if k not in CANONICAL])
    previous_owner_id = survivor.owner_id
    for key in changed:
        if key in CANONICAL:
            setattr(survivor, key, before.get(key) or "")
        else:
            _set_value(survivor, key, before.get(key))
    survivor.save()
    if survivor.owner_id != previous_owner_id:
        pool_owner_history_add(actor=actor, customer=survivor, from_owner_id=previous_owner_id,
                               reason=_("Undo of a merge"))
    for entry in snap["moved"]:
        model = apps.get_model(entry["model"])
        field = model._meta.get_field(entry["field"])
        model._base_manager.filter(pk__in=entry["pks"], **{field.attname: survivor.pk}).update(
            **{field.attname: entry["customer"]})
    Contact.objects.filter(pk__in=snap["primary_reset"]).update(is_primary=True)
    for customer_id, ids in snap["audit_moved"].items():
        AuditLog.objects.filter(pk__in=ids).update(customer_id=int(customer_id))
    now = timezone.now()
    Customer.objects.filter(pk__in=merged_ids).update(archived_at=None, archived_by=None, updated_at=now)
    merge.undone_at = now
    merge.undone_by = actor
    merge.save(update_fields=["undone_at", "undone_by"])
    if merge.group_id:
        DuplicateGroup.objects.filter(pk=merge.group_id).update(status=DuplicateGroup.Status.OPEN,
                                                                resolved_at=None, resolved_by=None)
    changes = diff(audit_before, _audit_values(survivor, list(audit_before)))
    changes["merged"] = [[f"{locked[i].code} {locked[i].name}" for i in merged_ids], None]
    audit_record(actor=actor, action=AuditLog.Action.UNDO, instance=survivor, changes=changes,
                 customer_id=survivor.pk)
    for customer_id in merged_ids:
        audit_record(actor=actor, action=AuditLog.Action.UNDO, instance=locked[customer_id],
                     customer_id=customer_id,
                     changes={"merged_into": [f"{survivor.code} {survivor.name}", None],
                              "archived_at": [archived_at.isoformat(), None]})
    customer_search_sync(customer_ids=[survivor.pk, *merged_ids])
    return merge


# ---------------------------------------------------------------------------------------------
# Review decisions
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def duplicate_group_dismiss(*, actor: User, group_id: int) -> DuplicateGroup:
    """"Not duplicates": the group closes and each pair is remembered as different for later scans."""
    from qianke.dedupe.selectors import duplicate_group_get

    group = duplicate_group_get(user=actor, group_id=group_id)
    group = DuplicateGroup.objects.select_for_update().get(pk=group.pk)
    if group.status != DuplicateGroup.Status.OPEN:
        raise Conflict(_("This group has been reviewed already."), code="already_reviewed")
    ids = sorted(group.members.values_list("customer_id", flat=True))
    pairs = [NotDuplicatePair(left_id=a, right_id=b, created_by=actor)
             for i, a in enumerate(ids) for b in ids[i + 1:]]
    NotDuplicatePair.objects.bulk_create(pairs, ignore_conflicts=True)
    group.status = DuplicateGroup.Status.DISMISSED
    group.resolved_at = timezone.now()
    group.resolved_by = actor
    group.save(update_fields=["status", "resolved_at", "resolved_by", "updated_at"])
    for customer_id in ids:
        audit_record(actor=actor, action=AuditLog.Action.UPDATE, instance=group, customer_id=customer_id,
                     changes={"not_duplicates": [None, [i for i in ids if i != customer_id]]})
    return group
