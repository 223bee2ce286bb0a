"""The duplicate check of incoming rows (an import): each row against the existing customers and the
other rows of the file, cheap enough for a million rows.

Per batch of rows:
1. each row's indexed keys are collected: its canonical name variants (as the create/edit check makes
   them, selectors.canonical_name_variants), its mobile and phone numbers (of the customer and its
   contact) and an organisation's credit code;
2. the existing customers holding any of those keys are read with a few set-wise queries on the
   indexed columns (name_norm, mobile_norm, phone_norm, credit_code_norm), not one query per row;
3. earlier rows are found through an in-memory key → row map;
4. only the candidate pairs are scored by the matching engine; "same" and "review" pairs are kept.

An import writes each batch before checking the next one, so rows of earlier batches are existing
customers by then and the database lookup finds them; `IncomingCheck(remember=True)` (a dry run, which
writes nothing) keeps the map across batches instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from qianke.accounts.models import User
from qianke.core import normalize
from qianke.customers.models import Contact, Customer
from qianke.dedupe.matching import Match, Prepared, Record, customer_record, prepare, scoring
from qianke.dedupe.selectors import CANDIDATES_PER_KEY, RECORD_FIELDS, canonical_name_variants

# Candidates kept per row (best first), and ids per IN (...) query (SQLite's parameter limit).
MATCHES_PER_ROW = 5
CHUNK = 900
CUSTOMER_COLUMNS = ("id", *RECORD_FIELDS, "name_norm", "mobile_norm", "phone_norm")
CONTACT_COLUMNS = ("customer_id", "name", "phone", "mobile", "email")
PHONE_MIN_DIGITS = 7


@dataclass
class IncomingRow:
    """One incoming row as it will be stored: customer values (RECORD_FIELDS) and its contacts."""

    key: int  # the row number in the file
    values: dict[str, Any]
    name_norm: str = ""
    contacts: list[dict[str, Any]] = field(default_factory=list)
    # Canonical numbers when the caller has them already (an import's cleaned mobile_norm and
    # phone_norm): (mobiles, all numbers); else they are computed from the raw values.
    numbers: tuple[set[str], set[str]] | None = None
    variants: frozenset[str] | None = None  # name variants, when the caller has them already

    @property
    def kind(self) -> str:
        return self.values.get("kind") or "organization"


@dataclass(frozen=True)
class Hit:
    """A match of an incoming row: an existing customer (customer_id) or an earlier row (other_row)."""

    row: int
    match: Match
    customer_id: int | None = None
    other_row: int | None = None

    @property
    def decision(self) -> str:
        return self.match.decision

    @property
    def score(self) -> float:
        return self.match.score


def _phone_keys(values: Iterable[str | None]) -> set[str]:
    keys = {normalize.phone_key(v) for v in values if v}
    return {k for k in keys if len(k) >= PHONE_MIN_DIGITS}


_VARIANTS: dict[tuple[str, str, str], frozenset[str]] = {}
_VARIANTS_LIMIT = 20_000  # about 1 KB an entry; names that repeat in a list tend to repeat close by


def _variants(name: str, name_norm: str, kind: str) -> frozenset[str]:
    """Name variants, cached: imported names repeat (and parsing a company name is the dear part)."""
    key = (name, name_norm, kind)
    found = _VARIANTS.get(key)
    if found is None:
        found = frozenset(canonical_name_variants(name, name_norm, kind))
        if len(_VARIANTS) >= _VARIANTS_LIMIT:
            _VARIANTS.clear()
        _VARIANTS[key] = found
    return found


def row_keys(row: IncomingRow) -> tuple[frozenset[str], set[str], set[str]]:
    """(name variants, mobile numbers, all numbers) of a row: the keys looked up in the indexes."""
    values = row.values
    if row.numbers is not None:
        mobiles, phones = row.numbers
    else:
        mobiles = _phone_keys([values.get("mobile"), *(c.get("mobile") for c in row.contacts)])
        phones = _phone_keys([values.get("phone"), *(c.get("phone") for c in row.contacts)]) | mobiles
    variants = row.variants
    if variants is None:
        variants = _variants(values.get("name") or "", row.name_norm, row.kind)
    return variants, mobiles, phones


def _credit_code(row: IncomingRow) -> str:
    """An organisation row's canonical credit code (cleaned values hold credit_code_norm), or ""."""
    return row.values.get("credit_code_norm") or "" if row.kind == "organization" else ""


def name_variants(values: dict[str, Any]) -> frozenset[str]:
    """The canonical name variants of cleaned customer values (name, name_norm, kind)."""
    return _variants(
        values.get("name") or "", values.get("name_norm") or "", values.get("kind") or "organization"
    )


def numbers_of(values: dict[str, Any], contacts: Iterable[dict[str, Any]]) -> tuple[set[str], set[str]]:
    """(mobiles, all numbers) from cleaned values that hold mobile_norm and phone_norm."""
    mobiles = {
        v
        for v in [values.get("mobile_norm"), *(c.get("mobile_norm") for c in contacts)]
        if v and len(v) >= PHONE_MIN_DIGITS
    }
    phones = {
        v.split("-")[0] for v in [values.get("phone_norm"), *(c.get("phone_norm") for c in contacts)] if v
    }
    return mobiles, {p for p in phones if len(p) >= PHONE_MIN_DIGITS} | mobiles


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _record(row: IncomingRow) -> Record:
    data = {f: row.values.get(f) for f in RECORD_FIELDS}
    for key in RECORD_FIELDS:
        if data[key] is None and key != "birthday":
            data[key] = {} if key == "custom" else ""
    data["kind"] = row.kind
    contacts = [
        SimpleNamespace(**{k: c.get(k) or "" for k in ("name", "phone", "mobile", "email")})
        for c in row.contacts
    ]
    return customer_record(SimpleNamespace(pk=f"row{row.key}", **data), contacts)


_CONTACT_KEYS = ("name", "phone", "mobile", "email")


def _slim(row: IncomingRow) -> IncomingRow:
    """What a later comparison needs of a row kept for the whole file (a dry run): its record's values."""
    return IncomingRow(
        key=row.key,
        values={f: row.values.get(f) for f in RECORD_FIELDS if row.values.get(f) not in (None, "", {})},
        name_norm=row.name_norm,
        contacts=[{k: c.get(k) for k in _CONTACT_KEYS if c.get(k)} for c in row.contacts],
    )


class IncomingCheck:
    """Checks batches of incoming rows; `remember`: keep earlier batches' rows in memory (dry run)."""

    def __init__(self, *, remember: bool = False, limit: int = MATCHES_PER_ROW) -> None:
        self.remember = remember
        self.limit = limit
        self._by_key: dict[str, list[int]] = {}
        self._prepared: dict[int, Prepared] = {}
        self._rows: dict[int, IncomingRow] = {}
        self.pairs_scored = 0

    # -- existing customers ----------------------------------------------------------------------

    @staticmethod
    def _existing_keys(names: set[str], mobiles: set[str], phones: set[str],
                       codes: set[str] | frozenset[str] = frozenset()) -> list[tuple]:
        """(id, kind, name_norm, mobile_norm, phone_norm, credit_code_norm) of the active customers
        holding any key."""
        if not (names or mobiles or phones or codes):
            return []
        if connection.vendor == "postgresql":
            # One statement (a bitmap OR of the indexes) with each key list as one text split on the
            # server: IN lists or arrays of thousands of values cost more to quote on the client
            # (Django binds parameters client-side) than the lookup costs on the server. The credit
            # codes only when there are any, with the partial index's condition spelled out so that
            # the planner uses it for a long list too.
            by_code = ("OR (credit_code_norm <> '' AND credit_code_norm = ANY(string_to_array(%s, chr(31))))"
                       if codes else "")
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id, kind, name_norm, mobile_norm, phone_norm, credit_code_norm "
                    f"FROM {Customer._meta.db_table} "
                    "WHERE archived_at IS NULL AND (name_norm = ANY(string_to_array(%s, chr(31))) "
                    "OR mobile_norm = ANY(string_to_array(%s, chr(31))) "
                    f"OR phone_norm = ANY(string_to_array(%s, chr(31))) {by_code})",
                    [
                        "\x1f".join(sorted(k.replace("\x1f", "") for k in keys))
                        for keys in (names, mobiles, phones, *([codes] if codes else []))
                    ],
                )
                return cursor.fetchall()
        base: QuerySet = Customer.objects.filter(archived_at__isnull=True).order_by()
        found: dict[int, tuple] = {}
        for column, keys in (("name_norm", names), ("mobile_norm", mobiles), ("phone_norm", phones),
                             ("credit_code_norm", codes)):
            # The credit codes' partial index: SQLite uses it when the query spells out its condition.
            rows = base.exclude(credit_code_norm="") if column == "credit_code_norm" else base
            for chunk in _chunks(sorted(keys)):
                for values in rows.filter(**{f"{column}__in": chunk}).values_list(
                    "id", "kind", "name_norm", "mobile_norm", "phone_norm", "credit_code_norm"
                ):
                    found[values[0]] = values
        return list(found.values())

    @staticmethod
    def _existing_prepared(ids: set[int]) -> dict[int, Prepared]:
        """Engine records of these customers (the candidates only), with their contacts."""
        values: dict[int, dict[str, Any]] = {}
        contacts: dict[int, list[SimpleNamespace]] = {}
        for chunk in _chunks(sorted(ids)):
            for row in Customer.objects.filter(pk__in=chunk).order_by().values("id", *RECORD_FIELDS):
                values[row["id"]] = row
            for contact in (
                Contact.objects.filter(customer_id__in=chunk, archived_at__isnull=True)
                .order_by()
                .values(*CONTACT_COLUMNS)
            ):
                contacts.setdefault(contact["customer_id"], []).append(SimpleNamespace(**contact))
        return {
            cid: prepare(
                customer_record(
                    SimpleNamespace(pk=cid, **{f: row[f] for f in RECORD_FIELDS}),
                    contacts.get(cid, []),
                )
            )
            for cid, row in values.items()
        }

    # -- the batch -------------------------------------------------------------------------------

    def check(self, rows: list[IncomingRow]) -> dict[int, list[Hit]]:
        """{row number: its matches ("same" or "review"), best first} for the rows that have any."""
        keyed = [(row, *row_keys(row)) for row in rows]
        all_names: set[str] = set()
        all_mobiles: set[str] = set()
        all_phones: set[str] = set()
        for _row, names, mobiles, phones in keyed:
            all_names |= names
            all_mobiles |= mobiles
            all_phones |= phones
        codes = {row.key: code for row, *_keys in keyed if (code := _credit_code(row))}
        kinds: dict[int, str] = {}
        index: dict[str, list[int]] = {}
        for cid, kind, name_norm, mobile_norm, phone_norm, credit_code in self._existing_keys(
            all_names, all_mobiles, all_phones, set(codes.values())
        ):
            kinds[cid] = kind
            for key in {"n" + name_norm, "t" + mobile_norm, "t" + phone_norm.split("-")[0], "c" + credit_code}:
                if len(key) > 1:
                    index.setdefault(key, []).append(cid)
        # The same cap per key as the create/edit check: a switchboard number shared by hundreds of
        # customers says little and would cost hundreds of comparisons per row.
        for key, ids in index.items():
            if len(ids) > CANDIDATES_PER_KEY:
                index[key] = sorted(ids)[:CANDIDATES_PER_KEY]
        wanted: dict[int, tuple[set[int], set[int]]] = {}
        if not self.remember:
            self._by_key.clear()
            self._prepared.clear()
            self._rows.clear()
        for row, names, _mobiles, phones in keyed:
            keys = {"n" + n for n in names} | {"t" + p for p in phones}
            if row.key in codes:
                keys.add("c" + codes[row.key])
            customers = {cid for key in keys for cid in index.get(key, ()) if kinds[cid] == row.kind}
            earlier = {
                other
                for key in keys
                for other in self._by_key.get(key, ())
                if self._rows[other].kind == row.kind
            }
            if customers or earlier:
                wanted[row.key] = (customers, earlier)
            self._rows[row.key] = _slim(row) if self.remember else row
            for key in keys:
                bucket = self._by_key.setdefault(key, [])
                if len(bucket) < CANDIDATES_PER_KEY:
                    bucket.append(row.key)
        if not wanted:
            return {}
        existing = self._existing_prepared({cid for c, _e in wanted.values() for cid in c})
        hits: dict[int, list[Hit]] = {}
        for number, (customers, earlier) in wanted.items():
            mine = self._prepare(number)
            row_hits = []
            for cid in customers & existing.keys():
                match = scoring.score_pair(mine, existing[cid])
                if match.decision != "different":
                    row_hits.append(Hit(row=number, match=match, customer_id=cid))
            for other in earlier:
                match = scoring.score_pair(mine, self._prepare(other))
                if match.decision != "different":
                    row_hits.append(Hit(row=number, match=match, other_row=other))
            self.pairs_scored += len(customers) + len(earlier)
            if row_hits:
                row_hits.sort(key=lambda h: (-h.score, h.customer_id or 0, h.other_row or 0))
                hits[number] = row_hits[: self.limit]
        return hits

    def _prepare(self, number: int) -> Prepared:
        prepared = self._prepared.get(number)
        if prepared is None:
            prepared = self._prepared[number] = prepare(_record(self._rows[number]))
        return prepared

    def forget(self, numbers: Iterable[int]) -> None:
        """Rows that were not kept (skipped as duplicates): later rows do not meet them again."""
        gone = set(numbers)
        if not gone:
            return
        for key, bucket in list(self._by_key.items()):
            if gone.intersection(bucket):
                self._by_key[key] = [n for n in bucket if n not in gone]
        for number in gone:
            self._rows.pop(number, None)
            self._prepared.pop(number, None)


def visible_ids(user: User, ids: Iterable[int]) -> set[int]:
    """The ids among these customers that the user may see."""
    ids = sorted(set(ids))
    seen: set[int] = set()
    for chunk in _chunks(ids):
        seen.update(Customer.objects.visible_to(user).filter(pk__in=chunk).values_list("pk", flat=True))
    return seen


def agreeing_roles(match: Match) -> list[str]:
    """The roles that agreed (positive weight), strongest first, each once."""
    roles = []
    for evidence in sorted(match.evidence, key=lambda e: -e.weight):
        if evidence.weight > 0 and evidence.role not in roles:
            roles.append(evidence.role)
    return roles


def evidence_pair(match: Match, left: int, right: int) -> dict[str, Any]:
    """A pair as a duplicate group stores it (the scan's format), with the customers' ids."""
    from qianke.dedupe.jobs import evidence_rows

    return {
        "left": left,
        "right": right,
        "score": round(match.score, 4),
        "decision": match.decision,
        "evidence": evidence_rows(match),
    }


def groups_create(*, import_job: Any, found: list[tuple[int, list[tuple[int, Match]]]]) -> int:
    """Open duplicate groups for flagged rows, linked to the import: per row, its new customer with the
    customers it matched, each pair with its evidence. A group whose members form an open group already
    (same signature) is not added twice. Returns the number of groups written."""
    from qianke.dedupe.jobs import signature
    from qianke.dedupe.models import DuplicateGroup, DuplicateMember

    groups = []
    for customer_id, matches in found:
        if not matches:
            continue
        ids = sorted({customer_id, *(other for other, _m in matches)})
        best = max(matches, key=lambda item: item[1].score)[1]
        decision = "same" if any(m.decision == "same" for _o, m in matches) else "review"
        groups.append(
            DuplicateGroup(
                signature=signature(ids),
                decision=decision,
                score=round(best.score, 4),
                size=len(ids),
                pairs=[evidence_pair(m, customer_id, other) for other, m in matches],
                import_job=import_job,
            )
        )
        groups[-1].member_ids = ids
    if not groups:
        return 0
    taken = set()
    for chunk in _chunks([g.signature for g in groups]):
        taken.update(
            DuplicateGroup.objects.filter(signature__in=chunk, status=DuplicateGroup.Status.OPEN).values_list(
                "signature", flat=True
            )
        )
    groups = [g for g in groups if g.signature not in taken]
    members = [g.member_ids for g in groups]
    rows = DuplicateGroup.objects.bulk_create(groups, batch_size=CHUNK)
    if rows and rows[0].pk is None:  # backends that do not return keys from a bulk insert
        ids = {}
        for chunk in _chunks([g.signature for g in rows]):
            ids.update(
                DuplicateGroup.objects.filter(
                    signature__in=chunk, status=DuplicateGroup.Status.OPEN
                ).values_list("signature", "pk")
            )
        for row in rows:
            row.pk = ids[row.signature]
    DuplicateMember.objects.bulk_create(
        [
            DuplicateMember(group_id=row.pk, customer_id=cid)
            for row, ids in zip(rows, members, strict=True)
            for cid in ids
        ],
        batch_size=5000,
    )
    return len(rows)
