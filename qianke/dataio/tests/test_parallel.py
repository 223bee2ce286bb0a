"""Large imports validate rows in forked worker processes: the same result as in one process."""

import pytest

from qianke.customers.models import Contact, Customer, CustomerSearch
from qianke.customers.services import customer_search_sync
from qianke.dataio import services
from qianke.dataio.models import ImportRejection
from qianke.dataio.services import import_create, import_run

HEADER = ["客户名称", "简称", "手机", "电话", "邮箱", "城市", "联系人", "联系人手机", "联系人邮箱"]


def _rows(prefix, area="010", mobile="138"):
    rows = [HEADER]
    for n in range(40):
        rows.append(
            [
                f"{prefix}华信{n}号科技有限公司",
                f"华信{n}",
                f"{mobile}{n:08d}",
                f"{area}-6234{n:04d}",
                f"info{n}@huaxin{mobile}{n}.cn",
                prefix,
                f"张伟{mobile}{n}",
                f"1{int(mobile[1:]) + 1}{n:08d}",
                f"zw{mobile}{n}@163.com",
            ]
        )
    rows.append(["", "", "12", "", "bad", "", "", "", ""])  # rejected
    rows.append(
        [f"{prefix}华信1号科技有限公司", "", f"{mobile} 0000 0001", "", "", prefix, "", "", ""]
    )  # duplicate
    return rows


def _outcome(job):
    customers = list(
        Customer.objects.filter(pk__in=job.imported_rows.values("customer_id"))
        .order_by("name")
        .values("name", "name_norm", "mobile_norm", "phone_norm", "email", "city")
    )
    search = list(
        CustomerSearch.objects.filter(customer__in=job.imported_rows.values("customer_id"))
        .order_by("customer__name")
        .values("names", "pinyin", "digits", "other")
    )
    rejected = list(ImportRejection.objects.filter(job=job).values_list("row_number", "errors"))
    return customers, search, rejected, (job.created_customers, job.created_contacts, job.flagged_rows)


@pytest.mark.django_db
def test_search_rows_of_an_import_are_those_the_customer_services_write(org, write_csv):
    path = write_csv(_rows("北京"))
    job = import_create(actor=org.info, path=path, file_name=path.name)
    job = import_run(job_id=job.pk)
    ids = list(job.imported_rows.values_list("customer_id", flat=True))
    imported = {r["customer_id"]: r for r in CustomerSearch.objects.filter(customer_id__in=ids).values()}
    assert Contact.objects.filter(customer_id__in=ids).count() == 40
    customer_search_sync(customer_ids=ids)
    rebuilt = {r["customer_id"]: r for r in CustomerSearch.objects.filter(customer_id__in=ids).values()}
    assert imported == rebuilt and len(imported) == 41


@pytest.mark.django_db
def test_rows_validated_in_worker_processes_give_the_same_import(org, write_csv, monkeypatch):
    serial = import_run(
        job_id=import_create(
            actor=org.info, path=write_csv(_rows("北京"), name="a.csv"), file_name="a.csv"
        ).pk,
        batch_size=7,
    )
    monkeypatch.setattr(services, "PARALLEL_FROM", 1)
    monkeypatch.setattr(services, "PARALLEL_MIN_CPUS", 1)
    monkeypatch.setattr(services.os, "cpu_count", lambda: 4)
    workers = []
    real = services._workers_for
    monkeypatch.setattr(services, "_workers_for", lambda *args: workers.append(real(*args)) or workers[-1])
    parallel = import_run(
        job_id=import_create(
            actor=org.info, path=write_csv(_rows("上海", "021", "186"), name="b.csv"), file_name="b.csv"
        ).pk,
        batch_size=7,
    )
    assert workers == [2]
    a, b = _outcome(serial), _outcome(parallel)
    assert a[3] == b[3] == (41, 40, 1)
    assert a[2] == b[2]  # the same rows rejected with the same messages
    assert len(a[0]) == len(b[0]) and all(c["mobile_norm"].startswith("186") for c in b[0])
    assert [c["phone_norm"] for c in b[0]].count("") == 1 and all(c["name_norm"] for c in b[0])
    ids = list(parallel.imported_rows.values_list("customer_id", flat=True))
    imported = {r["customer_id"]: r for r in CustomerSearch.objects.filter(customer_id__in=ids).values()}
    customer_search_sync(customer_ids=ids)
    assert imported == {
        r["customer_id"]: r for r in CustomerSearch.objects.filter(customer_id__in=ids).values()
    }


@pytest.mark.django_db(transaction=True)
def test_batches_written_beside_the_validation_give_the_same_import(org, write_csv, monkeypatch):
    """Outside a transaction a large import writes each batch in a thread (and connection) of its own
    while the next is validated; the next batch's duplicate check still sees the rows written before
    it (the last row of the file repeats the last row of the batch before)."""
    import threading

    def rows(prefix, area="010", mobile="138"):
        rows = _rows(prefix, area, mobile)
        rows[-1] = [f"{prefix}华信34号科技有限公司", "", f"{mobile} 0000 0034", "", "", prefix, "", "", ""]
        return rows

    serial = import_run(
        job_id=import_create(actor=org.info, path=write_csv(rows("北京"), name="a.csv"), file_name="a.csv").pk,
        batch_size=7,
    )
    monkeypatch.setattr(services, "OVERLAP_FROM", 1)
    threads = set()
    real = services._Run.write_batch
    monkeypatch.setattr(services._Run, "write_batch",
                        lambda self, *args: threads.add(threading.current_thread().name) or real(self, *args))
    overlapped = import_run(
        job_id=import_create(
            actor=org.info, path=write_csv(rows("上海", "021", "186"), name="b.csv"), file_name="b.csv"
        ).pk,
        batch_size=7,
    )
    assert len(threads) == 1 and threads.pop().startswith("qianke-import-writer")
    a, b = _outcome(serial), _outcome(overlapped)
    assert a[3] == b[3] == (41, 40, 1)  # row 43 flagged as the same as row 36, written just before
    assert a[2] == b[2]
    assert overlapped.checkpoint == 43 and overlapped.read_rows == 42 and overlapped.status == "done"
    ids = list(overlapped.imported_rows.values_list("customer_id", flat=True))
    imported = {r["customer_id"]: r for r in CustomerSearch.objects.filter(customer_id__in=ids).values()}
    customer_search_sync(customer_ids=ids)
    assert imported == {
        r["customer_id"]: r for r in CustomerSearch.objects.filter(customer_id__in=ids).values()
    }


def test_two_processors_take_one_worker_only_while_batches_are_written_beside(monkeypatch):
    from types import SimpleNamespace

    preparer = SimpleNamespace(columns={"name": 0})
    monkeypatch.setattr(services.os, "cpu_count", lambda: 2)
    assert services._workers_for(services.PARALLEL_FROM, preparer, overlapping=True) == 1
    assert services._workers_for(services.PARALLEL_FROM, preparer, overlapping=False) == 0
    assert services._workers_for(services.PARALLEL_FROM - 1, preparer, overlapping=True) == 0
    monkeypatch.setattr(services.os, "cpu_count", lambda: 1)
    assert services._workers_for(services.PARALLEL_FROM, preparer, overlapping=True) == 0


def test_a_worker_frees_the_cycles_of_each_batch_while_the_collector_is_paused(monkeypatch):
    """Workers are forked with the collector paused (as the import pauses it); what a batch leaves in
    reference cycles is freed after the batch, not kept for the whole import."""
    import gc
    import weakref

    class Node:
        pass

    left = []

    def validate(preparer, rows, extras=False):
        node = Node()
        node.self = node  # a cycle, garbage once the batch is done
        left.append(weakref.ref(node))
        return [], []

    monkeypatch.setattr(services, "_validate_rows", validate)
    enabled = gc.isenabled()
    gc.disable()
    try:
        services._validate_in_worker([])
        assert left[0]() is None
    finally:
        if enabled:
            gc.enable()


def _failing_batch() -> None:
    raise OSError("could not write the batch: No space left on device")


def test_the_last_batch_s_error_is_raised_when_nothing_else_failed():
    writer = services._Writer(True)
    with pytest.raises(OSError, match="No space left"), writer:
        writer.submit(_failing_batch)
    assert writer._pool._shutdown


def test_an_error_while_a_batch_is_in_flight_propagates_with_the_batch_s_error_attached():
    writer = services._Writer(True)
    with pytest.raises(ValueError, match="a row the validation choked on") as raised, writer:
        writer.submit(_failing_batch)
        raise ValueError("a row the validation choked on")
    assert any("No space left on device" in note for note in raised.value.__notes__)
    assert writer._pool._shutdown
