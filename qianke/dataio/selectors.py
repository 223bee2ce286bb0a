"""Reads of the dataio app: the imports a user may see, their progress and rejected rows."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from qianke.accounts.models import Role, User
from qianke.core.errors import NotFound
from qianke.core.models import AuditLog
from qianke.customers.selectors import COUNT_CAP, Page, clamp_limit
from qianke.dataio.models import ImportedRow, ImportJob, ImportRejection


def sees_every_import(user: User) -> bool:
    """Administrators and specialists see (and undo) every import; everybody else their own."""
    return user.is_admin or user.role == Role.INFO


def imports_visible_to(user: User) -> QuerySet[ImportJob]:
    qs = ImportJob.objects.select_related("actor", "owner")
    return qs if sees_every_import(user) else qs.filter(actor=user)


def import_list(*, user: User, limit: int | None = None, offset: int = 0) -> Page:
    """The imports the user may see, newest first, one page at a time."""
    qs = imports_visible_to(user)
    limit = clamp_limit(limit)
    count = qs.order_by()[: COUNT_CAP + 1].count()
    items = list(qs.order_by("-id")[offset: offset + limit])
    return Page(items, min(count, COUNT_CAP), count > COUNT_CAP, offset, limit)


def import_get(*, user: User, job_id: int) -> ImportJob:
    job = imports_visible_to(user).filter(pk=job_id).first()
    if job is None:
        raise NotFound(_("Import not found."))
    return job


def import_progress(job: ImportJob) -> dict[str, Any]:
    """Status and counts; while running, rows read so far (also for an atomic import, whose counts
    only reach the database when it commits)."""
    from qianke.dataio.services import read_progress

    read = job.read_rows
    if job.status == ImportJob.Status.RUNNING:
        read = max(read, read_progress(job) or 0)
    total = job.total_rows or 0
    percent = 100 if job.status in (ImportJob.Status.DONE, ImportJob.Status.UNDONE) else (
        min(100, int(100 * read / total)) if total else 0)
    return {"id": job.pk, "status": job.status, "status_display": str(job.get_status_display()),
            "total_rows": total, "read_rows": read, "percent": percent,
            "created_customers": job.created_customers, "created_contacts": job.created_contacts,
            "created_activities": job.created_activities, "rejected_rows": job.rejected_rows,
            "duplicates": job.duplicates, "flagged_rows": job.flagged_rows, "skipped_rows": job.skipped_rows,
            "finished": job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING),
            "error": job.error, "warning": job.warning, "can_continue": job.can_continue}


def import_duplicate_groups_count(*, user: User, job: ImportJob) -> int:
    """Open duplicate groups this import found that the user may review (every member visible)."""
    from qianke.dedupe.models import DuplicateGroup
    from qianke.dedupe.selectors import visible_groups

    return visible_groups(user).filter(import_job=job, status=DuplicateGroup.Status.OPEN).count()


def import_rejections(*, job: ImportJob, limit: int | None = None) -> list[ImportRejection]:
    qs = ImportRejection.objects.filter(job=job).order_by("row_number")
    return list(qs[:limit] if limit else qs)


def _reason(errors: dict[str, list[str]]) -> str:
    return "；".join(f"{column}：{' '.join(messages)}" for column, messages in errors.items())


def rejection_rows(headers: list[str], rejections: Iterable[Any]) -> Iterator[list[Any]]:
    """Header, then per rejected row: its row number, its cells, the reasons per column."""
    yield [_("Row"), *headers, _("Reason")]
    for r in rejections:
        number, values, errors = (r.row_number, r.values, r.errors) if hasattr(r, "row_number") else \
            (r["row_number"], r["values"], r["errors"])
        yield [number, *values, _reason(errors)]


def rejections_csv(rows: Iterable[list[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def rejections_xlsx(rows: Iterable[list[Any]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("Rejected rows")[:31])
    for row in rows:
        ws.append(row)
    with tempfile.TemporaryFile() as f:
        wb.save(f)
        f.seek(0)
        return f.read()


def rejections_file(*, job: ImportJob, file_format: str) -> bytes:
    rows = rejection_rows(job.headers, ImportRejection.objects.filter(job=job).order_by("row_number").iterator())
    return rejections_xlsx(rows) if file_format == "xlsx" else rejections_csv(rows)


def import_history_entries(customer: Any) -> list[AuditLog]:
    """The customer's "created by import #N" entry for its history tab (who, when, file), read from the
    import's ledger instead of an audit row per imported customer (a million-row import writes none).

    The ledger is indexed by (job, customer): the importer's finished imports started before the customer
    was created are the candidates, each probed by its index."""
    if not customer.created_by_id:
        return []
    jobs = ImportJob.objects.filter(actor_id=customer.created_by_id, created_at__lte=customer.created_at,
                                    status__in=(ImportJob.Status.DONE, ImportJob.Status.RUNNING,
                                                ImportJob.Status.FAILED)).values("pk")
    job_id = (ImportedRow.objects.filter(job__in=jobs, customer_id=customer.pk, customer_created=True)
              .values_list("job_id", flat=True).first())
    if job_id is None:
        return []
    job = ImportJob.objects.select_related("actor").get(pk=job_id)
    recorded = (AuditLog.objects.filter(object_type="importjob", object_id=job.pk, action=AuditLog.Action.IMPORT)
                .order_by("id").first())
    return [AuditLog(id=recorded.pk if recorded else 0, created_at=customer.created_at, actor=job.actor,
                     action=AuditLog.Action.IMPORT, object_type="importjob", object_id=job.pk,
                     object_repr=str(job)[:200], customer_id=customer.pk, changes={},
                     source=recorded.source if recorded else AuditLog.Source.JOB)]
