"""Writes for deals: create, update, the stage transition (with its gate), win/lose, checklist ticks.

`deal_move` is the one transition function of the deal state machine: every stage change — the board,
the API, the CLI, win and lose — goes through it, so the key-node gate cannot be bypassed.

Gate: leaving an open stage forwards (to a later open stage or to a won stage) needs the key node of
every open stage passed on the way — its required checklist items ticked and its required deal fields
filled. Moving back or to a lost stage needs nothing. Managers (and GMs, administrators) may move past
an unmet key node with an override reason; the reason, who gave it and what was unmet are recorded on
the stage-history row and in the audit log.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from qianke.accounts.models import Role, User
from qianke.core.audit import audit_record, diff, snapshot
from qianke.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from qianke.customers.models import Contact, Customer
from qianke.pipeline.models import (
    LADDER,
    REQUIRABLE_FIELDS,
    VALUE_DIMENSIONS,
    BuyingCenterMember,
    BuyingRole,
    ChecklistItem,
    Competitor,
    CurrentSupplier,
    Deal,
    DealChecklistTick,
    DealCompetitor,
    DealReason,
    DealStageChange,
    Process,
    ProcurementStage,
    PurchaseWindow,
    Semantic,
    Stage,
    ValueAssessment,
    ValueWeights,
    Willingness,
)

EDITABLE_FIELDS = ("name", "owner", "products", "amount", "expected_close_date", "probability", "quote_number",
                   "next_step", "next_step_due", "purchase_window", "budget", "result", "procurement_stage")
CREATE_FIELDS = (*EDITABLE_FIELDS, "customer", "process", "stage")
AUDITED_FIELDS = ["name", "customer", "process", "stage", "owner", "team", "products", "amount",
                  "expected_close_date", "probability", "quote_number", "next_step", "next_step_due",
                  "purchase_window", "budget", "result", "procurement_stage", "reason", "reason_note", "closed_at"]
OVERRIDING_ROLES = frozenset({Role.MANAGER, Role.GM, Role.ADMIN})
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
MAX_AMOUNT = Decimal("999999999999.99")


def may_override(user: User) -> bool:
    """Who may move a deal past an unmet key node (with a reason)."""
    return bool(getattr(user, "is_superuser", False) or getattr(user, "role", None) in OVERRIDING_ROLES)


def _add(errors: dict[str, list[str]], field: str, message: Any) -> None:
    errors.setdefault(field, []).append(str(message))


def _reject_unknown(errors: dict[str, list[str]], data: dict[str, Any], allowed: Any) -> None:
    """An "Unknown field." error for each key of `data` that is not in `allowed`."""
    for field in sorted(set(data) - set(allowed)):
        _add(errors, field, _("Unknown field."))


def _audit_saved(actor: User, instance: Any, before: dict[str, Any], fields: list[str], **extra: Any) -> None:
    """Audit a just-saved settings row: "create" when there was no `before` snapshot, else "update"."""
    changes = diff(before, snapshot(instance, fields))
    if changes:
        audit_record(actor=actor, action="update" if before else "create", instance=instance, changes=changes,
                     **extra)


def _locked(model: Any, pk: int | None, not_found: str) -> Any:
    """The row `pk` of `model`, locked for the update (None when creating: `pk` is None); NotFound if gone."""
    if pk is None:
        return None
    row = model.objects.select_for_update().filter(pk=pk).first()
    if row is None:
        raise NotFound(not_found)
    return row


def _pk(errors: dict, field: str, value: Any) -> int | None:
    if value in (None, "", 0, "0"):
        return None
    if hasattr(value, "pk"):
        return value.pk
    try:
        return int(value)
    except (TypeError, ValueError):
        _add(errors, field, _("Enter a whole number."))
        return None


def _money(errors: dict, field: str, value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).replace(",", "").replace("¥", "").strip())
    except InvalidOperation:
        _add(errors, field, _("Enter an amount."))
        return None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        _add(errors, field, _("Enter an amount between 0 and 999,999,999,999.99."))
        return None
    return amount.quantize(Decimal("0.01"))


def _date(errors: dict, field: str, value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    parsed = None
    with contextlib.suppress(ValueError):
        parsed = parse_date(str(value))
    if parsed is None:
        _add(errors, field, _("Enter a date (YYYY-MM-DD)."))
    return parsed


def _text(errors: dict, field: str, value: Any, limit: int, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        _add(errors, field, _("This field is required."))
    elif len(text) > limit:
        _add(errors, field, _("At most %(n)d characters.") % {"n": limit})
    return text


def _clean(*, actor: User, data: dict[str, Any], allowed: tuple[str, ...], creating: bool) -> dict[str, Any]:
    """Validate the fields present in `data`; returns model values (foreign keys as instances)."""
    errors: dict[str, list[str]] = {}
    _reject_unknown(errors, data, allowed)
    cleaned: dict[str, Any] = {}
    if "name" in data or creating:
        cleaned["name"] = _text(errors, "name", data.get("name"), 200, required=True)
    for field, limit in (("products", 300), ("quote_number", 60), ("next_step", 300), ("result", 300)):
        if field in data:
            cleaned[field] = _text(errors, field, data[field], limit)
    for field in ("amount", "budget"):
        if field in data:
            cleaned[field] = _money(errors, field, data[field])
    for field in ("expected_close_date", "next_step_due"):
        if field in data:
            cleaned[field] = _date(errors, field, data[field])
    if "procurement_stage" in data:
        stage_letter = str(data["procurement_stage"] or "").strip().lower()
        if stage_letter and stage_letter not in ProcurementStage.values:
            _add(errors, "procurement_stage", _("Choose a stage from a to f."))
        cleaned["procurement_stage"] = stage_letter
    if "purchase_window" in data:
        window = _pk(errors, "purchase_window", data["purchase_window"])
        if window is not None and window not in PurchaseWindow.values:
            _add(errors, "purchase_window", _("Choose 1, 3, 6 or 12 months."))
        cleaned["purchase_window"] = window
    if "probability" in data:
        value = data["probability"]
        if value in (None, ""):
            cleaned["probability"] = None  # back to the stage's default
        else:
            try:
                prob = int(value)
            except (TypeError, ValueError):
                prob = -1
            if not 0 <= prob <= 100:
                _add(errors, "probability", _("Enter a whole number from 0 to 100."))
            cleaned["probability"] = prob
    if "owner" in data:
        owner_id = _pk(errors, "owner", data["owner"])
        owner = User.objects.filter(pk=owner_id, is_active=True).first() if owner_id else None
        if owner_id and owner is None:
            _add(errors, "owner", _("User not found."))
        cleaned["owner"] = owner
    if creating:
        customer_id = _pk(errors, "customer", data.get("customer"))
        customer = Customer.objects.visible_to(actor).filter(pk=customer_id).first() if customer_id else None
        if customer is None and "customer" not in errors:
            _add(errors, "customer", _("Customer not found."))
        cleaned["customer"] = customer
        process_id = _pk(errors, "process", data.get("process"))
        process = Process.objects.filter(pk=process_id, active=True).first() if process_id else None
        if process is None and "process" not in errors:
            _add(errors, "process", _("Choose an active sales process."))
        cleaned["process"] = process
        stage = None
        stage_id = _pk(errors, "stage", data.get("stage"))
        if process is not None:
            stages = process.stages.filter(semantic=Semantic.OPEN)
            stage = stages.filter(pk=stage_id).first() if stage_id else stages.order_by("order").first()
            if stage is None:
                _add(errors, "stage", _("Choose an open stage of the process."))
        cleaned["stage"] = stage
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _get_for_change(actor: User, deal_id: int) -> Deal:
    deal = (Deal.objects.visible_to(actor).select_for_update(of=("self",)).select_related("stage", "process")
            .filter(pk=deal_id).first())
    if deal is None:
        raise NotFound(_("Deal not found."))
    return deal


def _recheck_visible(actor: User, deal: Deal) -> None:
    if not Deal.objects.visible_to(actor).filter(pk=deal.pk).exists():
        raise NotFound(_("Deal not found."))


def _clean_at(at: dt.datetime | None, since: dt.datetime | None) -> dt.datetime:
    now = timezone.now()
    if at is None:
        return now
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > now + FUTURE_TOLERANCE:
        raise ValidationFailed({"at": [_("The date cannot be in the future.")]})
    if since is not None and at < since:
        raise ValidationFailed({"at": [_("The move cannot be dated before the deal entered its current stage.")]})
    return at


def deal_create(*, actor: User, data: dict[str, Any], at: dt.datetime | None = None) -> Deal:
    """Open a deal for a customer the actor can see, in the process's first open stage unless `stage` says."""
    cleaned = _clean(actor=actor, data=data, allowed=CREATE_FIELDS, creating=True)
    when = _clean_at(at, None)
    with transaction.atomic():
        stage: Stage = cleaned.pop("stage")
        prob = cleaned.pop("probability", None)
        owner = cleaned.pop("owner", None) or (actor if actor.pk else None)
        deal = Deal(**cleaned, stage=stage, semantic=stage.semantic, owner=owner,
                    team=owner.team if owner else None, stage_entered_at=when, opened_at=when,
                    furthest_order=stage.order,
                    probability=stage.probability if prob is None else prob,
                    probability_overridden=prob is not None, created_by=actor if actor.pk else None)
        deal.save()
        DealStageChange.objects.create(deal=deal, stage=stage, entered_at=when, actor=deal.created_by)
        audit_record(actor=actor, action="create", instance=deal, customer_id=deal.customer_id,
                     changes=diff({}, snapshot(deal, AUDITED_FIELDS)))
        _recheck_visible(actor, deal)
    return deal


def deal_update(*, actor: User, deal_id: int, data: dict[str, Any]) -> Deal:
    """Change a deal's fields (not its stage: that is deal_move). `probability: None` follows the stage again."""
    cleaned = _clean(actor=actor, data=data, allowed=EDITABLE_FIELDS, creating=False)
    with transaction.atomic():
        deal = _get_for_change(actor, deal_id)
        before = snapshot(deal, AUDITED_FIELDS)
        if "probability" in cleaned:
            prob = cleaned.pop("probability")
            deal.probability_overridden = prob is not None
            deal.probability = deal.stage.probability if prob is None else prob
        if "owner" in cleaned:
            owner = cleaned.pop("owner")
            if owner is None:
                raise ValidationFailed({"owner": [_("A deal needs an owner.")]})
            deal.owner, deal.team = owner, owner.team
        for field, value in cleaned.items():
            setattr(deal, field, value)
        deal.save()
        changes = diff(before, snapshot(deal, AUDITED_FIELDS))
        if changes:
            audit_record(actor=actor, action="update", instance=deal, changes=changes, customer_id=deal.customer_id)
        _recheck_visible(actor, deal)
    return deal


def deal_archive(*, actor: User, deal_id: int) -> Deal:
    """Archive (the API's DELETE): the owner, managers and administrators."""
    with transaction.atomic():
        deal = _get_for_change(actor, deal_id)
        if deal.owner_id != actor.pk and not may_override(actor) and not actor.may_archive:
            raise PermissionDenied(_("Only the deal's owner or a manager may delete it."))
        deal.archived_at, deal.archived_by = timezone.now(), actor
        deal.save(update_fields=["archived_at", "archived_by", "updated_at"])
        audit_record(actor=actor, action="archive", instance=deal, customer_id=deal.customer_id)
    return deal


# ---------------------------------------------------------------------------------------------
# The gate and the transition
# ---------------------------------------------------------------------------------------------


def _field_filled(deal: Deal, field: str) -> bool:
    return getattr(deal, field) not in (None, "")


def unmet_key_node(*, deal: Deal, target: Stage, ticked: set[int] | None = None) -> list[dict[str, Any]]:
    """What stands between the deal and `target`: [{stage, stage_name, kind: item|field, id|field, text}]."""
    current = deal.stage
    if target.semantic == Semantic.LOST or current.semantic != Semantic.OPEN:
        return []
    if target.semantic == Semantic.OPEN and target.order <= current.order:
        return []
    passing = [s for s in Stage.objects.filter(process_id=deal.process_id, semantic=Semantic.OPEN,
                                               order__gte=current.order).order_by("order")
               if target.semantic == Semantic.WON or s.order < target.order]
    if ticked is None:
        ticked = set(deal.ticks.values_list("item_id", flat=True))
    items = ChecklistItem.objects.filter(stage__in=passing, required=True).order_by("stage__order", "order", "id")
    by_stage: dict[int, list[ChecklistItem]] = {}
    for item in items:
        by_stage.setdefault(item.stage_id, []).append(item)
    unmet: list[dict[str, Any]] = []
    for stage in passing:
        for item in by_stage.get(stage.pk, []):
            if item.pk not in ticked:
                unmet.append({"stage": stage.pk, "stage_name": stage.name, "kind": "item", "id": item.pk,
                              "field": None, "text": item.text})
        for field in stage.required_fields or []:
            if field in REQUIRABLE_FIELDS and not _field_filled(deal, field):
                unmet.append({"stage": stage.pk, "stage_name": stage.name, "kind": "field", "id": None,
                              "field": field, "text": str(REQUIRABLE_FIELDS[field])})
    return unmet


def deal_move(*, actor: User, deal_id: int, stage_id: int, override_reason: str = "", reason_id: int | None = None,
              reason_note: str = "", at: dt.datetime | None = None) -> Deal:
    """Move a deal to another stage of its process: the one transition function (see the module doc)."""
    override_reason = (override_reason or "").strip()
    reason_note = (reason_note or "").strip()
    if len(override_reason) > 500 or len(reason_note) > 500:
        raise ValidationFailed({"override_reason" if len(override_reason) > 500 else "reason_note":
                                [_("At most %(n)d characters.") % {"n": 500}]})
    with transaction.atomic():
        deal = _get_for_change(actor, deal_id)
        target = Stage.objects.filter(pk=stage_id, process_id=deal.process_id).first()
        if target is None:
            raise ValidationFailed({"stage": [_("Choose a stage of the deal's process.")]})
        if target.pk == deal.stage_id:
            raise Conflict(_("The deal is already in this stage."), code="same_stage")
        if deal.semantic == Semantic.WON:
            raise Conflict(_("A won deal stays won; open a new deal for further business."), code="deal_closed")
        when = _clean_at(at, deal.stage_entered_at)
        reason = None
        if target.semantic != Semantic.OPEN:
            reason_pk = reason_id
            reason = (DealReason.objects.filter(pk=reason_pk, semantic=target.semantic, active=True).first()
                      if reason_pk else None)
            if reason_pk and reason is None:
                raise ValidationFailed({"reason": [_("Choose a reason from the list.")]})
            if target.semantic == Semantic.LOST and reason is None:
                raise ValidationFailed({"reason": [_("Choose why the deal was lost.")]})
        unmet = unmet_key_node(deal=deal, target=target)
        if unmet and not override_reason:
            raise Conflict(
                _("The key node of the current stage is not met."), code="key_node_unmet",
                extra={"unmet": unmet, "may_override": may_override(actor)},
            )
        if unmet and not may_override(actor):
            raise Conflict(
                _("Only a manager may move a deal past an unmet key node."), code="key_node_unmet",
                extra={"unmet": unmet, "may_override": False},
            )
        before = snapshot(deal, AUDITED_FIELDS)
        stay = DealStageChange.objects.select_for_update().filter(deal=deal, left_at__isnull=True).first()
        if stay is not None:
            stay.left_at = when
            stay.duration_seconds = int((when - stay.entered_at).total_seconds())
            stay.save(update_fields=["left_at", "duration_seconds"])
        change = DealStageChange.objects.create(
            deal=deal, from_stage=deal.stage, stage=target, entered_at=when, actor=actor if actor.pk else None,
            override_reason=override_reason if unmet else "", unmet=unmet)
        was_open = deal.semantic == Semantic.OPEN
        deal.stage, deal.semantic, deal.stage_entered_at = target, target.semantic, when
        if target.semantic != Semantic.LOST:
            deal.furthest_order = max(deal.furthest_order, target.order)
        if not deal.probability_overridden or target.semantic != Semantic.OPEN:
            deal.probability = target.probability
        if target.semantic == Semantic.OPEN:
            deal.closed_at, deal.reason, deal.reason_note = None, None, ""
        else:
            deal.closed_at, deal.reason, deal.reason_note = when, reason, reason_note
        deal.save()
        changes = diff(before, snapshot(deal, AUDITED_FIELDS))
        if unmet:
            changes["override_reason"] = [None, override_reason]
            changes["unmet"] = [None, [u["text"] for u in unmet]]
        audit_record(actor=actor, action="update", instance=deal, changes=changes, customer_id=deal.customer_id)
        if target.semantic == Semantic.WON and was_open:
            from qianke.customers.lifecycle import customer_record_purchase

            # A backdated win cannot be dated before the customer's current status began (lifecycle rule).
            since = deal.customer.status_changed_at
            customer_record_purchase(actor=actor, customer_id=deal.customer_id,
                                     at=max(when, since) if since else when,
                                     reason=_("Deal won: %(name)s") % {"name": deal.name})
        _recheck_visible(actor, deal)
    deal.last_change = change  # for callers that show what was recorded
    return deal


def _closing_stage(deal_id: int, actor: User, semantic: str) -> int:
    deal = Deal.objects.visible_to(actor).filter(pk=deal_id).first()
    if deal is None:
        raise NotFound(_("Deal not found."))
    stage_id = (Stage.objects.filter(process_id=deal.process_id, semantic=semantic).order_by("order")
                .values_list("pk", flat=True).first())
    if stage_id is None:
        raise Conflict(_("The deal's process has no stage of this type."), code="no_stage")
    return stage_id


def deal_win(*, actor: User, deal_id: int, reason_id: int | None = None, reason_note: str = "",
             override_reason: str = "", at: dt.datetime | None = None) -> Deal:
    """Move to the process's won stage (the gate applies); the customer records a purchase."""
    return deal_move(actor=actor, deal_id=deal_id, stage_id=_closing_stage(deal_id, actor, Semantic.WON),
                     reason_id=reason_id, reason_note=reason_note, override_reason=override_reason, at=at)


def deal_lose(*, actor: User, deal_id: int, reason_id: int | None, reason_note: str = "",
              at: dt.datetime | None = None) -> Deal:
    """Move to the process's lost stage with a reason from the list."""
    return deal_move(actor=actor, deal_id=deal_id, stage_id=_closing_stage(deal_id, actor, Semantic.LOST),
                     reason_id=reason_id, reason_note=reason_note, at=at)


def checklist_tick(*, actor: User, deal_id: int, item_id: int, done: bool) -> DealChecklistTick | None:
    """Tick (or untick) a checklist item of the deal's process."""
    with transaction.atomic():
        deal = _get_for_change(actor, deal_id)
        item = ChecklistItem.objects.select_related("stage").filter(
            pk=item_id, stage__process_id=deal.process_id).first()
        if item is None:
            raise NotFound(_("Checklist item not found."))
        tick = DealChecklistTick.objects.filter(deal=deal, item=item).first()
        if done and tick is None:
            tick = DealChecklistTick.objects.create(deal=deal, item=item, done_at=timezone.now(),
                                                    done_by=actor if actor.pk else None)
        elif not done and tick is not None:
            tick.delete()
            tick = None
        else:
            return tick
        audit_record(actor=actor, action="update", instance=deal, customer_id=deal.customer_id,
                     changes={f"checklist.{item.pk}": [not done, done]})
    return tick


# ---------------------------------------------------------------------------------------------
# Buying center, current suppliers, value assessment, competitors
# ---------------------------------------------------------------------------------------------

MEMBER_FIELDS = ("role", "relationship", *(f for _v, _l, f in LADDER), "notes")


def buying_member_set(*, actor: User, deal_id: int, contact_id: int, data: dict[str, Any]) -> BuyingCenterMember:
    """Put one of the customer's contacts in the deal's buying center, or change its role and relationship.

    Climbing the ladder fills the date each step was reached (today unless given); dates of steps above
    the current one are cleared when the relationship goes down."""
    errors: dict[str, list[str]] = {}
    _reject_unknown(errors, data, MEMBER_FIELDS)
    role = str(data.get("role") or "")
    if role not in BuyingRole.values:
        _add(errors, "role", _("Choose a buying role."))
    relationship = str(data.get("relationship") or "")
    steps = [v for v, _l, _f in LADDER]
    if relationship and relationship not in steps:
        _add(errors, "relationship", _("Choose a step of the relationship ladder."))
    dates = {f: _date(errors, f, data[f]) for _v, _l, f in LADDER if f in data}
    notes = _text(errors, "notes", data.get("notes", ""), 500)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        deal = _get_for_change(actor, deal_id)
        contact = Contact.objects.visible_to(actor).filter(pk=contact_id, customer_id=deal.customer_id).first()
        if contact is None:
            raise ValidationFailed({"contact": [_("Choose a contact of the deal's customer.")]})
        member = BuyingCenterMember.objects.filter(deal=deal, contact=contact).first()
        before = snapshot(member, list(MEMBER_FIELDS)) if member else {}
        member = member or BuyingCenterMember(deal=deal, contact=contact)
        member.role, member.relationship, member.notes = role, relationship, notes
        reached = steps.index(relationship) if relationship else -1
        today = timezone.localdate()
        for i, (_v, _l, f) in enumerate(LADDER):
            if i > reached:
                setattr(member, f, None)
            elif f in dates and dates[f] is not None:
                setattr(member, f, dates[f])
            elif getattr(member, f) is None:
                setattr(member, f, today)
        member.save()
        changes = diff(before, snapshot(member, list(MEMBER_FIELDS)))
        if changes:
            changes["contact"] = [None, contact.name]
            audit_record(actor=actor, action="update", instance=deal, customer_id=deal.customer_id,
                         changes={f"buying_center.{k}": v for k, v in changes.items()})
    return member


def buying_member_remove(*, actor: User, deal_id: int, contact_id: int) -> None:
    with transaction.atomic():
        deal = _get_for_change(actor, deal_id)
        member = BuyingCenterMember.objects.filter(contact_id=contact_id, deal=deal).select_related("contact").first()
        if member is None:
            raise NotFound(_("Not found."))
        member.delete()
        audit_record(actor=actor, action="update", instance=deal, customer_id=deal.customer_id,
                     changes={"buying_center.contact": [member.contact.name, None]})


SUPPLIER_FIELDS = ("name", "structure", "problems", "since_year", "willingness_to_change", "how_won")


def supplier_save(*, actor: User, customer_id: int, data: dict[str, Any],
                  supplier_id: int | None = None) -> CurrentSupplier:
    """Record (or change) one of the customer's current suppliers."""
    errors: dict[str, list[str]] = {}
    _reject_unknown(errors, data, SUPPLIER_FIELDS)
    cleaned = {"name": _text(errors, "name", data.get("name"), 200, required=True),
               "structure": _text(errors, "structure", data.get("structure"), 200),
               "problems": _text(errors, "problems", data.get("problems"), 500),
               "how_won": _text(errors, "how_won", data.get("how_won"), 300)}
    year = _pk(errors, "since_year", data.get("since_year"))
    if year is not None and not 1900 <= year <= timezone.localdate().year:
        _add(errors, "since_year", _("Enter a year."))
    cleaned["since_year"] = year
    willingness = str(data.get("willingness_to_change") or "")
    if willingness and willingness not in Willingness.values:
        _add(errors, "willingness_to_change", _("Choose low, medium or high."))
    cleaned["willingness_to_change"] = willingness
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        customer = Customer.objects.visible_to(actor).filter(pk=customer_id).first()
        if customer is None:
            raise NotFound(_("Customer not found."))
        supplier = None
        if supplier_id is not None:
            supplier = CurrentSupplier.objects.filter(pk=supplier_id, customer=customer).first()
            if supplier is None:
                raise NotFound(_("Not found."))
        before = snapshot(supplier, list(SUPPLIER_FIELDS)) if supplier else {}
        supplier = supplier or CurrentSupplier(customer=customer)
        for name, value in cleaned.items():
            setattr(supplier, name, value)
        supplier.save()
        _audit_saved(actor, supplier, before, list(SUPPLIER_FIELDS), customer_id=customer.pk)
    return supplier


def supplier_delete(*, actor: User, supplier_id: int, customer_id: int | None = None) -> None:
    """Remove a current supplier (of `customer_id` when given: a supplier of another customer is not found)."""
    with transaction.atomic():
        qs = CurrentSupplier.objects.visible_to(actor).filter(pk=supplier_id)
        if customer_id is not None:
            qs = qs.filter(customer_id=customer_id)
        supplier = qs.first()
        if supplier is None:
            raise NotFound(_("Not found."))
        audit_record(actor=actor, action="delete", instance=supplier, customer_id=supplier.customer_id)
        supplier.delete()


def value_scores(scores: dict[str, int], weights: ValueWeights) -> tuple[Decimal, Decimal]:
    """(value, difficulty), each 1–5: weighted means; customer risk counts against value."""
    value_num = value_den = diff_num = diff_den = 0
    for name, axis in VALUE_DIMENSIONS:
        w = getattr(weights, name)
        if axis == "difficulty":
            diff_num, diff_den = diff_num + w * scores[name], diff_den + w
        else:
            score = 6 - scores[name] if axis == "value_inverse" else scores[name]
            value_num, value_den = value_num + w * score, value_den + w
    q = Decimal("0.01")
    value = Decimal(value_num) / value_den if value_den else Decimal(3)
    difficulty = Decimal(diff_num) / diff_den if diff_den else Decimal(3)
    return value.quantize(q), difficulty.quantize(q)


def value_assessment_set(*, actor: User, deal_id: int, data: dict[str, Any]) -> ValueAssessment:
    """Score the deal on the six dimensions (1–5 each, with a note); value and difficulty follow the weights."""
    names = [n for n, _a in VALUE_DIMENSIONS]
    allowed = set(names) | {f"{n}_note" for n in names}
    errors: dict[str, list[str]] = {}
    _reject_unknown(errors, data, allowed)
    scores: dict[str, int] = {}
    for name in names:
        value = _pk(errors, name, data.get(name))
        if value is None or not 1 <= value <= 5:
            errors.pop(name, None)
            _add(errors, name, _("Score from 1 to 5."))
        else:
            scores[name] = value
    notes = {f"{n}_note": _text(errors, f"{n}_note", data.get(f"{n}_note", ""), 300) for n in names}
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        deal = _get_for_change(actor, deal_id)
        current = ValueAssessment.objects.filter(deal=deal).first()
        audited = [*names, "value_score", "difficulty_score"]
        before = snapshot(current, audited) if current else {}
        assessment = current or ValueAssessment(deal=deal)
        for name, value in {**scores, **notes}.items():
            setattr(assessment, name, value)
        assessment.value_score, assessment.difficulty_score = value_scores(scores, ValueWeights.load())
        assessment.assessed_by = actor if actor.pk else None
        assessment.save()
        changes = diff(before, snapshot(assessment, audited))
        if changes:
            audit_record(actor=actor, action="update", instance=deal, customer_id=deal.customer_id,
                         changes={f"value.{k}": v for k, v in changes.items()})
    return assessment


def value_weights_set(*, actor: User, data: dict[str, Any]) -> ValueWeights:
    """Administrators: the weights of the six dimensions (0–10 each; at least one per axis)."""
    if not getattr(actor, "is_admin", False):
        raise PermissionDenied(_("Only administrators change the value-assessment weights."))
    names = [n for n, _a in VALUE_DIMENSIONS]
    errors: dict[str, list[str]] = {}
    weights = ValueWeights.load()
    before = snapshot(weights, names)
    for name in names:
        if name in data:
            value = _pk(errors, name, data[name]) if data[name] not in (0, "0") else 0
            if value is None or not 0 <= value <= 10:
                errors.pop(name, None)
                _add(errors, name, _("Enter a weight from 0 to 10."))
            else:
                setattr(weights, name, value)
    for axis in ("value", "difficulty"):
        if not errors and sum(getattr(weights, n) for n, a in VALUE_DIMENSIONS if a.startswith(axis)) == 0:
            _add(errors, names[0] if axis == "value" else "effort", _("Each axis needs at least one weight."))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        weights.save()
        changes = diff(before, snapshot(weights, names))
        if changes:
            audit_record(actor=actor, action="update", instance=weights, changes=changes)
    return weights


COMPETITOR_FIELDS = ("name", "products", "prices", "channels", "notes", "active")


def competitor_save(*, actor: User, data: dict[str, Any], competitor_id: int | None = None) -> Competitor:
    """Anyone may add a competitor to the shared list; changing or deactivating one is for managers."""
    if competitor_id is not None and not may_override(actor):
        raise PermissionDenied(_("Only managers change or deactivate a competitor of the shared list."))
    errors: dict[str, list[str]] = {}
    _reject_unknown(errors, data, COMPETITOR_FIELDS)
    with transaction.atomic():
        competitor = _locked(Competitor, competitor_id, _("Competitor not found."))
        before = snapshot(competitor, list(COMPETITOR_FIELDS)) if competitor else {}
        competitor = competitor or Competitor()
        if "name" in data or competitor_id is None:
            competitor.name = _text(errors, "name", data.get("name"), 200, required=True)
            if competitor.name and Competitor.objects.filter(name=competitor.name).exclude(pk=competitor.pk).exists():
                _add(errors, "name", _("A competitor with this name exists already."))
        for name, limit in (("products", 300), ("prices", 300), ("channels", 300), ("notes", 5000)):
            if name in data:
                setattr(competitor, name, _text(errors, name, data[name], limit))
        if "active" in data:
            competitor.active = bool(data["active"])
        if errors:
            raise ValidationFailed(errors)
        competitor.save()
        _audit_saved(actor, competitor, before, list(COMPETITOR_FIELDS))
    return competitor


DEAL_COMPETITOR_FIELDS = ("their_rep", "relation_to_customer", "satisfaction", "price_offered", "took_the_deal",
                          "notes")


def deal_competitor_set(*, actor: User, deal_id: int, competitor_id: int, data: dict[str, Any]) -> DealCompetitor:
    """Link a competitor to a deal (or change what we know of it there)."""
    errors: dict[str, list[str]] = {}
    _reject_unknown(errors, data, DEAL_COMPETITOR_FIELDS)
    their_rep = _text(errors, "their_rep", data.get("their_rep"), 100)
    relation = _text(errors, "relation_to_customer", data.get("relation_to_customer"), 300)
    notes = _text(errors, "notes", data.get("notes"), 500)
    satisfaction = _pk(errors, "satisfaction", data.get("satisfaction"))
    if satisfaction is not None and not 1 <= satisfaction <= 5:
        _add(errors, "satisfaction", _("Score from 1 to 5."))
    price = _money(errors, "price_offered", data.get("price_offered"))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        deal = _get_for_change(actor, deal_id)
        competitor = Competitor.objects.filter(pk=competitor_id).first()
        if competitor is None:
            raise ValidationFailed({"competitor": [_("Competitor not found.")]})
        link = DealCompetitor.objects.filter(deal=deal, competitor=competitor).first()
        fields = list(DEAL_COMPETITOR_FIELDS)
        before = snapshot(link, fields) if link else {}
        link = link or DealCompetitor(deal=deal, competitor=competitor)
        link.their_rep, link.relation_to_customer, link.notes = their_rep, relation, notes
        link.satisfaction, link.price_offered = satisfaction, price
        link.took_the_deal = bool(data.get("took_the_deal"))
        if link.took_the_deal:
            # One competitor takes a lost deal.
            DealCompetitor.objects.filter(deal=deal).exclude(competitor=competitor).update(took_the_deal=False)
        link.save()
        changes = diff(before, snapshot(link, fields))
        if changes:
            audit_record(actor=actor, action="update", instance=deal, customer_id=deal.customer_id,
                         changes={f"competitor.{competitor.name}.{k}": v for k, v in changes.items()})
    return link


def deal_competitor_link(*, actor: User, deal_id: int, competitor_id: int | None, new_name: str = "",
                         data: dict[str, Any]) -> DealCompetitor:
    """Link a known competitor, or one entered by name (created here), to a deal. All or nothing: a competitor
    entered by name is not kept when the link is refused."""
    with transaction.atomic():
        if not competitor_id and new_name.strip():
            competitor_id = competitor_save(actor=actor, data={"name": new_name}).pk
        if not competitor_id:
            raise ValidationFailed({"competitor": [_("Choose a competitor or enter a new one.")]})
        return deal_competitor_set(actor=actor, deal_id=deal_id, competitor_id=competitor_id, data=data)


def deal_competitor_remove(*, actor: User, deal_id: int, competitor_id: int) -> None:
    with transaction.atomic():
        deal = _get_for_change(actor, deal_id)
        deleted, _n = DealCompetitor.objects.filter(deal=deal, competitor_id=competitor_id).delete()
        if not deleted:
            raise NotFound(_("Not found."))
        audit_record(actor=actor, action="update", instance=deal, customer_id=deal.customer_id,
                     changes={"competitor": [competitor_id, None]})


# ---------------------------------------------------------------------------------------------
# Process configuration (administrators)
# ---------------------------------------------------------------------------------------------

PROCESS_FIELDS = ("name", "kind", "description", "active", "order")
STAGE_FIELDS = ("name", "order", "semantic", "probability", "participants", "work_content", "keyword", "key_node",
                "required_fields", "normal_days")


def require_process_admin(actor: User) -> None:
    if not getattr(actor, "is_admin", False):
        raise PermissionDenied(_("Only administrators change the sales processes."))


def process_save(*, actor: User, data: dict[str, Any], process_id: int | None = None) -> Process:
    """Create or change a sales process (administrators)."""
    require_process_admin(actor)
    errors: dict[str, list[str]] = {}
    _reject_unknown(errors, data, PROCESS_FIELDS)
    with transaction.atomic():
        process = _locked(Process, process_id, _("Sales process not found."))
        before = snapshot(process, list(PROCESS_FIELDS)) if process else {}
        process = process or Process()
        if "name" in data or process_id is None:
            process.name = _text(errors, "name", data.get("name"), 100, required=True)
            if process.name and Process.objects.filter(name=process.name).exclude(pk=process.pk).exists():
                _add(errors, "name", _("A process with this name exists already."))
        if "kind" in data:
            process.kind = _text(errors, "kind", data["kind"], 100)
        if "description" in data:
            process.description = _text(errors, "description", data["description"], 5000)
        if "active" in data:
            process.active = bool(data["active"])
        if "order" in data:
            process.order = _pk(errors, "order", data["order"]) or 0
        if errors:
            raise ValidationFailed(errors)
        process.save()
        _audit_saved(actor, process, before, list(PROCESS_FIELDS))
    return process


def stage_save(*, actor: User, process_id: int, data: dict[str, Any], stage_id: int | None = None) -> Stage:
    """Create or change a stage. A stage's type (open/won/lost) is fixed once deals are in it, because
    reports and the deals' state follow it."""
    require_process_admin(actor)
    errors: dict[str, list[str]] = {}
    _reject_unknown(errors, data, STAGE_FIELDS)
    with transaction.atomic():
        process = Process.objects.select_for_update().filter(pk=process_id).first()
        if process is None:
            raise NotFound(_("Sales process not found."))
        stage = None
        if stage_id is not None:
            stage = Stage.objects.filter(pk=stage_id, process=process).first()
            if stage is None:
                raise NotFound(_("Stage not found."))
        before = snapshot(stage, list(STAGE_FIELDS)) if stage else {}
        stage = stage or Stage(process=process)
        if "name" in data or stage_id is None:
            stage.name = _text(errors, "name", data.get("name"), 100, required=True)
            if stage.name and Stage.objects.filter(process=process, name=stage.name).exclude(pk=stage.pk).exists():
                _add(errors, "name", _("The process has a stage with this name already."))
        if "order" in data or stage_id is None:
            order = _pk(errors, "order", data.get("order"))
            if order is None and stage_id is None and "order" not in errors:
                last = process.stages.order_by("-order").values_list("order", flat=True).first()
                order = (last or 0) + 10
            if order is not None:
                if Stage.objects.filter(process=process, order=order).exclude(pk=stage.pk).exists():
                    _add(errors, "order", _("Another stage has this position."))
                stage.order = order
        if "semantic" in data or stage_id is None:
            semantic = str(data.get("semantic") or Semantic.OPEN)
            if semantic not in Semantic.values:
                _add(errors, "semantic", _("Choose open, won or lost."))
            elif stage.pk and semantic != stage.semantic and stage.deals.exists():
                _add(errors, "semantic", _("Deals are in this stage: its type cannot change."))
            stage.semantic = semantic
        if "probability" in data:
            prob = _pk(errors, "probability", data["probability"]) if data["probability"] not in (0, "0") else 0
            if prob is None or not 0 <= prob <= 100:
                errors.pop("probability", None)
                _add(errors, "probability", _("Enter a whole number from 0 to 100."))
            else:
                stage.probability = prob
        for name, limit in (("participants", 200), ("keyword", 100), ("key_node", 200), ("work_content", 5000)):
            if name in data:
                setattr(stage, name, _text(errors, name, data[name], limit))
        if "normal_days" in data:
            stage.normal_days = _pk(errors, "normal_days", data["normal_days"])
        if "required_fields" in data:
            fields = [f for f in (data["required_fields"] or []) if f]
            unknown = [f for f in fields if f not in REQUIRABLE_FIELDS]
            if unknown:
                _add(errors, "required_fields", _("Unknown fields: %(f)s") % {"f": ", ".join(unknown)})
            stage.required_fields = fields
        if errors:
            raise ValidationFailed(errors)
        stage.save()
        _audit_saved(actor, stage, before, list(STAGE_FIELDS))
    return stage


def stage_delete(*, actor: User, stage_id: int) -> None:
    """Delete a stage no deal has ever been in."""
    require_process_admin(actor)
    with transaction.atomic():
        stage = Stage.objects.filter(pk=stage_id).first()
        if stage is None:
            raise NotFound(_("Stage not found."))
        if stage.deals.exists() or DealStageChange.objects.filter(stage=stage).exists():
            raise Conflict(_("Deals have been in this stage; rename it instead of deleting it."), code="stage_in_use")
        audit_record(actor=actor, action="delete", instance=stage)
        stage.delete()


def checklist_item_save(*, actor: User, stage_id: int, data: dict[str, Any], item_id: int | None = None) -> ChecklistItem:
    require_process_admin(actor)
    errors: dict[str, list[str]] = {}
    _reject_unknown(errors, data, ("text", "required", "order"))
    with transaction.atomic():
        stage = Stage.objects.filter(pk=stage_id).first()
        if stage is None:
            raise NotFound(_("Stage not found."))
        item = ChecklistItem.objects.filter(pk=item_id, stage=stage).first() if item_id else ChecklistItem(stage=stage)
        if item is None:
            raise NotFound(_("Checklist item not found."))
        before = snapshot(item, ["text", "required", "order"]) if item.pk else {}
        if "text" in data or not item.pk:
            item.text = _text(errors, "text", data.get("text"), 300, required=True)
        if "required" in data:
            item.required = bool(data["required"])
        if "order" in data or not item.pk:
            order = _pk(errors, "order", data.get("order"))
            if order is None and not item.pk:
                order = (stage.checklist.order_by("-order").values_list("order", flat=True).first() or 0) + 10
            if order is not None:
                item.order = order
        if errors:
            raise ValidationFailed(errors)
        item.save()
        _audit_saved(actor, item, before, ["text", "required", "order"])
    return item


def checklist_item_delete(*, actor: User, item_id: int) -> None:
    require_process_admin(actor)
    with transaction.atomic():
        item = ChecklistItem.objects.filter(pk=item_id).first()
        if item is None:
            raise NotFound(_("Checklist item not found."))
        audit_record(actor=actor, action="delete", instance=item)
        item.delete()


def reason_save(*, actor: User, data: dict[str, Any], reason_id: int | None = None) -> DealReason:
    """Add or change a won/lost reason (administrators); reasons are deactivated, never deleted."""
    require_process_admin(actor)
    errors: dict[str, list[str]] = {}
    _reject_unknown(errors, data, ("name", "semantic", "active", "order"))
    with transaction.atomic():
        reason = DealReason.objects.filter(pk=reason_id).first() if reason_id else DealReason()
        if reason is None:
            raise NotFound(_("Not found."))
        before = snapshot(reason, ["name", "semantic", "active"]) if reason.pk else {}
        if "semantic" in data or not reason.pk:
            if data.get("semantic") not in (Semantic.WON, Semantic.LOST):
                _add(errors, "semantic", _("Choose won or lost."))
            reason.semantic = data.get("semantic") or ""
        if "name" in data or not reason.pk:
            reason.name = _text(errors, "name", data.get("name"), 100, required=True)
            if (reason.name and DealReason.objects.filter(name=reason.name, semantic=reason.semantic)
                    .exclude(pk=reason.pk).exists()):
                _add(errors, "name", _("This reason exists already."))
        if "active" in data:
            reason.active = bool(data["active"])
        if "order" in data:
            reason.order = _pk(errors, "order", data["order"]) or 0
        if errors:
            raise ValidationFailed(errors)
        reason.save()
        _audit_saved(actor, reason, before, ["name", "semantic", "active"])
    return reason
