"""Demo-data loading throughput: `demo_generate(customers=N)` into a new database, several runs.

    .venv/bin/python bench/demo_load.py --customers 100000 --runs 3                # SQLite
    .venv/bin/python bench/demo_load.py --customers 100000 --runs 3 \\
        --database-url postgresql://postgres@127.0.0.1:5432/qianke_bench_load     # dropped and created

Each run loads N customers (with contacts, follow-ups and the search index) into an empty database,
then times the baseline in the same run: the same rows of the four tables (customers, contacts,
follow-ups, search rows; up to --baseline-customers customers) written into copies of the tables
that have no index, no trigger and no constraint — executemany on SQLite, COPY on PostgreSQL. The
ratio demo / baseline says how much of the raw write speed the demo keeps while it also builds the
rows and the indexes. Medians over the runs are printed; --json writes every run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

TABLES = ("customers_customer", "customers_contact", "activities_activity", "customers_customersearch")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--database-url", default="", help="PostgreSQL URL; the database is dropped and created")
    p.add_argument("--home", default="", help="QIANKE_HOME (default: a new temporary folder)")
    p.add_argument("--baseline-customers", type=int, default=50_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", default="")
    return p.parse_args(argv)


def fresh_database(args) -> None:
    from search import recreate_pg_database

    if args.database_url:
        recreate_pg_database(args.database_url)
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(os.environ["QIANKE_HOME"], "qianke.sqlite3" + suffix).unlink(missing_ok=True)


def baseline(connection, customers: int) -> dict:
    """The same rows written into index-less copies of the four tables."""
    from django.db import transaction

    rows: dict[str, list] = {}
    with connection.cursor() as cursor:
        for table in TABLES:
            column = "id" if table == "customers_customer" else "customer_id"
            cursor.execute(f"SELECT * FROM {table} WHERE {column} <= %s", [customers])
            rows[table] = cursor.fetchall()
            cursor.execute(f"DROP TABLE IF EXISTS bench_raw_{table}")
            if connection.vendor == "postgresql":
                cursor.execute(f"CREATE TABLE bench_raw_{table} (LIKE {table})")
            else:
                cursor.execute(f"CREATE TABLE bench_raw_{table} AS SELECT * FROM {table} LIMIT 0")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for table in TABLES:
            data = rows[table]
            if not data:
                continue
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY bench_raw_{table} FROM STDIN") as copy:
                    for row in data:
                        copy.write_row(row)
            else:
                cursor.executemany(f"INSERT INTO bench_raw_{table} VALUES ({', '.join(['%s'] * len(data[0]))})",
                                   data)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"DROP TABLE bench_raw_{table}")
    count = len(rows["customers_customer"])
    return {"customers": count, "seconds": seconds, "customers_per_s": count / seconds,
            "method": "COPY" if connection.vendor == "postgresql" else "executemany"}


def one_run(args) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from qianke.core.demo import demo_generate

    connection.close()
    fresh_database(args)
    call_command("migrate", verbosity=0)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    counts = demo_generate(customers=args.customers, seed=args.seed)
    seconds = time.perf_counter() - started
    load_after = os.getloadavg()[0]
    raw = baseline(connection, min(args.customers, args.baseline_customers))
    result = {"customers": counts["customers"], "contacts": counts["contacts"],
              "activities": counts["activities"], "seconds": seconds,
              "customers_per_s": counts["customers"] / seconds, "baseline": raw,
              "ratio": counts["customers"] / seconds / raw["customers_per_s"],
              "loadavg": [round(load_before, 2), round(load_after, 2)]}
    print(f"demo {result['customers']:,} customers in {seconds:.1f} s = {result['customers_per_s']:,.0f}/s; "
          f"baseline {raw['method']} {raw['customers_per_s']:,.0f}/s; ratio {result['ratio']:.0%}; "
          f"load average {load_before:.1f} → {load_after:.1f}", flush=True)
    return result


def main(argv=None) -> int:
    args = parse_args(argv)
    os.environ["QIANKE_HOME"] = args.home or tempfile.mkdtemp(prefix="qianke-load-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "qianke.settings"
    if args.database_url:
        os.environ["QIANKE_DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("QIANKE_DATABASE_URL", None)
    import django

    django.setup()
    from django.db import connection

    runs = [one_run(args) for _ in range(args.runs)]
    median = statistics.median(r["customers_per_s"] for r in runs)
    base = statistics.median(r["baseline"]["customers_per_s"] for r in runs)
    ratio = statistics.median(r["ratio"] for r in runs)
    print(f"{connection.vendor}: median of {len(runs)} runs: demo {median:,.0f} customers/s, "
          f"baseline {base:,.0f}/s, ratio {ratio:.0%}")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
