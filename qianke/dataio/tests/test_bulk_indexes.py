"""A large import on PostgreSQL loads without the plain indexes and foreign keys of the tables it
fills, and leaves every index and key as it found it, also when it fails half-way."""

import pytest
from django.db import connection

from qianke.core.models import SuspendedIndex
from qianke.dataio import services
from qianke.dataio.models import ImportJob
from qianke.dataio.services import import_create, import_run

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's bulk-load path")


def _indexes() -> set[tuple[str, str]]:
    """Indexes and foreign keys (validated ones: a key added back NOT VALID shows so)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()")
        indexes = set(cursor.fetchall())
        cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' "
                       "AND connamespace = current_schema()::regnamespace")
        return indexes | set(cursor.fetchall())


def _file(write_csv, name="big.csv", rows=30):
    return write_csv([["客户名称", "手机", "联系人"]]
                     + [[f"索引{n}科技有限公司", f"137{n:08d}", f"王{n}"] for n in range(rows)], name=name)


@pytest.fixture
def large(monkeypatch):
    monkeypatch.setattr(services, "BULK_INDEX_FROM", 1)
    present = []

    def seen() -> None:
        present.append({name for name, _sql in _indexes()})

    real = services._Run.write_batch
    monkeypatch.setattr(services._Run, "write_batch", lambda self, *args: seen() or real(self, *args))
    return present


@pytest.mark.django_db(transaction=True)
def test_a_large_import_drops_the_plain_indexes_for_the_load_and_builds_them_again(org, write_csv, large):
    before = _indexes()
    job = import_run(job_id=import_create(actor=org.info, path=_file(write_csv), file_name="big.csv").pk,
                     batch_size=10)
    assert job.status == ImportJob.Status.DONE and job.created_customers == 30
    during = large[0]
    assert "customer_status_idx" not in during and "customers_customer_updated_at_3ada91f5" not in during
    # The duplicate check's lookups and the primary and unique keys stay.
    assert {"customer_mobile_idx", "customer_phone_idx", "customers_customer_pkey",
            "customers_customer_code_key", "customers_contact_customer_id_b9afc0da"} <= during
    assert "customers_contact_customer_id_b9afc0da_fk_customers_customer_id" not in during
    assert "dataio_importedrow_job_id_382445ea_fk_dataio_importjob_id" not in during
    assert _indexes() == before and not SuspendedIndex.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_import_failing_half_way_leaves_every_index(org, write_csv, large, second_batch_fails):
    before = _indexes()
    job = import_run(job_id=import_create(actor=org.info, path=_file(write_csv), file_name="big.csv").pk,
                     batch_size=10)
    assert job.status == ImportJob.Status.FAILED and job.can_continue
    assert "customer_status_idx" not in large[0]
    assert _indexes() == before and not SuspendedIndex.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_indexes_a_killed_import_left_dropped_are_built_by_the_next(org, write_csv, large):
    before = _indexes()
    definition = dict(before)["customer_status_idx"]
    SuspendedIndex.objects.create(name="customer_status_idx", definition=definition)
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX customer_status_idx")
    import_run(job_id=import_create(actor=org.info, path=_file(write_csv), file_name="big.csv").pk, batch_size=10)
    assert _indexes() == before and not SuspendedIndex.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_customer_table_larger_than_the_import_keeps_its_indexes(org, write_csv, large, monkeypatch):
    monkeypatch.setattr(services, "BULK_INDEX_FROM", 1)
    first = import_run(job_id=import_create(actor=org.info, path=_file(write_csv, rows=40), file_name="big.csv").pk)
    assert first.created_customers == 40
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
    large.clear()
    path = write_csv([["客户名称"], ["后来一家有限公司"], ["后来两家有限公司"]], name="small.csv")
    import_run(job_id=import_create(actor=org.info, path=path, file_name="small.csv").pk)
    assert "customer_status_idx" in large[0]
