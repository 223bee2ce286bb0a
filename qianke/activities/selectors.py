"""Reads for follow-ups, always through the visibility rules."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from qianke.accounts.models import User
from qianke.activities.models import Activity
from qianke.core.errors import NotFound
from qianke.customers.selectors import COUNT_CAP, Page, clamp_limit, customer_get


def activity_list(*, user: User, customer_id: int | None = None, kind: str = "", offset: int = 0,
                  limit: int | None = None) -> Page:
    limit = clamp_limit(limit)
    qs = Activity.objects.visible_to(user)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if kind:
        qs = qs.filter(kind=kind)
    count = qs.order_by()[: COUNT_CAP + 1].count()
    items = list(qs.select_related("customer", "contact", "actor").order_by("-occurred_at", "-id")[
        offset : offset + limit])
    return Page(items, min(count, COUNT_CAP), count > COUNT_CAP, offset, limit)


def activity_get(*, user: User, activity_id: int) -> Activity:
    activity = Activity.objects.visible_to(user).select_related("customer", "contact", "actor").filter(
        pk=activity_id).first()
    if activity is None:
        raise NotFound(_("Follow-up not found."))
    return activity


def customer_timeline(*, user: User, customer_id: int, limit: int = 100) -> list[Activity]:
    customer_get(user=user, customer_id=customer_id)
    return list(Activity.objects.visible_to(user).filter(customer_id=customer_id)
                .select_related("contact", "actor").order_by("-occurred_at", "-id")[:limit])


def _open_next_steps(user: User) -> QuerySet[Activity]:
    return (Activity.objects.visible_to(user)
            .filter(actor=user, next_done_at__isnull=True, next_due__isnull=False)
            .select_related("customer", "contact"))


def follow_ups_due_today(*, user: User, today: dt.date | None = None, limit: int = 50) -> list[Activity]:
    today = today or timezone.localdate()
    return list(_open_next_steps(user).filter(next_due=today).order_by("customer__name")[:limit])


def follow_ups_overdue(*, user: User, today: dt.date | None = None, limit: int = 50) -> list[Activity]:
    today = today or timezone.localdate()
    return list(_open_next_steps(user).filter(next_due__lt=today).order_by("next_due")[:limit])
