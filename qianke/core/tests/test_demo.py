"""The demo-data generator: counts, realistic and valid values, codes, dates, search rows."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from qianke.accounts.models import Role, User
from qianke.activities.models import Activity
from qianke.core import normalize
from qianke.core.demo import MAX_CUSTOMERS, demo_generate
from qianke.customers.choices import Industry, Kind
from qianke.customers.models import Contact, Customer, CustomerSearch
from qianke.customers.selectors import CustomerFilters, customer_list

pytestmark = pytest.mark.django_db


def test_counts_match_the_database(home):
    counts = demo_generate(customers=300, seed=7)
    assert counts["customers"] == Customer.objects.count() == 300
    assert counts["contacts"] == Contact.objects.count()
    assert counts["activities"] == Activity.objects.count()
    assert CustomerSearch.objects.count() == 300
    orgs = Customer.objects.filter(kind=Kind.ORGANIZATION).count()
    assert 0.6 * 300 < orgs < 0.95 * 300
    assert orgs <= counts["contacts"] <= 3 * orgs


def test_staff_of_every_role_once(home):
    first = demo_generate(customers=10, seed=1)
    again = demo_generate(customers=10, seed=1)
    assert again["users"] == 0 and again["teams"] == 0 and first["password"] == again["password"]
    roles = set(User.objects.filter(username__startswith="demo.").values_list("role", flat=True))
    assert roles == {Role.SALES, Role.MANAGER, Role.GM, Role.INFO, Role.SERVICE}
    rep = User.objects.get(username="demo.sales11")
    assert rep.check_password(first["password"])
    assert rep.team.parent.name == "销售部"
    assert (home / "demo-password.txt").stat().st_mode & 0o777 == 0o600


def test_values_are_valid_and_normalised(home):
    demo_generate(customers=400, seed=3)
    codes = set()
    for c in Customer.objects.all():
        assert re.fullmatch(r"KH\d{12}", c.code)
        assert c.code[2:8] == f"{timezone.localtime(c.created_at):%Y%m}"
        codes.add(c.code)
        if c.mobile:
            assert re.fullmatch(r"1[3-9]\d{9}", c.mobile_norm)
            assert normalize.normalize_mobile(c.mobile) == c.mobile_norm
        if c.phone:
            assert normalize.normalize_phone(c.phone) == c.phone_norm
            assert re.fullmatch(r"0\d{2,3}-[2-9]\d{7}", c.phone)
        if c.postcode:
            assert normalize.normalize_postcode(c.postcode) == c.postcode
        assert c.province and c.city and c.district
        if c.kind == Kind.ORGANIZATION:
            assert c.name_norm == normalize.normalize_company_name(c.name)
            assert c.industry in Industry.values and c.industry != Industry.INDIVIDUAL
            assert re.search(r"(公司|局|中心|馆|学院|管理处)$", c.name)
        else:
            assert c.gender and c.birthday and c.occupation and c.annual_income
            assert 2 <= len(c.name) <= 3
        if c.owner_id:
            assert c.team_id == c.owner.team_id
    assert len(codes) == 400
    for contact in Contact.objects.exclude(mobile=""):
        assert normalize.normalize_mobile(contact.mobile) == contact.mobile_norm


def test_dates_spread_over_three_years_newest_last(home):
    now = timezone.now()
    demo_generate(customers=300, seed=5, now=now)
    created = list(Customer.objects.order_by("id").values_list("created_at", flat=True))
    assert created == sorted(created)
    assert now - dt.timedelta(days=3 * 365 + 1) <= created[0] < now - dt.timedelta(days=2 * 365)
    assert created[-1] > now - dt.timedelta(days=30)
    today = timezone.localdate(now)
    due = Activity.objects.filter(next_done_at__isnull=True, next_due__isnull=False)
    assert due.filter(next_due=today).exists()
    assert due.filter(next_due__lt=today).exists()
    assert due.filter(next_due__gt=today).exists()
    for a in Activity.objects.select_related("customer")[:200]:
        assert a.customer.created_at <= a.occurred_at <= now


def test_search_rows_find_the_customers(home):
    demo_generate(customers=200, seed=11)
    gm = User.objects.get(username="demo.gm")
    c = Customer.objects.filter(kind=Kind.ORGANIZATION).exclude(phone="").first()
    for query in (c.name[-6:-2], normalize.pinyin_initials(c.name)[:4], c.phone_norm[-6:], c.code):
        page = customer_list(user=gm, filters=CustomerFilters(q=query))
        assert c in page.items or page.count > len(page.items), query


def test_search_rows_hold_the_tokens_the_services_index(home):
    from qianke.customers.services import customer_search_sync

    demo_generate(customers=150, seed=5, workers=0)

    def tokens():
        return {row.customer_id: [sorted(getattr(row, column).split()) for column in ("names", "pinyin", "digits", "other")]
                for row in CustomerSearch.objects.all()}

    demo_rows = tokens()
    customer_search_sync(customer_ids=list(demo_rows))  # the real search_document, no demo caches
    assert tokens() == demo_rows
    assert normalize.search_document.__module__ == "qianke.core.normalize"  # the demo's stand-in is gone


def test_worker_process_builds_the_same_data(home):
    demo_generate(customers=120, seed=9, workers=0, batch_size=50)
    first = list(Customer.objects.order_by("id").values_list("name", "phone", "mobile"))
    demo_generate(customers=120, seed=9, workers=1, batch_size=50)
    second = list(Customer.objects.order_by("id").values_list("name", "phone", "mobile"))[120:]
    assert first == second
    assert CustomerSearch.objects.count() == 240


@pytest.mark.parametrize("bad", [-1, MAX_CUSTOMERS + 1, 1.5, True])
def test_bad_counts_write_nothing(home, bad):
    with pytest.raises(ValueError):
        demo_generate(customers=bad)
    assert not Customer.objects.exists() and not User.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_bulk_load_restores_every_index_and_finds_its_customers(home):
    """With suspend_index (large loads), plain indexes and the full-text index are dropped for the
    load and built again afterwards: the same indexes, with the same definitions, and search works."""
    from django.db import connection

    from qianke.core.bulk_indexes import plain_indexes
    from qianke.core.demo import BULK_TABLES

    with connection.cursor() as cursor:
        before = plain_indexes(cursor, BULK_TABLES)
    assert len(before) > 10
    demo_generate(customers=300, seed=3, workers=0, batch_size=100, suspend_index=True)
    with connection.cursor() as cursor:
        assert plain_indexes(cursor, BULK_TABLES) == before
    assert Customer.objects.count() == CustomerSearch.objects.count() == 300
    gm = User.objects.get(username="demo.gm")
    c = Customer.objects.filter(kind=Kind.ORGANIZATION).exclude(phone="").first()
    for query in (c.name[-6:-2], c.phone_norm[-6:], c.code):
        page = customer_list(user=gm, filters=CustomerFilters(q=query))
        assert c in page.items or page.count > len(page.items), query


@pytest.mark.django_db(transaction=True)
def test_indexes_a_killed_bulk_load_left_dropped_are_built_again(home):
    """A load killed while its plain indexes were dropped (no `finally`) leaves their definitions in
    SuspendedIndex; the next load or `qianke init` builds them."""
    from django.db import connection

    from qianke.core.bulk_indexes import plain_indexes, restore_suspended_indexes, suspend_plain_indexes
    from qianke.core.demo import BULK_TABLES
    from qianke.core.models import SuspendedIndex

    with connection.cursor() as cursor:
        before = plain_indexes(cursor, BULK_TABLES)
    suspend_plain_indexes(BULK_TABLES)  # ... and the process dies here
    with connection.cursor() as cursor:
        assert plain_indexes(cursor, BULK_TABLES) == []
    assert SuspendedIndex.objects.count() == len(before)

    assert sorted(restore_suspended_indexes()) == sorted(name for name, _sql in before)
    with connection.cursor() as cursor:
        assert plain_indexes(cursor, BULK_TABLES) == before
    assert not SuspendedIndex.objects.exists()
    assert restore_suspended_indexes() == []


def _foreign_keys_now() -> list[tuple[str, str, str, bool]]:
    """(table, name, definition, validated) of the bulk tables' foreign keys (PostgreSQL)."""
    from django.db import connection

    from qianke.core.demo import BULK_TABLES

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.relname, k.conname, pg_get_constraintdef(k.oid), k.convalidated FROM pg_constraint k "
            "JOIN pg_class t ON t.oid = k.conrelid WHERE k.contype = 'f' AND t.relname = ANY(%s) ORDER BY 1, 2",
            [list(BULK_TABLES)],
        )
        return cursor.fetchall()


@pytest.fixture
def keys_validated_after():
    """The tests below leave a contact that breaks its key and the key NOT VALID on purpose. The flush
    after a transactional test removes the row but not the flag, and the next test would start with a
    key NOT VALID: the row goes and the keys are validated here."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        orphans = "SELECT id FROM customers_contact WHERE customer_id NOT IN (SELECT id FROM customers_customer)"
        cursor.execute(f"UPDATE activities_activity SET contact_id = NULL WHERE contact_id IN ({orphans})")
        cursor.execute(f"DELETE FROM customers_contact WHERE id IN ({orphans})")
        for table, name, _definition, validated in _foreign_keys_now():
            if not validated:
                cursor.execute(f"ALTER TABLE {connection.ops.quote_name(table)} "
                               f"VALIDATE CONSTRAINT {connection.ops.quote_name(name)}")


@pytest.mark.django_db(transaction=True)
def test_a_bulk_load_on_postgresql_puts_back_every_foreign_key_validated(home):
    """A large PostgreSQL load drops the bulk tables' foreign keys and adds them back afterwards: the
    same keys, with the same definitions (deferrable, initially deferred), validated, and enforced."""
    from django.db import IntegrityError, connection, transaction

    from qianke.core.models import SuspendedIndex

    if connection.vendor != "postgresql":
        pytest.skip("foreign keys are suspended on PostgreSQL only")
    before = _foreign_keys_now()
    assert len(before) >= 8 and all(validated for *_rest, validated in before)
    dropped = []

    def progress(done, total):
        if not dropped:
            dropped.append(_foreign_keys_now())

    demo_generate(customers=300, seed=3, workers=0, batch_size=100, suspend_index=True, progress=progress)
    assert dropped == [[]]  # none during the load
    assert _foreign_keys_now() == before
    assert not SuspendedIndex.objects.exists()
    customer = Customer.objects.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(customer_id=customer.pk + 10**6, name="无主")
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.django_db(transaction=True)
def test_foreign_keys_a_killed_load_left_dropped_come_back_validated(home, keys_validated_after):
    """A load killed while the foreign keys were dropped leaves them in SuspendedIndex; the next load
    or `qianke init` (restore_suspended_indexes) adds them back and validates them. A row written
    meanwhile that breaks one makes the validation fail: the key is back (NOT VALID, enforced for new
    rows) and stays recorded."""
    from django.db import connection

    from qianke.core.bulk_indexes import restore_suspended_indexes, suspend_foreign_keys
    from qianke.core.demo import BULK_TABLES
    from qianke.core.models import SuspendedIndex

    if connection.vendor != "postgresql":
        pytest.skip("foreign keys are suspended on PostgreSQL only")
    demo_generate(customers=20, seed=2, workers=0)
    before = _foreign_keys_now()
    keys = suspend_foreign_keys(BULK_TABLES)  # ... and the process dies here
    assert _foreign_keys_now() == [] and SuspendedIndex.objects.count() == len(keys) == len(before)

    assert sorted(restore_suspended_indexes()) == sorted(key for key, _sql in keys)
    assert _foreign_keys_now() == before
    assert not SuspendedIndex.objects.exists()

    suspend_foreign_keys(BULK_TABLES)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE customers_contact SET customer_id = customer_id + 1000000 WHERE id = "
                       "(SELECT MIN(id) FROM customers_contact)")
    with pytest.raises(Exception, match="violates foreign key"):
        restore_suspended_indexes()
    assert {(table, name) for table, name, _d, _v in _foreign_keys_now()} == {(t, n) for t, n, _d, _v in before}
    assert [name for _t, name, _d, validated in _foreign_keys_now() if not validated] == [
        name for table, name, definition, _v in before
        if table == "customers_contact" and "REFERENCES customers_customer" in definition]
    assert SuspendedIndex.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_bulk_load_on_postgresql_builds_its_plain_indexes_again_and_validates_what_it_can(home, keys_validated_after):
    """A large PostgreSQL load into empty tables drops the plain indexes too, and builds them again in
    the sessions of the GIN builds, with the key validations and VACUUMs. A row that other work wrote
    meanwhile and that breaks a key fails the load: that key stays NOT VALID and recorded, the other
    keys and every index are back."""
    from django.db import IntegrityError, connection

    from qianke.core.bulk_indexes import plain_indexes
    from qianke.core.demo import BULK_TABLES
    from qianke.core.models import SuspendedIndex
    from qianke.customers.search import PG_INDEX_NAMES

    if connection.vendor != "postgresql":
        pytest.skip("the tail of a load runs in two sessions on PostgreSQL only")
    with connection.cursor() as cursor:
        indexes = plain_indexes(cursor, BULK_TABLES)
    keys = _foreign_keys_now()
    dropped = []

    def progress(done, total):
        with connection.cursor() as cursor:
            if not dropped:
                dropped.append(plain_indexes(cursor, BULK_TABLES))
            cursor.execute("UPDATE customers_contact SET customer_id = customer_id + 1000000 WHERE id = "
                           "(SELECT MIN(id) FROM customers_contact)")

    with pytest.raises(IntegrityError, match="violates foreign key"):
        demo_generate(customers=300, seed=3, workers=0, batch_size=100, suspend_index=True, progress=progress)
    assert dropped == [[]]
    with connection.cursor() as cursor:
        assert plain_indexes(cursor, BULK_TABLES) == indexes
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname = ANY(%s)", [PG_INDEX_NAMES])
        assert len(cursor.fetchall()) == len(PG_INDEX_NAMES)
    broken = [name for table, name, definition, _v in keys
              if table == "customers_contact" and "REFERENCES customers_customer" in definition]
    assert [name for _t, name, _d, validated in _foreign_keys_now() if not validated] == broken
    assert [i.name.split(".", 1)[1] for i in SuspendedIndex.objects.all()] == broken
    assert Customer.objects.count() == CustomerSearch.objects.count() == 300
