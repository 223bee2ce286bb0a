"""Search benchmark: demo data of N customers, then search latency through customer_list.

    .venv/bin/python bench/search.py                       # 1,000,000 customers, SQLite in a temp QIANKE_HOME
    .venv/bin/python bench/search.py --customers 100000
    .venv/bin/python bench/search.py --database-url postgresql://postgres@127.0.0.1:5432/qianke_bench
    .venv/bin/python bench/search.py --home /tmp/qk-bench --reuse   # measure again on the same data

What it measures, in one run on one machine:
- demo generation throughput (customers/s, contacts and follow-ups included) against a raw
  executemany of the same customer rows into a table with no secondary index and no search index;
- search latency of customer_list (what the UI and the API call) for a query mix taken from the
  data: Chinese name fragments (2–4 characters), pinyin initials (first 4), full-pinyin fragments
  (two syllables), phone fragments (4–8 digits) and full customer codes, for a user who sees every
  customer (gm) and a sales rep who sees only his own;
- the same fragments with a naive ORM scan (name__icontains, phone/mobile __contains,
  code__icontains), counted and paged the same way, as the baseline.
Results print as a table; --json writes them for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KINDS = ("name", "initials", "pinyin", "phone", "code")
TARGET_MS = 50.0


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--database-url", default="", help="PostgreSQL URL; the database is dropped and created")
    p.add_argument("--home", default="", help="QIANKE_HOME to use (default: a new temporary folder)")
    p.add_argument("--reuse", action="store_true", help="keep existing data when it has enough customers")
    p.add_argument("--queries", type=int, default=100, help="queries per kind and user (default 100)")
    p.add_argument("--baseline-queries", type=int, default=20, help="baseline queries per kind and user")
    p.add_argument("--runs", type=int, default=1, help="measure the query mix this many times; report medians")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--explain", action="store_true", help="print query plans of one query per kind")
    p.add_argument("--count-scan", type=int, default=0,
                   help="measure with selectors.SEARCH_COUNT_SCAN set to this (matches counted before 'at least')")
    p.add_argument("--json", default="", help="write the results to this file")
    return p.parse_args(argv)


def prepare_environment(args) -> None:
    home = args.home or tempfile.mkdtemp(prefix="qianke-bench-")
    os.environ["QIANKE_HOME"] = home
    os.environ["DJANGO_SETTINGS_MODULE"] = "qianke.settings"
    if args.database_url:
        os.environ["QIANKE_DATABASE_URL"] = args.database_url
        if not args.reuse:
            recreate_pg_database(args.database_url)
    else:
        os.environ.pop("QIANKE_DATABASE_URL", None)
        if not args.reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(home, "qianke.sqlite3" + suffix).unlink(missing_ok=True)
    print(f"QIANKE_HOME={home}", file=sys.stderr)


def recreate_pg_database(url: str) -> None:
    import dj_database_url
    import psycopg

    db = dj_database_url.parse(url)
    name = db["NAME"]
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing to drop a database named {name!r}")
    with psycopg.connect(host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"] or None,
                         password=db["PASSWORD"] or None, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


# ---------------------------------------------------------------------------------------------


def generate(args) -> dict:
    from django.db import connection

    from qianke.core.demo import demo_generate
    from qianke.customers.models import Customer

    existing = Customer.objects.count()
    if args.reuse and existing >= args.customers:
        print(f"reusing {existing:,} customers", file=sys.stderr)
        return {"reused": existing}

    def progress(done: int, total: int) -> None:
        if done == total or done % 50_000 < 2_000:
            rate = done / (time.perf_counter() - started)
            print(f"\rdemo {done:,}/{total:,}  {rate:,.0f}/s", end="", file=sys.stderr, flush=True)

    started = time.perf_counter()
    cpu = time.process_time()
    counts = demo_generate(customers=args.customers, seed=args.seed, progress=progress)
    seconds = time.perf_counter() - started
    print(file=sys.stderr)
    result = {
        "customers": counts["customers"], "contacts": counts["contacts"], "activities": counts["activities"],
        "seconds": seconds, "customers_per_s": counts["customers"] / seconds,
        "parent_cpu_s": time.process_time() - cpu,
    }
    result["raw"] = raw_insert_baseline(connection, min(args.customers, 100_000))
    return result


def raw_insert_baseline(connection, rows_wanted: int) -> dict:
    """executemany of existing customer rows into a copy of the table with only a primary key."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TABLE IF EXISTS bench_raw_customer")
            cursor.execute("CREATE TABLE bench_raw_customer (LIKE customers_customer INCLUDING DEFAULTS)")
        else:
            cursor.execute("DROP TABLE IF EXISTS bench_raw_customer")
            cursor.execute("CREATE TABLE bench_raw_customer AS SELECT * FROM customers_customer LIMIT 0")
        cursor.execute("SELECT * FROM customers_customer ORDER BY id LIMIT %s", [rows_wanted])
        rows = cursor.fetchall()
        columns = len(rows[0])
    connection.commit() if not connection.get_autocommit() else None
    sql = f"INSERT INTO bench_raw_customer VALUES ({', '.join(['%s'] * columns)})"
    from django.db import transaction

    started = time.perf_counter()
    for first in range(0, len(rows), 2000):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows[first : first + 2000])
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_raw_customer")
    return {"rows": len(rows), "seconds": seconds, "rows_per_s": len(rows) / seconds}


# ---------------------------------------------------------------------------------------------


def make_queries(n: int, seed: int, user) -> dict[str, list[str]]:
    """Search strings taken from random customers the user sees (a rep looks for his own)."""
    from django.db.models import Max, Min

    from qianke.core import normalize
    from qianke.customers.models import Customer

    rng = random.Random(seed)
    visible = Customer.objects.visible_to(user)
    bounds = visible.aggregate(lo=Min("id"), hi=Max("id"))
    rows = []
    for _ in range(20):
        ids = [rng.randint(bounds["lo"], bounds["hi"]) for _ in range(n * 8)]
        rows += visible.filter(id__in=ids).values_list("name", "phone_norm", "mobile_norm", "code")
        if len(rows) >= n * 3:
            break
    rng.shuffle(rows)
    queries: dict[str, list[str]] = {k: [] for k in KINDS}
    for name, phone, mobile, code in rows:
        cjk = normalize.searchable(name)
        if len(cjk) >= 2 and len(queries["name"]) < n:
            size = rng.randint(2, min(4, len(cjk)))
            start = rng.randint(0, len(cjk) - size)
            queries["name"].append(cjk[start : start + size])
        if len(queries["initials"]) < n:
            initials = normalize.pinyin_initials(name)
            if len(initials) >= 2:
                queries["initials"].append(initials[:4])
        if len(cjk) >= 2 and len(queries["pinyin"]) < n:
            start = rng.randint(0, len(cjk) - 2)
            queries["pinyin"].append(normalize.pinyin_full(cjk[start : start + 2]))
        digits = (mobile or phone or "").split("-")[0]
        if len(digits) >= 8 and len(queries["phone"]) < n:
            size = rng.randint(4, 8)
            start = rng.randint(0, len(digits) - size)
            queries["phone"].append(digits[start : start + size])
        if len(queries["code"]) < n:
            queries["code"].append(code)
    return queries


def run_search(user, q: str) -> tuple[float, int]:
    from qianke.customers.selectors import CustomerFilters, customer_list

    started = time.perf_counter()
    page = customer_list(user=user, filters=CustomerFilters(q=q))
    return (time.perf_counter() - started) * 1000, page.count


def run_baseline(user, kind: str, q: str) -> tuple[float, int] | None:
    from django.db.models import Q

    from qianke.customers.models import Customer
    from qianke.customers.selectors import COUNT_CAP

    if kind in ("name",):
        cond = Q(name__icontains=q)
    elif kind == "phone":
        cond = Q(phone_norm__contains=q) | Q(mobile_norm__contains=q)
    elif kind == "code":
        cond = Q(code__icontains=q)
    else:
        return None  # the customers table has no pinyin to scan
    started = time.perf_counter()
    qs = Customer.objects.visible_to(user).filter(cond)
    count = qs.order_by()[: COUNT_CAP + 1].count()
    list(qs.select_related("owner", "team").prefetch_related("tags").order_by("-id")[:25])
    return (time.perf_counter() - started) * 1000, count


def measure(args, users: dict, all_queries: dict[str, dict[str, list[str]]]) -> dict:
    rng = random.Random(args.seed + 1)
    results: dict = {}
    for label, user in users.items():
        queries = all_queries[label]
        # Warm-up: a slice of every kind, not recorded.
        for kind in KINDS:
            for q in queries[kind][:10]:
                run_search(user, q)
        mix = [(kind, q) for kind in KINDS for q in queries[kind]]
        rng.shuffle(mix)
        times: dict[str, list[float]] = {k: [] for k in KINDS}
        hits: dict[str, list[int]] = {k: [] for k in KINDS}
        for kind, q in mix:
            ms, count = run_search(user, q)
            times[kind].append(ms)
            hits[kind].append(count)
        base: dict[str, list[float]] = {k: [] for k in KINDS}
        for kind in KINDS:
            for q in queries[kind][: args.baseline_queries]:
                r = run_baseline(user, kind, q)
                if r is not None:
                    base[kind].append(r[0])
        results[label] = {"times": times, "hits": hits, "baseline": base}
    return results


def summarize(runs: list[dict]) -> list[dict]:
    """Per user and kind: p50/p95/max of each run, then the median over runs."""
    rows = []
    for label in runs[0]:
        for kind in (*KINDS, "overall"):
            def stat(key, f, run, kind=kind, label=label):
                data = run[label][key]
                values = [v for k in KINDS for v in data[k]] if kind == "overall" else data[kind]
                return f(values) if values else float("nan")

            row = {"user": label, "kind": kind}
            for key in ("times", "baseline"):
                for name, f in (("p50", lambda v: pct(v, 0.5)), ("p95", lambda v: pct(v, 0.95)), ("max", max)):
                    row[f"{key}_{name}"] = statistics.median(stat(key, f, run) for run in runs)
            row["n"] = len(runs[0][label]["times"][kind]) if kind != "overall" else sum(
                len(runs[0][label]["times"][k]) for k in KINDS)
            row["n_baseline"] = len(runs[0][label]["baseline"][kind]) if kind != "overall" else sum(
                len(runs[0][label]["baseline"][k]) for k in KINDS)
            row["hits_median"] = statistics.median(
                [h for k in KINDS for h in runs[0][label]["hits"][k]] if kind == "overall"
                else runs[0][label]["hits"][kind])
            rows.append(row)
    return rows


def print_table(rows: list[dict]) -> None:
    header = (f"{'user':<6} {'kind':<9} {'n':>5} {'hits p50':>9} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"
              f" | {'naive p50':>10} {'naive p95':>10} {'x faster p50':>12}")
    print(header)
    print("-" * len(header))
    for r in rows:
        ratio = r["baseline_p50"] / r["times_p50"] if r["baseline_p50"] == r["baseline_p50"] else float("nan")
        base50 = f"{r['baseline_p50']:10.1f}" if r["baseline_p50"] == r["baseline_p50"] else f"{'n/a':>10}"
        base95 = f"{r['baseline_p95']:10.1f}" if r["baseline_p95"] == r["baseline_p95"] else f"{'n/a':>10}"
        ratio_text = f"{ratio:12.0f}" if ratio == ratio else f"{'n/a':>12}"
        flag = "  > target" if r["times_p95"] > TARGET_MS else ""
        print(f"{r['user']:<6} {r['kind']:<9} {r['n']:>5} {r['hits_median']:>9,.0f} {r['times_p50']:8.1f} "
              f"{r['times_p95']:8.1f} {r['times_max']:8.1f} | {base50} {base95} {ratio_text}{flag}")


def explain(users: dict, all_queries: dict[str, dict[str, list[str]]]) -> None:
    from django.db import connection

    from qianke.customers.selectors import CustomerFilters, customer_list

    for label, user in users.items():
        for kind in KINDS:
            q = all_queries[label][kind][0]
            start = len(connection.queries)
            with connection.execute_wrapper(_capture):
                _CAPTURED.clear()
                customer_list(user=user, filters=CustomerFilters(q=q))
            print(f"\n== {label} {kind} {q!r}")
            for sql, params in list(_CAPTURED)[:3]:
                prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
                with connection.cursor() as cursor:
                    cursor.execute(prefix + sql, params)
                    print("--", sql[:300])
                    for row in cursor.fetchall():
                        print("   ", " ".join(str(c) for c in row))
            del start


_CAPTURED: list = []


def _capture(execute, sql, params, many, context):
    if sql.lstrip().upper().startswith("SELECT"):
        _CAPTURED.append((sql, params))
    return execute(sql, params, many, context)


def machine() -> dict:
    info = {"python": platform.python_version(), "nproc": os.cpu_count()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
        info["loadavg"] = Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        pass
    return info


def main(argv=None) -> int:
    args = parse_args(argv)
    prepare_environment(args)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from qianke.accounts.models import User

    call_command("migrate", verbosity=0)
    info = machine()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
        else:
            cursor.execute("SHOW server_version")
        info["database"] = f"{connection.vendor} {cursor.fetchone()[0]}"
    print(f"machine: {info}")
    gen = generate(args)
    if "customers_per_s" in gen:
        print(f"demo generation: {gen['customers']:,} customers, {gen['contacts']:,} contacts, "
              f"{gen['activities']:,} follow-ups in {gen['seconds']:.0f} s = {gen['customers_per_s']:,.0f} customers/s "
              f"(parent process CPU {gen['parent_cpu_s']:.0f} s)")
        raw = gen["raw"]
        print(f"raw baseline: executemany of {raw['rows']:,} customer rows into a table without indexes: "
              f"{raw['rows_per_s']:,.0f} rows/s (demo reaches {gen['customers_per_s'] / raw['rows_per_s']:.0%} of it "
              f"while also writing contacts, follow-ups and the search index)")
    if args.count_scan:
        from qianke.customers import selectors

        selectors.SEARCH_COUNT_SCAN = args.count_scan
    users = {"gm": User.objects.get(username="demo.gm"), "sales": User.objects.get(username="demo.sales11")}
    owned = users["sales"].owned_customers.count()
    print(f"sales rep demo.sales11 owns {owned:,} customers")
    queries = {label: make_queries(args.queries, args.seed, user) for label, user in users.items()}
    if args.explain:
        explain(users, queries)
    runs = []
    for n in range(args.runs):
        started = time.perf_counter()
        runs.append(measure(args, users, queries))
        print(f"run {n + 1}/{args.runs}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    rows = summarize(runs)
    print(f"\nsearch latency through customer_list, {args.customers:,} customers, {args.runs} run(s), "
          f"median of the runs' percentiles; naive = ORM icontains/contains scan, same count cap and page")
    print_table(rows)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": info, "args": vars(args), "generation": gen,
                                               "rows": rows, "owned_by_rep": owned,
                                               "queries": {u: {k: v[:10] for k, v in q.items()} for u, q in queries.items()}},
                                              ensure_ascii=False, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
