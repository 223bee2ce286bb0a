"""Import throughput: `qianke import` of a generated CSV of Chinese customers, beside two baselines.

    .venv/bin/python bench/import.py --rows 100000                                   # SQLite
    .venv/bin/python bench/import.py --rows 100000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/qianke_bench_import      # dropped and created

Two files of --rows rows each are generated from the demo generator's vocabularies (company names of
city + brand + industry word + legal form, mobiles and landlines in several spellings, provinces,
cities, districts, addresses, postcodes, a contact with a title; about 1 % of the rows invalid).
--dup-share of the second file's rows (default 2 %) are variants of first-file rows (the name with
its city in brackets, the landline or mobile spelled another way): the duplicate check, which every
qianke import runs (policy "flag"), has real matches to find and record as duplicate groups.
Measured, each in a forked child of this process so that its peak memory (ru_maxrss) is its own:

1. qianke, empty database: the first file imported (partial mode) into a new database — parsing,
   validation and normalisation through the customer services' rules, codes, contacts, search rows,
   lifecycle rows, ledger and checkpoint per batch, full-text index rebuilt at the end;
2. qianke, existing customers: the second file imported into the database that now holds the first
   (each row checked against those customers and the other rows; matches become duplicate groups);
3. raw bulk insert: the same file's cells, as text, into a table without index or constraint — COPY on
   PostgreSQL, executemany in one transaction on SQLite; what the database alone can take;
4. django-import-export: a ModelResource of Customer (the same columns, codes pre-assigned, bulk mode,
   batches of 2,000), on the first --iie-rows rows of the same file (it is too slow for all of them).

Each of the --runs runs starts from a new database; the table gives medians. Rows/s, the ratio to the
raw insert, CPU seconds of the importing process (its threads and worker processes included) and, on
PostgreSQL, of its server backends (every session of the database: the import's, its writer's, the
index builds'), the rows flagged as possible duplicates and the peak RSS are printed as a
table (and --json).
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

HEADER = ["客户名称", "手机", "电话", "行业", "省份", "城市", "区县", "地址", "邮编", "联系人", "职务"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--iie-rows", type=int, default=10_000, help="rows for django-import-export (0: skip)")
    p.add_argument("--database-url", default="", help="PostgreSQL URL; the database is dropped and created")
    p.add_argument("--home", default="", help="QIANKE_HOME (default: a new temporary folder)")
    p.add_argument("--json", default="")
    p.add_argument("--runs", type=int, default=3, help="runs, each from a new database (medians are shown)")
    p.add_argument("--dup-share", type=float, default=0.02,
                   help="share of the second file's rows that are variants of first-file rows")
    return p.parse_args(argv)


# ---------------------------------------------------------------------------------------------
# The file
# ---------------------------------------------------------------------------------------------


def generate(path: Path, rows: int, seed: int, *, like: Path | None = None, dup_share: float = 0.0) -> None:
    """`like`: a file generated before; dup_share of the rows become variants of its rows."""
    from qianke.core import demo

    rng = random.Random(seed)
    industries = list(demo.INDUSTRY_WORDS.items())
    originals: list[list[str]] = []
    if like is not None and dup_share > 0:
        with like.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            next(reader)
            originals = [r for r in reader if rng.random() < dup_share * 1.2]
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for i in range(rows):
            if originals and rng.random() < dup_share:
                writer.writerow(_variant(rng, originals.pop()))
                continue
            province, city, area, postcode, districts, _region = rng.choices(demo.CITIES, demo.CITY_WEIGHTS)[0]
            industry, words = rng.choice(industries)
            brand = "".join(rng.choice(demo.BRAND_CHARS) for _ in range(2))
            suffix = rng.choices(demo.COMPANY_SUFFIXES, demo.COMPANY_SUFFIX_WEIGHTS)[0]
            # A serial keeps names unique across both files: the second file is not a re-import.
            name = f"{city.removesuffix('市')}{brand}{rng.choice(words)}{seed}{i:07d}{suffix}"
            mobile = rng.choice(demo.MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
            style = rng.random()
            if style < 0.3:
                mobile = f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}"
            elif style < 0.4:
                mobile = f"+86 {mobile}"
            elif style < 0.41:
                mobile = mobile[:7]  # invalid: about 1 % of the rows are rejected
            phone = f"{area}-{rng.randint(2, 8)}{rng.randrange(10**7):07d}" if rng.random() < 0.6 else ""
            gender_given = demo.GIVEN_MALE if rng.random() < 0.5 else demo.GIVEN_FEMALE
            contact = rng.choice(demo.FAMILY_NAMES) + rng.choice(gender_given)
            writer.writerow([name, mobile, phone, str(industry.label),
                             province, city, rng.choice(districts), demo._address(rng, brand),
                             postcode + f"{rng.randrange(1000):03d}", contact, rng.choice(demo.TITLES)])


def _variant(rng: random.Random, row: list[str]) -> list[str]:
    """The same company as it shows up in another list: 北京华信科技有限公司 → 华信科技（北京）有限公司,
    the mobile as +86 138-1234-5678, the landline with its area code in brackets."""
    row = list(row)
    city = row[5].removesuffix("市")
    name = row[0]
    if name.startswith(city):
        for suffix in ("股份有限公司", "有限责任公司", "有限公司", "集团", "公司"):
            if name.endswith(suffix):
                row[0] = f"{name[len(city):-len(suffix)]}（{city}）{suffix}"
                break
    digits = row[1].replace(" ", "").removeprefix("+86")
    if len(digits) == 11:
        row[1] = f"+86 {digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if "-" in row[2]:
        area, number = row[2].split("-", 1)
        row[2] = f"({area}) {number[:4]} {number[4:]}"
    return row


# ---------------------------------------------------------------------------------------------
# Measurements (each in a forked child)
# ---------------------------------------------------------------------------------------------


def _in_child(func, *args):
    """Run func(*args) in a forked child; return its result with the child's peak RSS in MB."""
    from django.db import connections

    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()

    def target():
        try:
            result = func(*args)
            result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            me, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            result["client_cpu"] = me.ru_utime + me.ru_stime + workers.ru_utime + workers.ru_stime
            child.send(result)
        except BaseException as exc:  # report, then leave
            child.send({"error": repr(exc)})
        finally:
            connections.close_all()

    process = ctx.Process(target=target)
    process.start()
    result = parent.recv()
    process.join()
    if "error" in result:
        raise RuntimeError(result["error"])
    return result


def qianke_import(path: Path) -> dict:
    from qianke.accounts.models import User
    from qianke.dataio.services import import_create, import_run

    actor = User.objects.get(username="bench")
    server = _ServerCpu()
    started = time.perf_counter()
    job = import_create(actor=actor, path=path, file_name=path.name, claim=True)
    job = import_run(job_id=job.pk, take_over=True)
    seconds = time.perf_counter() - started
    return {"rows": job.read_rows, "created": job.created_customers, "rejected": job.rejected_rows,
            "flagged": job.flagged_rows, "seconds": seconds, "backend_cpu": server.stop()}


def _proc_cpu(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _ServerCpu:
    """CPU seconds of the PostgreSQL backends of this database from now until stop() (0 on SQLite):
    the server's share. Every session counts (the import writes its batches in a connection of its
    own, and the full-text index is built in a second session), so the sessions are listed every
    0.1 s from a connection of this sampler, whose own backend is left out; a session's CPU time is
    its last reading before it ended (it ends with the import: at most 0.1 s of it is missed)."""

    def __init__(self) -> None:
        import threading

        from django.db import connection

        self.readings: dict[int, float] = {}
        self.start: dict[int, float] = {}
        self.done = threading.Event()
        self.thread = None
        if connection.vendor != "postgresql":
            return
        import psycopg

        params = connection.get_connection_params()
        self.db = psycopg.connect(**params, autocommit=True)
        self.database = params.get("dbname")
        self._sample(first=True)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _sample(self, first: bool = False) -> None:
        rows = self.db.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                               [self.database]).fetchall()
        for (pid,) in rows:
            value = _proc_cpu(pid)
            if value is None:
                continue
            if first:
                self.start[pid] = value
            self.readings[pid] = value

    def _run(self) -> None:
        while not self.done.wait(0.1):
            self._sample()

    def stop(self) -> float:
        if self.thread is None:
            return 0.0
        self.done.set()
        self.thread.join()
        self._sample()
        self.db.close()
        return sum(value - self.start.get(pid, 0.0) for pid, value in self.readings.items())


def raw_insert(path: Path) -> dict:
    from django.db import connection, transaction

    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))[1:]
    columns = ", ".join(f"c{i} text" for i in range(len(HEADER)))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw_import")
        cursor.execute(f"CREATE TABLE bench_raw_import ({columns})")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy("COPY bench_raw_import FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO bench_raw_import VALUES ({', '.join(['%s'] * len(HEADER))})", rows)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_raw_import")
    return {"rows": len(rows), "created": len(rows), "rejected": 0, "seconds": seconds,
            "method": "COPY" if connection.vendor == "postgresql" else "executemany"}


def import_export(path: Path, limit: int) -> dict:
    import tablib
    from import_export import resources

    from qianke.core.codes import allocate_codes
    from qianke.customers.models import Customer

    class CustomerResource(resources.ModelResource):
        class Meta:
            model = Customer
            fields = ("code", "name", "mobile", "phone", "province", "city", "district", "address", "postcode")
            import_id_fields = ("code",)
            use_bulk = True
            batch_size = 2000
            skip_diff = True
            force_init_instance = True

    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        rows = [r for _, r in zip(range(limit), reader, strict=False)]
    started = time.perf_counter()
    codes = allocate_codes(prefix="KH", count=len(rows))
    data = tablib.Dataset(headers=["code", "name", "mobile", "phone", "province", "city", "district", "address",
                                   "postcode"])
    for code, r in zip(codes, rows, strict=True):
        data.append([code, r[0], r[1], r[2], r[4], r[5], r[6], r[7], r[8][:6]])
    result = CustomerResource().import_data(data, dry_run=False, use_transactions=True, raise_errors=False)
    seconds = time.perf_counter() - started
    return {"rows": len(rows), "created": result.totals.get("new", 0), "rejected": len(result.invalid_rows),
            "seconds": seconds, "note": "no normalisation, search index, contacts or lifecycle rows"}


# ---------------------------------------------------------------------------------------------


def _fresh_database(args, home: Path) -> None:
    from django.core.management import call_command
    from django.db import connections

    from qianke.accounts.models import Role
    from qianke.accounts.services import user_create

    connections.close_all()
    if args.database_url:
        from search import recreate_pg_database

        recreate_pg_database(args.database_url)
    else:
        for suffix in ("", "-wal", "-shm"):
            (home / f"qianke.sqlite3{suffix}").unlink(missing_ok=True)
    call_command("migrate", verbosity=0)
    user_create(username="bench", role=Role.INFO, password="bench-Import-2026", validate=False)


def _median(values: list[float]) -> float:
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def main(argv=None) -> int:
    args = parse_args(argv)
    home = Path(args.home or tempfile.mkdtemp(prefix="qianke-import-"))
    os.environ["QIANKE_HOME"] = str(home)
    os.environ["DJANGO_SETTINGS_MODULE"] = "qianke.settings"
    if args.database_url:
        os.environ["QIANKE_DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("QIANKE_DATABASE_URL", None)
    import django

    django.setup()
    from django.db import connection

    first, second = home / "customers-1.csv", home / "customers-2.csv"
    started = time.perf_counter()
    generate(first, args.rows, 1)
    generate(second, args.rows, 2, like=first, dup_share=args.dup_share)
    print(f"generated 2 × {args.rows:,} rows in {time.perf_counter() - started:.1f} s "
          f"({first.stat().st_size / 2**20:.0f} MB each)", flush=True)
    existing = f"qianke, {args.rows:,} existing customers"
    raw_name = "raw bulk insert ({}, text columns, no index)"
    iie_name = "django-import-export 4 (bulk, first rows)"
    runs: dict[str, list[dict]] = {}
    loads = []
    for run in range(args.runs):
        _fresh_database(args, home)
        loads.append(os.getloadavg()[0])
        measured = {"qianke, empty database": _in_child(qianke_import, first)}
        print(f"run {run + 1} qianke (empty):", measured["qianke, empty database"], flush=True)
        measured[existing] = _in_child(qianke_import, second)
        print(f"run {run + 1} qianke (existing):", measured[existing], flush=True)
        raw = _in_child(raw_insert, first)
        raw_name = raw_name.format(raw["method"]) if "{}" in raw_name else raw_name
        measured[raw_name] = raw
        print(f"run {run + 1} raw:", raw, flush=True)
        if args.iie_rows:
            measured[iie_name] = _in_child(import_export, first, args.iie_rows)
            print(f"run {run + 1} django-import-export:", measured[iie_name], flush=True)
        loads.append(os.getloadavg()[0])
        for name, result in measured.items():
            runs.setdefault(name, []).append(result)
    results = {}
    for name, measured in runs.items():
        merged = dict(measured[0])
        for key in ("seconds", "client_cpu", "backend_cpu", "peak_mb", "flagged"):
            if key in merged:
                merged[key] = _median([m[key] for m in measured])
        merged["rates"] = [round(m["rows"] / m["seconds"]) for m in measured]
        results[name] = merged
    raw_rate = results[raw_name]["rows"] / results[raw_name]["seconds"]
    print()
    print(f"{connection.vendor}, {args.rows:,} rows per file, {args.runs} runs (medians), {os.cpu_count()} CPUs, "
          f"load average {min(loads):.1f}–{max(loads):.1f}")
    print(f"| {'method':<52} | {'rows':>9} | {'seconds':>8} | {'rows/s':>8} | {'vs raw':>7} | {'client CPU s':>12} "
          f"| {'server CPU s':>12} | {'flagged':>7} | {'peak MB':>7} |")
    print(f"|{'-' * 54}|{'-' * 11}|{'-' * 10}|{'-' * 10}|{'-' * 9}|{'-' * 14}|{'-' * 14}|{'-' * 9}|{'-' * 9}|")
    for name, r in results.items():
        rate = r["rows"] / r["seconds"]
        server = f"{r['backend_cpu']:.1f}" if r.get("backend_cpu") else "—"
        flagged = f"{r['flagged']:,.0f}" if "flagged" in r else "—"
        print(f"| {name:<52} | {r['rows']:>9,} | {r['seconds']:>8.1f} | {rate:>8,.0f} | {rate / raw_rate:>7.1%} | "
              f"{r['client_cpu']:>12.1f} | {server:>12} | {flagged:>7} | {r['peak_mb']:>7.0f} |")
    print("rows/s per run: " + "; ".join(f"{name}: {r['rates']}" for name, r in results.items()))
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "vendor": connection.vendor, "load": loads,
                                               "runs": runs, "results": results}, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
