"""SQLite: the FTS5 index built beside a bulk load (search.Fts5Beside) and copied in finds what
'rebuild' finds; the load falls back to 'rebuild' when the copy could miss rows."""

from __future__ import annotations

import os
import random
import sqlite3
from pathlib import Path

import pytest
from django.db import connection

from qianke.core.tests.sqlite_file import rerun_on_sqlite_file
from qianke.customers import search
from qianke.customers.search import FTS_TABLE, SQLITE_SETUP, Fts5Beside

SEARCH_TABLE = ("CREATE TABLE customers_customersearch (customer_id integer NOT NULL PRIMARY KEY, "
                "names text NOT NULL, pinyin text NOT NULL, digits text NOT NULL, other text NOT NULL)")
QUERIES = ('names : "华信"', 'pinyin : "zha ngw"', 'digits : "1380"', 'other : "ab"*', 'names : "华"*',
           'pinyin : "zh"* OR digits : "0571"', '"信达"', 'other : "zzz"')


def _rows(count: int, seed: int = 5) -> list[tuple[int, str, str, str, str]]:
    """Search rows with the shape of the demo's: CJK bigrams, pinyin trigrams, digit runs, other."""
    rng = random.Random(seed)
    chars = "华信达宏鑫源盛泰恒瑞丰隆通利嘉远安康博创新星金和兴昌明德佳王李张刘陈杨"
    syllables = ("zha", "ngw", "wei", "hua", "xin", "lin", "che", "nji", "ali", "hon")
    rows = []
    for customer_id in range(1, count + 1):
        name = "".join(rng.choice(chars) for _ in range(rng.randint(3, 8)))
        names = " ".join(name[i:i + 2] for i in range(len(name) - 1))
        pinyin = " ".join(rng.choice(syllables) for _ in range(rng.randint(3, 12)))
        phone = f"1{rng.randrange(10**10):010d}"
        digits = " ".join(phone[i:i + 4] for i in range(len(phone) - 3))
        other = " ".join(f"{rng.choice('abcxyz')}{rng.choice('abcxyz')}{rng.randint(0, 99)}" for _ in range(4))
        rows.append((customer_id, names, pinyin, digits, other))
    return rows


def _database(path: Path, rows: list[tuple]) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(SEARCH_TABLE)
    db.execute(SQLITE_SETUP[0])
    db.executemany("INSERT INTO customers_customersearch VALUES (?, ?, ?, ?, ?)", rows)
    return db


def _matches(db: sqlite3.Connection) -> dict[str, list[int]]:
    return {q: [r[0] for r in db.execute(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ? ORDER BY rowid",
                                         [q])] for q in QUERIES}


def test_an_index_built_beside_and_copied_in_finds_what_the_one_rebuild_makes_finds(tmp_path):
    """Rows given in id order, batch by batch (more rows than FTS5 keeps in memory, so several
    segments, merged less often than by 'rebuild'): a sound index in which every query finds the same
    rows, with FTS5's default merge setting again."""
    rows = _rows(30_000)
    rebuilt = _database(tmp_path / "rebuilt.sqlite3", rows)
    rebuilt.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
    beside_db = _database(tmp_path / "beside.sqlite3", rows)
    build = Fts5Beside(str(tmp_path))
    for first in range(0, len(rows), 2_000):
        build.add(rows[first:first + 2_000])
    assert build.finish()
    assert build.count == len(rows)
    assert build.copy(str(tmp_path / "beside.sqlite3"), timeout=5)
    build.discard()
    assert not Path(build.path).exists()
    assert len(rebuilt.execute(f"SELECT 1 FROM {FTS_TABLE}_idx").fetchall()) > 1  # several segments
    assert len(beside_db.execute(f"SELECT 1 FROM {FTS_TABLE}_docsize").fetchall()) == len(rows)
    assert beside_db.execute(f"SELECT v FROM {FTS_TABLE}_config WHERE k = 'automerge'").fetchall() in ([], [(4,)])
    beside_db.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('integrity-check')")
    found = _matches(beside_db)
    assert found == _matches(rebuilt)
    assert all(found[q] for q in QUERIES[:-1]) and not found[QUERIES[-1]]


def test_a_connection_that_read_the_index_before_the_copy_reads_the_new_one(tmp_path):
    """The copy is written by another connection, so FTS5 in a connection that had read the old
    (empty) index reads its structure again instead of using the one it cached."""
    rows = _rows(3_000)
    db = _database(tmp_path / "db.sqlite3", [])
    assert _matches(db)[QUERIES[0]] == []
    db.executemany("INSERT INTO customers_customersearch VALUES (?, ?, ?, ?, ?)", rows)
    build = Fts5Beside(str(tmp_path))
    build.add(rows)
    assert build.finish()
    build.copy(str(tmp_path / "db.sqlite3"), timeout=5)
    build.discard()
    expected = _database(tmp_path / "expected.sqlite3", rows)
    expected.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
    assert _matches(db) == _matches(expected)


def test_a_failed_build_reports_it_and_never_blocks_the_loader(tmp_path):
    build = Fts5Beside(str(tmp_path))
    for _ in range(10):  # more batches than the queue holds; the first one fails (wrong shape)
        build.add([(1, "only two")])
    assert build.finish() is False
    assert "ProgrammingError" in str(build.error)
    build.discard()
    assert not Path(build.path).exists()


def test_a_build_process_killed_midway_is_noticed_and_nothing_is_copied(tmp_path):
    import signal
    import time

    rows = _rows(4_000)
    _database(tmp_path / "main.sqlite3", rows)
    build = Fts5Beside(str(tmp_path))
    build.add(rows[:2_000])
    os.kill(build._process.pid, signal.SIGKILL)
    while build._process.is_alive():
        time.sleep(0.01)
    build.add(rows[2_000:])  # the queue has room: the loader does not notice yet
    assert build.finish() is False
    assert "FTS5 build failed" in str(build.error)
    build.discard()


def test_an_index_short_of_the_rows_given_is_not_copied(tmp_path):
    rows = _rows(2_000)
    main = _database(tmp_path / "main.sqlite3", rows)
    build = Fts5Beside(str(tmp_path))
    build.add(rows)
    assert build.finish()
    build.count += 1  # as if a batch had been lost on its way
    assert build.copy(str(tmp_path / "main.sqlite3"), timeout=5) is False
    assert main.execute(f"SELECT count(*) FROM {FTS_TABLE}_docsize").fetchone()[0] == 0
    build.discard()


# With the demo load on a database file (the default SQLite test database is in memory, where the
# index is rebuilt as before: these run again in a subprocess against a file, see the last test).

def _file_database() -> bool:
    return connection.vendor == "sqlite" and not connection.is_in_memory_db()


@pytest.fixture
def file_load(settings, tmp_path, monkeypatch):
    if not _file_database():
        pytest.skip("SQLite database files only")
    settings.QIANKE_HOME = tmp_path
    copies: list[int] = []
    real_copy = Fts5Beside.copy

    def copy(self, database, timeout):
        copies.append(self.count)
        return real_copy(self, database, timeout)

    monkeypatch.setattr(Fts5Beside, "copy", copy)
    return copies


def _fts_ids(query: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s ORDER BY rowid", [query])
        return [r[0] for r in cursor.fetchall()]


def _rebuilt_ids(queries: list[str]) -> dict[str, list[int]]:
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
    return {q: _fts_ids(q) for q in queries}


def _demo_queries() -> list[str]:
    from qianke.customers.models import CustomerSearch

    queries = []
    for row in CustomerSearch.objects.order_by("customer_id")[::97][:20]:
        for column in ("names", "pinyin", "digits", "other"):
            token = getattr(row, column).split(" ")[0]
            if token:
                queries.append(f'{column} : "{token}"')
                queries.append(f'{column} : "{token[:2]}"*')
    return queries


@pytest.mark.django_db(transaction=True)
def test_a_demo_load_builds_its_index_beside_and_search_finds_the_same(file_load):
    from qianke.core.demo import demo_generate
    from qianke.customers.models import Customer
    from qianke.customers.selectors import CustomerFilters, customer_list

    demo_generate(customers=1_500, seed=4, batch_size=400, workers=1, suspend_index=True, capabilities=True)
    assert file_load == [1_500]
    assert not [p for p in os.listdir(Path(connection.settings_dict["NAME"]).parent) if p.startswith("qianke-fts5-")]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('integrity-check')")
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'customers_customersearch_a_'")
        assert cursor.fetchone()[0] == 3
    queries = _demo_queries()
    copied = {q: _fts_ids(q) for q in queries}
    assert sum(map(len, copied.values())) > len(queries)
    assert copied == _rebuilt_ids(queries)
    # And through the search box, as before.
    from qianke.accounts.models import User

    gm = User.objects.get(username="demo.gm")
    c = Customer.objects.exclude(phone="").order_by("pk")[700]
    for query in (c.name[-6:-2], c.phone_norm[-6:], c.code):
        page = customer_list(user=gm, filters=CustomerFilters(q=query))
        assert c in page.items or page.count > len(page.items), query


@pytest.mark.django_db(transaction=True)
def test_a_demo_load_rebuilds_its_index_when_another_connection_wrote_meanwhile(file_load):
    from qianke.core.demo import demo_generate

    def progress(done: int, total: int) -> None:
        if done == 400:  # another session changes a row the load wrote: only 'rebuild' sees it
            other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None, timeout=20)
            other.execute("UPDATE customers_customersearch SET other = 'zzqq9' WHERE customer_id = 5")
            other.close()

    demo_generate(customers=1_000, seed=4, batch_size=400, workers=0, suspend_index=True, progress=progress)
    assert file_load == []
    assert _fts_ids('other : "zzqq9"') == [5]


@pytest.mark.django_db(transaction=True)
def test_a_failed_demo_load_rebuilds_the_index_of_what_it_wrote(file_load):
    from qianke.core.demo import demo_generate
    from qianke.customers.models import CustomerSearch

    def progress(done: int, total: int) -> None:
        if done == 800:
            raise RuntimeError("stopped")

    with pytest.raises(RuntimeError):
        demo_generate(customers=1_200, seed=4, batch_size=400, workers=0, suspend_index=True, progress=progress)
    assert file_load == []
    assert CustomerSearch.objects.count() == 800
    assert not [p for p in os.listdir(Path(connection.settings_dict["NAME"]).parent) if p.startswith("qianke-fts5-")]
    queries = _demo_queries()
    assert {q: _fts_ids(q) for q in queries} == _rebuilt_ids(queries)


def test_the_demo_load_tests_on_a_sqlite_database_file(tmp_path):
    """The default SQLite test database lives in memory, where the index is rebuilt as before; so the
    demo load tests above run again against a database file."""
    if connection.vendor != "sqlite" or _file_database():
        pytest.skip("the tests above ran on this database already, or it is not SQLite")
    result = rerun_on_sqlite_file(__file__, tmp_path / "beside.sqlite3", select="demo_load and not database_file",
                                  timeout=600)
    assert "3 passed" in result.stdout, result.stdout[-3000:] + result.stderr[-3000:]


def test_bulk_index_suspended_yields_no_builder_inside_a_transaction(db):
    """Inside a transaction (or on PostgreSQL, or in memory) the index is rebuilt as before."""
    with search.bulk_index_suspended(beside=True) as built:
        assert built is None
