"""Benchmark: pipeline reports (forecast, funnel, stalled) over 1,000,000 deals and 10,000,000
stage-history rows on PostgreSQL.

    .venv/bin/python bench/pipeline.py [--deals 1000000] [--history-per-deal 10] [--runs 5] [--keep]

Uses its own database (default postgresql://postgres@127.0.0.1:5432/qianke_bench_pipeline), migrated
from scratch; the data are generated in the database with INSERT … SELECT generate_series (no ORM, no
Python loop per row). Each report runs through the same selector the pages and the API call, as a
director who sees every deal and as a team manager; the median of the runs is printed. Baselines in the
same run: a plain COUNT(*) of the deals, and the naive forecast (ORM rows summed in Python) over a subset.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/qianke_bench_pipeline"


def _recreate_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _setup(url: str) -> None:
    os.environ["QIANKE_DATABASE_URL"] = url
    os.environ.setdefault("QIANKE_HOME", "/tmp/qk-bench-pipeline")
    Path(os.environ["QIANKE_HOME"]).mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qianke.settings")
    import django

    django.setup()


def _columns(model, overrides: dict[str, str]) -> tuple[str, str]:
    """Column list and SELECT expressions for INSERT … SELECT: overrides, else NULL or a neutral default."""
    from django.db import models

    cols, exprs = [], []
    for f in model._meta.concrete_fields:
        if f.primary_key and f.column not in overrides:
            continue
        cols.append(f'"{f.column}"')
        if f.column in overrides:
            exprs.append(overrides[f.column])
        elif f.null:
            exprs.append("NULL")
        elif isinstance(f, models.JSONField):
            exprs.append("'{}'::jsonb" if f.default is dict else "'[]'::jsonb")
        elif isinstance(f, models.BooleanField):
            exprs.append("false")
        elif isinstance(f, models.DateTimeField):
            exprs.append("now()")
        elif isinstance(f, models.DateField):
            exprs.append("current_date")
        elif isinstance(f, models.IntegerField | models.DecimalField | models.FloatField):
            exprs.append("0")
        else:
            exprs.append("''")
    return ", ".join(cols), ", ".join(exprs)


def generate(n_deals: int, per_deal: int) -> dict[str, float]:
    from django.db import connection

    from qianke.accounts.models import Role, Team, User
    from qianke.customers.models import Customer
    from qianke.pipeline.models import Deal, DealStageChange, Stage

    timings = {}
    t0 = time.perf_counter()
    dept = Team.objects.create(name="销售部")
    dept.path = f"/{dept.pk}/"
    dept.save()
    teams = []
    for i in range(10):
        t = Team.objects.create(name=f"销售{i + 1}组", parent=dept)
        t.path = f"{dept.path}{t.pk}/"
        t.save()
        teams.append(t)
    reps = User.objects.bulk_create([User(username=f"rep{i}", role=Role.SALES, team=teams[i % 10], password="!")
                                     for i in range(200)])
    User.objects.create(username="director", role=Role.MANAGER, team=dept, password="!")
    User.objects.create(username="manager1", role=Role.MANAGER, team=teams[0], password="!")
    rep_ids = [u.pk for u in reps]
    n_customers = max(n_deals // 10, 1000)
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE bench_reps AS SELECT row_number() OVER () - 1 AS i, id, team_id "
                    "FROM accounts_user WHERE id = ANY(%s)", [rep_ids])
        cols, exprs = _columns(Customer, {
            "code": "'KH' || lpad(g::text, 10, '0')", "name": "'客户' || g", "name_norm": "'客户' || g",
            "kind": "'organization'", "status": "'potential'", "relation_class": "'business'",
            "potential_kind": "'general'",
            "owner_id": "(SELECT id FROM bench_reps WHERE i = g % 200)",
            "team_id": "(SELECT team_id FROM bench_reps WHERE i = g % 200)",
            "created_at": "now()", "updated_at": "now()"})
        cur.execute(f"INSERT INTO customers_customer ({cols}) SELECT {exprs} FROM generate_series(1, {n_customers}) g")
        timings["customers"] = time.perf_counter() - t0

        # Stages of the three shipped processes as arrays, so each deal picks its process and stage by arithmetic.
        stages = list(Stage.objects.order_by("process_id", "order").values("pk", "process_id", "semantic",
                                                                          "order", "probability"))
        cur.execute("CREATE TEMP TABLE bench_stages (process_id int, idx int, id int, semantic text, ord int, "
                    "prob int, n_open int)")
        by_process: dict[int, list[dict]] = {}
        for s in stages:
            by_process.setdefault(s["process_id"], []).append(s)
        process_ids = sorted(by_process)
        for pid, items in by_process.items():
            n_open = sum(1 for s in items if s["semantic"] == "open")
            for idx, s in enumerate(items):
                cur.execute("INSERT INTO bench_stages VALUES (%s, %s, %s, %s, %s, %s, %s)",
                            [pid, idx, s["pk"], s["semantic"], s["order"], s["probability"], n_open])
        cur.execute("CREATE TEMP TABLE bench_process AS SELECT row_number() OVER (ORDER BY id) - 1 AS i, id "
                    "FROM pipeline_process WHERE id = ANY(%s)", [process_ids])

        t1 = time.perf_counter()
        # Generated rows are consistent by construction: skip the per-row foreign-key triggers while loading.
        cur.execute("SET session_replication_role = replica")
        # Per deal: process g % 3; outcome 60 % open, 25 % won, 15 % lost; open deals spread over the open
        # stages; opened within the last two years.
        cur.execute(f"""
            CREATE TEMP TABLE bench_deal AS
            SELECT g, p.id AS process_id,
                   (SELECT count(*) FROM bench_stages s WHERE s.process_id = p.id AND s.semantic = 'open') AS n_open,
                   CASE WHEN g % 20 < 12 THEN 'open' WHEN g % 20 < 17 THEN 'won' ELSE 'lost' END AS semantic,
                   now() - ((g * 7919) % 730) * interval '1 day' - ((g * 31) % 86400) * interval '1 second'
                       AS opened_at
            FROM generate_series(1::bigint, {n_deals}) g
            JOIN bench_process p ON p.i = g % 3
        """)
        # Closed deals closed 5–205 days after opening (not in the future); open deals entered their
        # current stage 0–89 days ago (not before they were opened).
        cur.execute("""
            ALTER TABLE bench_deal ADD COLUMN closed_at timestamptz, ADD COLUMN entered_at timestamptz;
            UPDATE bench_deal SET
                closed_at = CASE WHEN semantic <> 'open'
                    THEN LEAST(now(), opened_at + ((g % 200) + 5) * interval '1 day') END,
                entered_at = CASE WHEN semantic <> 'open'
                    THEN LEAST(now(), opened_at + ((g % 200) + 5) * interval '1 day')
                    ELSE GREATEST(opened_at, now() - ((g * 17) % 90) * interval '1 day') END;
        """)
        cols, exprs = _columns(Deal, {
            "id": "d.g", "name": "'商机' || d.g", "customer_id": f"(d.g % {n_customers}) + "
            "(SELECT min(id) FROM customers_customer)",
            "process_id": "d.process_id", "stage_id": "st.id", "semantic": "d.semantic",
            "owner_id": "r.id", "team_id": "r.team_id",
            "amount": "((d.g * 104729) % 2000000 + 10000)::numeric(14,2)",
            "expected_close_date": "current_date + (((d.g * 7) % 540) - 180)::int",
            "probability": "st.prob", "quote_number": "''",
            "next_step": "'回访'",
            "next_step_due": "CASE WHEN d.g % 4 = 0 THEN current_date + ((d.g % 60) - 30)::int END",
            "purchase_window": "NULL",
            "stage_entered_at": "d.entered_at",
            "opened_at": "d.opened_at",
            "furthest_order": "st.ord",
            "closed_at": "d.closed_at",
            "created_at": "d.opened_at", "updated_at": "now()"})
        cur.execute(f"""
            INSERT INTO pipeline_deal ({cols})
            SELECT {exprs}
            FROM bench_deal d
            JOIN bench_reps r ON r.i = d.g % 200
            JOIN bench_stages st ON st.process_id = d.process_id AND st.idx =
                CASE d.semantic WHEN 'open' THEN d.g % d.n_open WHEN 'won' THEN d.n_open ELSE d.n_open + 1 END
        """)
        cur.execute("SELECT setval(pg_get_serial_sequence('pipeline_deal', 'id'), (SELECT max(id) FROM pipeline_deal))")
        timings["deals"] = time.perf_counter() - t1

        t2 = time.perf_counter()
        span = {"n": per_deal, "m": max(per_deal - 1, 1)}
        # `per_deal` stays per deal cycling through the process's open stages (moves back and forth);
        # the last one is the current stage, still open (left_at NULL) unless the deal is closed.
        cols, exprs = _columns(DealStageChange, {
            "deal_id": "d.id", "from_stage_id": "NULL", "stage_id":
            "CASE WHEN k = {n} THEN d.stage_id ELSE hs.id END".format(**span),
            "entered_at": "CASE WHEN k = {n} THEN d.stage_entered_at "
                          "ELSE d.opened_at + (k - 1) * (d.stage_entered_at - d.opened_at) / {m} END".format(**span),
            "left_at": "CASE WHEN k < {n} THEN d.opened_at + k * (d.stage_entered_at - d.opened_at) / {m} "
                       "WHEN d.semantic <> 'open' THEN d.closed_at END".format(**span),
            "duration_seconds": "CASE WHEN k < {n} THEN extract(epoch FROM (d.stage_entered_at - d.opened_at) "
                                "/ {m})::bigint WHEN d.semantic <> 'open' THEN "
                                "extract(epoch FROM d.closed_at - d.stage_entered_at)::bigint END".format(**span),
            "actor_id": "d.owner_id", "override_reason": "''", "unmet": "'[]'::jsonb"})
        cur.execute(f"""
            INSERT INTO pipeline_dealstagechange ({cols})
            SELECT {exprs}
            FROM pipeline_deal d
            CROSS JOIN generate_series(1, %s) k
            JOIN bench_stages hs ON hs.process_id = d.process_id AND hs.idx = (k - 1) % hs.n_open
        """.replace("%s", str(per_deal)))
        timings["history"] = time.perf_counter() - t2
        cur.execute("SET session_replication_role = DEFAULT")
        t3 = time.perf_counter()
        # VACUUM too: it sets the visibility map, without which no scan is index-only.
        cur.execute("VACUUM ANALYZE")
        timings["analyze"] = time.perf_counter() - t3
    return timings


def median_time(func, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("QIANKE_BENCH_PIPELINE_URL", DEFAULT_URL))
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--history-per-deal", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="reuse the data of a previous run")
    args = parser.parse_args()

    if not args.reuse:
        _recreate_database(args.url)
    _setup(args.url)
    from django.core.management import call_command
    from django.db import connection

    if not args.reuse:
        call_command("migrate", interactive=False, verbosity=0)
        gen = generate(args.deals, args.history_per_deal)
        print("generated: " + ", ".join(f"{k} {v:.1f} s" for k, v in gen.items()))

    from qianke.accounts.models import User
    from qianke.pipeline import reports
    from qianke.pipeline.models import Deal, DealStageChange, Process, Semantic

    director = User.objects.get(username="director")
    director.role = "gm"  # sees every deal
    manager = User.objects.get(username="manager1")
    process = Process.objects.get(code="big_account_sales")
    n_deals = Deal.objects.count()
    n_history = DealStageChange.objects.count()
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg_version = cur.fetchone()[0]

    def naive_forecast(limit: int = 100_000):
        """Baseline: load open deals (a subset) as rows and add them up in Python."""
        totals: dict = {}
        for owner_id, month, amount, prob in Deal.objects.filter(semantic=Semantic.OPEN).values_list(
                "owner_id", "expected_close_date", "amount", "probability")[:limit].iterator(chunk_size=5000):
            key = (owner_id, month.replace(day=1) if month else None)
            totals[key] = totals.get(key, 0) + (amount or 0) * prob / 100
        return totals

    cases = [
        ("baseline: COUNT(*) of deals", lambda: Deal.objects.count()),
        ("baseline: naive forecast, 100,000 open deals in Python", naive_forecast),
        ("forecast, 6 months (director: all deals)", lambda: reports.forecast(user=director)),
        ("forecast, 6 months (team manager)", lambda: reports.forecast(user=manager)),
        ("funnel, 大客户销售流程, 365 days (director)",
         lambda: reports.funnel(user=director, process=process)),
        ("funnel, 大客户销售流程, 365 days (team manager)",
         lambda: reports.funnel(user=manager, process=process)),
        ("stalled, first page + count (director)", lambda: reports.stalled(user=director)),
        ("stalled, first page + count (team manager)", lambda: reports.stalled(user=manager)),
    ]
    rows = []
    for label, func in cases:
        func()  # warm the cache once
        seconds, result = median_time(func, args.runs)
        rows.append((label, seconds, result))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n{n_deals:,} deals, {n_history:,} stage-history rows; PostgreSQL {pg_version}; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average {load}; "
          f"median of {args.runs} runs\n")
    print(f"| {'report':<58} | {'median':>9} |")
    print(f"|{'-' * 60}|{'-' * 11}|")
    for label, seconds, _result in rows:
        print(f"| {label:<58} | {seconds * 1000:>6.0f} ms |")
    print(f"\nload average after the runs: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    stalled_page = rows[6][2]
    funnel = rows[4][2]
    print(f"\nstalled deals (director): {stalled_page.count:,}{'+' if stalled_page.count_capped else ''}; "
          f"funnel cohort {funnel.cohort:,}, win rate {funnel.win_rate}, avg cycle {funnel.avg_cycle_days} days")
    return 0


if __name__ == "__main__":
    sys.exit(main())
