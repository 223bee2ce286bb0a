"""The customer lifecycle: the one place that knows the legal moves between statuses.

    potential ──purchase──▶ new ──purchase──▶ repeat ◀──purchase── dormant
        │                    │  ╲               │                   ▲  │
        │                    │   ╰──no purchase for N days (job or manual)─╯ │
        ▼                    ▼                   ▼                      ▼
      lost ◀──────────────── declared lost, with a reason (and the competitor, if one took it)
        │
        ╰──win-back──▶ potential (as a competitor's customer when a competitor took it)

* Moves into new and repeat are purchases: they set `last_purchase_at`. The deals and orders
  modules call `customer_record_purchase`, which picks the move (potential → new, new → repeat,
  dormant → repeat; a repeat customer stays repeat and only its purchase date moves).
* new/repeat → dormant happens when a customer has not bought for QIANKE_DORMANT_AFTER_DAYS
  (the daily job `lifecycle.dormancy`), or by hand with a reason.
* Any status but lost → lost is declared, with a reason; a potential customer can be lost too
  (it chose a competitor or gave up). A lost customer buys again only after a win-back.
* lost → potential (win-back) needs a reason. A dormant customer is won back by a purchase.
* Every move writes the status, one StatusChange row (date, actor, reason, competitor, trigger)
  and one audit row in one transaction, on a customer the actor may see (else NotFound).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qianke.accounts.models import User
from qianke.core.audit import audit_record
from qianke.core.errors import Conflict, NotFound, ValidationFailed
from qianke.core.models import AuditLog
from qianke.customers.choices import PotentialKind, Status
from qianke.customers.models import Customer, StatusChange
from qianke.customers.selectors import Page, page_of

Trigger = StatusChange.Trigger


@dataclass(frozen=True)
class Move:
    to_status: str
    label: Any  # lazy translation: the button's text
    purchase: bool = False  # entering means the customer bought: sets last_purchase_at
    reason_required: bool = False


TRANSITIONS: dict[str, dict[str, Move]] = {
    Status.POTENTIAL: {
        Status.NEW: Move(Status.NEW, gettext_lazy("First purchase"), purchase=True),
        Status.LOST: Move(Status.LOST, gettext_lazy("Declare lost"), reason_required=True),
    },
    Status.NEW: {
        Status.REPEAT: Move(Status.REPEAT, gettext_lazy("Second purchase"), purchase=True),
        Status.DORMANT: Move(Status.DORMANT, gettext_lazy("Mark dormant"), reason_required=True),
        Status.LOST: Move(Status.LOST, gettext_lazy("Declare lost"), reason_required=True),
    },
    Status.REPEAT: {
        Status.DORMANT: Move(Status.DORMANT, gettext_lazy("Mark dormant"), reason_required=True),
        Status.LOST: Move(Status.LOST, gettext_lazy("Declare lost"), reason_required=True),
    },
    Status.DORMANT: {
        Status.REPEAT: Move(Status.REPEAT, gettext_lazy("Purchase again"), purchase=True),
        Status.LOST: Move(Status.LOST, gettext_lazy("Declare lost"), reason_required=True),
    },
    Status.LOST: {
        Status.POTENTIAL: Move(Status.POTENTIAL, gettext_lazy("Win back"), reason_required=True),
    },
}

# Where a purchase takes a customer; a repeat customer stays repeat. Lost customers are won back first.
PURCHASE_TARGET = {Status.POTENTIAL: Status.NEW, Status.NEW: Status.REPEAT, Status.DORMANT: Status.REPEAT}
DORMANT_FROM = (Status.NEW, Status.REPEAT)
REASON_MAX = 500
COMPETITOR_MAX = 200
# Clocks differ a little between a phone and the server.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


def legal_moves(status: str) -> list[Move]:
    return list(TRANSITIONS.get(status, {}).values())


def _status_label(status: str) -> str:
    return str(Status(status).label) if status in Status.values else status


def _get_for_change(actor: User, customer_id: int) -> Customer:
    customer = (
        Customer.objects.visible_to(actor).select_for_update(of=("self",)).filter(pk=customer_id).first()
    )
    if customer is None:
        raise NotFound(_("Customer not found."))
    return customer


def _clean_at(at: dt.datetime | None, customer: Customer) -> dt.datetime:
    now = timezone.now()
    if at is None:
        return now
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > now + FUTURE_TOLERANCE:
        raise ValidationFailed({"at": [_("The date cannot be in the future.")]})
    if customer.status_changed_at and at < customer.status_changed_at:
        since = timezone.localtime(customer.status_changed_at).strftime("%Y-%m-%d %H:%M")
        raise ValidationFailed(
            {"at": [_("The change cannot be dated before the current status began (%(since)s).") % {"since": since}]}
        )
    return at


def _illegal(from_status: str, to_status: str) -> Conflict:
    allowed = list(TRANSITIONS.get(from_status, {}))
    message = _("A customer cannot move from %(from)s to %(to)s. Allowed from %(from)s: %(allowed)s.") % {
        "from": _status_label(from_status),
        "to": _status_label(to_status),
        "allowed": "、".join(_status_label(s) for s in allowed) or _("nothing"),
    }
    return Conflict(message, code="illegal_transition",
                    extra={"from_status": from_status, "to_status": to_status, "allowed": allowed})


def customer_transition(
    *,
    actor: User,
    customer_id: int,
    to_status: str,
    reason: str = "",
    at: dt.datetime | None = None,
    competitor: str = "",
    trigger: str = Trigger.MANUAL,
) -> Customer:
    """Move a customer to `to_status` if the table allows it; record the move and audit it."""
    reason = (reason or "").strip()
    competitor = (competitor or "").strip()
    errors: dict[str, list[str]] = {}
    if to_status not in Status.values:
        errors["to_status"] = [_("Choose one of: %(options)s.") % {"options": ", ".join(Status.values)}]
    if len(reason) > REASON_MAX:
        errors["reason"] = [_("At most %(n)d characters.") % {"n": REASON_MAX}]
    if len(competitor) > COMPETITOR_MAX:
        errors["competitor"] = [_("At most %(n)d characters.") % {"n": COMPETITOR_MAX}]
    if competitor and to_status not in (Status.LOST, Status.POTENTIAL):
        errors["competitor"] = [_("A competitor is named only when a customer is lost or won back.")]
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        customer = _get_for_change(actor, customer_id)
        from_status = customer.status
        move = TRANSITIONS.get(from_status, {}).get(to_status)
        if move is None:
            raise _illegal(from_status, to_status)
        if move.reason_required and not reason:
            raise ValidationFailed({"reason": [_("Give a reason for this change.")]})
        when = _clean_at(at, customer)
        before = {"status": from_status, "potential_kind": customer.potential_kind,
                  "last_purchase_at": customer.last_purchase_at}
        customer.status = to_status
        customer.status_changed_at = when
        if to_status == Status.POTENTIAL:
            customer.potential_kind = PotentialKind.COMPETITOR if competitor or _lost_to_competitor(customer) \
                else PotentialKind.GENERAL
        else:
            customer.potential_kind = ""
        if move.purchase and (customer.last_purchase_at is None or when > customer.last_purchase_at):
            customer.last_purchase_at = when
        customer.save(update_fields=["status", "status_changed_at", "potential_kind", "last_purchase_at",
                                     "updated_at"])
        StatusChange.objects.create(customer=customer, from_status=from_status, to_status=to_status, at=when,
                                    actor=actor if getattr(actor, "pk", None) else None, reason=reason,
                                    competitor=competitor, trigger=trigger)
        after = {"status": to_status, "potential_kind": customer.potential_kind,
                 "last_purchase_at": customer.last_purchase_at}
        audit_record(actor=actor, action=AuditLog.Action.UPDATE, instance=customer,
                     changes=_changes(before, after), customer_id=customer.pk)
    return customer


def _lost_to_competitor(customer: Customer) -> bool:
    last_loss = (StatusChange.objects.filter(customer=customer, to_status=Status.LOST)
                 .order_by("-at", "-id").values_list("competitor", flat=True).first())
    return bool(last_loss)


def _changes(before: dict, after: dict) -> dict[str, list]:
    def plain(v):
        return v.isoformat() if isinstance(v, dt.datetime) else v

    return {k: [plain(before[k]), plain(after[k])] for k in after
            if before[k] != after[k] and not (before[k] in ("", None) and after[k] in ("", None))}


def customer_record_purchase(
    *, actor: User, customer_id: int, at: dt.datetime | None = None, reason: str = ""
) -> Customer:
    """A purchase (won deal, order): potential → new, new → repeat, dormant → repeat; repeat stays repeat."""
    with transaction.atomic():
        customer = _get_for_change(actor, customer_id)
        target = PURCHASE_TARGET.get(customer.status)
        if target is not None:
            return customer_transition(actor=actor, customer_id=customer_id, to_status=target,
                                       reason=reason or _("Purchase"), at=at, trigger=Trigger.PURCHASE)
        if customer.status != Status.REPEAT:
            raise Conflict(
                _("A lost customer buys again only after a win-back: move it to potential first."),
                code="illegal_transition",
                extra={"from_status": customer.status, "to_status": Status.REPEAT,
                       "allowed": list(TRANSITIONS.get(customer.status, {}))},
            )
        when = at or timezone.now()
        if timezone.is_naive(when):
            when = timezone.make_aware(when)
        if when > timezone.now() + FUTURE_TOLERANCE:
            raise ValidationFailed({"at": [_("The date cannot be in the future.")]})
        if customer.last_purchase_at is None or when > customer.last_purchase_at:
            old = customer.last_purchase_at
            customer.last_purchase_at = when
            customer.save(update_fields=["last_purchase_at", "updated_at"])
            audit_record(actor=actor, action=AuditLog.Action.UPDATE, instance=customer,
                         changes={"last_purchase_at": [old.isoformat() if old else None, when.isoformat()]},
                         customer_id=customer.pk)
    return customer


def record_initial_status(*, actor: User, customer: Customer) -> None:
    """Called by customer_create inside its transaction: the first history row, from "" to the status."""
    when = customer.created_at or timezone.now()
    Customer.objects.filter(pk=customer.pk).update(status_changed_at=when)
    customer.status_changed_at = when
    StatusChange.objects.create(customer=customer, from_status="", to_status=customer.status, at=when,
                                actor=actor if getattr(actor, "pk", None) else None, trigger=Trigger.CREATE)


# ---------------------------------------------------------------------------------------------
# Reads
# ---------------------------------------------------------------------------------------------


def status_history(*, user: User, customer_id: int, limit: int = 200) -> list[StatusChange]:
    """The customer's moves, newest first; NotFound when the user may not see the customer."""
    if not Customer.objects.visible_to(user, include_archived=True).filter(pk=customer_id).exists():
        raise NotFound(_("Customer not found."))
    return list(StatusChange.objects.filter(customer_id=customer_id).select_related("actor")
                .order_by("-at", "-id")[:limit])


def status_history_page(*, user: User, customer_id: int, offset: int = 0, limit: int | None = None) -> Page:
    """status_history one page at a time (the API's)."""
    if not Customer.objects.visible_to(user, include_archived=True).filter(pk=customer_id).exists():
        raise NotFound(_("Customer not found."))
    return page_of(StatusChange.objects.filter(customer_id=customer_id).select_related("actor").order_by("-at", "-id"),
                   offset=offset, limit=limit)


def recent_status_changes(customer: Customer, limit: int = 10) -> list[StatusChange]:
    """The latest moves of a customer the caller has already fetched through the visibility rules."""
    return list(StatusChange.objects.filter(customer_id=customer.pk).select_related("actor")
                .order_by("-at", "-id")[:limit])


# ---------------------------------------------------------------------------------------------
# The dormancy job
# ---------------------------------------------------------------------------------------------

DORMANCY_BATCH = 2000


def dormancy_cutoff(today: dt.date) -> dt.datetime:
    days = int(getattr(settings, "QIANKE_DORMANT_AFTER_DAYS", 365))
    return timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=days), dt.time.min))


def dormancy_run(*, today: dt.date | None = None) -> dict[str, int]:
    """New and repeat customers without a purchase for QIANKE_DORMANT_AFTER_DAYS become dormant.

    Set-wise, in batches: one UPDATE, one bulk insert of history rows and one of audit rows per
    batch. A customer that never bought is measured from the date it became new or repeat.
    Idempotent: dormant customers are not candidates, so a second run changes nothing.
    """
    today = today or timezone.localdate()
    cutoff = dormancy_cutoff(today)
    days = int(getattr(settings, "QIANKE_DORMANT_AFTER_DAYS", 365))
    reason = _("No purchase for %(days)d days") % {"days": days}
    due = Q(status__in=DORMANT_FROM, archived_at__isnull=True) & Q(
        last_purchase__lt=cutoff
    )
    total = 0
    while True:
        with transaction.atomic():
            rows = list(
                Customer.objects.annotate(last_purchase=Coalesce("last_purchase_at", "status_changed_at",
                                                                 "created_at"))
                .filter(due).select_for_update().order_by("id").values_list("id", "status", "name")[
                    :DORMANCY_BATCH]
            )
            if not rows:
                break
            now = timezone.now()
            ids = [r[0] for r in rows]
            Customer.objects.filter(pk__in=ids).update(status=Status.DORMANT, status_changed_at=now,
                                                       potential_kind="", updated_at=now)
            StatusChange.objects.bulk_create([
                StatusChange(customer_id=pk, from_status=status, to_status=Status.DORMANT, at=now,
                             reason=reason, trigger=Trigger.JOB)
                for pk, status, _name in rows
            ])
            AuditLog.objects.bulk_create([
                AuditLog(actor=None, action=AuditLog.Action.UPDATE, object_type="customer", object_id=pk,
                         object_repr=name[:200], customer_id=pk, changes={"status": [status, Status.DORMANT]},
                         source="job")
                for pk, status, name in rows
            ])
            total += len(rows)
    return {"dormant": total}
