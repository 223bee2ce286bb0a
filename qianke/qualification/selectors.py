"""Reads: one customer's qualification with its next action, and the cadence lists (due today / overdue)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from qianke.accounts.models import User
from qianke.core.errors import NotFound, PermissionDenied, ValidationFailed
from qianke.core.visibility import customer_visibility_q
from qianke.customers.choices import Status
from qianke.customers.models import Customer
from qianke.customers.selectors import COUNT_CAP, Page, clamp_limit
from qianke.qualification import grading, man
from qianke.qualification import value as valuation
from qianke.qualification.models import CustomerValue, Grade, GradingSettings, IdealProfile, Qualification
from qianke.qualification.services import new_qualification

WHEN = ("today", "overdue")


@dataclass
class QualificationView:
    """A customer's qualification (a default one when no row exists yet) with what follows from it."""

    customer: Customer
    qualification: Qualification
    exists: bool
    next_action: man.NextAction
    combination: str
    may_stop: bool
    why: grading.Why
    config: GradingSettings

    @property
    def combination_label(self) -> str:
        """The notation with the need in the user's language, for pages (the API keeps `combination`)."""
        q = self.qualification
        return self.combination.rsplit(" (", 1)[0] + f" ({q.get_need_display()})"

    @property
    def overdue(self) -> bool:
        due = self.qualification.next_follow_up_due
        return due is not None and due < timezone.localdate()


def qualification_get(*, user: User, customer_id: int, include_archived: bool = False) -> QualificationView:
    customer = Customer.objects.visible_to(user, include_archived=include_archived).filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(_("Customer not found."))
    return qualification_view(customer)


def qualification_view(customer: Customer) -> QualificationView:
    config = GradingSettings.load()
    q = (Qualification.objects.select_related("authority_contact", "stopped_by", "stop_overridden_by")
         .filter(customer=customer).first())
    exists = q is not None
    if q is None:
        q = new_qualification(customer, config=config)
    return QualificationView(
        customer=customer, qualification=q, exists=exists,
        next_action=man.next_action(q.money, q.authority, q.need),
        combination=man.combination(q.money, q.authority, q.need),
        may_stop=man.may_stop(q.money, q.authority, q.need),
        why=grading.why(ordered=q.ordered, expected=q.expected_purchase_date, today=timezone.localdate(),
                        config=config),
        config=config,
    )


def _cadence_queryset(*, user: User, when: str, grade: str, today: dt.date) -> QuerySet[Qualification]:
    errors = {}
    if when not in WHEN:
        errors["when"] = [_("Choose one of: %(options)s.") % {"options": ", ".join(WHEN)}]
    if grade and grade not in Grade.values:
        errors["grade"] = [_("Choose one of: %(options)s.") % {"options": ", ".join(Grade.values)}]
    if errors:
        raise ValidationFailed(errors)
    qs = Qualification.objects.filter(
        customer_visibility_q(user, "customer__"),
        customer__archived_at__isnull=True,
        customer__status=Status.POTENTIAL,
        stop_contacting=False,
    )
    qs = qs.filter(next_follow_up_due=today) if when == "today" else qs.filter(next_follow_up_due__lt=today)
    if grade:
        qs = qs.filter(grade=grade)
    return qs


def _page_rows(qs: QuerySet[Qualification], *, offset: int, limit: int) -> list[Qualification]:
    """The page is found on narrow (customer id, due) tuples, then its rows fetched by key, so sorting a
    rep's thousands of overdue customers never drags whole customer rows along."""
    ids = list(qs.order_by("next_follow_up_due", "customer_id").values_list("customer_id", flat=True)[
        offset : offset + limit])
    rows = Qualification.objects.select_related("customer", "customer__owner").in_bulk(ids)
    return [rows[pk] for pk in ids]


def follow_ups_due(*, user: User, when: str = "today", grade: str = "", today: dt.date | None = None,
                   offset: int = 0, limit: int | None = None) -> Page:
    """Potential customers the user may see whose cadence says: follow up today (or overdue), oldest first."""
    today = today or timezone.localdate()
    limit = clamp_limit(limit)
    qs = _cadence_queryset(user=user, when=when, grade=grade, today=today)
    count = qs.order_by()[: COUNT_CAP + 1].count()
    return Page(_page_rows(qs, offset=offset, limit=limit), min(count, COUNT_CAP), count > COUNT_CAP, offset, limit)


def cadence_summary(*, user: User, today: dt.date | None = None, limit: int = 10) -> dict[str, Page]:
    """For the home page: due today and overdue, grade A first, each grade oldest due first, with capped totals.

    One query per grade until `limit` rows are found, so each uses the (grade, due) index.
    """
    today = today or timezone.localdate()
    summary = {}
    for when in WHEN:
        qs = _cadence_queryset(user=user, when=when, grade="", today=today)
        count = qs.order_by()[: COUNT_CAP + 1].count()
        items: list[Qualification] = []
        for grade in ("A", "B", "C", "D", "O") if count else ():
            items += _page_rows(qs.filter(grade=grade), offset=0, limit=limit - len(items))
            if len(items) >= min(limit, count):
                break
        summary[when] = Page(items, min(count, COUNT_CAP), count > COUNT_CAP, 0, limit)
    return summary


def grading_settings_get(*, user: User) -> GradingSettings:
    if not user.is_admin:
        raise PermissionDenied(_("Only administrators change the grading settings."))
    return GradingSettings.load()


# ---------------------------------------------------------------------------------------------
# Explicit and hidden value (信息提纯)
# ---------------------------------------------------------------------------------------------


@dataclass
class ValueView:
    """A customer's fit score with its parts and adjustments, its hidden value and present value."""

    customer: Customer
    value: CustomerValue
    exists: bool
    profile: IdealProfile
    fit: valuation.FitScore
    present_value: Decimal | None

    @property
    def annuity_factor(self) -> Decimal:
        return valuation.annuity_factor(rate_percent=self.profile.discount_rate, years=self.value.years_to_realise or 0)


PROFILE_COLUMNS = ("industries", "scales", "natures", "tier1_provinces", "tier2_provinces", "weights",
                   "competition_penalty", "discount_rate")


def value_view(customer: Customer) -> ValueView:
    """One query: the customer's value row joined, the profile's columns as subqueries (the customer page
    is bounded in queries)."""
    one = IdealProfile.objects.filter(pk=1)
    annotations = {f"ideal_{name}": Subquery(one.values(name)[:1]) for name in ("pk", *PROFILE_COLUMNS)}
    found = (Customer.objects.filter(pk=customer.pk).select_related("value_assessment__updated_by")
             .only("pk", "value_assessment").annotate(**annotations).first())
    profile = IdealProfile(pk=1)
    if found is not None and found.ideal_pk is not None:
        for name in PROFILE_COLUMNS:
            setattr(profile, name, getattr(found, f"ideal_{name}"))
    try:
        row = found.value_assessment if found is not None else None
    except CustomerValue.DoesNotExist:
        row = None
    exists = row is not None
    if row is None:
        row = CustomerValue(customer=customer)
    fit = valuation.fit_score(industry=customer.industry, scale=customer.scale, nature=customer.enterprise_nature,
                              province=customer.province, profile=profile,
                              competition_present=row.competition_present, competitor=row.competitor)
    pv = valuation.present_value(annual_value=row.estimated_annual_value, years=row.years_to_realise,
                                 rate_percent=profile.discount_rate)
    return ValueView(customer=customer, value=row, exists=exists, profile=profile, fit=fit, present_value=pv)


def value_get(*, user: User, customer_id: int, include_archived: bool = False) -> ValueView:
    customer = Customer.objects.visible_to(user, include_archived=include_archived).filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(_("Customer not found."))
    return value_view(customer)


def ideal_profile_get(*, user: User) -> IdealProfile:
    """Everyone may read the profile their customers are scored against; only administrators change it."""
    return IdealProfile.load()
