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
import ast
import contextlib
import functools
import inspect
import json
import os
import resource
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
    p.add_argument("--baseline-customers", type=int, default=50_000, help="0: no baseline")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", default="")
    p.add_argument("--workers", type=int, default=None, help="builder processes (default: demo_generate's choice)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="set a constant of qianke.core.demo for the runs (a Python literal), e.g. PG_SUSPEND_FOREIGN_KEYS=False")
    p.add_argument("--slow", type=float, default=0.5, help="print statements slower than this many seconds")
    p.add_argument("--batch-size", type=int, default=0, help="customers a batch (default: demo_generate's)")
    p.add_argument("--whole", action="store_true",
                   help="time the whole `qianke demo` command: demo_generate with the capabilities' rows it "
                        "writes in the load (when it can), then demo_capabilities, each capability timed")
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


def _cpu_self_children() -> tuple[float, float]:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def _backend_cpu(pid: int | None) -> float:
    """CPU seconds of the PostgreSQL backend serving this connection (same machine only)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def _tail_timeline():
    """(session, job, start, end) of every job of the PostgreSQL tail (search index builds, then the
    plain index builds, key validations and VACUUMs of demo._PgTail), in either build session."""
    import threading

    from qianke.core import demo
    from qianke.customers import search

    timeline: list[tuple[str, str, float, float]] = []
    originals = {}

    def timed(owner, name, label):
        original = getattr(owner, name)
        originals[(owner, name)] = original

        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            began = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                timeline.append((threading.current_thread().name, label(args, kwargs), began, time.perf_counter()))

        setattr(owner, name, wrapper)

    def statement(args, kwargs):
        sql = " ".join(str(kwargs.get("statements") or args[1]).split())
        return sql[sql.find("customers_customersearch_"):][:40] if "gin" in sql else sql[:60]

    timed(search, "_pg_build_indexes", statement)
    timed(demo._PgTail, "_build", lambda args, kwargs: f"build {args[1]}")
    timed(demo._PgTail, "_validate", lambda args, kwargs: f"validate {args[1]}")
    timed(demo._PgTail, "_vacuum", lambda args, kwargs: f"vacuum {', '.join(args[1])}")
    if hasattr(demo._PgTail, "_analyze"):
        timed(demo._PgTail, "_analyze", lambda args, kwargs: f"analyze {', '.join(args[1])}")
    try:
        yield timeline
    finally:
        for (owner, name), original in originals.items():
            setattr(owner, name, original)


def one_run(args) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from qianke.core.demo import demo_generate

    connection.close()
    fresh_database(args)
    call_command("migrate", verbosity=0)
    backend = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
    load_before = os.getloadavg()[0]
    last_batch = [0.0]

    def progress(done: int, total: int) -> None:
        last_batch[0] = time.perf_counter()

    options = {k: v for k, v in (("workers", args.workers), ("batch_size", args.batch_size or None)) if v is not None}
    if args.whole and "capabilities" in inspect.signature(demo_generate).parameters:
        options["capabilities"] = True  # as `qianke demo` calls it (older code: the capabilities after)
    cpu_before, backend_before = _cpu_self_children(), _backend_cpu(backend)
    started = time.perf_counter()
    slow: list[tuple[float, str]] = []

    def timed(execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - began
            if took >= args.slow:
                slow.append((round(took, 2), " ".join(str(sql).split())[:90]))

    capabilities: list[tuple[str, float, dict]] = []
    with connection.execute_wrapper(timed), _tail_timeline() as timeline:
        counts = demo_generate(customers=args.customers, seed=args.seed, progress=progress, **options)
        core_seconds = time.perf_counter() - started
        core_cpu = _cpu_self_children()[0] - cpu_before[0], _backend_cpu(backend) - backend_before
        if args.whole:
            from qianke.core.demo import demo_capabilities

            def done(module: str, extra: dict) -> None:
                capabilities.append((module, time.perf_counter(), extra))

            # As `qianke demo`: the capabilities whose rows the load wrote are reported, not run again.
            loaded = ({"loaded": counts.get("capabilities")}
                      if "loaded" in inspect.signature(demo_capabilities).parameters else {})  # older code: none
            demo_capabilities(seed=args.seed, customers=args.customers, done=done, **loaded)
    seconds = time.perf_counter() - started
    cpu_after, backend_after = _cpu_self_children(), _backend_cpu(backend)
    load_after = os.getloadavg()[0]
    rows_seconds = (last_batch[0] or started) - started
    steps, previous = [], started + core_seconds
    for module, at, extra in capabilities:
        steps.append({"module": module, "seconds": round(at - previous, 2), "counts": extra})
        previous = at
    cpu = {"writer": cpu_after[0] - cpu_before[0], "workers": cpu_after[1] - cpu_before[1],
           "backend": backend_after - backend_before}
    raw = baseline(connection, min(args.customers, args.baseline_customers)) if args.baseline_customers else None
    result = {"customers": counts["customers"], "contacts": counts["contacts"],
              "activities": counts["activities"], "seconds": seconds,
              "customers_per_s": counts["customers"] / seconds, "rows_seconds": rows_seconds,
              "rows_customers_per_s": counts["customers"] / rows_seconds if rows_seconds else None,
              "tail_seconds": core_seconds - rows_seconds, "cpu_seconds": cpu, "baseline": raw,
              "ratio": counts["customers"] / seconds / raw["customers_per_s"] if raw else None,
              "loadavg": [round(load_before, 2), round(load_after, 2)], "slow_statements": slow,
              "core_seconds": core_seconds, "core_cpu_seconds": {"writer": core_cpu[0], "backend": core_cpu[1]}, "core_customers_per_s": counts["customers"] / core_seconds,
              "load_counts": {k: v for k, v in counts.items() if k != "password"}, "capabilities": steps}
    result["tail_jobs"] = [(session, label, round(b - started, 1), round(e - b, 1)) for session, label, b, e in timeline]
    for took, sql in slow:
        print(f"  {took:6.2f} s  {sql}")
    for session, label, began, took in result["tail_jobs"]:
        print(f"  tail job {session:>16}  at {began:6.1f} s  {took:5.1f} s  {label}")
    for step in steps:
        print(f"  capability {step['module']:<28} {step['seconds']:7.1f} s  {step['counts']}")
    if args.whole:
        print(f"  core load {core_seconds:.1f} s = {counts['customers'] / core_seconds:,.0f}/s "
              f"({ {k: v for k, v in counts.items() if k not in ('password', 'users', 'teams')} }); "
              f"CPU µs a customer in it: writer {core_cpu[0] * 1e6 / max(counts['customers'], 1):.0f}, "
              f"backend {core_cpu[1] * 1e6 / max(counts['customers'], 1):.0f}; whole command {seconds:.1f} s")
    per = 1e6 / max(counts["customers"], 1)
    print(f"{'whole demo' if args.whole else 'demo'} {result['customers']:,} customers in {seconds:.1f} s = {result['customers_per_s']:,.0f}/s "
          f"(rows {rows_seconds:.1f} s = {result['rows_customers_per_s'] or 0:,.0f}/s, "
          f"tail {core_seconds - rows_seconds:.1f} s); CPU µs a customer: writer {cpu['writer'] * per:.0f}, "
          f"workers {cpu['workers'] * per:.0f}, backend {cpu['backend'] * per:.0f}; "
          + (f"baseline {raw['method']} {raw['customers_per_s']:,.0f}/s; ratio {result['ratio']:.0%}; " if raw else "")
          + f"load average {load_before:.1f} → {load_after:.1f}", flush=True)
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

    from qianke.core import demo

    for assignment in args.set:
        name, value = assignment.split("=", 1)
        if not hasattr(demo, name):
            raise SystemExit(f"qianke.core.demo has no {name}")
        setattr(demo, name, ast.literal_eval(value))
    runs = [one_run(args) for _ in range(args.runs)]
    median = statistics.median(r["customers_per_s"] for r in runs)
    rows = statistics.median(r["rows_customers_per_s"] or 0 for r in runs)
    tail = statistics.median(r["tail_seconds"] for r in runs)
    line = (f"{connection.vendor}: median of {len(runs)} runs: demo {median:,.0f} customers/s "
            f"(rows phase {rows:,.0f}/s, tail {tail:.1f} s)")
    if all(r["baseline"] for r in runs):
        base = statistics.median(r["baseline"]["customers_per_s"] for r in runs)
        ratio = statistics.median(r["ratio"] for r in runs)
        line += f", baseline {base:,.0f}/s, ratio {ratio:.0%}"
    print(line)
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
