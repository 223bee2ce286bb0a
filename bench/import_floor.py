"""The import's floor on PostgreSQL: the least time the server and a Python client need for N rows.

    .venv/bin/python bench/import_floor.py --rows 1000000 --existing 1000000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/import_floor
    .venv/bin/python bench/import_floor.py --source-url postgresql://postgres@127.0.0.1:5432/import_bench \\
        --database-url postgresql://postgres@127.0.0.1:5432/import_floor   # rows of a finished import

Issue 5 asks for 1,000,000 rows at ≥ 50,000 rows/s (≤ 20 s) with the full-text (GIN) indexes that
search needs present when the import ends. This measures what no import design can go below on this
machine with that schema, instead of what the current import does (bench/import.py):

1. The server floor. The rows an import writes, in their final form, are taken from a finished
   import (--source-url and --source-job, or an import of a file of bench/import.py's generator made
   here into <name>_src): its customers, contacts, follow-ups, search rows, lifecycle rows, tags,
   ledger, rejections, duplicate groups and members, and the job. They are staged as COPY text
   files beforehand (not timed), with their ids shifted above those of the target and codes moved
   to the year 2099, so that they fit a database of M existing customers: <name>_base, M demo
   customers of qianke.core.demo (made once, reused). For each variant a copy of the base is made
   (CREATE DATABASE … TEMPLATE, not timed) and the files are sent with COPY, one table after the
   other in one transaction (synchronous_commit off, as the import's batches; the deferred foreign
   keys are checked at its commit):
     a   every index and key kept during the COPY;
     b   the full-text indexes, every plain B-tree index and every foreign key of the written tables
         dropped first, the rows sent, then the indexes built and the keys added and validated in two
         sessions at once (the GIN builds first, costliest first, as the import does); primary keys and
         unique constraints stay;
     bi  as b, but dropping only what the import drops (dataio.services' _PlainIndexes: it keeps the
         indexes its duplicate check reads, and the keys of the dedupe tables).
   The time runs until the indexes and keys are all in place again (checked against the base).
2. The client floor: reading and parsing the bench's N-row CSV with Python's csv module (and with
   the import's own reader, which also strips the cells), and the search-token computation of the
   import for one row (dataio.services._search_parts and the code's tokens, with the import's
   pinyin cache; core.normalize.search_document does the work) on --token-rows rows, extrapolated.

Printed: a table of seconds, rows/s, the ratio to the time the target allows (N / 50,000 s), CPU
seconds of the server sessions (parallel index-build workers included) and the load average before
and after each step; --json writes everything.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

TARGET_ROWS_PER_S = 50_000

# The tables an import writes (dataio.services._Run._write and write_batch), parents first.
STAGED = (
    "dataio_importjob",
    "customers_customer",
    "customers_contact",
    "activities_activity",
    "customers_customersearch",
    "customers_statuschange",
    "customers_customer_tags",
    "dataio_importedrow",
    "dataio_importrejection",
    "dedupe_duplicategroup",
    "dedupe_duplicatemember",
)
# References without a foreign key: the ledger's.
EXTRA_REFERENCES = {
    ("dataio_importedrow", "customer_id"): "customers_customer",
    ("dataio_importedrow", "contact_id"): "customers_contact",
    ("dataio_importedrow", "activity_id"): "activities_activity",
}
# The GIN builds in the import's order (customers.search.PG_BUILD_ORDER).
GIN_ORDER = ("pinyin", "digits", "names", "other")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000, help="rows of the import made here (no --source-url)")
    p.add_argument("--existing", type=int, default=1_000_000, help="demo customers in the base database")
    p.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/import_floor",
                   help="its name is the stem of <name>_base, <name>_src and <name>_run")
    p.add_argument("--source-url", default="", help="a database holding a finished import to take the rows from")
    p.add_argument("--source-job", type=int, default=0, help="its job (default: the last one finished)")
    p.add_argument("--variants", default="a,b,bi", help="a: indexes kept; b: dropped and rebuilt; bi: as the import")
    p.add_argument("--runs", type=int, default=1, help="runs of each variant, alternating")
    p.add_argument("--stage-dir", default="", help="folder of the COPY files (default /tmp/<name>-stage)")
    p.add_argument("--new-base", action="store_true", help="make the base database again")
    p.add_argument("--new-stage", action="store_true", help="stage the rows again")
    p.add_argument("--token-rows", type=int, default=100_000, help="rows whose search tokens are timed (0: none)")
    p.add_argument("--no-client", action="store_true", help="skip the client floor")
    p.add_argument("--no-server", action="store_true", help="skip the server floor")
    p.add_argument("--json", default="")
    p.add_argument("--make-base", default="", help=argparse.SUPPRESS)
    p.add_argument("--make-source", default="", help=argparse.SUPPRESS)
    return p.parse_args(argv)


# ---------------------------------------------------------------------------------------------
# Databases
# ---------------------------------------------------------------------------------------------


def url_for(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def db_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing a database named {name!r}")
    return name


def connect(url: str, autocommit: bool = True):
    import psycopg

    return psycopg.connect(url, autocommit=autocommit)


def admin(url: str, *statements: str) -> None:
    with connect(url_for(url, "postgres")) as conn:
        for sql in statements:
            conn.execute(sql)


def exists(url: str) -> bool:
    with connect(url_for(url, "postgres")) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db_name(url)]).fetchone() is not None


def django_setup(url: str, home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("QIANKE_HOME", str(home))
    os.environ["DJANGO_SETTINGS_MODULE"] = "qianke.settings"
    os.environ["QIANKE_DATABASE_URL"] = url
    import django

    django.setup()


def import_bench():
    """bench/import.py (its name is a keyword)."""
    return importlib.import_module("import")


def make_base(url: str, customers: int) -> None:
    """In a process of its own (Django's database is set at start): M demo customers."""
    django_setup(url, Path(f"/tmp/{db_name(url)}-home"))
    from django.core.management import call_command

    from qianke.core.demo import demo_generate

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    counts = demo_generate(customers=customers, seed=1)
    print(f"base: {counts['customers']:,} demo customers in {time.perf_counter() - started:.1f} s", flush=True)


def make_source(url: str, rows: int) -> None:
    """In a process of its own: a real import of N generated rows into an empty database (partial mode,
    the bench's first file), whose written rows are then staged."""
    home = Path(f"/tmp/{db_name(url)}-home")
    django_setup(url, home)
    from django.core.management import call_command

    from qianke.accounts.models import Role
    from qianke.accounts.services import user_create
    from qianke.dataio.services import import_create, import_run

    call_command("migrate", verbosity=0)
    actor = user_create(username="bench", role=Role.INFO, password="bench-Import-2026", validate=False)
    path = home / "customers-1.csv"
    import_bench().generate(path, rows, 1)
    started = time.perf_counter()
    job = import_create(actor=actor, path=path, file_name=path.name, claim=True)
    job = import_run(job_id=job.pk, take_over=True)
    print(f"source: import of {job.read_rows:,} rows ({job.created_customers:,} customers) in "
          f"{time.perf_counter() - started:.1f} s", flush=True)


def run_self(flag: str, url: str, *extra: str) -> None:
    subprocess.run([sys.executable, __file__, flag, url, *extra], check=True, env={**os.environ})


# ---------------------------------------------------------------------------------------------
# Staging: the import's rows as COPY files, ids shifted above the base's
# ---------------------------------------------------------------------------------------------


def columns_of(conn, table: str) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND table_schema = current_schema() "
        "ORDER BY ordinal_position", [table]).fetchall()]


def references(conn, table: str) -> dict[str, str]:
    """column → referenced table of the table's single-column foreign keys (and EXTRA_REFERENCES)."""
    rows = conn.execute(
        "SELECT a.attname, r.relname FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid "
        "JOIN pg_class r ON r.oid = k.confrelid JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1] "
        "WHERE k.contype = 'f' AND t.relname = %s AND array_length(k.conkey, 1) = 1", [table]).fetchall()
    found = dict(rows)
    found.update({column: target for (t, column), target in EXTRA_REFERENCES.items() if t == table})
    return found


def primary_key(conn, table: str) -> str:
    row = conn.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
        "WHERE i.indrelid = %s::regclass AND i.indisprimary", [table]).fetchone()
    return row[0]


def source_job(conn, wanted: int) -> tuple[int, int]:
    if wanted:
        row = conn.execute("SELECT id, read_rows FROM dataio_importjob WHERE id = %s", [wanted]).fetchone()
    else:
        row = conn.execute("SELECT id, read_rows FROM dataio_importjob WHERE status = 'done' "
                           "ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        raise SystemExit("no finished import in the source database")
    return row[0], row[1]


def stage(source_url: str, job: int, base_url: str, folder: Path) -> dict:
    """COPY files of every row the job wrote, shifted to follow the base's rows. Returns the manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    src = connect(source_url)
    base = connect(base_url)
    src.execute("SET work_mem = '256MB'")
    src.execute("CREATE TEMP TABLE floor_customers AS SELECT customer_id AS created_id FROM dataio_importedrow "
                "WHERE job_id = %s AND customer_created", [job])
    src.execute("CREATE UNIQUE INDEX ON floor_customers (created_id)")
    src.execute("CREATE TEMP TABLE floor_groups AS SELECT id FROM dedupe_duplicategroup WHERE import_job_id = %s",
                [job])
    src.execute("ANALYZE floor_customers, floor_groups, dataio_importedrow")
    created = "(SELECT created_id FROM floor_customers)"
    filters = {
        "dataio_importjob": ("id = %s", [job]),
        "customers_customer": (f"id IN {created}", []),
        "customers_contact": ("id IN (SELECT contact_id FROM dataio_importedrow WHERE job_id = %s)", [job]),
        "activities_activity": ("id IN (SELECT activity_id FROM dataio_importedrow WHERE job_id = %s)", [job]),
        "customers_customersearch": (f"customer_id IN {created}", []),
        "customers_statuschange": (f"customer_id IN {created}", []),
        "customers_customer_tags": (f"customer_id IN {created}", []),
        "dataio_importedrow": ("job_id = %s", [job]),
        "dataio_importrejection": ("job_id = %s", [job]),
        "dedupe_duplicategroup": ("import_job_id = %s", [job]),
        "dedupe_duplicatemember": ("group_id IN (SELECT id FROM floor_groups)", []),
    }
    # Offsets: the staged ids of a table start after the base's largest id.
    offsets: dict[str, int] = {}
    for table in STAGED:
        key = primary_key(src, table)
        if key != "id":
            continue
        where, params = filters[table]
        low = src.execute(f"SELECT min(id) FROM {table} WHERE {where}", params).fetchone()[0]
        high = base.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
        offsets[table] = (high + 1 - low) if low is not None else 0
    base_customers = base.execute("SELECT min(id), count(*) FROM customers_customer").fetchone()
    if not base_customers[1]:
        # An empty base: the members that were existing customers in the source have nothing to be.
        filters["dedupe_duplicatemember"] = (f"group_id IN (SELECT id FROM floor_groups) AND customer_id IN {created}",
                                             [])
    manifest: dict = {"job": job, "tables": {}, "offsets": offsets}
    for table in STAGED:
        # The base's columns (its schema may be newer than the source's): a column the source lacks
        # gets NULL, or the empty value of its type when it is NOT NULL (Django sets no database defaults).
        columns = columns_of(base, table)
        source_columns = set(columns_of(src, table))
        missing = {name: (nullable == "YES", kind) for name, nullable, kind in base.execute(
            "SELECT column_name, is_nullable, data_type FROM information_schema.columns WHERE table_name = %s "
            "AND table_schema = current_schema()", [table]).fetchall() if name not in source_columns}
        refs = references(src, table)
        key = primary_key(src, table)
        expressions = []
        joins = []
        for column in columns:
            q = f'"{column}"'
            target = refs.get(column)
            if column in missing:
                nullable, kind = missing[column]
                expressions.append("NULL" if nullable else {"boolean": "false", "jsonb": "'{}'::jsonb"}.get(
                    kind, "0" if kind in ("integer", "bigint", "smallint", "numeric", "double precision") else "''"))
            elif column == key and table in offsets:
                expressions.append(f"{q} + {offsets[table]}")
            elif column == key and table == "customers_customersearch":
                expressions.append(f"{q} + {offsets['customers_customer']}")
            elif table == "customers_customer" and column == "code":
                expressions.append("substr(code, 1, 2) || '2099' || substr(code, 7)")  # KH2099…: no clash
            elif target == "customers_customer":
                # The import's own customers follow it; customers that were there before it (a
                # duplicate group's other members) become existing customers of the base.
                # Joined, not `IN (SELECT …)` in the CASE: that subplan was not hashed and scanned
                # the import's customers for every row.
                alias = f"f{len(joins)}"
                joins.append(f"LEFT JOIN floor_customers {alias} ON {alias}.created_id = t.{q}")
                expressions.append(
                    f"CASE WHEN {alias}.created_id IS NOT NULL THEN {q} + {offsets['customers_customer']} "
                    f"WHEN {q} IS NOT NULL THEN {base_customers[0] or 0} + mod({q}, {max(base_customers[1], 1)}) END")
            elif target in offsets:
                expressions.append(f"{q} + {offsets[target]}")
            elif target is not None:
                # Users, teams, tags: one that the base holds.
                first = base.execute(f"SELECT min(id) FROM {target}").fetchone()[0]
                expressions.append(f"CASE WHEN {q} IS NOT NULL THEN {first if first is not None else 'NULL'} END")
            else:
                expressions.append(q)
        where, params = filters[table]
        path = folder / f"{table}.copy"
        rows = 0
        with path.open("wb") as out, src.cursor() as cursor:
            query = (f"COPY (SELECT {', '.join(expressions)} FROM {table} t {' '.join(joins)} "
                     f"WHERE {where}) TO STDOUT")
            with cursor.copy(query, params or None) as copy:
                for data in copy:
                    out.write(data)
                    rows += bytes(data).count(b"\n")
        manifest["tables"][table] = {"columns": columns, "rows": rows, "bytes": path.stat().st_size,
                                     "filled": sorted(missing)}
        print(f"  staged {table}: {rows:,} rows, {path.stat().st_size / 2**20:.0f} MB", flush=True)
    manifest["read_rows"] = src.execute("SELECT read_rows FROM dataio_importjob WHERE id = %s", [job]).fetchone()[0]
    src.close()
    base.close()
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


# ---------------------------------------------------------------------------------------------
# The server floor
# ---------------------------------------------------------------------------------------------


def _proc_cpu(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ServerCpu:
    """CPU seconds of every server process of one database (sessions and parallel workers), sampled
    every 0.1 s from a connection whose own backend is left out (as bench/import.py's _ServerCpu)."""

    def __init__(self, url: str) -> None:
        self.db = connect(url)
        self.name = db_name(url)
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.done = threading.Event()
        self._sample()
        self.first = dict(self.last)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        for (pid,) in self.db.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                                      [self.name]).fetchall():
            value = _proc_cpu(pid)
            if value is not None:
                self.last[pid] = value

    def _run(self) -> None:
        while not self.done.wait(0.1):
            self._sample()

    def stop(self) -> float:
        self.done.set()
        self.thread.join()
        self._sample()
        self.db.close()
        return sum(v - self.first.get(pid, 0.0) for pid, v in self.last.items())


def schema_state(conn) -> tuple[set, set]:
    """The indexes and the validated constraints of the schema: what must be in place at the end."""
    indexes = {r[0] for r in conn.execute(
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()").fetchall()}
    constraints = {r[0] for r in conn.execute(
        "SELECT t.relname || '.' || k.conname FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid "
        "WHERE k.convalidated AND t.relnamespace = current_schema()::regnamespace").fetchall()}
    return indexes, constraints


def droppable(conn, variant: str) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """(index, definition) of the indexes and (table, key, definition) of the foreign keys the
    variant drops: GIN first in the import's order, then the B-trees largest first."""
    if variant == "bi":
        from qianke.dataio.services import KEPT_INDEX_COLUMNS, KEYED_TABLES, SUSPENDED_TABLES

        index_tables, key_tables, keep = (list(SUSPENDED_TABLES) + ["customers_customersearch"],
                                          list(KEYED_TABLES), KEPT_INDEX_COLUMNS)
    else:
        index_tables, key_tables, keep = list(STAGED), list(STAGED), ()
    rows = conn.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid), a.amname, pg_relation_size(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid JOIN pg_am a ON a.oid = c.relam "
        "WHERE t.relname = ANY(%s) AND t.relnamespace = current_schema()::regnamespace AND NOT i.indisunique "
        "AND NOT i.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
        [index_tables]).fetchall()
    gin = {f"customers_customersearch_{c}_gin": n for n, c in enumerate(GIN_ORDER)}
    indexes = [(name, sql) for name, sql, am, size in
               sorted(rows, key=lambda r: (gin.get(r[0], 99), -r[3]))
               if am == "gin" or not any(sql.endswith(k) for k in keep)]
    keys = conn.execute(
        "SELECT t.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid "
        "WHERE k.contype = 'f' AND t.relname = ANY(%s) AND t.relnamespace = current_schema()::regnamespace ORDER BY 1, 2",
        [key_tables]).fetchall()
    return indexes, keys


def copy_in(conn, folder: Path, manifest: dict) -> dict[str, float]:
    """Every staged file into its table, in one transaction; seconds per table and for the commit."""
    took: dict[str, float] = {}
    with conn.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("SET LOCAL synchronous_commit = off")
        for table in STAGED:
            info = manifest["tables"][table]
            if not info["rows"]:
                continue
            began = time.perf_counter()
            columns = ", ".join(f'"{c}"' for c in info["columns"])
            with (folder / f"{table}.copy").open("rb") as f, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                while block := f.read(1 << 20):
                    copy.write(block)
            took[table] = time.perf_counter() - began
        began = time.perf_counter()
        cursor.execute("COMMIT")  # the deferred foreign-key checks run here
        took["commit"] = time.perf_counter() - began
    return took


def rebuild(url: str, indexes: list[tuple[str, str]], keys: list[tuple[str, str, str]]) -> list[tuple]:
    """The indexes built and the keys validated in two sessions taking jobs from one queue (GIN
    first), as the import's search.bulk_index_suspended(then=…); the keys are added NOT VALID first."""
    with connect(url) as conn:
        for table, name, definition in keys:
            conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition} NOT VALID')
    jobs: queue.SimpleQueue = queue.SimpleQueue()
    for name, sql in indexes:
        jobs.put(("build " + name, sql))
    for table, name, _definition in keys:
        jobs.put(("validate " + name, f'ALTER TABLE {table} VALIDATE CONSTRAINT "{name}"'))
    timeline: list[tuple] = []
    errors: list[BaseException] = []
    started = time.perf_counter()

    def session(label: str) -> None:
        try:
            with connect(url) as conn:
                conn.execute("SET maintenance_work_mem = '256MB'")
                while True:
                    try:
                        job, sql = jobs.get_nowait()
                    except queue.Empty:
                        return
                    began = time.perf_counter()
                    conn.execute(sql)
                    timeline.append((label, job, round(began - started, 1), round(time.perf_counter() - began, 1)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(f"s{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return timeline


def server_variant(args, variant: str, base_url: str, run_url: str, folder: Path, manifest: dict) -> dict:
    admin(base_url, f'DROP DATABASE IF EXISTS "{db_name(run_url)}" WITH (FORCE)',
          f'CREATE DATABASE "{db_name(run_url)}" TEMPLATE "{db_name(base_url)}" STRATEGY FILE_COPY')
    with connect(run_url) as conn:
        before = schema_state(conn)
        conn.execute("CHECKPOINT")
        indexes, keys = droppable(conn, variant) if variant != "a" else ([], [])
    load = [round(os.getloadavg()[0], 2)]
    cpu = ServerCpu(run_url)
    started = time.perf_counter()
    with connect(run_url) as conn:
        for name, _sql in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        for table, name, _definition in keys:
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    dropped = time.perf_counter()
    with connect(run_url, autocommit=True) as conn:
        tables = copy_in(conn, folder, manifest)
    copied = time.perf_counter()
    timeline = rebuild(run_url, indexes, keys) if indexes or keys else []
    seconds = time.perf_counter() - started
    server_cpu = cpu.stop()
    load.append(round(os.getloadavg()[0], 2))
    with connect(run_url) as conn:
        after = schema_state(conn)
        customers = conn.execute("SELECT count(*) FROM customers_customer").fetchone()[0]
    if after != before:
        raise SystemExit(f"variant {variant}: indexes or keys differ from the base's: "
                         f"missing {sorted((before[0] - after[0]) | (before[1] - after[1]))}")
    result = {"variant": variant, "seconds": seconds, "drop_seconds": dropped - started,
              "copy_seconds": copied - dropped - tables["commit"], "commit_seconds": tables["commit"],
              "rebuild_seconds": seconds - (copied - started),
              "tables": {k: round(v, 2) for k, v in tables.items()}, "timeline": timeline,
              "dropped_indexes": len(indexes), "dropped_keys": len(keys), "server_cpu": server_cpu,
              "customers_after": customers, "load": load}
    print(f"  {variant}: {seconds:.1f} s (drop {result['drop_seconds']:.1f}, COPY {result['copy_seconds']:.1f}, "
          f"commit {result['commit_seconds']:.1f}, rebuild {result['rebuild_seconds']:.1f}); server CPU "
          f"{server_cpu:.1f} s; {len(indexes)} indexes and {len(keys)} keys dropped; per table {result['tables']}; "
          f"{customers:,} customers after; load {load[0]} → {load[1]}", flush=True)
    for label, job, began, took in timeline:
        print(f"    {label} at {began:6.1f} s {took:6.1f} s  {job}")
    admin(base_url, f'DROP DATABASE IF EXISTS "{db_name(run_url)}" WITH (FORCE)')
    return result


# ---------------------------------------------------------------------------------------------
# The client floor
# ---------------------------------------------------------------------------------------------


def client_floor(args, folder: Path) -> dict:
    bench = import_bench()
    path = folder / f"customers-{args.rows}.csv"
    if not path.exists():
        bench.generate(path, args.rows, 1)
    results: dict = {"file_mb": round(path.stat().st_size / 2**20, 1)}
    load = [round(os.getloadavg()[0], 2)]
    path.read_bytes()  # in the page cache, as after an upload

    began, cpu = time.perf_counter(), time.process_time()
    rows = 0
    with path.open(encoding="utf-8-sig", newline="") as f:
        for _row in csv.reader(f):
            rows += 1
    results["csv"] = {"rows": rows - 1, "seconds": time.perf_counter() - began, "cpu": time.process_time() - cpu}

    from qianke.dataio import reader

    began, cpu = time.perf_counter(), time.process_time()
    table = reader.open_table(path, count=False)
    rows = sum(1 for _ in table.rows)
    results["reader"] = {"rows": rows, "seconds": time.perf_counter() - began, "cpu": time.process_time() - cpu}

    if args.token_rows:
        from qianke.core import normalize
        from qianke.dataio.fastpinyin import word_pinyin
        from qianke.dataio.services import _search_parts

        with path.open(encoding="utf-8-sig", newline="") as f:
            sample = [r for _, r in zip(range(args.token_rows + 1), csv.reader(f), strict=False)][1:]
        items = [({"name": r[0], "mobile": r[1], "phone": r[2], "code": f"KH2099{n:08d}"}, [{"name": r[9]}])
                 for n, r in enumerate(sample)]
        with word_pinyin():
            began, cpu = time.perf_counter(), time.process_time()
            for customer, contacts in items:
                _search_parts(customer, contacts)
                normalize.search_document(names=[], phones=[], others=[customer["code"]])
            seconds, used = time.perf_counter() - began, time.process_time() - cpu
        results["tokens"] = {"rows": len(items), "seconds": seconds, "cpu": used,
                             "us_per_row": used * 1e6 / max(len(items), 1)}
    load.append(round(os.getloadavg()[0], 2))
    results["load"] = load
    for name in ("csv", "reader", "tokens"):
        if name in results:
            r = results[name]
            print(f"  client {name}: {r['rows']:,} rows in {r['seconds']:.2f} s ({r['cpu']:.2f} CPU-s)", flush=True)
    return results


# ---------------------------------------------------------------------------------------------


def pg_settings(url: str) -> dict:
    with connect(url) as conn:
        rows = conn.execute(
            "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name IN ('shared_buffers', "
            "'max_wal_size', 'maintenance_work_mem', 'max_parallel_maintenance_workers', 'wal_level', "
            "'synchronous_commit', 'fsync', 'checkpoint_timeout') ORDER BY 1").fetchall()
        version = conn.execute("SHOW server_version").fetchone()[0]
    return {"server_version": version, **dict(rows)}


def table(rows: int, server: list[dict], client: dict | None) -> list[str]:
    allowed = rows / TARGET_ROWS_PER_S
    lines = [f"| step | seconds | rows/s | × the {allowed:g} s allowed | server CPU s | load |",
             "|---|---:|---:|---:|---:|---|"]

    def line(name: str, seconds: float, cpu: str, load: list) -> None:
        lines.append(f"| {name} | {seconds:.1f} | {rows / seconds:,.0f} | {seconds / allowed:.2f} | {cpu} | "
                     f"{load[0]}–{load[-1]} |")

    names = {"a": "server (a): COPY, indexes and keys kept",
             "b": "server (b): indexes and keys dropped, COPY, rebuilt in 2 sessions",
             "bi": "server (bi): as (b), dropping only what the import drops"}
    for r in server:
        detail = (f" — COPY {r['copy_seconds']:.1f} + commit {r['commit_seconds']:.1f}"
                  + (f" + rebuild {r['rebuild_seconds']:.1f}" if r["variant"] != "a" else ""))
        line(names[r["variant"]] + detail, r["seconds"], f"{r['server_cpu']:.1f}", r["load"])
    if server:
        best = min(server, key=lambda r: r["seconds"])
        line(f"**server floor** (the lesser: {best['variant']})", best["seconds"], f"{best['server_cpu']:.1f}",
             best["load"])
    if client:
        scale = rows / max(client["csv"]["rows"], 1)
        line("client: csv.reader over the file (CPU-s)", client["csv"]["cpu"] * scale, "—", client["load"])
        line("client: the import's reader, cells stripped (CPU-s)", client["reader"]["cpu"] * scale, "—",
             client["load"])
        if "tokens" in client:
            t = client["tokens"]
            line(f"client: search tokens ({t['us_per_row']:.0f} CPU-µs a row, {t['rows']:,} rows timed, scaled)",
                 t["cpu"] / t["rows"] * rows, "—", client["load"])
            line("**client floor** (csv.reader + search tokens)",
                 client["csv"]["cpu"] * scale + t["cpu"] / t["rows"] * rows, "—", client["load"])
    lines.append("Server rows: wall time until the indexes and keys are in place. Client rows: CPU seconds of one "
                 "Python process (the wall time on an idle core).")
    return lines


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.make_base:
        make_base(args.make_base, args.existing)
        return 0
    if args.make_source:
        make_source(args.make_source, args.rows)
        return 0
    stem = db_name(args.database_url)
    base_url, run_url = url_for(args.database_url, f"{stem}_base"), url_for(args.database_url, f"{stem}_run")
    source_url = args.source_url or url_for(args.database_url, f"{stem}_src")
    folder = Path(args.stage_dir or f"/tmp/{stem}-stage")
    folder.mkdir(parents=True, exist_ok=True)
    django_setup(base_url, folder / "home")
    report: dict = {"args": vars(args), "cpus": os.cpu_count(), "load_start": os.getloadavg()}
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}", flush=True)

    server: list[dict] = []
    rows = args.rows
    if not args.no_server:
        if args.new_base or not exists(base_url):
            admin(base_url, f'DROP DATABASE IF EXISTS "{db_name(base_url)}" WITH (FORCE)',
                  f'CREATE DATABASE "{db_name(base_url)}"')
            run_self("--make-base", base_url, "--existing", str(args.existing))
        if not args.source_url and not exists(source_url):
            admin(source_url, f'CREATE DATABASE "{db_name(source_url)}"')
            run_self("--make-source", source_url, "--rows", str(args.rows))
        manifest_path = folder / "manifest.json"
        with connect(source_url) as conn:
            job, _read = source_job(conn, args.source_job)
        manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else None
        if args.new_stage or manifest is None or manifest["job"] != job or manifest.get("source") != source_url:
            began = time.perf_counter()
            manifest = stage(source_url, job, base_url, folder)
            manifest["source"] = source_url
            manifest_path.write_text(json.dumps(manifest, indent=1))
            print(f"staged job {job} of {source_url} in {time.perf_counter() - began:.1f} s", flush=True)
        rows = manifest["read_rows"]
        with connect(base_url) as conn:
            existing = conn.execute("SELECT count(*) FROM customers_customer").fetchone()[0]
        report.update(manifest=manifest, existing=existing, settings=pg_settings(base_url))
        print(f"{rows:,} rows of job {job} ({manifest['tables']['customers_customer']['rows']:,} customers) into "
              f"{existing:,} existing customers; {report['settings']}", flush=True)
        variants = [v.strip() for v in args.variants.split(",") if v.strip()]
        for _run in range(args.runs):
            for variant in variants:
                server.append(server_variant(args, variant, base_url, run_url, folder, manifest))
        if args.runs > 1:  # medians per variant
            merged = []
            for variant in variants:
                runs = sorted((r for r in server if r["variant"] == variant), key=lambda r: r["seconds"])
                merged.append(runs[len(runs) // 2])
            server = merged
    client = None if args.no_client else client_floor(args, folder)
    report.update(server=server, client=client, load_end=os.getloadavg())
    print()
    print(f"PostgreSQL, {rows:,} rows, {os.cpu_count()} CPUs")
    print("\n".join(table(rows, server, client)))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
