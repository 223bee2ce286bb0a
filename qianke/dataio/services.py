"""Writes of the dataio app: create, run and undo imports; record exports.

The import's fast path is the demo generator's: rows become parameter lists written with
executemany in batches (one transaction each, BATCH_SIZE rows), ids taken in blocks, codes from
CodeSequence in blocks, search rows written beside the customers and, for large files, the
full-text index rebuilt once at the end (customers.search.bulk_index_suspended).

Kill-and-resume: each batch writes its records, its ledger rows (ImportedRow), its rejected rows and
the job's checkpoint in one transaction. A killed run leaves whole batches; the next run continues
after the checkpoint. In "atomic" mode everything is one transaction: a killed run leaves nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import gc
import itertools
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import F, ProtectedError, Q, RestrictedError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from qianke.accounts.models import Role, User
from qianke.activities.models import Activity
from qianke.core import normalize
from qianke.core.audit import audit_record, current_audit_source
from qianke.core.bulk import collector_paused, execute_rows
from qianke.core.bulk_indexes import (
    add_missing_keys,
    if_not_exists,
    key_names,
    key_not_validated_message,
    restore_suspended_indexes,
    suspend_foreign_keys,
    suspend_plain_indexes,
)
from qianke.core.codes import allocate_codes
from qianke.core.demo import BulkTable
from qianke.core.errors import Conflict, NeedsConfirmation, NotFound, PermissionDenied, ValidationFailed
from qianke.core.models import AuditLog
from qianke.customers import search
from qianke.customers.models import Contact, Customer, CustomerSearch, StatusChange, Tag
from qianke.customers.services import (
    CODE_PREFIX,
    assignable_owners,
    customer_search_sync,
)
from qianke.dataio import reader
from qianke.dataio.fastpinyin import word_pinyin
from qianke.dataio.mapping import detect_mapping, resolve_mapping
from qianke.dataio.models import ImportedRow, ImportJob, ImportRejection
from qianke.dataio.rows import PreparedRow, RowError, RowPreparer
from qianke.dataio.selectors import sees_every_import
from qianke.dedupe.incoming import (
    Hit,
    IncomingCheck,
    IncomingRow,
    agreeing_roles,
    groups_create,
    name_variants,
    numbers_of,
    visible_ids,
)

BATCH_SIZE = 2_000
# From this many rows the full-text index is rebuilt once after the load (see module docstring).
BULK_INDEX_FROM = 50_000
# A running import whose worker has not written a batch for this long is taken over.
STALE_AFTER = dt.timedelta(minutes=10)
IMPORTS_JOB = "dataio.imports"  # the worker's job that runs queued imports (registered in apps.py)
IMPORTING_ROLES = frozenset({Role.ADMIN, Role.INFO, Role.GM, Role.MANAGER, Role.SALES})
Status = ImportJob.Status
Mode = ImportJob.Mode
Duplicates = ImportJob.Duplicates

ProgressFn = Callable[[int, int], None]


def import_dir() -> Path:
    path = Path(settings.QIANKE_HOME) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def may_import(user: User) -> bool:
    """Administrators, specialists, the GM and managers import for others; reps import for themselves."""
    return bool(user and user.is_authenticated and (user.role in IMPORTING_ROLES or user.is_superuser))


def may_import_for_others(user: User) -> bool:
    return user.sees_all_customers or user.role == Role.MANAGER


def _require_importer(actor: User) -> None:
    if not may_import(actor):
        raise PermissionDenied(_("You may not import customers."))


# ---------------------------------------------------------------------------------------------
# Creating an import
# ---------------------------------------------------------------------------------------------


def _resolve_owner(actor: User, owner: User | str | None) -> User | None:
    if owner in (None, ""):
        return None
    if isinstance(owner, str):
        users = assignable_owners(actor)
        found = users.filter(username=owner).first() or users.filter(full_name=owner).order_by("id").first()
    else:
        found = assignable_owners(actor).filter(pk=owner.pk).first()
    if found is None:
        raise ValidationFailed({"owner": [_("There is no user “%(name)s” you may make the owner.")
                                          % {"name": owner}]})
    return found


def _check_pool(actor: User, pool_name: str) -> None:
    if not pool_name:
        return
    if not may_import_for_others(actor):
        raise PermissionDenied(_("Only managers, specialists and administrators import into a public pool."))
    from qianke.pool.selectors import pool_get_by_name

    try:
        pool = pool_get_by_name(pool_name)
    except NotFound:
        pool = None
    if pool is None:
        raise ValidationFailed({"pool": [_("There is no public pool “%(name)s”.") % {"name": pool_name}]})


class AlreadyImported(NeedsConfirmation):
    """import_create(again=False) of a file the same user has imported already (and not undone)."""

    code = "already_imported"

    def __init__(self, job: ImportJob) -> None:
        self.job = job
        values = {"id": job.pk, "date": f"{timezone.localtime(job.created_at):%Y-%m-%d %H:%M}"}
        if job.status == Status.DONE:
            message = _("This file was imported already (import #%(id)s of %(date)s); importing it again "
                        "creates its customers once more. Confirm that you want to import it again.") % values
        else:  # queued, running, or failed part-way with rows written: both would create the same customers
            message = _("This file is being imported already (import #%(id)s of %(date)s, not finished); "
                        "importing it again creates its customers once more. Wait for that import or continue "
                        "it, or confirm that you want to import the file again.") % values
        super().__init__(message, extra={"import_id": job.pk})


def import_create(
    *, actor: User, path: Path, file_name: str, mapping: dict[str, str] | None = None, mode: str = Mode.PARTIAL,
    sheet: str = "", owner: User | str | None = None, pool_name: str = "", copy: bool = True,
    claim: bool = False, duplicates: str = Duplicates.FLAG, again: bool = False,
) -> ImportJob:
    """Check the file, the mapping and the options and record a queued import.

    A file the actor has imported already (same content and sheet, not undone), or is importing (queued,
    running, or failed part-way and continuable), raises AlreadyImported unless `again`: its customers
    would be created twice.

    `mapping` holds the user's overrides of the detected mapping ({field: column}; "" unmaps).
    The file is copied under QIANKE_HOME/imports (moved when copy=False). `claim`: the caller runs it
    at once (the CLI), so it is recorded as running and the worker leaves it alone. `duplicates`: "flag"
    imports rows that look like existing customers (or other rows) and lists them for review; "skip"
    rejects those the engine takes for the same customer (and still flags the ones to review).
    """
    _require_importer(actor)
    if mode not in Mode.values:
        raise ValidationFailed({"mode": [_("Choose one of: %(options)s.") % {"options": ", ".join(Mode.values)}]})
    _check_duplicates_option(duplicates)
    if owner not in (None, "", actor, actor.username) and not may_import_for_others(actor):
        raise PermissionDenied(_("Sales reps import customers for themselves only."))
    owner_user = _resolve_owner(actor, owner)
    if pool_name and owner_user is not None:
        raise ValidationFailed({"pool": [_("Customers go either to an owner or into a public pool, not both.")]})
    _check_pool(actor, pool_name)
    table = reader.open_table(Path(path), sheet=sheet)
    resolved = resolve_mapping(table.headers, mapping)
    digest = reader.sha256_of(Path(path))
    if not again:
        previous = import_find_previous(actor=actor, path=path, sheet=sheet, digest=digest)
        if previous is not None:
            raise AlreadyImported(previous)
    stored = import_dir() / f"{uuid.uuid4().hex}{Path(file_name).suffix.lower()[:10]}"
    if copy:
        shutil.copyfile(path, stored)
    else:
        shutil.move(str(path), stored)
    now = timezone.now()
    job = ImportJob.objects.create(
        actor=actor, file_name=Path(file_name).name[:255], file_path=str(stored), file_sha256=digest,
        sheet=sheet, headers=table.headers, mapping=resolved, mode=mode, owner=owner_user, pool_name=pool_name,
        duplicates=duplicates, total_rows=table.total, status=Status.RUNNING if claim else Status.QUEUED,
        language=translation.get_language() or "",
        started_at=now if claim else None, heartbeat_at=now if claim else None,
    )
    if not claim:
        _wake_worker(actor)
    return job


def _wake_worker(actor: User) -> None:
    """The worker runs queued imports at its next queue round (seconds), not its next minute slot."""
    from qianke.jobs.services import job_wake

    # robust: the import is recorded either way; the worker's minute slot still finds it.
    transaction.on_commit(lambda: job_wake(name=IMPORTS_JOB, requested_by=actor), robust=True)


def _check_duplicates_option(duplicates: str) -> None:
    if duplicates not in Duplicates.values:
        raise ValidationFailed({"duplicates": [_("Choose one of: %(options)s.")
                                               % {"options": ", ".join(Duplicates.values)}]})


# Imports that created or will create their file's customers: done (not undone), or unfinished (queued,
# running, or failed part-way and continuable).
_UNFINISHED = Q(status__in=(Status.QUEUED, Status.RUNNING)) | Q(status=Status.FAILED, can_continue=True)
_CREATED_OR_UNFINISHED = Q(status=Status.DONE) | _UNFINISHED


def _newest_import_of(condition: Q, *, actor: User, path: Path, sheet: str, digest: str) -> ImportJob | None:
    """The actor's newest import of the same file (same content and sheet) that meets `condition`.
    `digest`: the file's sha256 when the caller has it."""
    digest = digest or reader.sha256_of(Path(path))
    return (ImportJob.objects.filter(condition, actor=actor, file_sha256=digest, sheet=sheet)
            .order_by("-id").first())


def import_find_resumable(*, actor: User, path: Path, sheet: str = "", digest: str = "") -> ImportJob | None:
    """An unfinished import of the same file (same content) by the same user: the one to continue."""
    return _newest_import_of(_UNFINISHED, actor=actor, path=path, sheet=sheet, digest=digest)


def _preparer_for(*, actor: User, path: Path, mapping: dict[str, str] | None, sheet: str,
                  owner: User | str | None, pool_name: str, count: bool = True):
    _check_pool(actor, pool_name)  # a dry run or a preview refuses what the import would
    table = reader.open_table(Path(path), sheet=sheet, count=count)
    resolved = resolve_mapping(table.headers, mapping)
    owner_user = _resolve_owner(actor, owner)
    preparer = RowPreparer(actor=actor, headers=table.headers, mapping=resolved, owner=owner_user,
                           unowned=bool(pool_name))
    return table, resolved, preparer


def _stored_values(row: PreparedRow, mapping: dict[str, str]) -> dict[str, Any]:
    """What will be stored for each mapped field (the canonical forms beside what was typed)."""
    values: dict[str, Any] = {}
    customer = row.customer or {}
    for target in mapping:
        prefix, _sep, name = target.rpartition(".")
        if prefix == "contact":
            values[target] = (row.contact or {}).get(name, "")
        elif prefix == "activity":
            values[target] = (row.activity or {}).get(name, "")
        elif prefix == "custom":
            values[target] = customer.get("custom", {}).get(name, "")
        elif target == "owner":
            values[target] = customer.get("owner_id")
        elif target == "tags":
            values[target] = "、".join(row.tags)
        elif target == "code":
            values[target] = row.code
        else:
            values[target] = customer.get(name, "")
    # Province, city and district read from the address (customers.services fills the empty ones).
    for division in ("province", "city", "district"):
        if division not in values and customer.get(division):
            values[division] = customer[division]
    for canonical in ("name_norm", "mobile_norm", "phone_norm", "credit_code_norm"):
        if customer.get(canonical):
            values[canonical] = customer[canonical]
    return values


def import_columns(*, path: Path, sheet: str = "") -> dict[str, Any]:
    """The file's columns with a few sample cells each, the detected mapping, its sheets and row count."""
    table = reader.open_table(Path(path), sheet=sheet)
    samples: dict[int, list[str]] = {}
    for _number, cells in itertools.islice(table.rows, 3):
        for index, cell in enumerate(cells):
            samples.setdefault(index, []).append(cell)
    return {"headers": table.headers, "mapping": detect_mapping(table.headers), "sheets": table.sheets,
            "total": table.total, "samples": samples}


def import_preview(*, actor: User, path: Path, mapping: dict[str, str] | None = None, sheet: str = "",
                   owner: User | str | None = None, pool_name: str = "", limit: int = 10,
                   duplicates: str = Duplicates.FLAG) -> dict[str, Any]:
    """The first `limit` rows as they will be stored, with their errors and the duplicates they look
    like ("duplicates": [text], "skip": True when the policy would skip the row); nothing is written."""
    _require_importer(actor)
    _check_duplicates_option(duplicates)
    table, resolved, preparer = _preparer_for(actor=actor, path=path, mapping=mapping, sheet=sheet, owner=owner,
                                              pool_name=pool_name)
    batch = list(itertools.islice(table.rows, limit))
    run = _Run(ImportJob(mode=Mode.PARTIAL, duplicates=duplicates), actor, preparer, None,  # type: ignore[arg-type]
               remember=True)
    # The import's own checks (codes looked up, the duplicate policy), so the preview shows what it rejects.
    prepared, rejected = run.prepare(batch)
    checked = {r.number: r for r in prepared} | run._batch_rows
    errors = {r["row_number"]: r["errors"] for r in rejected}
    rows = []
    for number, cells in batch:
        row = {"number": number, "cells": cells, "values": {}, "errors": {}, "duplicates": [], "skip": False}
        if number in run.skipped_numbers:
            row["duplicates"] = [m for messages in errors[number].values() for m in messages]
            row["skip"] = True
        elif number in errors:
            row["errors"] = errors[number]
        elif number in run.flags:
            row["duplicates"] = [run.describe(h) for h in run.flags[number]]
        if not row["errors"] and number in checked:
            row["values"] = _stored_values(checked[number], resolved)
        rows.append(row)
    return {"headers": table.headers, "mapping": resolved, "rows": rows, "total": table.total,
            "sheets": table.sheets, "flagged": len(run.flags), "skipped": len(run.skipped_numbers)}


def import_check(*, actor: User, path: Path, mapping: dict[str, str] | None = None, sheet: str = "",
                 owner: User | str | None = None, pool_name: str = "", duplicates: str = Duplicates.FLAG,
                 progress: ProgressFn | None = None) -> dict[str, Any]:
    """A dry run over the whole file: every row validated (codes looked up) and checked for duplicates
    ("flagged": rows that would be listed for review, "skipped": rows the policy would skip, which are
    among "rejected" with their reason), nothing written."""
    _require_importer(actor)
    _check_duplicates_option(duplicates)
    table, resolved, preparer = _preparer_for(actor=actor, path=path, mapping=mapping, sheet=sheet, owner=owner,
                                              pool_name=pool_name)
    run = _Run(ImportJob(mode=Mode.PARTIAL, duplicates=duplicates), actor, preparer, None,  # type: ignore[arg-type]
               remember=True)
    valid, rejected = 0, []
    read = 0
    with collector_paused():
        for batch in _batches(table.rows, BATCH_SIZE):
            prepared, batch_rejected = run.prepare(batch)
            valid += len(prepared)
            rejected += batch_rejected
            read += len(batch)
            if progress:
                progress(read, table.total or read)
            gc.collect(1)
    return {"headers": table.headers, "mapping": resolved, "read": read, "valid": valid, "rejected": rejected,
            "flagged": run.counts["flagged"], "skipped": run.counts["skipped"], "duplicates": duplicates}


def import_find_previous(*, actor: User, path: Path, sheet: str = "", digest: str = "") -> ImportJob | None:
    """The newest import of the same file by the same user that created or will create its customers:
    done (not undone), queued, running, or failed part-way and continuable. Importing the file again
    would create every customer twice."""
    return _newest_import_of(_CREATED_OR_UNFINISHED, actor=actor, path=path, sheet=sheet, digest=digest)


# ---------------------------------------------------------------------------------------------
# Running an import
# ---------------------------------------------------------------------------------------------


class _Tables:
    def __init__(self) -> None:
        vendor = connection.vendor
        self.customer = BulkTable(Customer, vendor)
        self.contact = BulkTable(Contact, vendor)
        self.activity = BulkTable(Activity, vendor)
        self.search = BulkTable(CustomerSearch, vendor)
        self.status = BulkTable(StatusChange, vendor)
        self.ledger = BulkTable(ImportedRow, vendor)
        self.rejection = BulkTable(ImportRejection, vendor)


class _Rollback(Exception):
    pass


def _batches(rows: Iterator[tuple[int, list[str]]], size: int) -> Iterator[list[tuple[int, list[str]]]]:
    while True:
        batch = list(itertools.islice(rows, size))
        if not batch:
            return
        yield batch


def _progress_path(job: ImportJob) -> Path:
    return import_dir() / f"{job.pk}.progress"


def _write_progress(job: ImportJob, read: int, total: int | None) -> None:
    """Progress beside the database: an atomic import's counts are invisible until it commits."""
    path = _progress_path(job)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(f"{read} {total or 0}")
    os.replace(tmp, path)


def read_progress(job: ImportJob) -> int | None:
    try:
        return int(_progress_path(job).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _utc(value):
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC)
    return value


def _search_row(customer: dict[str, Any], contacts: list[dict[str, Any]],
                parts: dict[str, str] | None = None) -> dict[str, Any]:
    """The customer's search entry, token for token as customers.services.customer_search_document
    makes it. All but the codes' tokens (customer code and credit code; `parts`, see _search_parts) may
    come computed already, by a worker process before the code was allocated."""
    parts = parts or _search_parts(customer, contacts)
    code = normalize.search_document(names=[], phones=[], others=[customer.get("code", ""),
                                                                  customer.get("credit_code_norm", "")])
    return {"customer_id": customer["id"], "names": parts["names"], "pinyin": parts["pinyin"],
            "digits": _joined(parts["phone_digits"], parts["email_digits"], code.digits, parts["contact_digits"]),
            "other": _joined(parts["email_other"], code.other, parts["contact_other"])}


def _joined(*texts: str) -> str:
    return " ".join(t for t in texts if t)


def _search_parts(customer: dict[str, Any], contacts: list[dict[str, Any]]) -> dict[str, str]:
    """The search entry's tokens that do not depend on the customer's code, in their order: names
    (customer, short name, contacts), phones, then the others (e-mail, [code], contacts' e-mails)."""
    doc = normalize.search_document
    names = doc(names=[customer.get("name", ""), customer.get("short_name", ""),
                       *(c.get("name", "") for c in contacts)],
                phones=[customer.get("phone", ""), customer.get("mobile", ""), customer.get("fax", ""),
                        *(v for c in contacts for v in (c.get("phone", ""), c.get("mobile", "")))], others=[])
    email = doc(names=[], phones=[], others=[customer.get("email", "")])
    contact = doc(names=[], phones=[], others=[c.get("email", "") for c in contacts])
    return {"names": names.names, "pinyin": names.pinyin, "phone_digits": names.digits,
            "email_other": email.other, "email_digits": email.digits, "contact_other": contact.other,
            "contact_digits": contact.digits}


def _set_tags(pairs: list[tuple[int, list[str]]]) -> None:
    names = sorted({n for _id, tags in pairs for n in tags})
    if not names:
        return
    Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)
    ids = dict(Tag.objects.filter(name__in=names).values_list("name", "id"))
    through = Customer.tags.through
    through.objects.bulk_create([through(customer_id=cid, tag_id=ids[n]) for cid, tags in pairs for n in tags])


# ---------------------------------------------------------------------------------------------
# Validation, in forked worker processes for large files
# ---------------------------------------------------------------------------------------------

# From this many rows to go, rows are validated (and their search names and name variants computed)
# in forked worker processes while this one looks up, checks for duplicates and writes, on machines
# with at least PARALLEL_MIN_CPUS processors. Measured on 2 shared processors (this one and the
# database server busy too), the workers used twice the CPU of validating in this process (cold
# caches per worker, pickling the rows back) and made the import slower, hence the minimum.
PARALLEL_FROM = 20_000
PARALLEL_MIN_CPUS = 4
# Batches handed out ahead of the one being written.
AHEAD = 3


def _validate_rows(preparer: RowPreparer, rows: list[tuple[int, list[str]]],
                   extras: bool = False) -> tuple[list[PreparedRow], list[dict[str, Any]]]:
    """Rows through the preparer: the valid ones and the rejected ones with their errors per column.
    `extras`: also compute the search entry's name columns and the name variants (worker processes)."""
    prepared: list[PreparedRow] = []
    rejected: list[dict[str, Any]] = []
    for number, cells in rows:
        try:
            row = preparer.prepare(number, cells)
        except RowError as exc:
            rejected.append({"row_number": number, "values": cells, "errors": exc.errors})
            continue
        if extras and row.customer is not None:
            row.search = _search_parts(row.customer, [row.contact] if row.contact else [])
            row.variants = name_variants(row.customer)
        prepared.append(row)
    return prepared, rejected


# The preparer of the running import, inherited by the forked workers (never pickled).
_WORKER_PREPARER: RowPreparer | None = None


def _validate_in_worker(rows: list[tuple[int, list[str]]]) -> tuple[list[PreparedRow], list[dict[str, Any]]]:
    try:
        return _validate_rows(_WORKER_PREPARER, rows, extras=True)  # type: ignore[arg-type]
    finally:
        # Forked while the import paused the collector (collector_paused): its young objects, as there.
        gc.collect(1)


def _detach_database() -> None:
    """In a forked worker: forget the parent's database connection without closing it (closing
    would end the parent's session on the shared socket); a query here would open its own."""
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        _INHERITED.append(conn.connection)
        conn.connection = None


_INHERITED: list = []


def _workers_for(rows_to_go: int, preparer: RowPreparer, overlapping: bool = False) -> int:
    cpus = os.cpu_count() or 1
    # An owner column is looked up in the database per distinct name: kept in this process.
    if rows_to_go < PARALLEL_FROM or "owner" in preparer.columns:
        return 0
    if cpus >= PARALLEL_MIN_CPUS:
        # This process and the database server keep two processors busy.
        return max(1, min(cpus - 2, 4))
    # Fewer processors: one worker when the batches are written beside (_Writer), where this process
    # mostly waits for the server and one worker keeps the processor busy that the server leaves.
    return 1 if overlapping and cpus >= 2 else 0


def _validated_batches(stack: contextlib.ExitStack, preparer: RowPreparer,
                       batches: Iterator[list[tuple[int, list[str]]]], rows_to_go: int, overlapping: bool = False):
    """(batch, validated or None): validated in forked workers, in order, AHEAD batches ahead."""
    global _WORKER_PREPARER
    workers = _workers_for(rows_to_go, preparer, overlapping)
    if not workers:
        for batch in batches:
            yield batch, None
        return
    import multiprocessing
    from collections import deque

    _WORKER_PREPARER = preparer
    try:
        pool = stack.enter_context(multiprocessing.get_context("fork").Pool(workers, initializer=_detach_database))
        pending: deque = deque()
        for batch in batches:
            pending.append((batch, pool.apply_async(_validate_in_worker, (batch,))))
            if len(pending) > AHEAD:
                done, result = pending.popleft()
                yield done, result.get()
        while pending:
            done, result = pending.popleft()
            yield done, result.get()
    finally:
        _WORKER_PREPARER = None


class _Run:
    def __init__(self, job: ImportJob, actor: User, preparer: RowPreparer, tables: _Tables, *,
                 remember: bool = False) -> None:
        self.job = job
        self.actor = actor
        self.preparer = preparer
        self.tables = tables
        self.stop_writing = False  # atomic mode after the first rejected row: validate only
        self.rejections: list[dict[str, Any]] = []  # atomic mode: kept until the rollback
        self.counts = {"read": 0, "customers": 0, "contacts": 0, "activities": 0, "rejected": 0, "flagged": 0,
                       "skipped": 0}
        self.customer_ids: list[int] = []  # for the pool, per batch
        # The duplicate check. An import writes each batch before the next is checked, so earlier
        # batches are found in the database; a dry run (remember) keeps them in memory.
        self.duplicates = IncomingCheck(remember=remember)
        self.flags: dict[int, list[Hit]] = {}  # this batch's flagged rows: row number → matches
        self._visible: dict[int, bool] = {}
        self._own_rows: dict[int, int] = {}  # customers an earlier batch of this import created → row
        self._labels: dict[int, str] = {}  # visible matched customers: "code name"

    def prepare(self, rows: list[tuple[int, list[str]]],
                validated: tuple[list[PreparedRow], list[dict[str, Any]]] | None = None,
                ) -> tuple[list[PreparedRow], list[dict[str, Any]]]:
        """The rows checked and made ready to write, and the rejected ones with their errors per column.
        `validated`: what _validate_rows gave for these rows (in a worker process)."""
        prepared, rejected = validated if validated is not None else _validate_rows(self.preparer, rows)
        self._resolve_codes(prepared, rejected)
        self.flags, skipped = self.find_duplicates([r for r in prepared if r.customer is not None])
        if skipped:
            header = self.preparer.header("name")
            prepared[:] = [r for r in prepared if r.number not in skipped]
            rejected.extend({"row_number": number, "values": self._batch_rows[number].cells,
                             "errors": {header: [self.describe(hit, skipped=True)]}}
                            for number, hit in skipped.items())
            rejected.sort(key=lambda r: r["row_number"])
        self.counts["flagged"] += len(self.flags)
        self.counts["skipped"] += len(skipped)
        self.batch_skipped = len(skipped)
        self.skipped_numbers = set(skipped)
        return prepared, rejected

    def find_duplicates(self, new: list[PreparedRow]) -> tuple[dict[int, list[Hit]], dict[int, Hit]]:
        """The rows to flag (row number → matches) and, with the "skip" policy, the rows to skip (row
        number → the "same" match that decides it)."""
        self._batch_rows = {r.number: r for r in new}
        hits = self.duplicates.check([
            IncomingRow(key=r.number, values=r.customer, name_norm=r.customer.get("name_norm", ""),
                        contacts=[r.contact] if r.contact else [],
                        numbers=numbers_of(r.customer, [r.contact] if r.contact else []),
                        variants=r.variants) for r in new])
        skip = self.job.duplicates == Duplicates.SKIP
        flags: dict[int, list[Hit]] = {}
        skipped: dict[int, Hit] = {}
        for number in sorted(hits):
            row_hits = [h for h in hits[number] if h.other_row not in skipped]
            same = [h for h in row_hits if h.decision == "same"]
            if skip and same:
                skipped[number] = same[0]
            elif row_hits:
                flags[number] = row_hits
        self.duplicates.forget(skipped)
        # What describe() needs, set-wise: the skipped rows' reasons, and in a preview or dry run the
        # flagged rows' notes (an import records those as groups and describes nothing).
        described = [*skipped.values()]
        if self.duplicates.remember:
            described += [h for hs in flags.values() for h in hs]
        unknown = sorted({h.customer_id for h in described if h.customer_id} - self._visible.keys())
        if unknown:
            seen = visible_ids(self.actor, unknown)
            self._visible.update({cid: cid in seen for cid in unknown})
            for start in range(0, len(unknown), 900):
                chunk = unknown[start:start + 900]
                self._labels.update((pk, f"{code} {name}") for pk, code, name in
                                    Customer.objects.filter(pk__in=[c for c in chunk if c in seen])
                                    .values_list("pk", "code", "name"))
                if self.job.pk:
                    self._own_rows.update(ImportedRow.objects.filter(job=self.job, customer_id__in=chunk,
                                                                     customer_created=True)
                                          .values_list("customer_id", "row_number"))
        return flags, skipped

    def describe(self, hit: Hit, *, skipped: bool = False) -> str:
        """Why a row looks like another customer, naming it only when the importing user may see it."""
        from qianke.dedupe.views import ROLE_LABELS

        fields = "、".join(str(ROLE_LABELS.get(role, role)) for role in agreeing_roles(hit.match))
        other_row = hit.other_row or self._own_rows.get(hit.customer_id or 0)
        if other_row:
            text = (_("The same customer as row %(row)d of this file (agreeing: %(fields)s).") if skipped else
                    _("Looks like row %(row)d of this file (agreeing: %(fields)s)."))
            return text % {"row": other_row, "fields": fields}
        if not self._visible.get(hit.customer_id or 0):
            return (_("The same customer exists already, in the care of a colleague; ask your manager.")
                    if skipped else _("Looks like an existing customer in the care of a colleague."))
        customer = self._labels.get(hit.customer_id or 0, "")
        text = (_("The same customer as the existing %(customer)s (agreeing: %(fields)s).") if skipped else
                _("Looks like the existing %(customer)s (agreeing: %(fields)s)."))
        return text % {"customer": customer, "fields": fields}

    def batch(self, rows: list[tuple[int, list[str]]],
              validated: tuple[list[PreparedRow], list[dict[str, Any]]] | None = None) -> None:
        self.write_batch(rows, *self.prepare(rows, validated))

    def write_batch(self, rows: list[tuple[int, list[str]]], prepared: list[PreparedRow],
                    rejected: list[dict[str, Any]]) -> None:
        """The prepared batch, its rejections, ledger and checkpoint in one transaction. Uses what
        prepare() left for this batch (flags, skipped rows), so the next prepare() waits for it."""
        atomic = self.job.mode == Mode.ATOMIC
        # Rows skipped as duplicates are the policy the user chose, not errors: an atomic import
        # still commits with them (they are in the rejected-rows file with their reason).
        errors = [r for r in rejected if r["row_number"] not in self.skipped_numbers] if atomic else rejected
        if atomic and errors:
            self.stop_writing = True
        counts = {"customers": 0, "contacts": 0, "activities": 0}
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # Each batch commits without waiting for its WAL flush: a crash of the server may lose
                # the last batches, whole (records, ledger and checkpoint are one transaction), and
                # the re-run continues after the checkpoint that survived.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit = off")
            if not self.stop_writing:
                counts = self._write(prepared)
            if atomic:
                self.rejections += errors
                if not self.stop_writing and len(errors) < len(rejected):
                    self._insert(self.tables.rejection, [{**r, "job_id": self.job.pk} for r in rejected
                                                         if r["row_number"] in self.skipped_numbers])
            elif rejected:
                self._insert(self.tables.rejection, [{**r, "job_id": self.job.pk} for r in rejected])
            if not atomic:
                ImportJob.objects.filter(pk=self.job.pk).update(
                    checkpoint=rows[-1][0], read_rows=F("read_rows") + len(rows),
                    created_customers=F("created_customers") + counts["customers"],
                    created_contacts=F("created_contacts") + counts["contacts"],
                    created_activities=F("created_activities") + counts["activities"],
                    rejected_rows=F("rejected_rows") + len(rejected), heartbeat_at=timezone.now(),
                    flagged_rows=F("flagged_rows") + (len(self.flags) if not self.stop_writing else 0),
                    skipped_rows=F("skipped_rows") + self.batch_skipped)
        self.counts["read"] += len(rows)
        self.counts["rejected"] += len(rejected)
        for key, value in counts.items():
            self.counts[key] += value

    def _resolve_codes(self, prepared: list[PreparedRow], rejected: list[dict[str, Any]]) -> None:
        codes = {r.code for r in prepared if r.code}
        if not codes:
            return
        found = dict(Customer.objects.visible_to(self.actor).filter(code__in=codes).values_list("code", "id"))
        header = self.preparer.header("code")
        for row in [r for r in prepared if r.code]:
            row.customer_id = found.get(row.code)
            if row.customer_id is None:
                prepared.remove(row)
                rejected.append({"row_number": row.number, "values": row.cells,
                                 "errors": {header: [_("There is no customer with the code %(code)s that you "
                                                       "may see.") % {"code": row.code}]}})
            elif row.contact is None and row.activity is None:
                prepared.remove(row)
                rejected.append({"row_number": row.number, "values": row.cells,
                                 "errors": {header: [_("The row names an existing customer but holds no contact "
                                                       "or follow-up to add.")]}})
        rejected.sort(key=lambda r: r["row_number"])

    def _insert(self, table: BulkTable, rows: list[dict[str, Any]]) -> int:
        if not rows:
            return 0
        with connection.cursor() as cursor:
            first = table.new_ids(cursor, len(rows))
            for offset, row in enumerate(rows):
                row["id"] = first + offset
            _write_rows(cursor, table, [table.row(r) for r in rows])
        return first

    def _write(self, prepared: list[PreparedRow]) -> dict[str, int]:
        t = self.tables
        new = [r for r in prepared if r.customer is not None]
        codes = allocate_codes(prefix=CODE_PREFIX, count=len(new)) if new else []
        customers = []
        for row, code in zip(new, codes, strict=True):
            row.customer["code"] = code
            customers.append(row.customer)
        self._insert(t.customer, customers)
        for row in new:
            row.customer_id = row.customer["id"]
        existing_ids = {r.customer_id for r in prepared if r.customer is None}
        with_primary = set(Contact.objects.filter(customer_id__in=existing_ids, is_primary=True,
                                                  archived_at__isnull=True).values_list("customer_id", flat=True)) \
            if existing_ids else set()
        contacts = []
        for row in prepared:
            if row.contact is not None:
                row.contact["customer_id"] = row.customer_id
                if row.customer_id in with_primary:
                    row.contact["is_primary"] = False
                with_primary.add(row.customer_id)
                contacts.append(row.contact)
        self._insert(t.contact, contacts)
        activities = []
        for row in prepared:
            if row.activity is not None:
                a = {k: _utc(v) for k, v in row.activity.items()}
                a["customer_id"] = row.customer_id
                a["contact_id"] = row.contact["id"] if row.contact is not None else None
                row.activity = a
                activities.append(a)
        self._insert(t.activity, activities)
        self._write_search(new)
        self._insert(t.status, [{"customer_id": r.customer["id"], "from_status": "", "to_status": r.customer["status"],
                                 "at": r.customer["created_at"], "actor_id": self.actor.pk, "reason": "",
                                 "competitor": "", "trigger": StatusChange.Trigger.CREATE} for r in new])
        _set_tags([(r.customer["id"], r.tags) for r in new if r.tags])
        self._write_groups(new)
        self._insert(t.ledger, [{
            "job_id": self.job.pk, "row_number": r.number, "customer_id": r.customer_id,
            "customer_created": r.customer is not None,
            "contact_id": r.contact["id"] if r.contact is not None else None,
            "activity_id": r.activity["id"] if r.activity is not None else None,
        } for r in prepared])
        if existing_ids:
            customer_search_sync(customer_ids=existing_ids)
        ids = [r.customer["id"] for r in new]
        if self.job.pool_name and ids:
            from qianke.pool.selectors import pool_get_by_name
            from qianke.pool.services import pool_add_customers

            pool_add_customers(actor=self.actor, pool=pool_get_by_name(self.job.pool_name), customer_ids=ids)
        return {"customers": len(new), "contacts": len(contacts), "activities": len(activities)}

    def _write_groups(self, new: list[PreparedRow]) -> int:
        """The flagged rows as open duplicate groups linked to the import; returns the groups written."""
        if not self.flags:
            return 0
        ids = {r.number: r.customer_id for r in new}
        found = []
        for row in new:
            hits = self.flags.get(row.number)
            if not hits:
                continue
            pairs = [(h.customer_id or ids.get(h.other_row or 0), h.match) for h in hits]
            pairs = [(other, match) for other, match in pairs if other]
            if pairs:
                found.append((row.customer_id, pairs))
        return groups_create(import_job=self.job, found=found)

    def _write_search(self, new: list[PreparedRow]) -> int:
        return self._write_plain(self.tables.search, [
            _search_row(r.customer, [r.contact] if r.contact else [], r.search) for r in new])

    def _write_plain(self, table: BulkTable, rows: list[dict[str, Any]]) -> int:
        """Rows whose primary key is given (the search table is keyed by customer)."""
        if rows:
            with connection.cursor() as cursor:
                _write_rows(cursor, table, [table.row(r) for r in rows])
        return len(rows)


def _write_rows(cursor, table: BulkTable, rows: list[list]) -> None:
    execute_rows(cursor, table.sql, rows)


def _search_index_intact() -> bool:
    """The indexes (PostgreSQL) or triggers (SQLite) that bulk_index_suspended drops are all there;
    their names are read from the statements that drop them, so this follows customers.search."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = [sql.split()[-1] for sql in search.PG_DROP_INDEXES]
            cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname = ANY(%s)", [names])
        else:
            names = [sql.split()[-1] for sql in search.SQLITE_TEARDOWN if sql.startswith("DROP TRIGGER")]
            placeholders = ", ".join(["%s"] * len(names))
            cursor.execute(f"SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ({placeholders})",
                           names)
        return cursor.fetchone()[0] == len(names)


def _repair_search_index() -> None:
    """A large import killed while the index was suspended left it without triggers or GIN indexes."""
    if _search_index_intact():
        return
    with search.bulk_index_suspended():
        pass


def _claim(job_id: int, take_over: bool) -> ImportJob | None:
    """Queued → running, or take over a running import whose worker stopped (no batch for STALE_AFTER),
    or any running one with `take_over`."""
    now = timezone.now()
    running = Q(status=Status.RUNNING) if take_over else (
        Q(status=Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
        | Q(status=Status.RUNNING, heartbeat_at__isnull=True))
    won = ImportJob.objects.filter(Q(status=Status.QUEUED) | running, pk=job_id).update(
        status=Status.RUNNING, started_at=now, heartbeat_at=now)
    return ImportJob.objects.select_related("actor", "owner").get(pk=job_id) if won else None


def import_run(*, job_id: int, progress: ProgressFn | None = None, batch_size: int = BATCH_SIZE,
               take_over: bool = False) -> ImportJob:
    """Run (or continue) the import. `take_over`: run it even while it is marked running (the CLI
    running its own import, or re-running one that was killed); the worker takes over only imports
    whose heartbeat is stale."""
    job = _claim(job_id, take_over)
    if job is None:
        raise Conflict(_("This import is already running or has finished."))
    with translation.override(job.language or settings.LANGUAGE_CODE):
        try:
            return _import_run(job, progress, batch_size)
        except Exception as exc:
            # A bug or a lost database: record it, or the worker would take the import over again and again.
            _finish_interrupted(ImportJob.objects.get(pk=job.pk), exc)
            raise


def _import_run(job: ImportJob, progress: ProgressFn | None, batch_size: int) -> ImportJob:
    actor = job.actor
    try:
        table = reader.open_table(Path(job.file_path), sheet=job.sheet, count=job.total_rows is None)
        if job.total_rows is None:
            job.total_rows = table.total
            job.save(update_fields=["total_rows"])
        preparer = RowPreparer(actor=actor, headers=table.headers, mapping=job.mapping, owner=job.owner,
                               unowned=bool(job.pool_name))
    except ValidationFailed as exc:
        return _finish_failed(job, "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items()))
    _repair_search_index()
    run = _Run(job, actor, preparer, _Tables())
    total = job.total_rows or 0
    atomic = job.mode == Mode.ATOMIC
    start_after = 0 if atomic else job.checkpoint
    if atomic:
        # A killed atomic run left nothing; begin again.
        ImportJob.objects.filter(pk=job.pk).update(checkpoint=0, read_rows=0, created_customers=0,
                                                   created_contacts=0, created_activities=0, rejected_rows=0)
        ImportRejection.objects.filter(job=job).delete()
    done_before = job.read_rows if not atomic else 0
    rows = ((n, cells) for n, cells in table.rows if n > start_after)
    suspend = total - done_before >= BULK_INDEX_FROM
    plain: _PlainIndexes | None = None
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(word_pinyin())
            if atomic:
                stack.enter_context(transaction.atomic())
            if suspend:
                stack.enter_context(_maintenance_memory())
                plain = _PlainIndexes(job, total - done_before) if not atomic else None
                if plain:
                    stack.callback(plain.forget_built)  # after the builds (the stack unwinds in reverse)
                stack.enter_context(search.bulk_index_suspended(then=plain.jobs if plain else None))
            stack.enter_context(collector_paused())
            # Batches are written in a connection of their own while this one validates the next: not
            # in atomic mode (one transaction) nor inside a caller's transaction (which the other
            # connection could not see).
            writer = stack.enter_context(_Writer(
                not atomic and not connection.in_atomic_block and total - done_before >= OVERLAP_FROM))

            def written() -> None:
                read = done_before + run.counts["read"]
                _write_progress(job, read, total)
                if progress:
                    progress(read, total)

            for batch, validated in _validated_batches(stack, preparer, _batches(rows, batch_size),
                                                       total - done_before, writer.overlapping):
                if validated is None and writer.overlapping:
                    # While the previous batch is being written; the search entry's names too.
                    validated = _validate_rows(preparer, batch, extras=True)
                if writer.wait():
                    written()
                # The young objects only (see collector_paused), once the batch written is done with:
                # collected while it was in flight, its objects would move to the oldest generation,
                # which is not collected before the end of the import.
                gc.collect(1)
                # The duplicate check and the codes after the previous batch committed: its rows are
                # existing customers by then, as in a run without the writer.
                prepared, rejected = run.prepare(batch, validated)
                writer.submit(run.write_batch, batch, prepared, rejected)
                if not writer.overlapping:
                    written()
            if writer.wait():
                written()
            if atomic and run.rejections:
                raise _Rollback
    except _Rollback:
        with transaction.atomic():
            _write_rejections(run, job)
            ImportJob.objects.filter(pk=job.pk).update(read_rows=run.counts["read"],
                                                       rejected_rows=len(run.rejections))
        job.refresh_from_db()
        return _finish_failed(job, _("%(n)d rows were rejected, so nothing was imported (all or nothing).")
                              % {"n": len(run.rejections)})
    except (DatabaseError, OSError) as exc:
        job.refresh_from_db()
        job.warning = plain.warning(done=False) if plain else ""
        return _finish_interrupted(job, exc)
    with transaction.atomic():
        if atomic:
            ImportJob.objects.filter(pk=job.pk).update(
                read_rows=run.counts["read"], created_customers=run.counts["customers"],
                created_contacts=run.counts["contacts"], created_activities=run.counts["activities"],
                rejected_rows=run.counts["rejected"], flagged_rows=run.counts["flagged"],
                skipped_rows=run.counts["skipped"])
        job.refresh_from_db()
        job.status = Status.DONE
        job.finished_at = timezone.now()
        job.warning = plain.warning() if plain else ""
        job.save(update_fields=["status", "finished_at", "warning"])
        audit_record(actor=actor, action=AuditLog.Action.IMPORT, instance=job, changes=_job_counts(job))
    _progress_path(job).unlink(missing_ok=True)
    # Nothing reads the file once the import has finished (undo works from the ledger).
    Path(job.file_path).unlink(missing_ok=True)
    if total >= 100_000:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA optimize" if connection.vendor == "sqlite" else
                           "ANALYZE customers_customer, customers_customersearch")
    return job


# Tables an import fills whose plain B-tree indexes a large import suspends (see _PlainIndexes),
# and the indexes it keeps: those the duplicate check and the writes read while the import runs.
SUSPENDED_TABLES = ("customers_customer", "customers_contact", "activities_activity", "customers_statuschange")
KEPT_INDEX_COLUMNS = ("(name_norm)", "(mobile_norm)", "(phone_norm)", "(customer_id)",
                      # the credit codes' partial index (customers with a code only), as PostgreSQL writes it
                      "(credit_code_norm) WHERE (NOT ((credit_code_norm)::text = ''::text))")
# Tables whose foreign keys it suspends: those and the search entries and the ledger.
KEYED_TABLES = (*SUSPENDED_TABLES, "customers_customersearch", "dataio_importedrow")


class _PlainIndexes:
    """PostgreSQL, a large import into a customer table no larger than the import: the plain B-tree
    indexes of the tables it fills are dropped for the load and built again after it, in the two
    sessions that build the full-text index (search.bulk_index_suspended's `then`), as `qianke demo`
    does. A sort-based build of an index costs less than inserting every row into it (about 20 of
    them a customer). Kept: unique indexes and primary keys (integrity holds throughout), and the
    indexes read during the import (the duplicate check's name, mobile and phone lookups; contacts by
    customer). Each definition is recorded (core's SuspendedIndex) before its index is dropped, so a
    killed import leaves it to the next import, bulk load or `qianke init`
    (core.bulk_indexes.restore_suspended_indexes). Not while another import runs (it could rebuild or forget
    what this one dropped), not in atomic mode (the builds run outside a transaction). Other
    sessions' list pages and reports are slower meanwhile.

    The foreign keys of those tables go too (recorded the same way), as for `qianke demo`: Django's
    keys are checked by a deferred trigger query per key and row at commit (nine a customer here);
    they are added back NOT VALID (checked for new rows at once) and then validated over the whole
    table in one join each, in the build sessions. A row another session wrote meanwhile that
    violates one fails that validation: every row is committed by then, so the import still finishes
    (done) and records a warning naming the key (`warning`); the key stays NOT VALID (enforced for new
    rows) and recorded, and the next large import or `qianke init` validates it again.
    """

    def __init__(self, job: ImportJob, rows_to_go: int) -> None:
        self.indexes: list[tuple[str, str]] = []
        self.keys: list[tuple[str, str]] = []
        self.built: list[str] = []
        self.validated: list[str] = []
        self.failed: list[tuple[str, BaseException]] = []  # (key, error) of the keys left NOT VALID
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return
        # Not while another import runs: this would rebuild what that one dropped, in the middle of its load.
        if ImportJob.objects.filter(status=Status.RUNNING).exclude(pk=job.pk).exists():
            return
        # A key an earlier load could not validate is tried again; still broken, it is reported (and
        # tried once more at the end when this import suspends it too).
        restore_suspended_indexes(keys_failed=self.failed)
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [Customer._meta.db_table])
            existing = float((cursor.fetchone() or [0])[0])
            if existing < 0:  # never analysed (-1): counted, up to one row more than the import's
                cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {connection.ops.quote_name(Customer._meta.db_table)} "
                               "LIMIT %s) AS s", [rows_to_go + 1])
                existing = float(cursor.fetchone()[0])
        if existing > rows_to_go:
            return
        self.indexes = suspend_plain_indexes(SUSPENDED_TABLES, keep=KEPT_INDEX_COLUMNS)
        self.keys = suspend_foreign_keys(KEYED_TABLES)
        suspended = {key for key, _sql in self.keys}
        self.failed = [(key, exc) for key, exc in self.failed if key not in suspended]

    def jobs(self) -> list[Callable[[Any], None]]:
        add_missing_keys(self.keys)
        return [*(functools.partial(self._build, name, sql) for name, sql in self.indexes),
                *(functools.partial(self._validate, key) for key, _sql in self.keys)]

    def _validate(self, key: str, cursor: Any) -> None:
        import psycopg

        table, name = key_names(key)
        qn = connection.ops.quote_name
        try:
            cursor.execute(f"ALTER TABLE {qn(table)} VALIDATE CONSTRAINT {qn(name)}")
        except (DatabaseError, psycopg.Error) as exc:  # the others are validated still
            self.failed.append((key, exc))
        else:
            self.validated.append(key)

    def _build(self, name: str, sql: str, cursor: Any) -> None:
        cursor.execute("SET maintenance_work_mem = '256MB'")
        cursor.execute(if_not_exists(sql))
        cursor.execute("RESET maintenance_work_mem")
        self.built.append(name)

    def forget_built(self) -> None:
        """The records of the indexes built again and of the keys validated (one that failed stays
        recorded, see `warning`)."""
        from qianke.core.models import SuspendedIndex

        if self.built or self.validated:
            SuspendedIndex.objects.filter(name__in=self.built + self.validated).delete()

    def warning(self, *, done: bool = True) -> str:
        """For the job: which keys could not be validated, in the job's language ("" when none). `done`:
        the import finished (every row in); otherwise it stopped, and the warning must not say so."""
        if not self.failed:
            return ""
        opening = (_("Every row was imported, but the database could not validate a foreign key afterwards "
                     "(a row written by other work during the import may break it).") if done else
                   _("The database could not validate a foreign key (a row written by other work may break it)."))
        return " ".join([opening,
                         *(key_not_validated_message(key, exc) for key, exc in self.failed)])


# From this many rows to go, batches are written in a thread of their own (see _Writer).
OVERLAP_FROM = 10_000


class _Writer:
    """Writes batches in a thread of its own, with its own database connection, while this thread
    validates the next batch; or at once in this thread (`overlapping` False).

    The client's work on a row (validation, search tokens) and the database's (inserting it into six
    tables and their indexes) took turns; on two processors they now overlap. One batch at most is
    in flight, and each is still one transaction with its checkpoint, so a killed run leaves whole
    batches as before.
    """

    def __init__(self, overlapping: bool) -> None:
        self.overlapping = overlapping
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="qianke-import-writer") if overlapping else None
        self._pending: Future | None = None

    def submit(self, func: Callable[..., None], *args: Any) -> None:
        if self._pool is None:
            func(*args)
            return
        language = translation.get_language()

        def write() -> None:
            with translation.override(language):
                func(*args)

        # The caller's context (audit source, language) goes with the batch.
        self._pending = self._pool.submit(contextvars.copy_context().run, write)

    def wait(self) -> bool:
        """Wait for the batch in flight, if any (True); its error is raised here."""
        pending, self._pending = self._pending, None
        if pending is None:
            return False
        pending.result()
        return True

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        """The batch in flight ends first (it commits or rolls back whole). Its error is raised when
        nothing else is propagating; when something is, that propagates, with the batch's error as
        a note."""
        if self._pool is None:
            return
        try:
            self.wait()
        except Exception as batch_error:
            if exc is None:
                raise
            exc.add_note(f"The batch being written failed too: {batch_error.__class__.__name__}: {batch_error}")
        finally:
            self._pool.submit(connections.close_all).result()
            self._pool.shutdown()


@contextlib.contextmanager
def _maintenance_memory(size: str = "256MB") -> Iterator[None]:
    """PostgreSQL: more memory for the full-text index rebuild at the end of a large import (the
    session's setting, restored afterwards)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('maintenance_work_mem')")
        previous = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('maintenance_work_mem', %s, false)", [size])
    try:
        yield
    finally:
        with contextlib.suppress(DatabaseError), connection.cursor() as cursor:  # an aborted transaction
            cursor.execute("SELECT set_config('maintenance_work_mem', %s, false)", [previous])


def _write_rejections(run: _Run, job: ImportJob) -> None:
    rows = [{**r, "job_id": job.pk} for r in run.rejections]
    for start in range(0, len(rows), BATCH_SIZE):
        run._insert(run.tables.rejection, rows[start:start + BATCH_SIZE])


def _job_counts(job: ImportJob) -> dict[str, list[Any]]:
    counts = {"file": [None, job.file_name], "mode": [None, job.mode], "read": [None, job.read_rows],
              "customers": [None, job.created_customers], "contacts": [None, job.created_contacts],
              "follow_ups": [None, job.created_activities], "rejected": [None, job.rejected_rows]}
    if job.warning:
        counts["warning"] = [None, job.warning[:500]]
    return counts


def _finish_failed(job: ImportJob, error: str, *, can_continue: bool = False) -> ImportJob:
    job.status = Status.FAILED
    job.error = error
    job.can_continue = can_continue
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "can_continue", "finished_at", "warning"])
    audit_record(actor=job.actor, action=AuditLog.Action.IMPORT, instance=job,
                 changes={**_job_counts(job), "error": [None, error[:500]]})
    _progress_path(job).unlink(missing_ok=True)
    return job


def _finish_interrupted(job: ImportJob, exc: BaseException) -> ImportJob:
    """Failed through no fault of its rows: say so in the user's language, with the technical detail,
    and let it be continued."""
    detail = f"{exc.__class__.__name__}: {exc}".strip()[:1500]
    if job.mode == Mode.ATOMIC:
        message = _("The import stopped because of an error, and nothing was imported (all or nothing): "
                    "%(detail)s. Continue it to run it again.") % {"detail": detail}
    else:
        message = _("The import stopped after row %(row)d because of an error: %(detail)s. Continue it to "
                    "import the rest; the rows already imported are kept and not imported twice.") % {
            "row": job.checkpoint, "detail": detail}
    return _finish_failed(job, message, can_continue=Path(job.file_path).exists())


def import_continue(*, actor: User, job_id: int, wake: bool = True) -> ImportJob:
    """Queue a failed import again: the worker imports the rows after its checkpoint."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or not _may_manage(actor, job):
            raise NotFound(_("Import not found."))
        if job.status != Status.FAILED or not job.can_continue:
            raise Conflict(_("Only an import stopped by an error can be continued."))
        if not Path(job.file_path).exists():
            raise Conflict(_("The file of this import is no longer there; upload it again."))
        previous_error = job.error
        job.status = Status.QUEUED
        job.error = ""
        job.warning = ""
        job.can_continue = False
        job.finished_at = None
        job.save(update_fields=["status", "error", "warning", "can_continue", "finished_at"])
        audit_record(actor=actor, action=AuditLog.Action.UPDATE, instance=job,
                     changes={"status": [Status.FAILED, Status.QUEUED], "error": [previous_error[:500], ""]})
        if wake:  # not when the caller runs it itself at once (the CLI): the worker would race it
            _wake_worker(actor)
    return job


def imports_run_queued(*, today: dt.date) -> dict[str, int]:
    """The worker's job: run every queued import (and take over stalled ones), oldest first."""
    stale = timezone.now() - STALE_AFTER
    ids = list(ImportJob.objects.filter(Q(status=Status.QUEUED) | Q(status=Status.RUNNING, heartbeat_at__lt=stale))
               .order_by("id").values_list("id", flat=True)[:100])
    counts = {"imports": 0, "customers": 0, "rejected": 0}
    for job_id in ids:
        try:
            job = import_run(job_id=job_id)
        except Conflict:  # another worker has it
            continue
        counts["imports"] += 1
        counts["customers"] += job.created_customers
        counts["rejected"] += job.rejected_rows
    return counts


# ---------------------------------------------------------------------------------------------
# Undo
# ---------------------------------------------------------------------------------------------


def _may_manage(actor: User, job: ImportJob) -> bool:
    return job.actor_id == actor.pk or sees_every_import(actor)


def import_undo(*, actor: User, job_id: int) -> ImportJob:
    """Remove everything the import created, while nobody has changed it since."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or not _may_manage(actor, job):
            raise NotFound(_("Import not found."))
        if job.status != Status.DONE:
            raise Conflict(_("Only a finished import can be undone."))
        ledger = ImportedRow.objects.filter(job=job)
        customer_ids = ledger.filter(customer_created=True).values("customer_id")
        contact_ids = ledger.filter(contact_id__isnull=False).values("contact_id")
        activity_ids = ledger.filter(activity_id__isnull=False).values("activity_id")
        since = job.finished_at
        touched_customers = ledger.values("customer_id")
        changed = (
            Customer.objects.filter(pk__in=customer_ids, updated_at__gt=since).exists()
            or Contact.objects.filter(pk__in=contact_ids, updated_at__gt=since).exists()
            or Activity.objects.filter(pk__in=activity_ids, updated_at__gt=since).exists()
            or AuditLog.objects.filter(customer_id__in=touched_customers, created_at__gt=since).exists()
        )
        if changed:
            raise Conflict(_("Records of this import have been changed since it ran, so it can no longer be "
                             "undone as a whole."))
        removed_groups = _remove_duplicate_groups(job, customer_ids)
        try:
            Activity.objects.filter(pk__in=activity_ids).delete()
            Contact.objects.filter(pk__in=contact_ids).delete()
            deleted_customers = Customer.objects.filter(pk__in=customer_ids).count()
            Customer.objects.filter(pk__in=customer_ids).delete()
        except (ProtectedError, RestrictedError):
            raise Conflict(_("Other records now refer to customers of this import, so it cannot be undone.")) \
                from None
        existing = list(ledger.filter(customer_created=False).values_list("customer_id", flat=True).distinct())
        if existing:
            customer_search_sync(customer_ids=existing)
        job.status = Status.UNDONE
        job.undone_at = timezone.now()
        job.undone_by = actor
        job.save(update_fields=["status", "undone_at", "undone_by"])
        audit_record(actor=actor, action=AuditLog.Action.UNDO, instance=job,
                     changes={"status": [Status.DONE, Status.UNDONE], "customers_removed": [None, deleted_customers],
                              "duplicate_groups_removed": [None, removed_groups]})
    return job


def _remove_duplicate_groups(job: ImportJob, customer_ids) -> int:
    """The open duplicate groups the import created, and any other open group one of its customers is in
    (with that member gone it would no longer be a group); merged and dismissed ones are decisions and
    cannot involve the import's customers unchanged (undo is refused once they were changed)."""
    from qianke.dedupe.models import DuplicateGroup, DuplicateMember

    groups = DuplicateGroup.objects.filter(
        Q(import_job=job) | Q(pk__in=DuplicateMember.objects.filter(customer_id__in=customer_ids).values("group_id")),
        status=DuplicateGroup.Status.OPEN)
    ids = list(groups.values_list("pk", flat=True))
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        DuplicateMember.objects.filter(group_id__in=chunk).delete()
        DuplicateGroup.objects.filter(pk__in=chunk).delete()
    return len(ids)


# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------


def export_record(*, actor: User, filters: dict[str, Any], rows: int, file_format: str) -> AuditLog:
    """The audit row of an export: who exported how many customers with which filters, as what."""
    return AuditLog.objects.create(
        actor=actor if getattr(actor, "pk", None) else None, action=AuditLog.Action.EXPORT,
        object_type="customer", object_id=0, object_repr=_("Customer list (%(format)s)") % {"format": file_format},
        changes={"filters": [None, filters], "rows": [None, rows], "format": [None, file_format]},
        source=current_audit_source(),
    )


class ExportResult:
    def __init__(self, *, filename: str, content_type: str, body: Any, rows: int) -> None:
        self.filename = filename
        self.content_type = content_type
        self.body = body  # an iterator of bytes (CSV) or an open file (XLSX)
        self.rows = rows


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def customer_export(*, actor: User, filters: Any, file_format: str) -> ExportResult:
    """The filtered, visible customer list as CSV (streamed) or XLSX; audited with the row count."""
    from qianke.dataio import export

    if file_format not in ("csv", "xlsx"):
        raise ValidationFailed({"format": [_("Choose one of: %(options)s.") % {"options": "csv, xlsx"}]})
    qs = export.export_queryset(user=actor, filters=filters)
    rows = qs.order_by().count()
    export_record(actor=actor, filters=export.filters_dict(filters), rows=rows, file_format=file_format)
    cols = export.columns()
    headers = [label for _key, label in cols]
    counter = export.Counter()
    stem = export.file_stem()
    if file_format == "csv":
        body: Any = export.csv_stream(export.iter_rows(qs, cols), headers, counter)
        return ExportResult(filename=f"{stem}.csv", content_type="text/csv; charset=utf-8", body=body, rows=rows)
    body = export.xlsx_file(export.iter_rows(qs, cols), headers, counter, sheet_title=_("Customers"))
    return ExportResult(filename=f"{stem}.xlsx", content_type=XLSX_TYPE, body=body, rows=rows)
