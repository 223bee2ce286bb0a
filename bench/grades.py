"""Daily grade job benchmark: N potential customers with qualifications, then `qualification.grades`.

    .venv/bin/python bench/grades.py                        # 1,000,000 customers, SQLite in a temp QIANKE_HOME
    .venv/bin/python bench/grades.py --customers 100000
    .venv/bin/python bench/grades.py --database-url postgresql://postgres@127.0.0.1:5432/qianke_bench3
    .venv/bin/python bench/grades.py --home /tmp/qk-grades --reuse   # measure again on the same data

Data: demo customers (qianke.core.demo), all set to potential, and demo qualifications
(qianke.qualification.demo) for 90 % of them; the other 10 % have no row, so the first run of
the job creates them. Scenarios, each timed as the median of --runs runs unless said otherwise:
- first run: create the missing rows and regrade (once);
- daily run: the next day (today + 1, + 2, + 3): only rows crossing a threshold or due change;
- full rewrite: the D cadence changed (30 ↔ 31 days), so most rows get a new due date;
- idempotent: the same day again (changes nothing);
- naive baseline: a Python loop over a 20,000-row sample (read, compute, save changed rows) for
  the full-rewrite scenario, extrapolated to N.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search import machine, prepare_environment  # noqa: E402

SAMPLE = 20_000


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--database-url", default="", help="PostgreSQL URL; the database is dropped and created")
    p.add_argument("--home", default="", help="QIANKE_HOME to use (default: a new temporary folder)")
    p.add_argument("--reuse", action="store_true", help="keep existing data when it has enough customers")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", default="", help="write the results to this file")
    p.add_argument("--lists-only", action="store_true", help="with --reuse: only time the cadence lists")
    return p.parse_args(argv)


def load(args) -> dict:
    from django.db import connection

    from qianke.core.demo import demo_generate
    from qianke.customers.models import Customer
    from qianke.qualification.demo import demo_qualifications
    from qianke.qualification.models import Qualification

    if args.reuse and Customer.objects.count() >= args.customers:
        return {"reused": True}
    started = time.perf_counter()
    demo_generate(customers=args.customers, seed=args.seed,
                  progress=lambda d, t: print(f"\rdemo {d:,}/{t:,}", end="", file=sys.stderr, flush=True))
    print(file=sys.stderr)
    Customer.objects.exclude(status="potential").update(status="potential")
    demo_s = time.perf_counter() - started
    started = time.perf_counter()
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    rng = random.Random(args.seed)
    with_row = [pk for pk in ids if rng.random() < 0.9]
    demo_qualifications(customer_ids=with_row, rng=rng, batch_size=10_000)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA optimize" if connection.vendor == "sqlite" else "ANALYZE qualification_qualification")
    return {"demo_s": demo_s, "qualifications_s": time.perf_counter() - started,
            "customers": len(ids), "rows": Qualification.objects.count()}


def timed(func, **kwargs) -> tuple[float, dict]:
    started = time.perf_counter()
    result = func(**kwargs)
    return time.perf_counter() - started, result


def set_d_cadence(days: int) -> None:
    from qianke.qualification.models import GradingSettings

    GradingSettings.objects.get_or_create(pk=1)
    GradingSettings.objects.filter(pk=1).update(cadence_d_days=days)


def naive(today: dt.date) -> tuple[float, int]:
    """The per-row way: read each row, compute in Python, save the ones that changed."""
    from django.db import transaction

    from qianke.qualification import grading
    from qianke.qualification.models import GradingSettings, Qualification

    config = GradingSettings.load()
    started = time.perf_counter()
    changed = 0
    with transaction.atomic():
        for q in Qualification.objects.filter(customer__status="potential").order_by("pk")[:SAMPLE].iterator():
            grade = grading.grade_for(ordered=q.ordered, expected=q.expected_purchase_date, today=today,
                                      config=config)
            due = grading.due_for(grade=grade, base=q.cadence_base_on, config=config)
            if (grade, due) != (q.grade, q.next_follow_up_due):
                q.grade, q.next_follow_up_due, q.grade_computed_on = grade, due, today
                q.save(update_fields=["grade", "next_follow_up_due", "grade_computed_on", "updated_at"])
                changed += 1
    return time.perf_counter() - started, changed


def lists(today: dt.date) -> list[dict]:
    """Latency of the cadence lists (first page and count) for a user who sees all and for a rep."""
    from qianke.accounts.models import Role, User
    from qianke.qualification.selectors import cadence_summary, follow_ups_due

    users = {"gm (sees all)": User.objects.filter(role=Role.GM).first(),
             "sales rep": User.objects.filter(role=Role.SALES, owned_customers__isnull=False).first()}
    out = []
    for label, user in users.items():
        for when in ("today", "overdue"):
            times = []
            for _ in range(11):
                started = time.perf_counter()
                page = follow_ups_due(user=user, when=when, today=today)
                times.append((time.perf_counter() - started) * 1000)
            out.append({"user": label, "when": when, "median_ms": statistics.median(times), "count": page.count,
                        "capped": page.count_capped})
        times = []
        for _ in range(11):
            started = time.perf_counter()
            summary = cadence_summary(user=user, today=today)
            times.append((time.perf_counter() - started) * 1000)
        out.append({"user": label, "when": "home section (both lists by grade)", "median_ms": statistics.median(times),
                    "count": summary["overdue"].count, "capped": summary["overdue"].count_capped})
    return out


def print_lists(rows: list[dict]) -> None:
    print(f"\n{'cadence list (page of 25 + capped count)':<56} {'median ms':>10} {'count':>9}")
    for r in rows:
        count = f"{r['count']:,}{'+' if r['capped'] else ''}"
        print(f"{r['user'] + ', ' + r['when']:<56} {r['median_ms']:>10.1f} {count:>9}")


def main(argv=None) -> int:
    args = parse_args(argv)
    prepare_environment(args)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from qianke.qualification.jobs import recompute_grades
    from qianke.qualification.models import Qualification

    call_command("migrate", verbosity=0)
    if args.lists_only:
        print_lists(lists(timezone.localdate()))
        return 0
    info = {"machine": machine(), "customers": args.customers, "load": load(args)}
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version")
        info["database"] = f"{connection.vendor} {cursor.fetchone()[0]}"
    today = timezone.localdate()
    rows = []

    def scenario(name, runs):
        times, results = [], []
        for kwargs, before in runs:
            if before:
                before()
            t, r = timed(recompute_grades, **kwargs)
            times.append(t)
            results.append(r)
            print(f"{name}: {t:.2f} s {r}", file=sys.stderr)
        rows.append({"scenario": name, "median_s": statistics.median(times), "runs": len(times),
                     "created": results[-1]["created"], "changed": results[-1]["changed"]})

    set_d_cadence(30)
    scenario("first run (creates missing rows)", [({"today": today}, None)])
    scenario("daily run (next days)", [({"today": today + dt.timedelta(days=i + 1)}, None) for i in range(args.runs)])
    day = today + dt.timedelta(days=args.runs)
    scenario("full rewrite (D cadence changed)",
             [({"today": day}, lambda i=i: set_d_cadence(31 if i % 2 == 0 else 30)) for i in range(args.runs)])
    scenario("idempotent (same day again)", [({"today": day}, None) for _ in range(args.runs)])

    n = Qualification.objects.count()
    set_d_cadence(31 if args.runs % 2 == 0 else 30)
    seconds, changed = naive(day)
    rows.append({"scenario": f"naive Python loop, {SAMPLE:,}-row sample, full rewrite",
                 "median_s": seconds, "runs": 1, "created": 0, "changed": changed})
    rows.append({"scenario": f"naive, extrapolated to {n:,} rows", "median_s": seconds * n / SAMPLE,
                 "runs": 0, "created": 0, "changed": round(changed * n / SAMPLE)})
    info["rows"] = rows
    info["qualification_rows"] = n
    info["lists"] = lists(day)

    print(f"\n{info['database']}, {n:,} qualification rows of {args.customers:,} potential customers")
    print(f"{'scenario':<56} {'median s':>9} {'created':>9} {'changed':>9}")
    for r in rows:
        print(f"{r['scenario']:<56} {r['median_s']:>9.2f} {r['created']:>9,} {r['changed']:>9,}")
    print_lists(info["lists"])
    if args.json:
        Path(args.json).write_text(json.dumps(info, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
