"""Writes for follow-ups (跟进记录)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from qianke.accounts.models import User
from qianke.activities.models import Activity, ActivityKind
from qianke.core.audit import audit_record, diff, snapshot
from qianke.core.errors import NotFound, ValidationFailed
from qianke.core.models import AuditLog
from qianke.core.normalize import parse_date
from qianke.customers.models import Contact, Customer

ACTIVITY_FIELDS = {"kind", "occurred_at", "contact", "content", "outcome", "next_step", "next_due"}
AUDITED = ["kind", "occurred_at", "contact", "content", "outcome", "next_step", "next_due", "next_done_at"]


def _clean(*, data: dict[str, Any], customer: Customer, instance: Activity | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    for name in sorted(set(data) - ACTIVITY_FIELDS):
        errors[name] = [_("Unknown field.")]
    cleaned: dict[str, Any] = {}
    if "kind" in data or instance is None:
        kind = data.get("kind") or ActivityKind.CALL
        if kind not in ActivityKind.values:
            errors["kind"] = [_("Choose one of: %(options)s.") % {"options": ", ".join(ActivityKind.values)}]
        cleaned["kind"] = kind
    if "content" in data or instance is None:
        content = str(data.get("content") or "").strip()
        if not content:
            errors["content"] = [_("Describe what happened.")]
        elif len(content) > 10000:
            errors["content"] = [_("At most %(n)d characters.") % {"n": 10000}]
        cleaned["content"] = content
    for name, limit in (("outcome", 5000), ("next_step", 300)):
        if name in data:
            text = str(data.get(name) or "").strip()
            if len(text) > limit:
                errors[name] = [_("At most %(n)d characters.") % {"n": limit}]
            cleaned[name] = text
    if "occurred_at" in data or instance is None:
        value = data.get("occurred_at") or timezone.now()
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip().replace(" ", "T"))
            except ValueError:  # well-formed but impossible, e.g. month 13
                parsed = None
            if parsed is None:
                errors["occurred_at"] = [_("Enter a date and time such as 2026-11-22 14:30.")]
            value = parsed
        if isinstance(value, dt.datetime):
            if timezone.is_naive(value):
                value = timezone.make_aware(value)
            if value > timezone.now() + dt.timedelta(minutes=5):
                errors["occurred_at"] = [_("A follow-up that already happened cannot be in the future.")]
        cleaned["occurred_at"] = value
    if "next_due" in data:
        value = data.get("next_due")
        if value in (None, ""):
            cleaned["next_due"] = None
        else:
            try:
                value = parse_date(value)
            except ValueError:
                errors["next_due"] = [_("Enter a date such as 2026-11-22.")]
                value = None
            cleaned["next_due"] = value
    if "contact" in data:
        contact_id = data.get("contact")
        if contact_id in (None, ""):
            cleaned["contact"] = None
        else:
            contact = Contact.objects.filter(pk=contact_id, customer=customer, archived_at__isnull=True).first() \
                if str(contact_id).isdigit() else None
            if contact is None:
                errors["contact"] = [_("Choose a contact of this customer.")]
            cleaned["contact"] = contact
    next_step = cleaned.get("next_step", instance.next_step if instance else "")
    next_due = cleaned.get("next_due", instance.next_due if instance else None)
    if next_due and not next_step:
        errors.setdefault("next_step", []).append(_("Say what the next step is."))
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def activity_create(*, actor: User, customer_id: int, data: dict[str, Any]) -> Activity:
    with transaction.atomic():
        customer = Customer.objects.visible_to(actor).select_for_update(of=("self",)).filter(
            pk=customer_id).first()
        if customer is None:
            raise NotFound(_("Customer not found."))
        cleaned = _clean(data=data, customer=customer, instance=None)
        activity = Activity.objects.create(customer=customer, actor=actor, **cleaned)
        audit_record(actor=actor, action=AuditLog.Action.CREATE, instance=activity,
                     changes=diff({}, snapshot(activity, AUDITED)), customer_id=customer.pk)
        # The follow-up cadence (last follow-up, next due by grade) moves with the newest follow-up.
        from qianke.qualification.services import qualification_follow_up_recorded

        qualification_follow_up_recorded(customer=customer, occurred_at=activity.occurred_at)
        # Recording a new follow-up settles the open next steps of earlier ones (not of later ones:
        # a visit entered after the fact must not close the next step of yesterday's call).
        settled = list(Activity.objects.filter(
            customer=customer, next_done_at__isnull=True, next_due__isnull=False, archived_at__isnull=True,
            occurred_at__lte=activity.occurred_at).exclude(pk=activity.pk))
        now = timezone.now()
        for earlier in settled:
            earlier.next_done_at = now
            earlier.save(update_fields=["next_done_at", "updated_at"])
            audit_record(actor=actor, action=AuditLog.Action.UPDATE, instance=earlier,
                         changes={"next_done_at": [None, now.isoformat()]}, customer_id=customer.pk)
    return activity


def _get_for_change(actor: User, activity_id: int) -> Activity:
    activity = Activity.objects.visible_to(actor).select_for_update(of=("self",)).select_related("customer").filter(
        pk=activity_id).first()
    if activity is None:
        raise NotFound(_("Follow-up not found."))
    return activity


def activity_update(*, actor: User, activity_id: int, data: dict[str, Any]) -> Activity:
    with transaction.atomic():
        activity = _get_for_change(actor, activity_id)
        cleaned = _clean(data=data, customer=activity.customer, instance=activity)
        before = snapshot(activity, AUDITED)
        for name, value in cleaned.items():
            setattr(activity, name, value)
        activity.save()
        changes = diff(before, snapshot(activity, AUDITED))
        if changes:
            audit_record(actor=actor, action=AuditLog.Action.UPDATE, instance=activity, changes=changes,
                         customer_id=activity.customer_id)
    return activity


def activity_complete_next_step(*, actor: User, activity_id: int) -> Activity:
    with transaction.atomic():
        activity = _get_for_change(actor, activity_id)
        if activity.next_done_at is None:
            activity.next_done_at = timezone.now()
            activity.save(update_fields=["next_done_at", "updated_at"])
            audit_record(actor=actor, action=AuditLog.Action.UPDATE, instance=activity,
                         changes={"next_done_at": [None, activity.next_done_at.isoformat()]},
                         customer_id=activity.customer_id)
    return activity


def activity_archive(*, actor: User, activity_id: int) -> Activity:
    with transaction.atomic():
        activity = _get_for_change(actor, activity_id)
        activity.archived_at = timezone.now()
        activity.archived_by = actor
        activity.save(update_fields=["archived_at", "archived_by", "updated_at"])
        audit_record(actor=actor, action=AuditLog.Action.ARCHIVE, instance=activity,
                     changes={"archived_at": [None, activity.archived_at.isoformat()]},
                     customer_id=activity.customer_id)
    return activity
