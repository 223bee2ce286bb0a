"""Reads: the source lists, a customer's origin, referral trees and the source-effectiveness report.

Customers are always reached through `Customer.objects.visible_to(user)`.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from qianke.accounts.models import Role, User
from qianke.customers.choices import Status
from qianke.customers.models import Customer
from qianke.customers.selectors import customer_get
from qianke.leads.models import CollectionMethod, CustomerOrigin, InformationSource, Source

SEPARATOR = " › "
# A customer "became a customer" when its status reached new or beyond (lost customers only if they
# ever bought, which the lifecycle's last_purchase_at tells).
CONVERTED_STATUSES = (Status.NEW, Status.REPEAT, Status.DORMANT)
REFERRAL_DEFAULT_DEPTH = 5
REFERRAL_MAX_DEPTH = 10
REFERRAL_MAX_NODES = 5000
REPORT_ROLES = frozenset({Role.MANAGER, Role.GM, Role.INFO, Role.ADMIN})


def _has_customer_field(name: str) -> bool:
    try:
        Customer._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def converted_q(prefix: str = "") -> Q:
    q = Q(**{f"{prefix}status__in": CONVERTED_STATUSES})
    if _has_customer_field("last_purchase_at"):
        q |= Q(**{f"{prefix}last_purchase_at__isnull": False})
    return q


def is_converted(status: str, last_purchase_at=None) -> bool:
    return status in CONVERTED_STATUSES or last_purchase_at is not None


# ---------------------------------------------------------------------------------------------
# Lists
# ---------------------------------------------------------------------------------------------


@dataclass
class SourceNode:
    source: Source
    label: str
    children: list[SourceNode] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.source.pk


def source_labels(sources: list[Source] | None = None) -> dict[int, str]:
    """{source id: "展厅客源 › 来店"} for every source (the tree is small and administrator-kept)."""
    sources = sources if sources is not None else list(Source.objects.all())
    names = {s.pk: s.name for s in sources}
    return {s.pk: SEPARATOR.join(names.get(i, "?") for i in s.ancestor_ids) for s in sources}


def source_label(source: Source | None) -> str:
    if source is None:
        return ""
    if source.depth == 0:
        return source.name
    if source.depth == 1 and source.parent_id is not None:  # the parent is usually select_related
        return f"{source.parent.name}{SEPARATOR}{source.name}"
    ids = source.ancestor_ids
    names = dict(Source.objects.filter(pk__in=ids).values_list("pk", "name"))
    return SEPARATOR.join(names.get(i, "?") for i in ids)


def source_tree(*, include_inactive: bool = False) -> list[SourceNode]:
    """Root nodes with their children, each level in its order."""
    sources = list(Source.objects.order_by("depth", "order", "id"))
    labels = source_labels(sources)
    nodes = {s.pk: SourceNode(s, labels[s.pk]) for s in sources if include_inactive or s.active}
    roots = []
    for node in nodes.values():
        parent_id = node.source.parent_id
        if parent_id is None:
            roots.append(node)
        elif parent_id in nodes:
            nodes[parent_id].children.append(node)
    return roots


def source_flat(*, include_inactive: bool = False) -> list[SourceNode]:
    """The tree in display order (each node followed by its descendants)."""
    result: list[SourceNode] = []

    def walk(nodes):
        for node in nodes:
            result.append(node)
            walk(node.children)

    walk(source_tree(include_inactive=include_inactive))
    return result


def _walk(node: SourceNode, depth: int = 0):
    """The node and its descendants in display order, with their depth below `node`."""
    yield node, depth
    for child in node.children:
        yield from _walk(child, depth + 1)


def source_choices(*, include: int | None = None) -> list[tuple[str, list[tuple[int, str]]]]:
    """Active sources grouped by structural source, for a <select> with <optgroup>s."""
    groups = []
    for root in source_tree(include_inactive=include is not None):
        items = [(node.id, ("— " * depth) + node.source.name) for node, depth in _walk(root)
                 if node.source.active or node.id == include]
        if items:
            groups.append((root.source.name, items))
    return groups


def information_source_list(*, include_inactive: bool = False) -> list[InformationSource]:
    qs = InformationSource.objects.all()
    return list(qs if include_inactive else qs.filter(active=True))


def collection_method_list(*, include_inactive: bool = False) -> list[CollectionMethod]:
    qs = CollectionMethod.objects.all()
    return list(qs if include_inactive else qs.filter(active=True))


# ---------------------------------------------------------------------------------------------
# One customer's origin
# ---------------------------------------------------------------------------------------------


def origin_get(*, user: User, customer_id: int) -> CustomerOrigin | None:
    """The customer's origin (None when not recorded); 404 for customers the user may not see.
    An introducer the user may not see is left out (`introducer_visible` False)."""
    customer = customer_get(user=user, customer_id=customer_id, include_archived=True)
    return origin_of(user=user, customer=customer)


def origin_of(*, user: User, customer: Customer) -> CustomerOrigin | None:
    """origin_get for a customer already fetched through the user's visibility (the customer page)."""
    origin = (CustomerOrigin.objects.select_related("source__parent", "information_source", "collection_method",
                                                    "introducer_customer", "introducer_contact", "recorded_by")
              .filter(customer_id=customer.pk).first())
    if origin is not None:
        origin.source_path = source_label(origin.source)
        origin.introducer_visible = origin.introducer_customer_id is None or Customer.objects.visible_to(
            user).filter(pk=origin.introducer_customer_id).exists()
    return origin


def _count_subquery(qs) -> Subquery:
    return Subquery(qs.order_by().values("introducer_customer_id").annotate(n=Count("pk")).values("n")[:1],
                    output_field=IntegerField())


def origin_panel(*, user: User, customer: Customer) -> tuple[CustomerOrigin | None, dict[str, int]]:
    """The customer page's panel in one query: the origin and the direct referral counts."""
    introduced = CustomerOrigin.objects.filter(introducer_customer_id=OuterRef("pk"))
    row = (Customer.objects.filter(pk=customer.pk)
           .select_related("origin__source__parent", "origin__information_source", "origin__collection_method",
                           "origin__introducer_customer", "origin__introducer_contact", "origin__recorded_by")
           .annotate(introduced_n=Coalesce(_count_subquery(introduced), 0),
                     converted_n=Coalesce(_count_subquery(introduced.filter(converted_q("customer__"))), 0))
           .first())
    if row is None:
        return None, {"introduced": 0, "converted": 0}
    origin = getattr(row, "origin", None)
    if origin is not None:
        origin.source_path = source_label(origin.source)
        origin.introducer_visible = origin.introducer_customer_id is None or Customer.objects.visible_to(
            user).filter(pk=origin.introducer_customer_id).exists()
    return origin, {"introduced": row.introduced_n, "converted": row.converted_n}


def referral_summary(*, user: User, customer_id: int) -> dict[str, int]:
    """How many customers this one (or its contacts) introduced directly, and how many became customers."""
    customer_get(user=user, customer_id=customer_id, include_archived=True)
    return referral_counts(customer_id=customer_id)


def referral_counts(*, customer_id: int) -> dict[str, int]:
    """referral_summary without the visibility check, for a customer the caller already fetched."""
    return CustomerOrigin.objects.filter(introducer_customer_id=customer_id).aggregate(
        introduced=Count("pk"), converted=Count("pk", filter=converted_q("customer__")))


# ---------------------------------------------------------------------------------------------
# Referral tree
# ---------------------------------------------------------------------------------------------


@dataclass
class ReferralNode:
    customer_id: int
    name: str
    code: str
    status: str
    status_label: str
    converted: bool
    depth: int
    via_contact: str = ""
    children: list[ReferralNode] = field(default_factory=list)
    hidden: int = 0  # introduced customers below this node the user may not see


@dataclass
class ReferralTree:
    root: Customer
    children: list[ReferralNode]
    hidden: int
    introduced: int
    converted: int
    direct_introduced: int
    direct_converted: int
    depth: int
    truncated: bool

    def flat(self) -> list[ReferralNode]:
        out: list[ReferralNode] = []

        def walk(nodes):
            for node in nodes:
                out.append(node)
                walk(node.children)

        walk(self.children)
        return out


def referral_tree(*, user: User, customer_id: int, depth: int = REFERRAL_DEFAULT_DEPTH) -> ReferralTree:
    """Customers introduced by the customer or its contacts, recursively, `depth` levels deep.

    One query per level. Counts cover every introduced customer; only those the user may see are
    shown, and a hidden customer's visible introductions hang from its nearest visible ancestor.
    """
    root = customer_get(user=user, customer_id=customer_id, include_archived=True)
    depth = max(1, min(depth, REFERRAL_MAX_DEPTH))
    children: dict[int, list[int]] = defaultdict(list)
    via: dict[int, int | None] = {}
    level_of: dict[int, int] = {}
    frontier, seen, truncated = [root.pk], {root.pk}, False
    for level in range(1, depth + 1):
        rows = list(CustomerOrigin.objects.filter(introducer_customer_id__in=frontier)
                    .order_by("customer_id").values_list("customer_id", "introducer_customer_id",
                                                         "introducer_contact_id"))
        frontier = []
        for cid, parent, contact in rows:
            if cid in seen:
                continue
            if len(seen) > REFERRAL_MAX_NODES:
                truncated = True
                break
            seen.add(cid)
            children[parent].append(cid)
            via[cid], level_of[cid] = contact, level
            frontier.append(cid)
        if not frontier:
            break
    else:
        truncated = truncated or CustomerOrigin.objects.filter(introducer_customer_id__in=frontier).exists()

    ids = list(level_of)
    fields = ["pk", "status"] + (["last_purchase_at"] if _has_customer_field("last_purchase_at") else [])
    facts = {row[0]: row for row in Customer.objects.filter(pk__in=ids).values_list(*fields)}
    visible = {pk: (name, code) for pk, name, code in
               Customer.objects.visible_to(user).filter(pk__in=ids).values_list("pk", "name", "code")}
    from qianke.customers.models import Contact

    contact_ids = {c for c in via.values() if c}
    contacts = dict(Contact.objects.filter(pk__in=contact_ids).values_list("pk", "name")) if contact_ids else {}
    labels = dict(Status.choices)
    converted_ids = {pk for pk, row in facts.items() if is_converted(row[1], row[2] if len(row) > 2 else None)}

    def build(parent: int) -> tuple[list[ReferralNode], int]:
        nodes, hidden = [], 0
        for cid in children.get(parent, []):
            sub_nodes, sub_hidden = build(cid)
            if cid in visible:
                status = facts[cid][1]
                node = ReferralNode(cid, visible[cid][0], visible[cid][1], status, str(labels.get(status, status)),
                                    cid in converted_ids, level_of[cid], contacts.get(via[cid], "") if parent
                                    in visible or parent == root.pk else "", sub_nodes, sub_hidden)
                nodes.append(node)
            else:
                hidden += 1 + sub_hidden
                nodes.extend(sub_nodes)
        return nodes, hidden

    top, hidden = build(root.pk)
    direct = children.get(root.pk, [])
    return ReferralTree(
        root=root, children=top, hidden=hidden, introduced=len(ids),
        converted=len(converted_ids), direct_introduced=len(direct),
        direct_converted=sum(1 for c in direct if c in converted_ids), depth=depth, truncated=truncated,
    )


# ---------------------------------------------------------------------------------------------
# Source-effectiveness report
# ---------------------------------------------------------------------------------------------


def may_see_source_report(user: User) -> bool:
    return bool(user and user.is_authenticated and (user.role in REPORT_ROLES or user.is_superuser))


def qualification_available() -> bool:
    return apps.is_installed("qianke.qualification")


def conversion_time_available() -> bool:
    try:
        apps.get_model("customers", "StatusChange")
    except LookupError:
        return False
    return True


@dataclass
class SourceRow:
    source_id: int | None
    label: str
    name: str
    depth: int
    count: int = 0
    qualified: int | None = None
    converted: int = 0
    days: list[float] = field(default_factory=list, repr=False)

    @property
    def conversion_rate(self) -> float | None:
        return self.converted / self.count if self.count else None

    @property
    def median_days(self) -> float | None:
        return round(statistics.median(self.days), 1) if self.days else None


@dataclass
class SourceGroup:
    total: SourceRow
    rows: list[SourceRow]


@dataclass
class SourceReport:
    date_from: dt.date
    date_to: dt.date
    groups: list[SourceGroup]
    unrecorded: SourceRow
    total: SourceRow
    has_qualified: bool
    has_median_days: bool
    has_value_won: bool = False  # no deals or orders exist yet


def default_period(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    today = today or timezone.localdate()
    return today - dt.timedelta(days=364), today


def _bounds(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def source_report(*, user: User, date_from: dt.date | None = None, date_to: dt.date | None = None) -> SourceReport:
    """Per source and per structural source: customers registered in the period (by created_at), how many
    are qualified (when qianke.qualification is installed), how many became customers, the conversion
    rate and the median days from registration to the first move to new/repeat (from the lifecycle's
    StatusChange). Everything through the user's visibility: a rep's report covers the rep's customers."""
    default_from, default_to = default_period()
    date_from, date_to = date_from or default_from, date_to or default_to
    if date_from > date_to:
        date_from, date_to = date_to, date_from
    start, end = _bounds(date_from, date_to)
    customers = Customer.objects.visible_to(user).filter(created_at__gte=start, created_at__lt=end)
    has_qualified = qualification_available()
    has_days = conversion_time_available()

    aggregates = {"n": Count("pk"), "converted": Count("pk", filter=converted_q())}
    if has_qualified:
        aggregates["qualified"] = Count("pk", filter=Q(qualification__is_qualified=True))
    per_source = {row["origin__source_id"]: row for row in
                  customers.order_by().values("origin__source_id").annotate(**aggregates)}

    days: dict[int | None, list[float]] = defaultdict(list)
    if has_days:
        StatusChange = apps.get_model("customers", "StatusChange")
        first = (StatusChange.objects.filter(customer_id=OuterRef("pk"), to_status__in=[Status.NEW, Status.REPEAT])
                 .order_by("at").values("at")[:1])
        for source_id, created_at, converted_at in (customers.filter(converted_q())
                                                    .annotate(converted_at=Subquery(first))
                                                    .filter(converted_at__isnull=False).order_by()
                                                    .values_list("origin__source_id", "created_at",
                                                                 "converted_at").iterator()):
            days[source_id].append(max((converted_at - created_at).total_seconds() / 86400, 0.0))

    sources = list(Source.objects.order_by("depth", "order", "id"))
    labels = source_labels(sources)

    def row_for(source: Source | None) -> SourceRow:
        key = source.pk if source else None
        data = per_source.get(key, {})
        return SourceRow(key, labels[key] if source else "", source.name if source else "",
                         source.depth if source else 0, data.get("n", 0),
                         data.get("qualified", 0) if has_qualified else None, data.get("converted", 0),
                         list(days.get(key, [])))

    def add(into: SourceRow, row: SourceRow) -> None:
        into.count += row.count
        into.converted += row.converted
        if into.qualified is not None:
            into.qualified += row.qualified or 0
        into.days.extend(row.days)

    groups = []
    total = SourceRow(None, "", "", 0, qualified=0 if has_qualified else None)
    for node in source_tree(include_inactive=True):
        group_total = SourceRow(node.id, node.label, node.source.name, 0, qualified=0 if has_qualified else None)
        rows = []
        for n, level in _walk(node):
            row = row_for(n.source)
            add(group_total, row)
            if level and (n.source.active or row.count):
                rows.append(row)
        if node.source.active or group_total.count:
            groups.append(SourceGroup(group_total, rows))
            add(total, group_total)
    unrecorded = row_for(None)
    add(total, unrecorded)
    return SourceReport(date_from, date_to, groups, unrecorded, total, has_qualified, has_days)
