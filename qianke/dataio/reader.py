"""Reading CSV and XLSX files row by row, in constant memory.

CSV: UTF-8 with or without BOM, UTF-16 with BOM (Excel's "Unicode text"), else GB18030 (a superset
of GBK, which Chinese Excel writes). The delimiter is the commonest of comma, tab and semicolon in
the header line. XLSX: openpyxl in read-only mode, the first sheet or a chosen one.
Row numbers are the spreadsheet's line numbers (the header is row 1), as the user sees them in Excel.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from qianke.core.errors import ValidationFailed

SAMPLE_BYTES = 1 << 20
XLSX_MAGIC = b"PK\x03\x04"


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (row number, cells as text)
    total: int | None  # data rows, when known up front
    sheets: list[str]


def file_kind(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(4)
    return "xlsx" if head == XLSX_MAGIC else "csv"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def detect_encoding(path: Path) -> str:
    with open(path, "rb") as f:
        sample = f.read(SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        # final=False: the sample may end in the middle of a character.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def cell_text(value) -> str:
    """A cell as the text a person sees: 13812345678.0 → 13812345678, dates as 2026-11-22."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _csv_rows(path: Path, encoding: str) -> Iterator[list[str]]:
    with open(path, encoding=encoding, newline="") as f:
        first = f.readline()
        delimiter = max(",\t;", key=first.count) if first else ","
        f.seek(0)
        for row in csv.reader(f, delimiter=delimiter):
            yield [c.strip() for c in row]


def _xlsx_workbook(path: Path):
    from openpyxl import load_workbook

    return load_workbook(path, read_only=True, data_only=True)


def _xlsx_rows(path: Path, sheet: str) -> Iterator[list[str]]:
    wb = _xlsx_workbook(path)
    try:
        ws = wb[sheet] if sheet else wb.worksheets[0]
        for row in ws.iter_rows(values_only=True):
            yield [cell_text(v) for v in row]
    finally:
        wb.close()


def xlsx_sheets(path: Path) -> list[str]:
    wb = _xlsx_workbook(path)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def _count_rows(raw: Iterator[list[str]]) -> int:
    return sum(1 for row in raw if any(row))


def open_table(path: Path, *, sheet: str = "", count: bool = True) -> Table:
    """Headers and data rows of the file. Raises ValidationFailed for an unreadable file, an unknown
    sheet or a file without a header row."""
    path = Path(path)
    try:
        if file_kind(path) == "xlsx":
            sheets = xlsx_sheets(path)
            if sheet and sheet not in sheets:
                raise ValidationFailed({"sheet": [_("There is no sheet “%(sheet)s”. Sheets: %(sheets)s.")
                                                  % {"sheet": sheet, "sheets": "、".join(sheets)}]})

            def raw() -> Iterator[list[str]]:
                return _xlsx_rows(path, sheet)
        else:
            sheets = []
            encoding = detect_encoding(path)

            def raw() -> Iterator[list[str]]:
                return _csv_rows(path, encoding)

        rows = raw()
        headers: list[str] | None = None
        number = 0
        for row in rows:
            number += 1
            if any(row):
                headers = row
                break
        if headers is None:
            raise ValidationFailed({"file": [_("The file has no header row.")]})
        while headers and not headers[-1]:
            headers.pop()
        total = _count_rows(raw()) - 1 if count else None
    except ValidationFailed:
        raise
    except (OSError, UnicodeError, csv.Error, KeyError, ValueError) as exc:
        raise ValidationFailed({"file": [_("The file cannot be read as CSV or Excel (.xlsx): %(error)s")
                                         % {"error": exc}]}) from None
    except Exception as exc:  # openpyxl raises many kinds of errors for damaged files
        if exc.__class__.__module__.startswith(("openpyxl", "zipfile")):
            raise ValidationFailed({"file": [_("The file cannot be read as CSV or Excel (.xlsx): %(error)s")
                                             % {"error": exc}]}) from None
        raise

    def data(rows=rows, start=number) -> Iterator[tuple[int, list[str]]]:
        width = len(headers)
        for n, row in enumerate(rows, start=start + 1):
            if not any(row):
                continue
            if len(row) < width:
                row = row + [""] * (width - len(row))
            yield n, row[:width]

    return Table(headers=headers, rows=data(), total=total, sheets=sheets)


def write_csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
