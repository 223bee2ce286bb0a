"""Reads of the public pool. Pool customers are not visible through customer visibility (their owner is
empty): members reach them here, through the pools they may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from qianke.accounts.models import User
from qianke.core.errors import NotFound, PermissionDenied, ValidationFailed
from qianke.customers.choices import Industry, Status
from qianke.customers.models import Customer
from qianke.customers.selectors import COUNT_CAP, Page, clamp_limit, page_of
from qianke.customers.services import assignable_owners
from qianke.pool.models import OwnerChange, Pool, PoolEntry, PoolWarning
from qianke.pool.services import (  # noqa: F401  (re-exported: the selectors are the read API)
    home_pool_for_team,
    is_member,
    may_manage,
    pools_of_member,
    pools_visible_to,
    team_ancestor_ids,
)
from qianke.qualification.models import Grade


def pool_list(*, user: User):
    return pools_visible_to(user).prefetch_related("teams", "rules").order_by("name")


def pool_get(*, user: User, pool_id: int) -> Pool:
    pool = pools_visible_to(user).filter(pk=pool_id).first()
    if pool is None:
        raise NotFound(_("Pool not found."))
    return pool


def pool_get_by_name(name: str) -> Pool | None:
    """The pool called `name` (the import's `--pool NAME`); None when there is none."""
    return Pool.objects.filter(name=name.strip()).first()


def pool_settings_list(*, user: User):
    if not user.is_admin:
        raise PermissionDenied(_("Only administrators configure the public pools."))
    return Pool.objects.prefetch_related("teams", "rules").order_by("name")


def pool_for_settings(*, user: User, pool_id: int | None) -> Pool:
    """The pool an administrator edits (a new, unsaved one when `pool_id` is None)."""
    if not user.is_admin:
        raise PermissionDenied(_("Only administrators configure the public pools."))
    if pool_id is None:
        return Pool()
    pool = Pool.objects.filter(pk=pool_id).first()
    if pool is None:
        raise NotFound(_("Pool not found."))
    return pool


def customer_pool(*, customer_id: int) -> Pool | None:
    """The pool a customer belongs to (the caller has checked visibility); None when it has none."""
    entry = PoolEntry.objects.select_related("pool").filter(customer_id=customer_id).first()
    return entry.pool if entry is not None else None


@dataclass(frozen=True)
class PoolFilters:
    q: str = ""
    province: str = ""
    industry: str = ""
    grade: str = ""


def _validate(filters: PoolFilters) -> None:
    errors = {}
    if filters.grade and filters.grade not in Grade.values:
        errors["grade"] = [_("Choose one of: %(options)s.") % {"options": ", ".join(Grade.values)}]
    if filters.industry and filters.industry not in Industry.values:
        errors["industry"] = [_("Choose one of: %(options)s.") % {"options": ", ".join(Industry.values)}]
    if errors:
        raise ValidationFailed(errors)


def pool_customers(*, user: User, pool_id: int, filters: PoolFilters | None = None, offset: int = 0,
                   limit: int | None = None) -> Page:
    """A page of the customers in the pool, newest arrivals first; items are PoolEntry rows with the
    customer, its qualification (grade), origin (source) and last owner fetched in the same query."""
    pool = pool_get(user=user, pool_id=pool_id)
    filters = filters or PoolFilters()
    _validate(filters)
    limit = clamp_limit(limit)
    qs = PoolEntry.objects.filter(pool=pool, in_pool=True, customer__owner__isnull=True,
                                  customer__archived_at__isnull=True, customer__status=Status.POTENTIAL)
    if filters.q:
        text = filters.q.strip()
        qs = qs.filter(Q(customer__name__icontains=text) | Q(customer__code__iexact=text)
                       | Q(customer__city__icontains=text))
    if filters.province:
        qs = qs.filter(customer__province=filters.province)
    if filters.industry:
        qs = qs.filter(customer__industry=filters.industry)
    if filters.grade == Grade.D:
        qs = qs.filter(Q(customer__qualification__grade=Grade.D) | Q(customer__qualification__isnull=True))
    elif filters.grade:
        qs = qs.filter(customer__qualification__grade=filters.grade)
    count = qs.order_by()[: COUNT_CAP + 1].count()
    items = list(qs.select_related("customer", "customer__qualification", "customer__origin__source", "last_owner",
                                   "pool")
                 .order_by(F("entered_at").desc(nulls_last=True), "-customer_id")[offset : offset + limit])
    return Page(items, min(count, COUNT_CAP), count > COUNT_CAP, offset, limit)


def entry_grade(entry: PoolEntry) -> str:
    try:
        return entry.customer.qualification.grade
    except ObjectDoesNotExist:  # no qualification row yet: grade D by the qualification app's convention
        return Grade.D.value


def entry_source(entry: PoolEntry):
    try:
        return entry.customer.origin.source
    except ObjectDoesNotExist:  # no origin recorded
        return None


def owner_history(*, user: User, customer_id: int, limit: int = 50) -> list[OwnerChange]:
    """A customer's owner changes, newest first, for those who may see the customer or its pool."""
    return list(_owner_changes(user, customer_id)[:limit])


def owner_history_page(*, user: User, customer_id: int, offset: int = 0, limit: int | None = None) -> Page:
    """owner_history one page at a time (the API's)."""
    return page_of(_owner_changes(user, customer_id), offset=offset, limit=limit)


def _owner_changes(user: User, customer_id: int):
    visible = Customer.objects.visible_to(user, include_archived=True).filter(pk=customer_id).exists()
    if not visible:
        entry = PoolEntry.objects.filter(customer_id=customer_id, in_pool=True).first()
        if entry is None or not pools_visible_to(user).filter(pk=entry.pool_id).exists():
            raise NotFound(_("Customer not found."))
    return (OwnerChange.objects.filter(customer_id=customer_id)
            .select_related("from_owner", "to_owner", "actor", "pool").order_by("-at", "-id"))


def assignable_members(*, user: User, pool: Pool) -> list[User] | None:
    """Reps the user may assign to who belong to the pool (one query, membership checked in memory);
    None when the user may not assign."""
    if not may_manage(user):
        return None
    member_teams = {t.pk for t in pool.teams.all()}
    return [u for u in assignable_owners(user).select_related("team").order_by("username")
            if u.team_id and member_teams & set(team_ancestor_ids(u.team))]


def transfer_targets(*, user: User, customer_id: int):
    """The reps `user` may transfer the customer to (its owner left out), or None when `user` may not
    transfer it (not a manager, the customer is unowned or not visible to them)."""
    if not may_manage(user):
        return None
    customer = Customer.objects.visible_to(user).filter(pk=customer_id).only("pk", "owner_id").first()
    if customer is None or customer.owner_id is None:
        return None
    return assignable_owners(user).exclude(pk=customer.owner_id).order_by("username")


def customer_owner_history(customer: Customer, *, limit: int = 8) -> list[OwnerChange]:
    """The customer page's panel (one query); the page has checked visibility."""
    return list(OwnerChange.objects.filter(customer=customer)
                .select_related("from_owner", "to_owner", "actor", "pool").order_by("-at", "-id")[:limit])


def return_warnings(*, user: User, today: dt.date | None = None, limit: int = 50) -> list[PoolWarning]:
    """The user's customers about to return to the pool: warnings still standing (the customer is still
    theirs, the return day has not passed, and no follow-up came after the warning)."""
    today = today or timezone.localdate()
    return list(PoolWarning.objects
                .filter(owner=user, customer__owner=user, deadline__gte=today, customer__archived_at__isnull=True)
                .exclude(customer__qualification__last_follow_up_at__gt=F("created_at"))
                .select_related("customer", "pool").order_by("deadline", "customer_id")[:limit])
