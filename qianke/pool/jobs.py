"""The daily jobs `pool.returns` and `pool.warnings`, set-wise (no Python loop per customer).

Per pool, each grade's return rule is (N, M): a customer goes back when its owner has not followed it
up for more than N days, or has not converted it (it is still potential) more than M days after
taking it. The clock starts at the claim: the "last follow-up day" is the later of the day the owner
got it (`PoolEntry.owner_since_on`) and the qualification's cadence base (the last follow-up's day).
Customers without a qualification row, or whose grade has no rule of its own, follow the pool's
default rule.

One run of `pool.returns`:
1. adopt: owned potential customers without a pool entry get one in their team's pool (INSERT … SELECT
   per pool), their clock starting at their registration;
2. per pool, one INSERT … SELECT writes an owner-history row for every customer due back, tagged with
   the run's batch key; then one UPDATE each moves the entries and the customers, and one INSERT …
   SELECT writes the audit rows. A second run finds nothing more to do.

`pool.warnings` inserts, per pool, a warning row for every owned customer whose return day falls
within the pool's warning days, unless that (customer, owner, return day) row exists already.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qianke.accounts.models import Team, User
from qianke.core.models import AuditLog
from qianke.customers.choices import Status
from qianke.customers.models import Customer
from qianke.pipeline.selectors import open_deal_customer_ids
from qianke.pool.models import OwnerChange, Pool, PoolEntry, PoolRule, PoolWarning
from qianke.qualification.models import Grade, Qualification

T_ENTRY = PoolEntry._meta.db_table
T_CUSTOMER = Customer._meta.db_table
T_QUAL = Qualification._meta.db_table
T_CHANGE = OwnerChange._meta.db_table
T_AUDIT = AuditLog._meta.db_table
T_WARNING = PoolWarning._meta.db_table
T_USER = User._meta.db_table


def _ts(value: dt.datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _date(value: dt.date):
    return connection.ops.adapt_datefield_value(value)


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _plus_days(sql: str, days: int) -> str:
    return f"date({sql}, '+{int(days)} days')" if not _pg() else f"({sql} + {int(days)})"


def _least(a: str, b: str) -> str:
    return f"LEAST({a}, {b})" if _pg() else f"min({a}, {b})"


def _greatest(a: str, b: str) -> str:
    return f"GREATEST({a}, {b})" if _pg() else f"max({a}, {b})"


def _last_day() -> str:
    """The customer's last follow-up day for the rules: the owner's start, or a later follow-up."""
    return _greatest("e.owner_since_on", "COALESCE(q.cadence_base_on, e.owner_since_on)")


def rule_groups(pool: Pool) -> list[tuple[str, list, int | None, int | None]]:
    """[(grade condition SQL, params, N, M)] covering every customer of the pool once."""
    rules = {r.grade: r for r in PoolRule.objects.filter(pool=pool)}
    groups = []
    # No qualification row means grade D (the qualification app's convention).
    grade = f"COALESCE(q.grade, '{Grade.D.value}')"
    for value, rule in sorted(rules.items()):
        groups.append((f"{grade} = %s", [value], rule.no_follow_up_days, rule.not_converted_days))
    own = sorted(rules)
    if own:
        marks = ", ".join(["%s"] * len(own))
        groups.append((f"{grade} NOT IN ({marks})", own, pool.no_follow_up_days, pool.not_converted_days))
    else:
        groups.append(("1 = 1", [], pool.no_follow_up_days, pool.not_converted_days))
    return groups


def _exemption(pool: Pool) -> tuple[str, list]:
    """SQL excluding customers with an open deal (stage of semantic type "open"), when the pool exempts them."""
    if not pool.exempt_open_deals:
        return "", []
    sql, params = open_deal_customer_ids().query.sql_with_params()
    return f" AND c.id NOT IN ({sql})", list(params)


# One statement covers every pool (a clause per pool), so each job reads the tables once, however many
# pools there are.
FROM_OWNED = (
    f" FROM {T_ENTRY} e JOIN {T_CUSTOMER} c ON c.id = e.customer_id"
    f" LEFT JOIN {T_QUAL} q ON q.customer_id = e.customer_id"
    # `NOT e.in_pool` spelled as in the partial index's condition, so SQLite uses it.
    " WHERE NOT e.in_pool AND c.owner_id IS NOT NULL AND c.status = %s"
    " AND c.archived_at IS NULL AND e.owner_since_on IS NOT NULL"
)


def _due_condition(pool: Pool, *, on: dt.date) -> tuple[str, list]:
    """SQL true for the pool's owned customers due back when the job runs on day `on` ("" when none can be)."""
    parts, params = [], []
    for grade_sql, grade_params, n, m in rule_groups(pool):
        tests, test_params = [], []
        if n is not None:
            tests.append(f"{_last_day()} < %s")
            test_params.append(_date(on - dt.timedelta(days=n)))
        if m is not None:
            tests.append("e.owner_since_on < %s")
            test_params.append(_date(on - dt.timedelta(days=m)))
        if tests:
            parts.append(f"({grade_sql} AND ({' OR '.join(tests)}))")
            params += [*grade_params, *test_params]
    if not parts:
        return "", []
    return "(" + " OR ".join(parts) + ")", params


def _pools_condition(pools: list[Pool], *, on: dict[int, dt.date]) -> tuple[str, list]:
    """" AND (…)" selecting, in every pool, the owned customers due back on the pool's day `on[pool.pk]`,
    leaving out exempt ones; ("", []) when no pool has a rule."""
    parts, params = [], []
    for pool in pools:
        due_sql, due_params = _due_condition(pool, on=on[pool.pk])
        if not due_sql:
            continue
        exempt_sql, exempt_params = _exemption(pool)
        parts.append(f"(e.pool_id = %s AND {due_sql}{exempt_sql})")
        params += [pool.pk, *due_params, *exempt_params]
    if not parts:
        return "", []
    return " AND (" + " OR ".join(parts) + ")", params


def _reason_sql(pools: list[Pool], *, on: dt.date) -> tuple[str, list]:
    """A CASE giving each returned customer's reason in words."""
    whens, params = [], []
    for pool in pools:
        for grade_sql, grade_params, n, m in rule_groups(pool):
            if n is not None:
                whens.append(f"WHEN e.pool_id = %s AND {grade_sql} AND {_last_day()} < %s THEN %s")
                params += [pool.pk, *grade_params, _date(on - dt.timedelta(days=n)),
                           _("No follow-up for more than %(n)d days") % {"n": n}]
            if m is not None:
                whens.append(f"WHEN e.pool_id = %s AND {grade_sql} AND e.owner_since_on < %s THEN %s")
                params += [pool.pk, *grade_params, _date(on - dt.timedelta(days=m)),
                           _("Not converted within %(n)d days") % {"n": m}]
    return "CASE " + " ".join(whens) + " ELSE '' END", params


def _local_date_sql(column: str) -> tuple[str, list]:
    from qianke.qualification.jobs import _local_date_sql as local_date

    return local_date(column)


def adopt_owned_customers() -> int:
    """Owned potential customers without an entry join their team's pool (one INSERT … SELECT, the pool
    chosen per team by a CASE)."""
    from qianke.pool.services import home_pool_for_team

    pool_of_team = {}
    for team in Team.objects.all():
        pool = home_pool_for_team(team)
        if pool is not None:
            pool_of_team[team.pk] = pool.pk
    if not pool_of_team:
        return 0
    day_sql, day_params = _local_date_sql("c.created_at")
    whens = " ".join(["WHEN %s THEN %s"] * len(pool_of_team))
    marks = ", ".join(["%s"] * len(pool_of_team))
    sql = (
        f"INSERT INTO {T_ENTRY} (customer_id, pool_id, in_pool, entered_at, owner_since, owner_since_on,"
        " last_owner_id, left_at)"
        f" SELECT c.id, CASE c.team_id {whens} END, %s, NULL, c.created_at, {day_sql}, NULL, NULL"
        f" FROM {T_CUSTOMER} c"
        f" WHERE c.owner_id IS NOT NULL AND c.status = %s AND c.archived_at IS NULL AND c.team_id IN ({marks})"
        f" AND NOT EXISTS (SELECT 1 FROM {T_ENTRY} x WHERE x.customer_id = c.id)"
    )
    params = [*[v for pair in pool_of_team.items() for v in pair], False, *day_params, Status.POTENTIAL.value,
              *pool_of_team]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def return_neglected(*, today: dt.date, now: dt.datetime | None = None) -> int:
    """Return every neglected customer of every active pool to its pool; returns how many went back."""
    now = now or timezone.now()
    batch = uuid.uuid4().hex
    pools = list(Pool.objects.filter(active=True))
    where_sql, where_params = _pools_condition(pools, on={p.pk: today for p in pools})
    if not where_sql:
        return 0
    reason_sql, reason_params = _reason_sql(pools, on=today)
    sql = (
        f"INSERT INTO {T_CHANGE} (customer_id, from_owner_id, to_owner_id, kind, reason, actor_id, pool_id,"
        " at, batch)"
        f" SELECT c.id, c.owner_id, NULL, %s, {reason_sql}, NULL, e.pool_id, %s, %s"
        + FROM_OWNED + where_sql
    )
    params = [OwnerChange.Kind.RETURN.value, *reason_params, _ts(now), batch, Status.POTENTIAL.value, *where_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    return _apply_batch(batch, now=now)


def _apply_batch(batch: str, *, now: dt.datetime) -> int:
    """Entries, customers and audit rows follow the history rows of the batch."""
    in_batch = f"SELECT customer_id FROM {T_CHANGE} WHERE batch = %s"
    if _pg():
        json = ("jsonb_build_object('owner', jsonb_build_array(COALESCE(NULLIF(u.full_name, ''), u.username), NULL),"
                " 'reason', jsonb_build_array(NULL, oc.reason))")
    else:
        json = ("json_object('owner', json_array(COALESCE(NULLIF(u.full_name, ''), u.username), NULL),"
                " 'reason', json_array(NULL, oc.reason))")
    with connection.cursor() as cursor:
        if _pg():
            # The batch was just written: without fresh statistics PostgreSQL expects a handful of rows
            # and walks the customers one index probe at a time (more than twice as slow for a large batch).
            cursor.execute(f"ANALYZE {T_CHANGE}")
        cursor.execute(
            f"UPDATE {T_ENTRY} SET in_pool = %s, entered_at = %s, left_at = %s, owner_since = NULL,"
            " owner_since_on = NULL,"
            f" last_owner_id = (SELECT oc.from_owner_id FROM {T_CHANGE} oc WHERE oc.batch = %s"
            f" AND oc.customer_id = {T_ENTRY}.customer_id)"
            f" WHERE customer_id IN ({in_batch})",
            [True, _ts(now), _ts(now), batch, batch])
        cursor.execute(
            f"UPDATE {T_CUSTOMER} SET owner_id = NULL, team_id = NULL, updated_at = %s WHERE id IN ({in_batch})",
            [_ts(now), batch])
        cursor.execute(
            f"INSERT INTO {T_AUDIT} (created_at, actor_id, action, object_type, object_id, object_repr, customer_id,"
            " changes, source)"
            f" SELECT %s, NULL, %s, %s, c.id, substr(c.name, 1, 200), c.id, {json}, %s"
            f" FROM {T_CHANGE} oc JOIN {T_CUSTOMER} c ON c.id = oc.customer_id"
            f" LEFT JOIN {T_USER} u ON u.id = oc.from_owner_id WHERE oc.batch = %s",
            [_ts(now), AuditLog.Action.OWNER_CHANGE.value, "customer", AuditLog.Source.JOB.value, batch])
        return max(cursor.rowcount, 0)


def _deadline_sql(pools: list[Pool]) -> tuple[str, list]:
    """A CASE giving each owned customer's return day: the earlier of last follow-up day + N + 1 and
    start day + M + 1 (the first day the returns job takes it)."""
    whens, params = [], []
    for pool in pools:
        for grade_sql, grade_params, n, m in rule_groups(pool):
            by_follow_up = _plus_days(_last_day(), n + 1) if n is not None else None
            by_conversion = _plus_days("e.owner_since_on", m + 1) if m is not None else None
            if by_follow_up and by_conversion:
                expr = _least(by_follow_up, by_conversion)
            else:
                expr = by_follow_up or by_conversion
            if expr:
                whens.append(f"WHEN e.pool_id = %s AND {grade_sql} THEN {expr}")
                params += [pool.pk, *grade_params]
    return "CASE " + " ".join(whens) + " END", params


def warn_owners(*, today: dt.date, now: dt.datetime | None = None) -> int:
    """A warning row for each owned customer whose return day is within its pool's warning days."""
    now = now or timezone.now()
    pools = list(Pool.objects.filter(active=True))
    # Customers due back within K days are exactly those the returns job would take on day today + K.
    where_sql, where_params = _pools_condition(
        pools, on={p.pk: today + dt.timedelta(days=p.warn_days) for p in pools})
    if not where_sql:
        return 0
    deadline_sql, deadline_params = _deadline_sql(pools)
    inner = (f"SELECT c.id AS customer_id, c.owner_id AS owner_id, e.pool_id AS pool_id, {deadline_sql} AS deadline"
             + FROM_OWNED + where_sql)
    sql = (
        f"INSERT INTO {T_WARNING} (customer_id, owner_id, pool_id, deadline, created_at)"
        f" SELECT d.customer_id, d.owner_id, d.pool_id, d.deadline, %s FROM ({inner}) d"
        " WHERE d.deadline > %s"
        f" AND NOT EXISTS (SELECT 1 FROM {T_WARNING} w WHERE w.customer_id = d.customer_id"
        " AND w.owner_id = d.owner_id AND w.deadline = d.deadline)"
    )
    params = [_ts(now), *deadline_params, Status.POTENTIAL.value, *where_params, _date(today)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def run_returns(*, today: dt.date | None = None) -> dict[str, int]:
    """The job `pool.returns`: idempotent for a given day."""
    today = today or timezone.localdate()
    with transaction.atomic():
        adopted = adopt_owned_customers()
        returned = return_neglected(today=today)
    return {"adopted": adopted, "returned": returned}


def run_warnings(*, today: dt.date | None = None) -> dict[str, int]:
    """The job `pool.warnings`: idempotent for a given day."""
    today = today or timezone.localdate()
    with transaction.atomic():
        adopted = adopt_owned_customers()
        warned = warn_owners(today=today)
    return {"adopted": adopted, "warned": warned}

