"""Writes for MAN qualification, stop/resume contacting, grades and grading settings.

Every function takes the acting user (keyword-only), owns one transaction, fetches the customer
through `Customer.objects.visible_to(actor)` (invisible → NotFound) and writes the audit row with
the customer's id so it shows on the customer's history tab.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qianke.accounts.models import Role, User
from qianke.core.audit import audit_record, diff, snapshot
from qianke.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from qianke.core.models import AuditLog
from qianke.customers.choices import EnterpriseNature, Industry, Scale
from qianke.customers.models import Contact, Customer
from qianke.qualification import grading, man
from qianke.qualification.models import (
    CRITERIA,
    Answer,
    CustomerValue,
    GradingSettings,
    GrowthPotential,
    IdealProfile,
    IndustryPosition,
    Need,
    Qualification,
    is_qualified,
)

QUALIFICATION_FIELDS = {"money", "budget", "authority", "authority_contact", "need", "expected_purchase_date",
                        "ordered"}
AUDITED = ["money", "budget", "authority", "authority_contact", "need", "is_qualified", "ordered",
           "expected_purchase_date", "grade", "next_follow_up_due"]
STOP_AUDITED = ["stop_contacting", "stop_reason", "stopped_by", "stop_overridden_by", "stop_override_reason"]
OVERRIDE_ROLES = frozenset({Role.MANAGER, Role.GM, Role.ADMIN})
MAX_BUDGET = Decimal("999999999999.99")


def may_override_stop(user: User) -> bool:
    """Managers, general managers and administrators may stop contact although MAN is not all "no"."""
    return user.role in OVERRIDE_ROLES or user.is_superuser


def _customer_for_change(actor: User, customer_id: int) -> Customer:
    customer = Customer.objects.visible_to(actor).select_for_update(of=("self",)).filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(_("Customer not found."))
    return customer


def new_qualification(customer: Customer, *, config: GradingSettings | None = None) -> Qualification:
    """An unsaved row with the defaults a customer without one is treated as having."""
    q = Qualification(customer=customer, cadence_base_on=timezone.localdate(customer.created_at))
    refresh_grade(q, today=timezone.localdate(), config=config or GradingSettings.load())
    return q


def _qualification_for_change(customer: Customer) -> tuple[Qualification, bool]:
    q = Qualification.objects.select_for_update().filter(customer=customer).first()
    if q is None:
        return new_qualification(customer), True
    return q, False


def refresh_grade(q: Qualification, *, today: dt.date, config: GradingSettings) -> bool:
    """Recompute grade and next due date of one row in memory; True when either changed."""
    grade = grading.grade_for(ordered=q.ordered, expected=q.expected_purchase_date, today=today, config=config)
    due = grading.due_for(grade=grade, base=q.cadence_base_on, config=config)
    changed = (grade, due) != (q.grade, q.next_follow_up_due) or q.grade_computed_on is None
    if changed:
        q.grade, q.next_follow_up_due, q.grade_computed_on = grade, due, today
    return changed


# ---------------------------------------------------------------------------------------------
# MAN and expected purchase date
# ---------------------------------------------------------------------------------------------


def _clean(*, data: dict[str, Any], customer: Customer) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    for name in sorted(set(data) - QUALIFICATION_FIELDS):
        errors[name] = [_("Unknown field.")]
    cleaned: dict[str, Any] = {}
    for name, choices in (("money", Answer), ("authority", Answer), ("need", Need)):
        if name in data:
            value = data[name]
            if value not in choices.values:
                errors[name] = [_("Choose one of: %(options)s.") % {"options": ", ".join(choices.values)}]
            cleaned[name] = value
    if "budget" in data:
        value = data["budget"]
        if value in (None, ""):
            cleaned["budget"] = None
        else:
            try:
                amount = Decimal(str(value).replace(",", "").replace("，", "").strip())
            except InvalidOperation:
                errors["budget"] = [_("Enter an amount in yuan, e.g. 150000.")]
            else:
                if not amount.is_finite() or amount < 0 or amount > MAX_BUDGET:
                    errors["budget"] = [_("Enter an amount in yuan, e.g. 150000.")]
                else:
                    cleaned["budget"] = amount.quantize(Decimal("0.01"))
    if "authority_contact" in data:
        value = data["authority_contact"]
        if value in (None, ""):
            cleaned["authority_contact"] = None
        else:
            contact_id = value.pk if isinstance(value, Contact) else value
            contact = (Contact.objects.filter(pk=contact_id, customer=customer, archived_at__isnull=True).first()
                       if str(contact_id).isdigit() else None)
            if contact is None:
                errors["authority_contact"] = [_("Choose a contact of this customer.")]
            cleaned["authority_contact"] = contact
    if "expected_purchase_date" in data:
        value = data["expected_purchase_date"]
        if value in (None, ""):
            cleaned["expected_purchase_date"] = None
        else:
            if isinstance(value, dt.datetime):
                value = value.date()
            if not isinstance(value, dt.date):
                try:
                    value = dt.date.fromisoformat(str(value).strip())
                except ValueError:
                    errors["expected_purchase_date"] = [_("Enter a date such as 2026-11-22.")]
                    value = None
            cleaned["expected_purchase_date"] = value
    if "ordered" in data:
        value = data["ordered"]
        if not isinstance(value, bool):
            errors["ordered"] = [_("Answer yes or no.")]
        cleaned["ordered"] = value
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def qualification_update(*, actor: User, customer_id: int, data: dict[str, Any]) -> Qualification:
    """Change MAN answers, budget, decision maker, expected purchase date or the ordered flag.

    Only the keys sent change. The grade and next due date follow at once.
    """
    with transaction.atomic():
        customer = _customer_for_change(actor, customer_id)
        q, created = _qualification_for_change(customer)
        cleaned = _clean(data=data, customer=customer)
        before = {} if created else snapshot(q, AUDITED)
        for name, value in cleaned.items():
            setattr(q, name, value)
        q.is_qualified = is_qualified(q.money, q.authority, q.need)
        refresh_grade(q, today=timezone.localdate(), config=GradingSettings.load())
        q.save()
        changes = diff(before, snapshot(q, AUDITED))
        if changes or created:
            audit_record(actor=actor, action=AuditLog.Action.CREATE if created else AuditLog.Action.UPDATE,
                         instance=q, changes=changes, customer_id=customer.pk)
    return q


# ---------------------------------------------------------------------------------------------
# Stop and resume contacting
# ---------------------------------------------------------------------------------------------


def qualification_stop_contacting(*, actor: User, customer_id: int, reason: str = "",
                                  override: bool = False) -> Qualification:
    """Stop contact. Allowed when money, authority and need are all "no"; otherwise only a manager,
    general manager or administrator may, with `override` and a reason, which is recorded."""
    reason = str(reason or "").strip()
    if len(reason) > 2000:
        raise ValidationFailed({"reason": [_("At most %(n)d characters.") % {"n": 2000}]})
    with transaction.atomic():
        customer = _customer_for_change(actor, customer_id)
        q, created = _qualification_for_change(customer)
        if q.stop_contacting:
            raise Conflict(_("Contact with this customer is already stopped."), code="already_stopped")
        before = {} if created else snapshot(q, STOP_AUDITED)
        all_no = man.may_stop(q.money, q.authority, q.need)
        if not all_no:
            if not override:
                raise Conflict(
                    _("Contact stops only when purchasing power, decision power and need are all \"no\". "
                      "Next action: %(action)s") % {"action": man.next_action(q.money, q.authority, q.need).text},
                    code="man_not_all_no")
            if not may_override_stop(actor):
                raise PermissionDenied(_("Only a manager can stop contact while the customer still qualifies."))
            if not reason:
                raise ValidationFailed({"reason": [_("Give the reason for overriding the MAN rule.")]})
            q.stop_overridden_by = actor
            q.stop_override_reason = reason
        else:
            q.stop_overridden_by = None
            q.stop_override_reason = ""
        q.stop_contacting = True
        q.stop_reason = reason
        q.stopped_at = timezone.now()
        q.stopped_by = actor
        q.save()
        audit_record(actor=actor, action=AuditLog.Action.CREATE if created else AuditLog.Action.UPDATE,
                     instance=q, changes=diff(before, snapshot(q, STOP_AUDITED)), customer_id=customer.pk)
    return q


def qualification_resume(*, actor: User, customer_id: int) -> Qualification:
    with transaction.atomic():
        customer = _customer_for_change(actor, customer_id)
        q, created = _qualification_for_change(customer)
        if not q.stop_contacting:
            raise Conflict(_("Contact with this customer is not stopped."), code="not_stopped")
        before = snapshot(q, STOP_AUDITED)
        q.stop_contacting = False
        q.stop_reason = q.stop_override_reason = ""
        q.stopped_at = q.stopped_by = q.stop_overridden_by = None
        q.save()
        audit_record(actor=actor, action=AuditLog.Action.UPDATE, instance=q,
                     changes=diff(before, snapshot(q, STOP_AUDITED)), customer_id=customer.pk)
    return q


# ---------------------------------------------------------------------------------------------
# Follow-ups (called by activities.services.activity_create inside its transaction)
# ---------------------------------------------------------------------------------------------


def qualification_follow_up_recorded(*, customer: Customer, occurred_at: dt.datetime) -> Qualification:
    """Move the cadence: last follow-up and next due date follow the newest follow-up.

    The caller has checked visibility, locked the customer and audits the follow-up itself.
    """
    q = Qualification.objects.select_for_update().filter(customer=customer).first() or new_qualification(customer)
    if q.last_follow_up_at is None or occurred_at > q.last_follow_up_at:
        q.last_follow_up_at = occurred_at
        q.cadence_base_on = timezone.localdate(occurred_at)
        refresh_grade(q, today=timezone.localdate(), config=GradingSettings.load())
        q.save()
    return q


# ---------------------------------------------------------------------------------------------
# Grading settings
# ---------------------------------------------------------------------------------------------

SETTINGS_FIELDS = ["a_within_days", "b_within_days", "c_within_days", "cadence_o_days", "cadence_a_days",
                   "cadence_b_days", "cadence_c_days", "cadence_d_days"]


def grading_settings_update(*, actor: User, data: dict[str, Any]) -> GradingSettings:
    """Administrators change thresholds and cadences; grades and due dates follow at the next daily run."""
    if not actor.is_admin:
        raise PermissionDenied(_("Only administrators change the grading settings."))
    errors: dict[str, list[str]] = {}
    for name in sorted(set(data) - set(SETTINGS_FIELDS)):
        errors[name] = [_("Unknown field.")]
    cleaned: dict[str, int | None] = {}
    for name in SETTINGS_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if value in (None, "") and name == "cadence_o_days":
            cleaned[name] = None
            continue
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError):
            errors[name] = [_("Enter a whole number.")]
            continue
        if not 1 <= number <= 3650:
            errors[name] = [_("Enter a number of days from 1 to 3650.")]
            continue
        cleaned[name] = number
    with transaction.atomic():
        GradingSettings.objects.get_or_create(pk=1)
        config = GradingSettings.objects.select_for_update().get(pk=1)
        before = snapshot(config, SETTINGS_FIELDS)
        for name, value in cleaned.items():
            setattr(config, name, value)
        if not errors and not config.a_within_days < config.b_within_days < config.c_within_days:
            errors["b_within_days"] = [_("The windows must grow: A < B < C.")]
        if errors:
            raise ValidationFailed(errors)
        config.updated_by = actor
        config.save()
        changes = diff(before, snapshot(config, SETTINGS_FIELDS))
        if changes:
            audit_record(actor=actor, action=AuditLog.Action.UPDATE, instance=config, changes=changes)
    return config


# ---------------------------------------------------------------------------------------------
# Explicit and hidden value (信息提纯)
# ---------------------------------------------------------------------------------------------

VALUE_FIELDS = ["competitor", "competition_present", "growth_potential", "industry_position", "bottleneck",
                "estimated_annual_value", "years_to_realise"]
PROFILE_FIELDS = ["industries", "scales", "natures", "tier1_provinces", "tier2_provinces", "weights",
                  "competition_penalty", "discount_rate"]


def _amount(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value).replace(",", "").replace("，", "").strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _clean_value(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    for name in sorted(set(data) - set(VALUE_FIELDS)):
        errors[name] = [_("Unknown field.")]
    cleaned: dict[str, Any] = {}
    for name, limit in (("competitor", 200), ("bottleneck", 2000)):
        if name in data:
            text = str(data[name] or "").strip()
            if len(text) > limit:
                errors[name] = [_("At most %(n)d characters.") % {"n": limit}]
            cleaned[name] = text
    if "competition_present" in data:
        if not isinstance(data["competition_present"], bool):
            errors["competition_present"] = [_("Answer yes or no.")]
        cleaned["competition_present"] = data["competition_present"]
    for name, choices in (("growth_potential", GrowthPotential), ("industry_position", IndustryPosition)):
        if name in data:
            value = data[name] or ""
            if value and value not in choices.values:
                errors[name] = [_("Choose one of: %(options)s.") % {"options": ", ".join(choices.values)}]
            cleaned[name] = value
    if "estimated_annual_value" in data:
        value = data["estimated_annual_value"]
        if value in (None, ""):
            cleaned["estimated_annual_value"] = None
        else:
            amount = _amount(value)
            if amount is None or amount < 0 or amount > MAX_BUDGET:
                errors["estimated_annual_value"] = [_("Enter an amount in yuan, e.g. 150000.")]
            else:
                cleaned["estimated_annual_value"] = amount.quantize(Decimal("0.01"))
    if "years_to_realise" in data:
        value = data["years_to_realise"]
        if value in (None, ""):
            cleaned["years_to_realise"] = None
        else:
            try:
                years = int(str(value).strip())
            except (TypeError, ValueError):
                years = -1
            if isinstance(value, bool) or not 0 <= years <= 20:
                errors["years_to_realise"] = [_("Enter a whole number of years from 0 to 20.")]
            cleaned["years_to_realise"] = years
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def value_update(*, actor: User, customer_id: int, data: dict[str, Any]) -> CustomerValue:
    """Record competition and hidden value of a customer the actor may see. Only the keys sent change."""
    with transaction.atomic():
        customer = _customer_for_change(actor, customer_id)
        cleaned = _clean_value(data)
        row = CustomerValue.objects.select_for_update().filter(customer=customer).first()
        created = row is None
        if row is None:
            row = CustomerValue(customer=customer)
        before = {} if created else snapshot(row, VALUE_FIELDS)
        for name, value in cleaned.items():
            setattr(row, name, value)
        row.updated_by = actor
        row.save()
        changes = diff(before, snapshot(row, VALUE_FIELDS))
        if changes or created:
            audit_record(actor=actor, action=AuditLog.Action.CREATE if created else AuditLog.Action.UPDATE,
                         instance=row, changes=changes, customer_id=customer.pk)
    return row


def _choice_list(value: Any, choices: Any, name: str, errors: dict[str, list[str]]) -> list[str]:
    if not isinstance(value, list | tuple) or any(v not in choices.values for v in value):
        errors[name] = [_("Choose from: %(options)s.") % {"options": ", ".join(choices.values)}]
        return []
    return sorted(set(value), key=list(choices.values).index)


def _province_list(value: Any, name: str, errors: dict[str, list[str]]) -> list[str]:
    if isinstance(value, str):
        value = value.replace("，", ",").replace("、", ",").replace("\n", ",").split(",")
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        errors[name] = [_("Enter province names separated by commas.")]
        return []
    names: list[str] = []
    for v in value:
        v = v.strip()
        if v and v not in names:
            names.append(v)
    if any(len(v) > 30 for v in names) or len(names) > 40:
        errors[name] = [_("Enter province names separated by commas.")]
    return names


def ideal_profile_update(*, actor: User, data: dict[str, Any]) -> IdealProfile:
    """Administrators set the ideal customer profile; fit scores follow at once (they are computed on read)."""
    if not actor.is_admin:
        raise PermissionDenied(_("Only administrators change the ideal customer profile."))
    errors: dict[str, list[str]] = {}
    for name in sorted(set(data) - set(PROFILE_FIELDS)):
        errors[name] = [_("Unknown field.")]
    cleaned: dict[str, Any] = {}
    for name, choices in (("industries", Industry), ("scales", Scale), ("natures", EnterpriseNature)):
        if name in data:
            cleaned[name] = _choice_list(data[name], choices, name, errors)
    for name in ("tier1_provinces", "tier2_provinces"):
        if name in data:
            cleaned[name] = _province_list(data[name], name, errors)
    if "weights" in data:
        weights = data["weights"]
        if not isinstance(weights, dict):
            errors["weights"] = [_("Give a weight for each criterion.")]
        else:
            for key in sorted(set(weights) - set(CRITERIA)):
                errors[f"weights.{key}"] = [_("Unknown field.")]
            cleaned_weights = {}
            for key in CRITERIA:
                value = weights.get(key, 0)
                if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
                    errors[f"weights.{key}"] = [_("Enter a whole number from 0 to 100.")]
                else:
                    cleaned_weights[key] = value
            cleaned["weights"] = cleaned_weights
    if "competition_penalty" in data:
        value = data["competition_penalty"]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            errors["competition_penalty"] = [_("Enter a whole number from 0 to 100.")]
        cleaned["competition_penalty"] = value
    if "discount_rate" in data:
        rate = _amount(data["discount_rate"]) if data["discount_rate"] not in (None, "") else None
        if rate is None or not 0 <= rate <= 100:
            errors["discount_rate"] = [_("Enter a percentage from 0 to 100.")]
        else:
            cleaned["discount_rate"] = rate.quantize(Decimal("0.01"))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        IdealProfile.objects.get_or_create(pk=1)
        profile = IdealProfile.objects.select_for_update().get(pk=1)
        before = snapshot(profile, PROFILE_FIELDS)
        for name, value in cleaned.items():
            setattr(profile, name, value)
        overlap = ({p.strip() for p in profile.tier1_provinces} & {p.strip() for p in profile.tier2_provinces})
        if overlap:
            raise ValidationFailed({"tier2_provinces": [
                _("A province is in one tier only: %(names)s.") % {"names": ", ".join(sorted(overlap))}]})
        profile.updated_by = actor
        profile.save()
        changes = diff(before, snapshot(profile, PROFILE_FIELDS))
        if changes:
            audit_record(actor=actor, action=AuditLog.Action.UPDATE, instance=profile, changes=changes)
    return profile
