"""The daily job `qualification.grades`: grades follow expected purchase dates, due dates follow grades.

Set-wise, for all potential customers: one INSERT … SELECT creates the missing rows, one UPDATE
with CASE expressions rewrites grade and next due date only where they differ (so a second run
on the same day changes nothing). No Python loop per row.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from qianke.customers.choices import Status
from qianke.customers.models import Customer
from qianke.qualification import grading
from qianke.qualification.models import Grade, GradingSettings, Need, Qualification

FAR_PAST = dt.date(1900, 1, 1)


def _local_date_sql(column: str) -> tuple[str, list]:
    """SQL for the local calendar date of a UTC timestamp column (TIME_ZONE of the settings)."""
    if connection.vendor == "postgresql":
        return f"({column} AT TIME ZONE %s)::date", [timezone.get_current_timezone_name()]
    # SQLite stores UTC text; shift by the zone's current offset (China has no daylight saving time).
    offset = timezone.localtime().utcoffset() or dt.timedelta()
    return f"date({column}, %s)", [f"{int(offset.total_seconds() // 60):+d} minutes"]


def create_missing_rows(*, today: dt.date) -> int:
    """Rows with the defaults (unknown, unknown, no need, grade D) for potential customers without one."""
    q_table = Qualification._meta.db_table
    c_table = Customer._meta.db_table
    base_sql, base_params = _local_date_sql("c.created_at")
    now = timezone.now()
    if connection.vendor == "sqlite":
        now_param: object = now.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
    else:
        now_param = now
    sql = (
        f"INSERT INTO {q_table} (customer_id, created_at, updated_at, money, authority, need, is_qualified, "
        "stop_contacting, stop_reason, stop_override_reason, grade, ordered, cadence_base_on) "
        f"SELECT c.id, %s, %s, 'unknown', 'unknown', %s, %s, %s, '', '', %s, %s, {base_sql} "
        f"FROM {c_table} c WHERE c.status = %s AND c.archived_at IS NULL "
        f"AND NOT EXISTS (SELECT 1 FROM {q_table} q WHERE q.customer_id = c.id)"
    )
    params = [now_param, now_param, Need.NONE.value, False, False, Grade.D.value, False, *base_params,
              Status.POTENTIAL.value]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def recompute(*, today: dt.date, config: GradingSettings | None = None) -> int:
    """Rewrite grade and next due date of potential customers' rows where they differ; returns rows changed."""
    config = config or GradingSettings.load()
    grade = grading.grade_expression(today=today, config=config)
    due = grading.due_expression(today=today, config=config)
    stale = ~Q(grade=grade) | ~Q(due_or_far=Coalesce(due, Value(FAR_PAST)))
    qs = (Qualification.objects
          .filter(customer__in=Customer.objects.filter(status=Status.POTENTIAL).values("pk"))
          .alias(due_or_far=Coalesce("next_follow_up_due", Value(FAR_PAST)))
          .filter(stale))
    return qs.update(grade=grade, next_follow_up_due=due, grade_computed_on=today, updated_at=timezone.now())


def recompute_grades(*, today: dt.date | None = None) -> dict[str, int]:
    """The job function: create missing rows, then recompute; idempotent for a given day."""
    today = today or timezone.localdate()
    with transaction.atomic():
        created = create_missing_rows(today=today)
        changed = recompute(today=today)
    return {"created": created, "changed": changed}
