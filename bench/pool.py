"""Daily pool jobs benchmark: N potential customers, most owned by reps, some in pools; then
`pool.returns` and `pool.warnings` (and `qualification.grades` alongside).

    .venv/bin/python bench/pool.py                                   # 1,000,000 customers, SQLite, temp home
    .venv/bin/python bench/pool.py --customers 100000
    .venv/bin/python bench/pool.py --database-url postgresql://postgres@127.0.0.1:5432/qianke_bench_pool
    .venv/bin/python bench/pool.py --home /tmp/qk-pool-bench --reuse   # measure again on the same data

Data (built set-wise with INSERT … SELECT over a number series, so 1,000,000 rows load in seconds):
10 sales teams of 10 reps, one pool per team (default rule 30 days without follow-up / 180 days not
converted, grade A 7/60, grade B 14/120, warnings 3 days ahead, open deals exempt). Of the customers
85 % are owned by a rep of their team and 15 % wait in the pool; 90 % have a qualification row with
a grade and the day of their last follow-up within the last 60 days (their follow-up history as the
jobs see it); 95 % of the owned ones have a pool entry with the owner's start spread over 400 days,
the other 5 % are adopted by the first run.

Scenarios (each the median of --runs runs unless said otherwise):
- returns, first run: adopts the entry-less customers and returns the whole backlog (once);
- returns, daily: the next days (today + 1, + 2, …): the customers crossing a threshold that day;
- returns, same day again: changes nothing (idempotence);
- warnings, first run, daily, same day again: likewise for `pool.warnings`;
- grades.recompute: `qualification.grades` on the same data, first run and daily;
- baseline: one raw UPDATE touching the owned entries past the default cutoff (rolled back), i.e. the
  least any set-wise job that reads and writes those rows must spend.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search import machine, prepare_environment  # noqa: E402

TEAMS = 10
REPS_PER_TEAM = 10


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--database-url", default="", help="PostgreSQL URL; the database is dropped and created")
    p.add_argument("--home", default="", help="QIANKE_HOME to use (default: a new temporary folder)")
    p.add_argument("--reuse", action="store_true", help="keep existing data when it has enough customers")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json", default="", help="write the results to this file")
    return p.parse_args(argv)


# ---------------------------------------------------------------------------------------------
# Set-wise data
# ---------------------------------------------------------------------------------------------


def _pg() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def _literal(field) -> str:
    """The SQL literal of a field's default, for the columns the bench does not vary."""
    value = field.get_default()
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict | list):
        text = json.dumps(value)
        return f"CAST('{text}' AS jsonb)" if _pg() else f"'{text}'"
    return "'" + str(value).replace("'", "''") + "'"


def _insert_select(model, columns: dict[str, str], source: str, params: list | None = None) -> int:
    """INSERT INTO model's table every concrete column: `columns` gives SQL expressions over the
    source's `n`, the rest take their default."""
    from django.db import connection

    names, exprs = [], []
    for field in model._meta.concrete_fields:
        names.append(field.column)
        if field.column in columns:
            exprs.append(columns[field.column])
        elif field.primary_key and field.column not in columns:
            names.pop()
        else:
            exprs.append(_literal(field))
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(names)}) SELECT {', '.join(exprs)} FROM {source}"
    with connection.cursor() as cursor:
        # No parameters: the SQL's % (modulo, printf) must not be read as placeholders.
        cursor.execute(sql, params or None)
        return cursor.rowcount


def _series(n: int) -> str:
    if _pg():
        return f"generate_series(1, {int(n)}) AS s(n)"
    return f"(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {int(n)}) SELECT n FROM s) s"


def _days_ago(expr: str, *, date: bool = False) -> str:
    """SQL for now (or today) minus `expr` days."""
    if _pg():
        return f"(CURRENT_DATE - ({expr})::int)" if date else f"(now() - ({expr}) * interval '1 day')"
    return f"date('now', '-' || ({expr}) || ' days')" if date else \
        f"strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || ({expr}) || ' days')"


def load(args) -> dict:
    from django.db import connection, transaction

    from qianke.accounts.models import Role, Team, User
    from qianke.customers.models import Customer
    from qianke.pool.models import Pool, PoolEntry, PoolRule
    from qianke.qualification.models import Qualification

    n = args.customers
    if args.reuse and Customer.objects.count() >= n:
        return {"reused": True}
    started = time.perf_counter()
    with transaction.atomic():
        parent = Team.objects.create(name="销售部")
        parent.path = f"/{parent.pk}/"
        parent.save()
        teams = []
        for i in range(TEAMS):
            team = Team.objects.create(name=f"区域{i + 1}组", parent=parent)
            team.path = f"{parent.path}{team.pk}/"
            team.save()
            teams.append(team)
        reps = []
        for i, team in enumerate(teams):
            for j in range(REPS_PER_TEAM):
                reps.append(User(username=f"rep{i:02d}{j:02d}", role=Role.SALES, team=team, password="!"))
        User.objects.bulk_create(reps)
        User.objects.create(username="gm", role=Role.GM, password="!")
        rep_ids = list(User.objects.filter(role=Role.SALES).order_by("team_id", "pk").values_list("pk", flat=True))
        team_ids = [t.pk for t in teams]
        for team in teams:
            pool = Pool.objects.create(name=f"{team.name}公海", cap_per_rep=500, cooldown_days=30, warn_days=3,
                                       no_follow_up_days=30, not_converted_days=180, exempt_open_deals=True)
            pool.teams.add(team)
            PoolRule.objects.create(pool=pool, grade="A", no_follow_up_days=7, not_converted_days=60)
            PoolRule.objects.create(pool=pool, grade="B", no_follow_up_days=14, not_converted_days=120)
        pool_of_team = {p.teams.get().pk: p.pk for p in Pool.objects.all()}
        first_team, first_rep = min(team_ids), min(rep_ids)
        pool_first = pool_of_team[first_team]
        # Team k = n % 10 (teams and pools have consecutive ids); rep = one of the team's ten reps.
        team_expr = f"({first_team} + n % {TEAMS})"
        rep_expr = f"({first_rep} + (n % {TEAMS}) * {REPS_PER_TEAM} + (n / {TEAMS}) % {REPS_PER_TEAM})"
        owned = "(n % 100 >= 15)"
        code = "'BP' || lpad(n::text, 8, '0')" if _pg() else "'BP' || printf('%08d', n)"
        name = "'压测客户' || n::text || '有限公司'" if _pg() else "'压测客户' || n || '有限公司'"
        created = _days_ago("n % 700")
        _insert_select(Customer, {
            "id": "n", "code": code, "name": name, "name_norm": name, "status": "'potential'",
            "province": "'浙江省'", "industry": "'manufacturing'",
            "owner_id": f"CASE WHEN {owned} THEN {rep_expr} END",
            "team_id": f"CASE WHEN {owned} THEN {team_expr} END",
            "created_at": created, "updated_at": created, "status_changed_at": created,
        }, _series(n))
        base = _days_ago("(n * 7) % 60", date=True)
        grade = "substr('OABCD', 1 + n % 5, 1)"
        _insert_select(Qualification, {
            "customer_id": "n", "grade": grade, "ordered": "(n % 5 = 0)" if _pg() else "(n % 5 = 0)",
            "cadence_base_on": base, "last_follow_up_at": _days_ago("(n * 7) % 60"),
            "created_at": created, "updated_at": created,
        }, _series(n) + " WHERE n % 10 <> 3")
        owner_since = _days_ago("(n * 13) % 400")
        _insert_select(PoolEntry, {
            "customer_id": "n", "pool_id": f"({pool_first} + n % {TEAMS})",
            "in_pool": f"NOT {owned}" if _pg() else f"NOT {owned}",
            "entered_at": f"CASE WHEN NOT {owned} THEN {created} END",
            "owner_since": f"CASE WHEN {owned} THEN {owner_since} END",
            "owner_since_on": f"CASE WHEN {owned} THEN {_days_ago('(n * 13) % 400', date=True)} END",
            "last_owner_id": f"CASE WHEN NOT {owned} THEN {rep_expr} END",
            "left_at": f"CASE WHEN NOT {owned} THEN {created} END",
        }, _series(n) + " WHERE n % 20 <> 7 OR NOT " + owned)
    with connection.cursor() as cursor:
        if _pg():
            cursor.execute("SELECT setval(pg_get_serial_sequence('customers_customer', 'id'), %s)", [n])
            cursor.execute("ANALYZE")
        else:
            cursor.execute("ANALYZE")
    return {"load_s": time.perf_counter() - started, "customers": Customer.objects.count(),
            "qualifications": Qualification.objects.count(), "entries": PoolEntry.objects.count(),
            "in_pool": PoolEntry.objects.filter(in_pool=True).count()}


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------


def timed(func, **kwargs) -> tuple[float, dict]:
    started = time.perf_counter()
    result = func(**kwargs)
    return time.perf_counter() - started, result


def baseline(today: dt.date) -> tuple[float, int]:
    """One raw UPDATE of the owned entries past the default 180-day cutoff, rolled back."""
    from django.db import connection, transaction

    cutoff = connection.ops.adapt_datefield_value(today - dt.timedelta(days=180))
    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE pool_poolentry SET in_pool = in_pool, left_at = left_at "
                           "WHERE in_pool = %s AND owner_since_on < %s", [False, cutoff])
            rows = cursor.rowcount
        transaction.set_rollback(True)
    return time.perf_counter() - started, rows


def main(argv=None) -> int:
    args = parse_args(argv)
    prepare_environment(args)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from qianke.pool.jobs import run_returns, run_warnings
    from qianke.qualification.jobs import recompute_grades

    call_command("migrate", verbosity=0)
    info = {"machine": machine(), "customers": args.customers, "load": load(args)}
    print(f"load: {info['load']}", file=sys.stderr)
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version")
        info["database"] = f"{connection.vendor} {cursor.fetchone()[0]}"
    today = timezone.localdate()
    rows = []

    def scenario(name, func, days, count_key):
        times, results = [], []
        for day in days:
            t, r = timed(func, today=day)
            times.append(t)
            results.append(r)
            print(f"{name} {day}: {t:.2f} s {r}", file=sys.stderr)
        rows.append({"scenario": name, "median_s": statistics.median(times), "runs": len(times),
                     "rows": statistics.median(r[count_key] for r in results),
                     "max_s": max(times)})

    seconds, touched = baseline(today)
    rows.append({"scenario": "baseline: one raw UPDATE of the owned entries past 180 days", "median_s": seconds,
                 "runs": 1, "rows": touched, "max_s": seconds})
    scenario("qualification.grades, first run (creates missing rows)", recompute_grades, [today], "changed")
    scenario("pool.warnings, first run (adopts, warns)", run_warnings, [today], "warned")
    scenario("pool.returns, first run (returns the backlog)", run_returns, [today], "returned")
    daily = [today + dt.timedelta(days=i + 1) for i in range(args.runs)]
    for day in daily:
        scenario_day = [day]
        scenario(f"pool.warnings, daily ({day})", run_warnings, scenario_day, "warned")
        scenario(f"pool.returns, daily ({day})", run_returns, scenario_day, "returned")
    last = daily[-1]
    scenario("pool.warnings, same day again", run_warnings, [last] * args.runs, "warned")
    scenario("pool.returns, same day again", run_returns, [last] * args.runs, "returned")
    scenario("qualification.grades, daily", recompute_grades,
             [last + dt.timedelta(days=i + 1) for i in range(args.runs)], "changed")
    # Medians over the daily rows of each job.
    for job in ("pool.warnings", "pool.returns"):
        daily_rows = [r for r in rows if r["scenario"].startswith(f"{job}, daily (")]
        rows.append({"scenario": f"{job}, daily: median of {len(daily_rows)} days",
                     "median_s": statistics.median(r["median_s"] for r in daily_rows), "runs": len(daily_rows),
                     "rows": statistics.median(r["rows"] for r in daily_rows),
                     "max_s": max(r["median_s"] for r in daily_rows)})
    info["rows"] = rows
    print(f"\n{info['database']}, {args.customers:,} potential customers "
          f"({info['load'].get('in_pool', '?')} in pools at the start)")
    print(f"{'scenario':<62} {'median s':>9} {'max s':>7} {'runs':>5} {'rows':>9}")
    for r in rows:
        print(f"{r['scenario']:<62} {r['median_s']:>9.2f} {r['max_s']:>7.2f} {r['runs']:>5} {int(r['rows']):>9,}")
    if args.json:
        Path(args.json).write_text(json.dumps(info, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
