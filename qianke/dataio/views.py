"""Import pages (upload → mapping and preview → progress → result, history) and the list export.

Views parse, call a service or selector, and render. The uploaded file waits as a draft (its path
in the session) until the user starts the import; the background worker then runs it.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qianke.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from qianke.core.views import is_htmx, query_int, ui_view
from qianke.customers.services import assignable_owners
from qianke.dataio import reader, selectors, services, templates_xlsx
from qianke.dataio.mapping import all_targets
from qianke.dataio.models import ImportJob

PAGE_SIZE = 25

DRAFTS = "dataio_drafts"
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
ALLOWED_SUFFIXES = (".csv", ".txt", ".xlsx")


def _require(user) -> None:
    if not services.may_import(user):
        raise PermissionDenied(_("You may not import customers."))


def _drafts(request) -> dict:
    return request.session.get(DRAFTS, {})


def _draft(request, token: str) -> dict:
    draft = _drafts(request).get(token)
    if not draft or not Path(draft["path"]).exists():
        raise NotFound(_("This upload has expired; upload the file again."))
    return draft


@ui_view
def import_list(request):
    _require(request.user)
    page_number = max(query_int(request.GET.get("page")) or 1, 1)
    page = selectors.import_list(user=request.user, limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE)
    return render(request, "dataio/import_list.html", {
        "imports": page.items, "page": page, "page_number": page_number,
        "templates": templates_xlsx.TEMPLATES,
    })


@require_POST
@ui_view
def import_upload(request):
    _require(request.user)
    upload = request.FILES.get("file")
    suffix = Path(upload.name).suffix.lower() if upload else ""
    if upload is None or suffix not in ALLOWED_SUFFIXES:
        messages.error(request, _("Choose a CSV or Excel (.xlsx) file."))
        return redirect("dataio:imports")
    if upload.size > MAX_UPLOAD_BYTES:
        messages.error(request, _("The file is larger than 200 MB; import it with the command line (qianke import)."))
        return redirect("dataio:imports")
    token = uuid.uuid4().hex
    drafts_dir = services.import_dir() / "drafts"
    drafts_dir.mkdir(exist_ok=True)
    path = drafts_dir / f"{token}{suffix}"
    with open(path, "wb") as f:
        for chunk in upload.chunks():
            f.write(chunk)
    drafts = _drafts(request)
    drafts[token] = {"path": str(path), "file_name": Path(upload.name).name, "sha256": reader.sha256_of(path)}
    request.session[DRAFTS] = drafts
    return redirect("dataio:import_mapping", token=token)


def _form_mapping(request, headers: list[str]) -> dict[str, str]:
    """The page lists the file's columns, each with the field it goes to: column → field becomes field → column.
    Every field of the detected mapping is sent (or "" to unmap it), so the choice on the page wins."""
    chosen: dict[str, str] = {}
    for index, header in enumerate(headers):
        field = request.POST.get(f"col_{index}", "")
        if field and field not in chosen and header:
            chosen[field] = header
    return chosen


@ui_view
def import_mapping(request, token: str):
    user = request.user
    _require(user)
    draft = _draft(request, token)
    path = Path(draft["path"])
    data = request.POST if request.method == "POST" else request.GET
    sheet = data.get("sheet", "")
    mode = data.get("mode", ImportJob.Mode.PARTIAL)
    duplicates = data.get("duplicates", ImportJob.Duplicates.FLAG)
    owner = data.get("owner", "")
    targets = all_targets()
    again = data.get("again", "") == "1"
    preview = None
    error = None
    refused: services.AlreadyImported | None = None
    try:
        info = services.import_columns(path=path, sheet=sheet)
    except ValidationFailed as exc:
        if "sheet" not in exc.fields:
            raise
        error, sheet = exc, ""
        info = services.import_columns(path=path, sheet=sheet)
    selected = info["mapping"]
    try:
        if request.method == "POST" and request.POST.get("columns_of", "") != sheet:
            # Another sheet was chosen: its columns are new, so start from what is detected there.
            preview = services.import_preview(actor=user, path=path, sheet=sheet)
        elif request.method == "POST":
            chosen = _form_mapping(request, info["headers"])
            # Fields detected but left unassigned on the page are unmapped: the page wins.
            overrides = {**{field: "" for field in info["mapping"]}, **chosen}
            selected = chosen
            if request.POST.get("action") == "start":
                job = services.import_create(actor=user, path=path, file_name=draft["file_name"], mapping=overrides,
                                             mode=mode, sheet=sheet, owner=owner or None, copy=False,
                                             duplicates=duplicates, again=again)
                drafts = _drafts(request)
                drafts.pop(token, None)
                request.session[DRAFTS] = drafts
                messages.success(request, _("The import has started; it runs in the background."))
                return redirect("dataio:import_detail", import_id=job.pk)
            preview = services.import_preview(actor=user, path=path, sheet=sheet, mapping=overrides,
                                              owner=owner or None, duplicates=duplicates)
        else:
            preview = services.import_preview(actor=user, path=path, sheet=sheet)
    except ValidationFailed as exc:
        error = exc
    except services.AlreadyImported as exc:
        refused = exc
    # A file imported (or being imported) before: the page says so, and starting needs "import again" ticked.
    previous = services.import_find_previous(actor=user, path=path, sheet=sheet, digest=draft.get("sha256", ""))
    already = refused or (services.AlreadyImported(previous) if previous is not None else None)
    labels = {t.key: str(t.label) for t in targets}
    choice_labels = {t.key: dict(t.choices.choices) for t in targets if t.choices is not None}
    by_column = {column: field for field, column in selected.items()}
    columns = [{"index": i, "header": h, "field": by_column.get(h, ""), "samples": [v for v in info["samples"].get(i, []) if v]}
               for i, h in enumerate(info["headers"])]
    if preview:
        # Fields in the file's column order, then the canonical forms used for matching and search.
        order = {h: i for i, h in enumerate(info["headers"])}
        fields = sorted(preview["mapping"], key=lambda f: order.get(preview["mapping"][f], 0))
        # Province, city and district read from the address when the file has no column for them.
        fields += [f for f in ("province", "city", "district") if f not in fields]
        canonical = {"name_norm": _("Name for duplicate checks"), "mobile_norm": _("Mobile, canonical"),
                     "phone_norm": _("Phone, canonical"), "credit_code_norm": _("Credit code, canonical")}
        for row in preview["rows"]:
            if row["errors"]:
                row["shown"] = []
                continue
            row["shown"] = [(labels.get(field, field), _shown(choice_labels, field, row["values"].get(field, "")))
                            for field in fields]
            row["shown"] += [(label, row["values"][key]) for key, label in canonical.items() if key in row["values"]]
    owners = list(assignable_owners(user).order_by("username")[:500]) if services.may_import_for_others(user) else []
    return render(request, "dataio/import_mapping.html", {
        "token": token, "draft": draft, "info": info, "preview": preview, "columns": columns, "targets": targets,
        "error": error, "sheet": sheet, "mode": mode, "owner": owner, "owners": owners,
        "already": already, "refused": refused is not None, "again": again,
        "modes": ImportJob.Mode.choices, "duplicates": duplicates,
        "duplicate_policies": ImportJob.Duplicates.choices,
    })


def _shown(choice_labels: dict[str, dict[str, Any]], field: str, value: Any) -> Any:
    """A choice field's stored value by its label in the user's language (medium → 中型)."""
    labels = choice_labels.get(field)
    return str(labels.get(value, value)) if labels and value else value


@ui_view
def import_detail(request, import_id: int):
    job = selectors.import_get(user=request.user, job_id=import_id)
    progress = selectors.import_progress(job)
    context = {"job": job, "progress": progress,
               "rejections": selectors.import_rejections(job=job, limit=20) if progress["finished"] else [],
               "duplicate_groups": selectors.import_duplicate_groups_count(user=request.user, job=job)
               if progress["finished"] and job.flagged_rows else 0}
    if is_htmx(request):
        return render(request, "dataio/_import_progress.html", context)
    return render(request, "dataio/import_detail.html", context)


@ui_view
def import_rejects(request, import_id: int):
    job = selectors.import_get(user=request.user, job_id=import_id)
    return rejects_response(job, request.GET.get("format", ""))


def rejects_response(job: ImportJob, requested_format: str) -> HttpResponse:
    """The rejected rows of an import as a CSV (the default) or XLSX download; the page and the API share it."""
    file_format = "xlsx" if requested_format == "xlsx" else "csv"
    content = selectors.rejections_file(job=job, file_format=file_format)
    response = HttpResponse(content, content_type=services.XLSX_TYPE if file_format == "xlsx"
                            else "text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-rejected.{file_format}"'
    return response


@require_POST
@ui_view
def import_undo(request, import_id: int):
    selectors.import_get(user=request.user, job_id=import_id)
    try:
        job = services.import_undo(actor=request.user, job_id=import_id)
    except Conflict as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Import #%(id)d was undone: %(n)d customers removed.")
                         % {"id": job.pk, "n": job.created_customers})
    return redirect("dataio:import_detail", import_id=import_id)


@require_POST
@ui_view
def import_continue(request, import_id: int):
    selectors.import_get(user=request.user, job_id=import_id)
    try:
        services.import_continue(actor=request.user, job_id=import_id)
    except Conflict as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Import #%(id)d will continue in a moment.") % {"id": import_id})
    return redirect("dataio:import_detail", import_id=import_id)


@ui_view
def import_template(request, key: str):
    template = templates_xlsx.TEMPLATES.get(key)
    if template is None:
        raise NotFound()
    content = templates_xlsx.template_bytes(key)
    response = HttpResponse(content, content_type=services.XLSX_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{templates_xlsx.quoted_name(key)}"
    return response


@ui_view
def customer_export(request):
    from qianke.accounts.selectors import teams_visible_to, users_visible_to
    from qianke.customers.forms import CustomerSearchForm
    from qianke.customers.views import list_filters_from

    user = request.user
    form = CustomerSearchForm(request.GET or None, owners=users_visible_to(user)[:500],
                              teams=teams_visible_to(user)[:500], may_archive=user.may_archive)
    filters = list_filters_from(request, form)
    file_format = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    return export_response(services.customer_export(actor=user, filters=filters, file_format=file_format))


def export_response(result: services.ExportResult):
    """A customer export as a download: CSV streamed, XLSX from its file; the page and the API share it."""
    if result.filename.endswith(".csv"):
        response = StreamingHttpResponse(result.body, content_type=result.content_type)
        response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    else:
        response = FileResponse(result.body, as_attachment=True, filename=result.filename,
                                content_type=result.content_type)
    response["X-Total-Rows"] = str(result.rows)
    return response
