"""Streaming the customer list to CSV and XLSX in constant memory.

The rows are the list page's (customers.selectors: same filters, same visibility), read in
primary-key blocks; CSV goes out through a generator (StreamingHttpResponse), XLSX through
openpyxl's write-only workbook into a temporary file that is streamed and deleted.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from qianke.accounts.models import User
from qianke.core.custom_fields import definitions_for
from qianke.customers import search
from qianke.customers.models import Customer
from qianke.customers.selectors import CustomerFilters, customer_queryset

BLOCK = 2_000
# Model fields exported, in the order of the customer form.
FIELDS = ("code", "name", "short_name", "credit_code", "kind", "status", "potential_kind", "relation_class", "industry",
          "enterprise_nature", "production_mode", "scale", "province", "city", "district", "address", "postcode",
          "phone", "mobile", "fax", "email", "website", "gender", "birthday", "occupation", "annual_income",
          "education", "notes")


def export_queryset(*, user: User, filters: CustomerFilters) -> QuerySet[Customer]:
    """The list page's customers (filters, search, visibility), unordered."""
    qs = customer_queryset(user=user, filters=filters)
    query = (filters.q or "").strip()
    if query:
        sql = search.match_sql(query)
        qs = qs.none() if sql is None else qs.filter(id__in=RawSQL(*sql))
    if filters.tag:
        qs = qs.distinct()
    return qs


def columns() -> list[tuple[str, str]]:
    """(key, header in the active language) for every exported column."""
    cols = [(name, str(Customer._meta.get_field(name).verbose_name)) for name in FIELDS]
    cols += [("owner", _("Owner")), ("team", _("Team")), ("tags", _("Tags")), ("created_at", _("Created"))]
    for d in definitions_for(model="customer"):
        cols.append((f"custom.{d.key}", d.label + (f"（{d.unit}）" if d.unit else "")))
    return cols


def _value(customer: Customer, key: str, displays: dict[str, dict[str, str]]) -> Any:
    if key.startswith("custom."):
        value = customer.custom.get(key[7:])
        if isinstance(value, list):
            return "、".join(str(v) for v in value)
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        return "" if value is None else value
    if key == "owner":
        return str(customer.owner) if customer.owner_id else ""
    if key == "team":
        return str(customer.team) if customer.team_id else ""
    if key == "tags":
        return "、".join(t.name for t in customer.tags.all())
    if key == "created_at":
        return timezone.localtime(customer.created_at).strftime("%Y-%m-%d %H:%M")
    value = getattr(customer, key)
    if key in displays:
        return displays[key].get(value, value)
    if value is None:
        return ""
    return value


def _displays() -> dict[str, dict[str, str]]:
    out = {}
    for name in FIELDS:
        field = Customer._meta.get_field(name)
        if field.choices:
            out[name] = {k: str(v) for k, v in field.choices}
    return out


def iter_rows(qs: QuerySet[Customer], cols: list[tuple[str, str]]) -> Iterator[list[Any]]:
    """Rows in id order, read in blocks of BLOCK by keyset (constant memory, no OFFSET)."""
    displays = _displays()
    keys = [k for k, _label in cols]
    last = 0
    base = qs.select_related("owner", "team").prefetch_related("tags").order_by("id")
    while True:
        block = list(base.filter(id__gt=last)[:BLOCK])
        if not block:
            return
        for customer in block:
            yield [_value(customer, k, displays) for k in keys]
        last = block[-1].pk


class Counter:
    def __init__(self) -> None:
        self.rows = 0


def csv_stream(rows: Iterator[list[Any]], headers: list[str], counter: Counter) -> Iterator[bytes]:
    """UTF-8 with a BOM, so Excel opens the Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    yield codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(["" if v is None else _excel_value(v) for v in row])
        counter.rows += 1
        yield buffer.getvalue().encode("utf-8")


def xlsx_file(rows: Iterator[list[Any]], headers: list[str], counter: Counter, sheet_title: str):
    """A temporary file holding the workbook (write-only: rows go to disk as they come)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet_title[:31])
    bold = Font(bold=True)
    header_cells = []
    for text in headers:
        cell = WriteOnlyCell(ws, value=text)
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    for row in rows:
        ws.append([_excel_value(v) for v in row])
        counter.rows += 1
    out = tempfile.TemporaryFile()  # noqa: SIM115 — the caller streams it and closes it
    wb.save(out)
    out.seek(0)
    return out


def _excel_value(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula stays text (+86 138… is a phone, not a formula)."""
    if isinstance(value, str) and len(value) > 1 and (
        value[0] in "=@" or (value[0] in "+-" and not (value[1].isdigit() or value[1] in " ("))
    ):
        return "'" + value
    return value


def filters_dict(filters: CustomerFilters) -> dict[str, Any]:
    """The filters that say something, for the audit row."""
    return {k: v for k, v in asdict(filters).items() if v not in ("", None, False, {}) and k != "sort"}


def file_stem() -> str:
    return f"customers-{timezone.localtime():%Y%m%d-%H%M}"
