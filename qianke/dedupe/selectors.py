"""Reads of the dedupe app, always through the customers' visibility rules.

A duplicate group is visible when every one of its members is: nobody reviews or merges what they cannot
see, and a group does not reveal that an invisible customer exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import OperationalError, connection, transaction
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils.translation import gettext as _

from qianke.accounts.models import User
from qianke.core.errors import NotFound, ValidationFailed
from qianke.core.normalize import CompanyName, parse_company_name
from qianke.customers.models import Customer
from qianke.customers.selectors import COUNT_CAP, Page, clamp_limit
from qianke.dedupe.models import DuplicateGroup, DuplicateMember, Merge, MergedCustomer, NotDuplicatePair


def visible_groups(user: User) -> QuerySet[DuplicateGroup]:
    hidden_member = DuplicateMember.objects.filter(group_id=OuterRef("pk")).exclude(
        customer_id__in=Customer.objects.visible_to(user).values("pk"))
    return DuplicateGroup.objects.filter(~Exists(hidden_member))


def _with_members(qs: QuerySet[DuplicateGroup]) -> QuerySet[DuplicateGroup]:
    members = DuplicateMember.objects.select_related("customer", "customer__owner")
    return qs.prefetch_related(Prefetch("members", queryset=members),
                               Prefetch("merges", queryset=Merge.objects.filter(undone_at__isnull=True)))


@dataclass
class GroupFilters:
    status: str = DuplicateGroup.Status.OPEN
    decision: str = ""
    import_job: int | None = None  # only the groups this import's duplicate check found


def duplicate_group_list(*, user: User, filters: GroupFilters, limit: int | None = None, offset: int = 0) -> Page:
    errors = {}
    if filters.status and filters.status not in DuplicateGroup.Status.values:
        errors["status"] = [_("Choose one of: %(options)s.") % {"options": ", ".join(DuplicateGroup.Status.values)}]
    if filters.decision and filters.decision not in DuplicateGroup.Decision.values:
        errors["decision"] = [_("Choose one of: %(options)s.")
                              % {"options": ", ".join(DuplicateGroup.Decision.values)}]
    if errors:
        raise ValidationFailed(errors)
    qs = visible_groups(user)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.decision:
        qs = qs.filter(decision=filters.decision)
    if filters.import_job:
        qs = qs.filter(import_job_id=filters.import_job)
    limit = clamp_limit(limit)
    count = qs.order_by()[: COUNT_CAP + 1].count()
    items = list(_with_members(qs.order_by("-score", "id"))[offset: offset + limit])
    return Page(items, min(count, COUNT_CAP), count > COUNT_CAP, offset, limit)


def duplicate_group_get(*, user: User, group_id: int) -> DuplicateGroup:
    group = _with_members(visible_groups(user)).filter(pk=group_id).first()
    if group is None:
        raise NotFound(_("Duplicate group not found."))
    return group


def group_customers(group: DuplicateGroup) -> list[Customer]:
    return [m.customer for m in group.members.all()]


def pair_evidence(group: DuplicateGroup) -> list[dict[str, Any]]:
    """The group's pairs with the members' names, best first, for the review page and the API."""
    names = {m.customer_id: m.customer for m in group.members.all()}
    pairs = []
    for pair in sorted(group.pairs or [], key=lambda p: -p.get("score", 0)):
        left, right = names.get(pair.get("left")), names.get(pair.get("right"))
        if left is None or right is None:
            continue
        pairs.append({**pair, "left_customer": left, "right_customer": right})
    return pairs


def customers_for_merge(*, user: User, ids: list[int]) -> list[Customer]:
    """The customers of a merge form, in the order given; 404 when any is not visible."""
    found = {c.pk: c for c in Customer.objects.visible_to(user).select_related("owner", "team").filter(pk__in=ids)}
    if len(found) != len(set(ids)):
        raise NotFound(_("Customer not found."))
    return [found[i] for i in dict.fromkeys(ids)]


def merge_get(*, user: User, merge_id: int) -> Merge:
    """A merge is visible when its survivor and every merged customer are (archived ones included)."""
    merge = Merge.objects.select_related("survivor", "actor", "undone_by").filter(pk=merge_id).first()
    if merge is None:
        raise NotFound(_("Merge not found."))
    ids = [merge.survivor_id, *merge.snapshot.get("merged", [])]
    visible = Customer.objects.visible_to(user, include_archived=True).filter(pk__in=ids).count()
    if visible != len(set(ids)):
        raise NotFound(_("Merge not found."))
    return merge


def snapshot_names(merge: Merge) -> dict[str, dict[int, str]]:
    """Names of the owners and teams a merge's snapshot refers to, read in one query each (merge page)."""
    from qianke.accounts.models import Team

    ids: dict[str, set] = {"owner": set(), "team": set()}
    for side in ("before", "after"):
        for key, found in ids.items():
            value = (merge.snapshot.get(side) or {}).get(key)
            if value not in (None, ""):
                found.add(value)
    return {"owner": {u.pk: str(u) for u in User.objects.filter(pk__in=ids["owner"])},
            "team": {t.pk: str(t) for t in Team.objects.filter(pk__in=ids["team"])}}


def merged_customers(merge: Merge) -> list[Customer]:
    return [m.customer for m in merge.merged.select_related("customer")]


def merge_of_customer(*, customer: Customer) -> Merge | None:
    """The merge (not undone) that archived this customer; the caller has fetched it through visibility."""
    link = (MergedCustomer.objects.filter(customer=customer, merge__undone_at__isnull=True)
            .select_related("merge__survivor").order_by("-id").first())
    return link.merge if link else None


def merges_into(*, customer: Customer, limit: int = 10) -> list[Merge]:
    """Merges (not undone) whose survivor is this customer, newest first."""
    return list(Merge.objects.filter(survivor=customer, undone_at__isnull=True).select_related("actor")
                .prefetch_related("merged__customer")[:limit])


# ---------------------------------------------------------------------------------------------
# Candidates for one customer (the create/edit warning and GET /customers/{id}/duplicates)
# ---------------------------------------------------------------------------------------------

CANDIDATES_PER_KEY = 20
SEARCH_CANDIDATES = 30
SEARCH_BUDGET_MS = 30
RECORD_FIELDS = ("kind", "name", "short_name", "province", "city", "district", "address", "postcode", "phone",
                 "mobile", "email", "birthday", "custom", "credit_code_norm")


@dataclass
class Candidate:
    customer: Customer
    score: float
    decision: str
    same_name: bool
    evidence: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        c = self.customer
        return {"id": c.pk, "code": c.code, "name": c.name, "score": round(self.score, 4),
                "decision": self.decision, "same_name": self.same_name, "evidence": self.evidence}


def _search_ids(search, text: str) -> list[int]:
    """Newest customers whose names contain `text`, within SEARCH_BUDGET_MS on PostgreSQL.

    The exact keys above always run; the full-text lookup is the best effort on top (it finds the
    reordered and bracketed variants of a name) and must not make saving a customer slow when a name
    core is common, so on PostgreSQL it runs under a local statement timeout in a savepoint and gives
    nothing when it runs out.
    """
    if connection.vendor != "postgresql":
        return search.match_ids(text, limit=SEARCH_CANDIDATES) or []
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('statement_timeout')")
            previous = cursor.fetchone()[0]
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [f"{SEARCH_BUDGET_MS}ms"])
            ids = search.match_ids(text, limit=SEARCH_CANDIDATES) or []
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
            return ids
    except OperationalError:  # the budget ran out (query cancelled); the savepoint undid the setting too
        return []


def canonical_name_variants(name: str, name_norm: str, kind: str) -> set[str]:
    """Canonical names the same organisation is often registered under: the brand core alone, and with
    its place before or after it (北京华为技术 / 华为技术北京 / 华为技术), each an exact lookup in the
    name_norm index."""
    variants = {name_norm} if name_norm else set()
    if kind != "organization" or not name:
        return variants
    parts = parse_company_name(name)
    if len(parts.core) < 2:
        return variants
    variants.add(parts.core)
    for region in parts.regions:
        for place in {region, region.removesuffix("市").removesuffix("省").removesuffix("自治区")}:
            if place:
                variants.update({place + parts.core, parts.core + place})
    return variants


def _regionless(parts: CompanyName) -> bool:
    """A company name that names no place and no branch (华为技术, not 北京华为技术 or 华为技术北京分公司)."""
    return not parts.regions and not parts.branch


def _contained_regionless(ours: CompanyName, theirs: str) -> bool:
    """Our name names no place and its core is part of theirs, which names one (华威测控 and
    北京华威测控技术有限公司): the same company as registered, or another one in another city."""
    if not _regionless(ours) or len(ours.core) < 2:
        return False
    their_parts = parse_company_name(theirs)
    return bool(their_parts.regions) and ours.core in their_parts.core


def _candidate_ids(*, kind: str, name_norm: str, name: str, phones: list[str], mobiles: list[str],
                   exclude_id: int | None, full_text: bool, credit_code: str = "") -> set[int]:
    """Ids of customers sharing an indexed key with the record: a canonical name variant, a mobile, a
    phone or the credit code; with `full_text`, also the name's core in the full-text index (slower:
    the customer page's panel and the API use it, the save path does not)."""
    from qianke.customers import search

    base = Customer.objects.filter(archived_at__isnull=True, kind=kind).order_by()
    ids: set[int] = set()
    variants = canonical_name_variants(name, name_norm, kind)
    if variants:
        ids.update(base.filter(name_norm__in=sorted(variants)).values_list("pk", flat=True)[:CANDIDATES_PER_KEY])
    if mobiles:
        ids.update(base.filter(mobile_norm__in=mobiles).values_list("pk", flat=True)[:CANDIDATES_PER_KEY])
    if phones:
        ids.update(base.filter(phone_norm__in=phones).values_list("pk", flat=True)[:CANDIDATES_PER_KEY])
    if credit_code:  # the partial index's condition spelled out: SQLite uses the index only then
        ids.update(base.filter(credit_code_norm=credit_code).exclude(credit_code_norm="")
                   .values_list("pk", flat=True)[:CANDIDATES_PER_KEY])
    core = name
    if kind == "organization":
        parts = parse_company_name(name)
        # A company name without a place looks in the full-text index on save too: its registered form
        # often has one (华威测控 for 北京华威测控技术有限公司), which no exact key finds.
        core, full_text = parts.core, full_text or _regionless(parts)
    if full_text and core and len(core) >= 2:
        ids.update(_search_ids(search, core))
    ids.discard(exclude_id)
    if exclude_id and ids:
        # Pairs a person marked "not duplicates" are not proposed again.
        ids -= set(NotDuplicatePair.objects.filter(left_id=exclude_id, right_id__in=ids).values_list("right_id", flat=True))
        ids -= set(NotDuplicatePair.objects.filter(right_id=exclude_id, left_id__in=ids).values_list("left_id", flat=True))
    return ids


def duplicate_candidates(*, user: User, values: dict[str, Any], instance: Customer | None = None,
                         limit: int = 5, full_text: bool = False) -> list[Candidate]:
    """Customers the user can see that the engine takes for the same customer (or asks to review), and
    those with the same canonical name, best first, each with the evidence per field."""
    from types import SimpleNamespace

    from qianke.core import normalize
    from qianke.customers.models import Contact
    from qianke.dedupe.jobs import evidence_rows
    from qianke.dedupe.matching import REVIEW_BAND, compare, customer_record

    data = {f: values.get(f, getattr(instance, f, None) if instance else None) for f in RECORD_FIELDS}
    data["kind"] = data["kind"] or "organization"
    for key in RECORD_FIELDS:
        if data[key] is None and key not in ("birthday",):
            data[key] = {} if key == "custom" else ""
    name_norm = values.get("name_norm") or (instance.name_norm if instance else "")
    contacts = list(instance.contacts.filter(archived_at__isnull=True)) if instance else []
    mobiles = {normalize.phone_key(v) for v in [data["mobile"], *(c.mobile for c in contacts)] if v}
    phones = {normalize.phone_key(v) for v in [data["phone"], *(c.phone for c in contacts)] if v}
    mobiles.discard("")
    phones.discard("")
    ids = _candidate_ids(kind=data["kind"], name_norm=name_norm, name=data["name"] or "",
                         phones=sorted(phones | mobiles), mobiles=sorted(mobiles),
                         exclude_id=instance.pk if instance else None, full_text=full_text,
                         credit_code=data["credit_code_norm"] if data["kind"] == "organization" else "")
    if not ids:
        return []
    found = list(Customer.objects.visible_to(user).filter(pk__in=ids, kind=data["kind"]).select_related("owner"))
    their_contacts: dict[int, list] = {}
    for contact in Contact.objects.filter(customer_id__in=[c.pk for c in found], archived_at__isnull=True):
        their_contacts.setdefault(contact.customer_id, []).append(contact)
    record = customer_record(SimpleNamespace(pk=instance.pk if instance else 0, **data), contacts)
    ours = parse_company_name(data["name"] or "") if data["kind"] == "organization" else None
    candidates = []
    for customer in found:
        match = compare(record, customer_record(customer, their_contacts.get(customer.pk, [])))
        same_name = bool(name_norm) and customer.name_norm == name_norm
        score, decision = match.score, match.decision
        if decision == "different" and ours is not None and _contained_regionless(ours, customer.name):
            # Too little evidence to call it the same, too likely to leave unsaid: a person decides.
            score, decision = max(score, REVIEW_BAND[0]), "review"
        if decision == "different" and not same_name:
            continue
        candidates.append(Candidate(customer, score, decision, same_name, evidence_rows(match)))
    candidates.sort(key=lambda c: (-c.score, c.customer.pk))
    return candidates[:limit]


def customer_duplicates(*, user: User, customer_id: int) -> list[Candidate]:
    from qianke.customers.selectors import customer_get

    customer = customer_get(user=user, customer_id=customer_id)
    return duplicate_candidates(user=user, values={}, instance=customer, limit=10, full_text=True)


def table_label(model_label: str) -> str:
    """"customers.Contact" → the model's plural verbose name, for the merge record."""
    from django.apps import apps

    try:
        return str(apps.get_model(model_label)._meta.verbose_name_plural)
    except LookupError:
        return model_label


def last_scan():
    """The latest finished run of the scan job, or None."""
    from qianke.jobs.models import JobRun

    return JobRun.objects.filter(name="dedupe.scan", finished_at__isnull=False).order_by("-finished_at").first()
