"""The job `dedupe.scan`: the whole customer base through the matching engine, into duplicate groups.

Customers (with their contacts) are read in primary-key batches as plain values, turned into engine
records, matched and clustered in memory (the engine is built for a million records), and the result
is written set-wise: new groups and members in bulk, open groups found again updated in bulk, open
groups no longer found deleted. Merged and dismissed groups are decisions and are never touched; pairs
a person marked "not duplicates" are handed to the clustering as "different", so they never meet again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Iterable, Iterator

from django.db import connection, transaction
from django.db.models import TextField
from django.db.models.functions import Cast

from qianke.core.bulk import collector_paused
from qianke.customers.models import Contact, Customer
from qianke.dedupe.matching import Match, Record, cluster, find_matches
from qianke.dedupe.matching.adapters import record_from_values
from qianke.dedupe.matching.engine import prepare_all
from qianke.dedupe.models import DuplicateGroup, DuplicateMember, NotDuplicatePair

BATCH = 20_000
# In the order of record_from_values's parameters (id as pk; a test holds them together). The custom
# fields are read as text, at their position.
CUSTOMER_COLUMNS = ("id", "kind", "name", "short_name", "province", "city", "district", "address", "postcode",
                    "phone", "mobile", "email", "birthday", "custom", "credit_code_norm")
CUSTOM = CUSTOMER_COLUMNS.index("custom")
READ_COLUMNS = tuple("custom_text" if column == "custom" else column for column in CUSTOMER_COLUMNS)
CONTACT_COLUMNS = ("customer_id", "name", "phone", "mobile", "email")


def signature(ids: Iterable[int]) -> str:
    return hashlib.sha1(",".join(str(i) for i in sorted(ids)).encode()).hexdigest()


def evidence_rows(match: Match) -> list[dict]:
    """The evidence per field of one match as stored and shown (groups, candidates, API)."""
    return [{"role": e.role, "left": e.left, "right": e.right, "similarity": round(e.similarity, 3),
             "weight": round(e.weight, 3), "note": e.note} for e in match.evidence]


def evidence_json(match: Match) -> dict:
    return {
        "left": int(match.left), "right": int(match.right), "score": round(match.score, 4),
        "decision": match.decision, "evidence": evidence_rows(match),
    }


def customer_records(customer_ids: Iterable[int] | None = None) -> Iterator[Record]:
    """Engine records of the active customers (or of these ones), in primary-key order.

    Two streams of plain tuples, customers by id and their contacts by customer id, walked side by side:
    a model instance, dict or namespace per row cost more than the matching of it at a million customers.
    On PostgreSQL both are server-side cursors; the caller's transaction, if any, gives them one snapshot.
    """
    customers = Customer.objects.filter(archived_at__isnull=True)
    contacts = Contact.objects.filter(archived_at__isnull=True)
    if customer_ids is not None:
        ids = list(customer_ids)
        customers, contacts = customers.filter(pk__in=ids), contacts.filter(customer_id__in=ids)
    # The JSON as text, decoded only where there is something in it (most customers have no custom fields).
    rows = (customers.annotate(custom_text=Cast("custom", TextField())).order_by("pk")
            .values_list(*READ_COLUMNS).iterator(chunk_size=BATCH))
    contact_rows = (contacts.order_by("customer_id", "pk").values_list(*CONTACT_COLUMNS)
                    .iterator(chunk_size=BATCH))
    pending = next(contact_rows, None)
    empty: tuple = ()
    for row in rows:
        pk = row[0]
        while pending is not None and pending[0] < pk:  # contacts of archived or unlisted customers
            pending = next(contact_rows, None)
        theirs = empty
        if pending is not None and pending[0] == pk:
            theirs = []
            while pending is not None and pending[0] == pk:
                theirs.append(pending[1:])
                pending = next(contact_rows, None)
        custom_text = row[CUSTOM]
        custom = json.loads(custom_text) if custom_text and custom_text != "{}" else None
        yield record_from_values(*row[:CUSTOM], custom, *row[CUSTOM + 1:], theirs)


def _not_duplicates() -> set[tuple[str, str]]:
    return {(str(a), str(b)) for a, b in NotDuplicatePair.objects.values_list("left_id", "right_id")}


def find_groups(records: Iterable[Record]) -> list[dict]:
    """Groups to propose: clusters of "same" records, and "review" pairs that no cluster holds already.

    `records` may be an iterator (the scan's read): the engine prepares them as they come.
    """
    dismissed = _not_duplicates()

    def labelled_different(m: Match) -> bool:
        return (m.left, m.right) in dismissed or (m.right, m.left) in dismissed

    prepared = prepare_all(records)  # once, for both the matching and the clustering
    # Both take the prepared records as they are; each carries its record's id, all clustering needs.
    matches = [m for m in find_matches(prepared, prepared=prepared) if not labelled_different(m)]
    # A labelled pair scores 0 for the clustering, so a third record cannot pull the two together.
    labelled = [Match(left=a, right=b, score=0.0, decision="different", evidence=()) for a, b in dismissed]
    clusters = cluster(prepared, matches=matches + labelled, prepared=prepared, singletons=False)
    del prepared
    home = {rid: i for i, c in enumerate(clusters) if len(c) > 1 for rid in c}
    by_cluster: dict[int, list[Match]] = {}
    groups = []
    for m in matches:
        i, j = home.get(m.left), home.get(m.right)
        if i is not None and i == j:
            by_cluster.setdefault(i, []).append(m)
        elif m.decision == "review":
            groups.append({"ids": [int(m.left), int(m.right)], "decision": "review", "score": m.score,
                           "pairs": [evidence_json(m)]})
    for i, pairs in by_cluster.items():
        groups.append({"ids": sorted(int(r) for r in clusters[i]), "decision": "same",
                       "score": max(p.score for p in pairs), "pairs": [evidence_json(p) for p in pairs]})
    return groups


CHUNK = 1000


def _chunks(items: list) -> Iterator[list]:
    size = CHUNK
    for start in range(0, len(items), size):
        yield items[start:start + size]


def persist_groups(groups: list[dict], *, remove_stale: bool = True) -> dict[str, int]:
    """Write the scan's groups set-wise; idempotent (a second run with the same data changes nothing).

    Bounded statements throughout (chunks of CHUNK ids), so a million customers' worth of groups never
    sends one query with more parameters than SQLite takes. `remove_stale=False` when `groups` come from
    a part of the customers only (open groups elsewhere are then kept).
    """
    open_status = DuplicateGroup.Status.OPEN
    for group in groups:
        group["signature"] = signature(group["ids"])
    found = {g["signature"]: g for g in groups}
    existing: dict[str, tuple[int, str]] = {}
    for pk, sig, status in DuplicateGroup.objects.order_by("pk").values_list("pk", "signature", "status").iterator(
            chunk_size=10_000):
        if sig not in existing or status == open_status:  # a decided group never hides an open one
            existing[sig] = (pk, status)
    with transaction.atomic():
        stale = [pk for sig, (pk, status) in existing.items()
                 if remove_stale and status == open_status and sig not in found]
        for chunk in _chunks(stale):
            DuplicateMember.objects.filter(group_id__in=chunk).delete()
            DuplicateGroup.objects.filter(pk__in=chunk).delete()
        seen = {existing[sig][0]: g for sig, g in found.items()
                if sig in existing and existing[sig][1] == open_status}
        changed = []
        for chunk in _chunks(list(seen)):
            for row in DuplicateGroup.objects.filter(pk__in=chunk):
                group = seen[row.pk]
                score = round(group["score"], 4)
                if row.score != score or row.decision != group["decision"] or row.pairs != group["pairs"]:
                    row.score, row.decision, row.pairs = score, group["decision"], group["pairs"]
                    changed.append(row)
        DuplicateGroup.objects.bulk_update(changed, ["score", "decision", "pairs"], batch_size=CHUNK)
        new = [g for sig, g in found.items() if sig not in existing]
        rows = DuplicateGroup.objects.bulk_create(
            [DuplicateGroup(signature=g["signature"], decision=g["decision"], score=round(g["score"], 4),
                            size=len(g["ids"]), pairs=g["pairs"]) for g in new], batch_size=CHUNK)
        if rows and rows[0].pk is None:  # backends that do not return keys from a bulk insert
            ids = {}
            for chunk in _chunks([g["signature"] for g in new]):
                ids.update(DuplicateGroup.objects.filter(signature__in=chunk, status=open_status)
                           .values_list("signature", "pk"))
            for row in rows:
                row.pk = ids[row.signature]
        DuplicateMember.objects.bulk_create(
            [DuplicateMember(group_id=row.pk, customer_id=cid) for row, g in zip(rows, new, strict=True)
             for cid in g["ids"]], batch_size=5000)
    return {"groups": len(groups), "new": len(new), "updated": len(changed), "removed": len(stale),
            "same": sum(1 for g in groups if g["decision"] == "same"),
            "review": sum(1 for g in groups if g["decision"] == "review")}


def _read_in_one_snapshot() -> Iterator[Record]:
    """customer_records() in one transaction on PostgreSQL, ended when the read runs out: customers and
    contacts from one snapshot, and server-side cursors not held (materialised) past a commit; not
    through the matching after it. On SQLite no transaction: there `atomic()` is BEGIN IMMEDIATE,
    which would hold the write lock, and every other writer would wait, for the whole read."""
    if connection.vendor != "postgresql":
        yield from customer_records()
        return
    with transaction.atomic():
        yield from customer_records()


def duplicate_scan(*, today: dt.date | None = None, timings: dict[str, float] | None = None) -> dict[str, int]:
    """The whole database: read, match, cluster, persist. Returns counts for the job's run record.

    The engine prepares the customers while they are read (both cores busy instead of one), so the phases
    overlap: `timings`, if given, receives the wall seconds until the last customer was read ("read"),
    from then until the groups were found ("engine"), and the writing ("write").
    """
    timings = {} if timings is None else timings
    start = time.perf_counter()
    read = 0

    def counted(records: Iterator[Record]) -> Iterator[Record]:
        nonlocal read
        for read, record in enumerate(records, 1):  # noqa: B007 (the count is read afterwards)
            yield record
        timings["read"] = time.perf_counter() - start

    # The cyclic garbage collector stays off throughout: between the engine's calls it walked the
    # million records again and again.
    with collector_paused():
        groups = find_groups(counted(_read_in_one_snapshot()))
        timings["engine"] = time.perf_counter() - start - timings["read"]
        start = time.perf_counter()
        counts = persist_groups(groups)
        timings["write"] = time.perf_counter() - start
    return {"customers": read, **counts}
