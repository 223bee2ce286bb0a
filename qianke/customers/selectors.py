"""Reads for customers and contacts, always through the visibility rules."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from qianke.accounts.models import Team, User
from qianke.core.custom_fields import definitions_for
from qianke.core.errors import NotFound, ValidationFailed
from qianke.core.models import AuditLog, CustomFieldDefinition
from qianke.customers import search
from qianke.customers.models import Contact, Customer

# Counting every match of a broad filter over a million rows costs more than the page itself;
# past this many the UI says "10,000+".
COUNT_CAP = 10_000
# A search for a user who does not see every customer (or with filters) walks the match list newest
# first in blocks and keeps the visible matches. Once the page is full it stops counting after
# SEARCH_COUNT_SCAN matches (the count is then "at least": the list says "1,000+ customers", the API
# count_capped); it gives up filling the page after SEARCH_PAGE_SCAN matches and falls back to
# filtering the whole match list. 1,000 rather than 5,000: reading matches is most of the work of a
# common fragment's search (PostgreSQL, 1,000,000 customers: p95 156 -> 73 ms in the same conditions,
# docs/benchmarks.md), and "1,000+" says as much to a reader of the list as "5,000+".
SEARCH_COUNT_SCAN = 1_000
SEARCH_PAGE_SCAN = 200_000
SEARCH_BLOCKS = (1_000, 4_000, 10_000)
SEARCH_RANGE_SPAN = 8

SORTS = {
    "newest": ("-id",),
    "oldest": ("id",),
    "name": ("name_norm", "id"),
    "-name": ("-name_norm", "-id"),
    "updated": ("-updated_at", "-id"),
    "code": ("code",),
}


@dataclass
class CustomerFilters:
    q: str = ""
    status: str = ""
    kind: str = ""
    industry: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    owner: int | None = None
    team: int | None = None
    tag: str = ""
    archived: bool = False
    custom: dict[str, Any] = field(default_factory=dict)
    sort: str = "newest"


@dataclass
class Page:
    items: list
    count: int
    count_capped: bool
    offset: int
    limit: int

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.items) < self.count

    @property
    def has_previous(self) -> bool:
        return self.offset > 0


def clamp_limit(limit: int | None) -> int:
    if not limit or limit < 1:
        return settings.QIANKE_PAGE_SIZE
    return min(limit, settings.QIANKE_MAX_PAGE_SIZE)


def _custom_filter(qs: QuerySet, custom: dict[str, Any]) -> QuerySet:
    if not custom:
        return qs
    definitions = {d.key: d for d in definitions_for(model="customer")}
    errors = {}
    for key, value in custom.items():
        definition = definitions.get(key)
        if definition is None:
            errors[f"custom.{key}"] = [_("There is no custom field %(key)s.") % {"key": key}]
            continue
        if value in (None, ""):
            continue
        types = CustomFieldDefinition.FieldType
        if definition.field_type == types.MULTICHOICE:
            # The array's JSON text holds the option as "品牌" (PostgreSQL) or "\u54c1\u724c" (SQLite).
            lookup = f"custom__{key}__icontains"
            qs = qs.filter(Q(**{lookup: json.dumps(str(value), ensure_ascii=False)})
                           | Q(**{lookup: json.dumps(str(value))}))
        elif definition.field_type == types.BOOLEAN:
            qs = qs.filter(**{f"custom__{key}": str(value).lower() in ("1", "true", "yes", "是")})
        elif definition.field_type == types.NUMBER:
            try:
                number = float(value)
            except ValueError:
                errors[f"custom.{key}"] = [_("Enter a number.")]
                continue
            qs = qs.filter(**{f"custom__{key}": int(number) if number.is_integer() else number})
        elif definition.field_type in (types.TEXT, types.LONGTEXT):
            qs = qs.filter(**{f"custom__{key}__icontains": value})
        else:
            qs = qs.filter(**{f"custom__{key}": value})
    if errors:
        raise ValidationFailed(errors)
    return qs


def customer_queryset(*, user: User, filters: CustomerFilters) -> QuerySet[Customer]:
    """Visible customers matching the filters, without search or ordering."""
    if filters.archived and user.may_archive:
        qs = Customer.objects.visible_to(user, include_archived=True).filter(archived_at__isnull=False)
    else:
        qs = Customer.objects.visible_to(user)
    for name in ("status", "kind", "industry", "province", "city", "district"):
        value = getattr(filters, name)
        if value:
            qs = qs.filter(**{name: value})
    if filters.owner:
        qs = qs.filter(owner_id=filters.owner)
    if filters.team:
        team = Team.objects.filter(pk=filters.team).first()
        qs = qs.filter(team__path__startswith=team.path) if team else qs.none()
    if filters.tag:
        qs = qs.filter(tags__name=filters.tag)
    return _custom_filter(qs, filters.custom)


def _has_plain_filters(filters: CustomerFilters) -> bool:
    return any(
        [filters.status, filters.kind, filters.industry, filters.province, filters.city, filters.district,
         filters.owner, filters.team, filters.tag, filters.archived, filters.custom]
    )


def customer_list(*, user: User, filters: CustomerFilters, offset: int = 0, limit: int | None = None) -> Page:
    limit = clamp_limit(limit)
    offset = max(offset, 0)
    order = SORTS.get(filters.sort, SORTS["newest"])
    query = (filters.q or "").strip()
    related = ("owner", "team")
    if query and user.sees_all_customers and not _has_plain_filters(filters) and order == SORTS["newest"]:
        # Fast path: the index hands out the newest matches itself; nothing is left to filter. As in
        # _search_blocks, counting stops after SEARCH_COUNT_SCAN matches (then "at least").
        wanted = min(COUNT_CAP + 1, max(offset + limit + 1, SEARCH_COUNT_SCAN))
        found = search.top_matches(query, page_end=offset + limit, count_limit=wanted)
        if found is not None:
            ids, count = found
            page_ids = ids[offset : offset + limit]
            by_id = Customer.objects.select_related(*related).prefetch_related("tags").in_bulk(page_ids)
            items = [by_id[i] for i in page_ids if i in by_id]
            return Page(items, min(count, COUNT_CAP), count >= wanted, offset, limit)
    qs = customer_queryset(user=user, filters=filters)
    if query and order == SORTS["newest"]:
        page = _search_blocks(qs, query, offset, limit, related)
        if page is not None:
            return page
    if query:
        # Other sort orders (and the rare search that needs more than SEARCH_PAGE_SCAN matches to
        # fill its page) filter the whole match list.
        sql = search.match_sql(query)
        qs = qs.none() if sql is None else qs.filter(id__in=RawSQL(*sql))
    if filters.tag:
        qs = qs.distinct()
    count = qs.order_by()[: COUNT_CAP + 1].count()
    items = list(qs.select_related(*related).prefetch_related("tags").order_by(*order)[offset : offset + limit])
    return Page(items, min(count, COUNT_CAP), count > COUNT_CAP, offset, limit)


def _search_blocks(qs: QuerySet, query: str, offset: int, limit: int, related: tuple[str, ...]) -> Page | None:
    """The newest visible matches, found by walking the match list in id-descending blocks.

    `id IN (every match)` made the database materialise all matches of a common fragment (有限公司
    matches almost half of all customers) before applying visibility. Here each block of matching ids
    is filtered through the visible queryset, until the page is full and either the match list is
    exhausted (exact count) or SEARCH_COUNT_SCAN matches were read (count_capped: at least `count`).
    None: the page could not be filled within SEARCH_PAGE_SCAN matches.
    """
    want = offset + limit
    found: list[int] = []
    scanned = 0
    before = None
    exhausted = False
    for n in range(10_000):
        size = SEARCH_BLOCKS[min(n, len(SEARCH_BLOCKS) - 1)]
        if connection.vendor == "postgresql":
            # A bitmap plan reads every candidate whatever the LIMIT: few, large blocks.
            size = max(size, SEARCH_COUNT_SCAN, want + 1)
        block = search.match_ids(query, before=before, limit=size)
        if block is None:
            return Page([], 0, False, offset, limit)
        scanned += len(block)
        if block:
            # Dense blocks (common fragments) are filtered by their id range, which the visibility
            # indexes ((owner_id, id), ...) read in one seek; sparse ones by primary-key lookups.
            if block[0] - block[-1] < SEARCH_RANGE_SPAN * len(block):
                candidates = qs.filter(id__lte=block[0], id__gte=block[-1])
            else:
                candidates = qs.filter(id__in=search.ids_sql(block))
            visible = set(candidates.order_by().values_list("id", flat=True))
            found += [i for i in block if i in visible]
            before = block[-1]
        if len(block) < size:
            exhausted = True
            break
        if len(found) > want and (len(found) > COUNT_CAP or scanned >= SEARCH_COUNT_SCAN):
            break
        if scanned >= SEARCH_PAGE_SCAN:
            return None
    page_ids = found[offset:want]
    by_id = Customer.objects.select_related(*related).prefetch_related("tags").in_bulk(page_ids)
    items = [by_id[i] for i in page_ids if i in by_id]
    return Page(items, min(len(found), COUNT_CAP), not exhausted or len(found) > COUNT_CAP, offset, limit)


def customer_get(*, user: User, customer_id: int, include_archived: bool = False) -> Customer:
    include_archived = include_archived and user.may_archive
    customer = (
        Customer.objects.visible_to(user, include_archived=include_archived)
        .select_related("owner", "team", "created_by")
        .prefetch_related("tags")
        .filter(pk=customer_id)
        .first()
    )
    if customer is None:
        raise NotFound(_("Customer not found."))
    return customer


def customer_contacts(*, user: User, customer_id: int) -> list[Contact]:
    """The customer's contacts (primary first), bounded like every list."""
    customer_get(user=user, customer_id=customer_id)
    qs = Contact.objects.visible_to(user).filter(customer_id=customer_id)
    return list(qs.order_by("-is_primary", "id")[: settings.QIANKE_MAX_PAGE_SIZE])


def contact_list(*, user: User, customer_id: int | None = None, q: str = "", offset: int = 0,
                 limit: int | None = None) -> Page:
    limit = clamp_limit(limit)
    qs = Contact.objects.visible_to(user).select_related("customer")
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(mobile_norm__contains=q) | Q(email__icontains=q))
    count = qs.order_by()[: COUNT_CAP + 1].count()
    items = list(qs.order_by("-id")[offset : offset + limit])
    return Page(items, min(count, COUNT_CAP), count > COUNT_CAP, offset, limit)


def contact_get(*, user: User, contact_id: int) -> Contact:
    contact = Contact.objects.visible_to(user).select_related("customer").filter(pk=contact_id).first()
    if contact is None:
        raise NotFound(_("Contact not found."))
    return contact


def customer_history(*, user: User, customer_id: int, limit: int = 200) -> list[AuditLog]:
    """Audit entries of the customer and of its contacts and follow-ups, newest first, with the entries
    other apps keep elsewhere (core.extensions.history_extras: the import that created it)."""
    from qianke.core.extensions import history_extras

    customer = customer_get(user=user, customer_id=customer_id, include_archived=True)
    entries = list(AuditLog.objects.filter(customer_id=customer_id).select_related("actor")[:limit])
    extras = history_extras(customer)
    if not extras:
        return entries
    return sorted(entries + extras, key=lambda e: (e.created_at, e.id), reverse=True)[:limit]


def customer_history_page(*, user: User, customer_id: int, offset: int = 0, limit: int | None = None) -> Page:
    """customer_history one page at a time (the API's)."""
    from qianke.core.extensions import history_extras

    customer = customer_get(user=user, customer_id=customer_id, include_archived=True)
    qs = AuditLog.objects.filter(customer_id=customer_id).select_related("actor")
    extras = history_extras(customer)
    if not extras:
        return page_of(qs, offset=offset, limit=limit)
    limit = clamp_limit(limit)
    # Where each extra falls among the audit rows (newest first): after those newer than it.
    at = [qs.filter(created_at__gt=e.created_at).count() + i for i, e in enumerate(extras)]
    on_page = {p - offset: e for p, e in zip(at, extras, strict=True) if offset <= p < offset + limit}
    start = offset - sum(1 for p in at if p < offset)
    rows = iter(qs[start: start + limit - len(on_page)])
    items = [on_page[i] if i in on_page else next(rows, None) for i in range(limit)]
    count = qs.order_by()[: COUNT_CAP + 1].count()
    return Page([i for i in items if i is not None], min(count + len(extras), COUNT_CAP), count > COUNT_CAP,
                offset, limit)


def page_of(qs: QuerySet, *, offset: int = 0, limit: int | None = None) -> Page:
    """A page of an ordered queryset, counted up to COUNT_CAP."""
    limit = clamp_limit(limit)
    count = qs.order_by()[: COUNT_CAP + 1].count()
    return Page(list(qs[offset: offset + limit]), min(count, COUNT_CAP), count > COUNT_CAP, offset, limit)


def customer_custom_values(customer: Customer) -> list[tuple[CustomFieldDefinition, Any]]:
    """(definition, value) for each custom field that applies to the customer's kind, in order."""
    return [(d, customer.custom.get(d.key)) for d in definitions_for(model="customer", kind=customer.kind)]
