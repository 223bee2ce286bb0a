import csv
import io
from pathlib import Path

import pytest

from qianke.core.models import CustomFieldDefinition

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


@pytest.fixture(autouse=True)
def _fast(fast_password_hashing, settings, tmp_path):
    settings.QIANKE_HOME = tmp_path / "home"
    settings.QIANKE_HOME.mkdir()


@pytest.fixture
def write_csv(tmp_path):
    """write_csv(rows, name=..., encoding=...) → the path of a CSV file holding the rows."""

    def write(rows, name="customers.csv", encoding="utf-8-sig", delimiter=","):
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=delimiter).writerows(rows)
        path = Path(tmp_path) / name
        path.write_bytes(buffer.getvalue().encode(encoding))
        return path

    return write


@pytest.fixture
def write_xlsx(tmp_path):
    def write(sheets: dict, name="customers.xlsx"):
        from openpyxl import Workbook

        wb = Workbook()
        wb.remove(wb.active)
        for title, rows in sheets.items():
            ws = wb.create_sheet(title)
            for row in rows:
                ws.append(row)
        path = Path(tmp_path) / name
        wb.save(path)
        return path

    return write


@pytest.fixture
def budget_field(db):
    return CustomFieldDefinition.objects.create(model="customer", key="budget_test", label="测试预算",
                                                label_en="Test budget", field_type="number", unit="万元",
                                                min_value=0)


@pytest.fixture
def second_batch_fails(monkeypatch):
    """The database goes away while an import writes its second batch, and is back for the next one."""
    from django.db import OperationalError

    from qianke.dataio import services

    real, calls = services._Run._write, []

    def write(run, prepared):
        calls.append(1)
        if len(calls) == 2:
            raise OperationalError("could not write: No space left on device")
        return real(run, prepared)

    monkeypatch.setattr(services._Run, "_write", write)
