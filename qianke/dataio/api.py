"""REST API of the dataio app: parse → call a service/selector → return a schema."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from qianke.core.api import PageOut, PageParams, page_out, responses
from qianke.core.errors import ValidationFailed
from qianke.customers.api import custom_filters
from qianke.customers.schemas import CustomerQuery
from qianke.customers.selectors import CustomerFilters
from qianke.dataio import selectors, services
from qianke.dataio.views import export_response, rejects_response

router = Router(tags=["import and export"])


class ImportOut(Schema):
    id: int
    status: str = Field(..., description="queued, running, done, failed or undone")
    status_display: str
    total_rows: int
    read_rows: int
    percent: int
    created_customers: int
    created_contacts: int
    created_activities: int
    rejected_rows: int
    duplicates: str = Field(..., description="flag or skip: what the import does with possible duplicates")
    flagged_rows: int = Field(..., description="rows imported and listed for review as possible duplicates "
                                               "(open duplicate groups, GET /duplicates)")
    skipped_rows: int = Field(..., description="rows not imported as the same customer as an existing one or an "
                                               "earlier row (among rejected_rows, with their reason)")
    finished: bool
    error: str
    warning: str = Field(..., description="something to know about a finished import, e.g. a foreign key the "
                         "database could not validate after a large import (the rows are imported); empty if none")
    can_continue: bool = Field(..., description="stopped by an error (not by its rows): POST /imports/{id}/continue "
                               "imports the rest")


class ImportItemOut(Schema):
    id: int
    file_name: str
    mode: str
    status: str
    actor: str | None
    created_at: str
    read_rows: int
    created_customers: int
    rejected_rows: int

    @staticmethod
    def resolve_actor(obj) -> str | None:
        return obj.actor.username if obj.actor_id else None

    @staticmethod
    def resolve_created_at(obj) -> str:
        return obj.created_at.isoformat()


def _mapping(text: str) -> dict[str, str]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValidationFailed({"mapping": [_('Send the mapping as a JSON object, e.g. {"mobile": "手机号码"}.')]})
    return value


@router.post("/imports", response=responses(ImportOut, 201, write=True), summary="Upload a file to import",
             description="Multipart upload of a CSV (UTF-8 or GBK) or XLSX file. Columns are recognised by their "
                         "Chinese or English headers; `mapping` (a JSON object {field: column}) overrides them. "
                         "`duplicates`: `flag` (default) imports rows that look like existing customers or other "
                         "rows and lists them for review; `skip` rejects the rows that are the same customer. "
                         "A file you have imported already (same content and sheet, not undone) answers 409 "
                         "`already_imported` with `import_id`; send `again=true` to import it once more. "
                         "The background worker runs the import; poll GET /imports/{id} for its progress.")
def import_post(request, file: File[UploadedFile], mode: Form[str] = "partial", sheet: Form[str] = "",
                mapping: Form[str] = "", owner: Form[str] = "", pool: Form[str] = "",
                duplicates: Form[str] = "flag", again: Form[bool] = False):
    suffix = Path(file.name or "upload.csv").suffix.lower()[:10]
    with tempfile.NamedTemporaryFile(suffix=suffix, dir=services.import_dir(), delete=False) as tmp:
        for chunk in file.chunks():
            tmp.write(chunk)
    path = Path(tmp.name)
    try:
        job = services.import_create(actor=request.auth, path=path, file_name=file.name or path.name,
                                     mapping=_mapping(mapping), mode=mode, sheet=sheet, owner=owner or None,
                                     pool_name=pool, copy=False, duplicates=duplicates, again=again)
    finally:
        path.unlink(missing_ok=True)
    return Status(201, selectors.import_progress(job))


@router.get("/imports", response=responses(PageOut[ImportItemOut]), summary="Imports, newest first")
def import_list(request, params: Query[PageParams]):
    return page_out(selectors.import_list(user=request.auth, limit=params.limit, offset=params.offset))


@router.get("/imports/{import_id}", response=responses(ImportOut), summary="Status, progress and counts")
def import_get(request, import_id: int):
    return selectors.import_progress(selectors.import_get(user=request.auth, job_id=import_id))


class RejectsQuery(Schema):
    format: str = Field("csv", description="csv or xlsx")


@router.get("/imports/{import_id}/rejects", response=responses(None), summary="The rejected rows with reasons",
            description="Every rejected row with its row number, its cells and the reason per column.")
def import_rejects(request, import_id: int, params: Query[RejectsQuery]):
    return rejects_response(selectors.import_get(user=request.auth, job_id=import_id), params.format)


@router.post("/imports/{import_id}/undo", response=responses(ImportOut, write=True),
             summary="Undo an import as a whole",
             description="Removes what the import created; refused (409) once somebody changed its records.")
def import_undo(request, import_id: int):
    selectors.import_get(user=request.auth, job_id=import_id)
    return selectors.import_progress(services.import_undo(actor=request.auth, job_id=import_id))


@router.post("/imports/{import_id}/continue", response=responses(ImportOut, write=True),
             summary="Continue an import stopped by an error",
             description="Queues it again; the worker imports the rows after the last saved one (an all-or-nothing "
                         "import starts again). Refused (409) unless can_continue is true.")
def import_continue(request, import_id: int):
    selectors.import_get(user=request.auth, job_id=import_id)
    return selectors.import_progress(services.import_continue(actor=request.auth, job_id=import_id))


class ExportQuery(CustomerQuery):
    format: str = Field("csv", description="csv (UTF-8 with BOM) or xlsx")


@router.get("/customers/export", response=responses(None), summary="Export the filtered customer list",
            description="The same filters and visibility as GET /customers (custom fields as cf_<key>=value), "
                        "streamed as CSV or XLSX. Recorded in the audit log.")
def customer_export(request, params: Query[ExportQuery]):
    filters = CustomerFilters(
        q=params.q, status=params.status, kind=params.kind, industry=params.industry, province=params.province,
        city=params.city, district=params.district, owner=params.owner, team=params.team, tag=params.tag,
        archived=params.archived, custom=custom_filters(request),
    )
    return export_response(services.customer_export(actor=request.auth, filters=filters,
                                                    file_format=params.format))
