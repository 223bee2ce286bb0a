"""Grade and cadence rules, once in Python (one customer) and once as SQL expressions (the daily job).

Grade: O when ordered; otherwise by the expected purchase date: on or before today + A threshold
→ A (a date already past counts as A: the customer said they would buy by then), then B, C; a later
or unknown date → D. Next follow-up due = cadence base (last follow-up's day, else registration
day) + the grade's cadence; no due date for O unless an O cadence is set.

Both versions compare against boundary dates computed once in Python, so the SQL needs no date
arithmetic per row except "base + n days" (native on both databases, see AddDays).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, DateField, F, Func, Q, Value, When
from django.db.models.expressions import Expression

from qianke.qualification.models import Grade, GradingSettings


@dataclass(frozen=True)
class Why:
    grade: str
    ordered: bool
    expected: dt.date | None
    days_left: int | None
    threshold: int | None  # the window (days) the expected date falls in; None for O and unknown/late D


def grade_for(*, ordered: bool, expected: dt.date | None, today: dt.date, config: GradingSettings) -> str:
    if ordered:
        return Grade.O
    if expected is None:
        return Grade.D
    for grade, within in (("A", config.a_within_days), ("B", config.b_within_days), ("C", config.c_within_days)):
        if expected <= today + dt.timedelta(days=within):
            return grade
    return Grade.D


def why(*, ordered: bool, expected: dt.date | None, today: dt.date, config: GradingSettings) -> Why:
    grade = grade_for(ordered=ordered, expected=expected, today=today, config=config)
    return Why(grade=grade, ordered=ordered, expected=expected,
               days_left=(expected - today).days if expected else None,
               threshold=config.threshold(grade) if not ordered else None)


def due_for(*, grade: str, base: dt.date, config: GradingSettings) -> dt.date | None:
    days = config.cadence(grade)
    return None if days is None else base + dt.timedelta(days=days)


class AddDays(Func):
    """date + n days, n a constant: date(x, '+n days') on SQLite, x + n on PostgreSQL."""

    output_field = DateField()

    def __init__(self, expression, days: int):
        self.days = int(days)
        super().__init__(expression)

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"date({sql}, %s)", [*params, f"+{self.days} days"]

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} + %s)", [*params, self.days]


def _branches(*, today: dt.date, config: GradingSettings) -> list[tuple[Q, str]]:
    """The grade rule as (condition, grade) pairs, first match wins; D otherwise (mirrors grade_for)."""
    return [
        (Q(ordered=True), Grade.O.value),
        (Q(expected_purchase_date__isnull=True), Grade.D.value),
        (Q(expected_purchase_date__lte=today + dt.timedelta(days=config.a_within_days)), "A"),
        (Q(expected_purchase_date__lte=today + dt.timedelta(days=config.b_within_days)), "B"),
        (Q(expected_purchase_date__lte=today + dt.timedelta(days=config.c_within_days)), "C"),
    ]


def grade_expression(*, today: dt.date, config: GradingSettings) -> Expression:
    return Case(*[When(q, then=Value(g)) for q, g in _branches(today=today, config=config)],
                default=Value(Grade.D.value))


def _due_value(grade: str, config: GradingSettings) -> Expression:
    days = config.cadence(grade)
    return Value(None, output_field=DateField()) if days is None else AddDays(F("cadence_base_on"), days)


def due_expression(*, today: dt.date, config: GradingSettings) -> Expression:
    """next_follow_up_due from the same branches as the grade, so the grade CASE is not evaluated twice."""
    return Case(*[When(q, then=_due_value(g, config)) for q, g in _branches(today=today, config=config)],
                default=_due_value(Grade.D.value, config), output_field=DateField())
