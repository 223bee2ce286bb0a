"""The scan's read: plain tuples in two side-by-side streams give the records the model adapter gives."""

from __future__ import annotations

import datetime as dt
import gc

import pytest
from django.utils import timezone

from qianke.customers.models import Contact, Customer
from qianke.dedupe import jobs
from qianke.dedupe.jobs import customer_records, duplicate_scan
from qianke.dedupe.matching import customer_record


def _from_models(ids=None) -> list:
    customers = Customer.objects.filter(archived_at__isnull=True).order_by("pk")
    if ids is not None:
        customers = customers.filter(pk__in=ids)
    return [customer_record(c, c.contacts.filter(archived_at__isnull=True).order_by("pk")) for c in customers]


@pytest.fixture
def varied(org, make_customer, make_contact):
    a = make_customer(org.rep, "北京华为技术有限公司", phone="010-62345678", city="北京", short_name="华为")
    b = make_customer(org.rep, "无联系人有限公司", email="info@example.com", province="广东省", address="建设路1号")
    person = make_customer(org.rep2, "张三", kind="individual", mobile="13800001111")
    # Custom fields written directly: the form accepts only defined ones, the scan reads whatever is stored.
    Customer.objects.filter(pk=a.pk).update(custom={"credit_code": "91110000100000000X", "note": "x"})
    Customer.objects.filter(pk=person.pk).update(birthday=dt.date(1980, 5, 17),
                                                 custom={"id_number": "110101198005170011"})
    archived = make_customer(org.rep, "已归档有限公司", phone="021-26647000")
    c = make_customer(org.rep2, "杭州娃哈哈集团有限公司", phone="0571-86032866", city="杭州")
    make_contact(org.rep, a, "张伟", mobile="13800002222", email="zw@example.com")
    make_contact(org.rep, a, "李娜", phone="010-62341234")
    gone = make_contact(org.rep, a, "王芳", mobile="13900003333")
    Contact.objects.filter(pk=gone.pk).update(archived_at=timezone.now())
    make_contact(org.rep, archived, "赵六", mobile="13700004444")
    Customer.objects.filter(pk=archived.pk).update(archived_at=timezone.now())
    make_contact(org.rep2, person, "配偶", mobile="13600005555")
    make_contact(org.rep2, c, "宗庆后")
    return a, b, person, c


def test_read_gives_the_records_of_the_model_adapter(varied):
    records = list(customer_records())
    assert records == _from_models()
    assert [r.id for r in records] == [str(c.pk) for c in varied]
    a = records[0]
    assert set(a.values["contact"]) == {"张伟", "李娜"} and a.values["credit_code"] == ("91110000100000000X",)
    person = records[2]
    assert person.values["birth_date"] == ("1980-05-17",) and person.values["id_number"] == ("110101198005170011",)


def test_the_columns_read_are_the_adapter_s_parameters_in_its_order():
    """The read passes each row to record_from_values by position: a column added, dropped or moved in
    one and not the other would shift every value after it."""
    import inspect

    from qianke.dedupe.matching.adapters import record_from_values

    parameters = list(inspect.signature(record_from_values).parameters)
    assert ["pk" if c == "id" else c for c in jobs.CUSTOMER_COLUMNS] == parameters[:-1]
    assert parameters[-1] == "contacts"
    assert jobs.READ_COLUMNS[jobs.CUSTOM] == "custom_text"


def test_the_custom_fields_are_read_at_their_position_wherever_it_is(varied, monkeypatch):
    """With the custom fields' column moved (and the adapter's parameters with it) the records are the same."""
    from qianke.dedupe.matching import adapters

    expected = list(customer_records())
    real = adapters.record_from_values
    moved = ("id", "custom", *(c for c in jobs.CUSTOMER_COLUMNS if c not in ("id", "custom")))

    where = jobs.CUSTOMER_COLUMNS.index("custom") - 1  # among the columns after id, in the real order

    def record_from_values(pk, custom, *rest):
        return real(pk, *rest[:where], custom, *rest[where:])

    monkeypatch.setattr(jobs, "CUSTOMER_COLUMNS", moved)
    monkeypatch.setattr(jobs, "CUSTOM", 1)
    monkeypatch.setattr(jobs, "READ_COLUMNS", tuple("custom_text" if c == "custom" else c for c in moved))
    monkeypatch.setattr(jobs, "record_from_values", record_from_values)
    assert list(customer_records()) == expected


def test_read_of_some_customers_gives_theirs_only(varied):
    a, _b, person, _c = varied
    assert list(customer_records([person.pk, a.pk])) == _from_models([a.pk, person.pk])


def test_read_in_small_fetches_gives_the_same_records(varied, monkeypatch):
    expected = list(customer_records())
    monkeypatch.setattr(jobs, "BATCH", 1)
    assert list(customer_records()) == expected


def test_scan_reports_the_time_of_each_phase(varied):
    timings: dict[str, float] = {}
    counts = duplicate_scan(timings=timings)
    assert counts["customers"] == 4
    assert set(timings) == {"read", "engine", "write"} and all(t >= 0 for t in timings.values())


def test_scan_keeps_the_cyclic_collector_off_and_turns_it_back_on(varied, monkeypatch):
    seen = []
    for name in ("find_groups", "persist_groups"):
        real = getattr(jobs, name)

        def spy(*args, _real=real, **kwargs):
            seen.append(gc.isenabled())
            return _real(*args, **kwargs)

        monkeypatch.setattr(jobs, name, spy)
    assert gc.isenabled()
    duplicate_scan()
    assert seen == [False, False]
    assert gc.isenabled()


def test_scan_preparing_while_reading_finds_the_same_groups(org, varied, make_customer, make_contact, monkeypatch):
    from qianke.dedupe.matching import engine
    from qianke.dedupe.models import DuplicateGroup

    def groups() -> set:
        return {(frozenset(g.members.values_list("customer_id", flat=True)), g.decision, g.score, str(g.pairs))
                for g in DuplicateGroup.objects.filter(status="open")}

    twin = make_customer(org.rep, "华为技术（北京）有限公司", phone="(010)6234-5678", city="北京")
    make_contact(org.rep, twin, "张伟", mobile="13800002222")
    duplicate_scan()
    expected = groups()
    assert expected
    DuplicateGroup.objects.all().delete()
    # Two customers shared with the forked workers, the others read and sent over one by one.
    monkeypatch.setattr(engine, "PARALLEL_FROM", 2)
    monkeypatch.setattr(engine, "PREPARE_CHUNK", 1)
    assert duplicate_scan()["customers"] == 5
    assert groups() == expected
