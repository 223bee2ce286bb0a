"""Lifecycle reports: the conversion funnel. Reads only, through the visibility rules, aggregated in SQL.

The funnel follows a cohort: the customers that entered `potential` in the period (registered as
potential, or won back), counted once each from their first entry in the period. For each group it
counts how many of them later reached new (first purchase), then repeat (second purchase), and how
many were declared lost after entering; rates between the stages; and the average and median days
from potential to new and from new to repeat. Later moves count even after the period ends: the
period chooses the cohort, not the moves.

Groups are the customer's current team, owner or source (the leads app's CustomerOrigin), not the
ones it had when it moved.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection
from django.db.models import Aggregate, Avg, Count, DurationField, ExpressionWrapper, F, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from qianke.accounts.models import User
from qianke.core.errors import PermissionDenied, ValidationFailed
from qianke.customers.choices import Status
from qianke.customers.models import Customer, StatusChange

MAX_PERIOD_DAYS = 366 * 5
ROLES_SEEING_REPORTS = frozenset({"manager", "gm", "info", "admin"})


def may_see_reports(user: User) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.role in ROLES_SEEING_REPORTS))


def group_choices() -> list[tuple[str, str]]:
    choices = [("none", _("All customers")), ("team", _("Team")), ("owner", _("Owner"))]
    if source_grouping_available():
        choices.append(("source", _("Source")))
    return choices


def source_grouping_available() -> bool:
    """Grouping by source needs the leads app's CustomerOrigin (customer.origin.source)."""
    if not apps.is_installed("qianke.leads"):
        return False
    try:
        apps.get_model("leads", "CustomerOrigin")
    except LookupError:
        return False
    return True


# group_by → (key field, label fields)
GROUP_FIELDS = {
    "team": ("team_id", ("team__name",)),
    "owner": ("owner_id", ("owner__full_name", "owner__username")),
    "source": ("origin__source_id", ("origin__source__name",)),
}


class Median(Aggregate):
    """PostgreSQL's median of an interval; other databases take the median in Python."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


@dataclass
class FunnelRow:
    key: int | None
    label: str
    entered: int = 0
    new: int = 0
    repeat: int = 0
    lost: int = 0
    avg_days_to_new: float | None = None
    median_days_to_new: float | None = None
    avg_days_to_repeat: float | None = None
    median_days_to_repeat: float | None = None

    @property
    def rate_new(self) -> float | None:
        return _rate(self.new, self.entered)

    @property
    def rate_repeat(self) -> float | None:
        return _rate(self.repeat, self.new)

    @property
    def rate_lost(self) -> float | None:
        return _rate(self.lost, self.entered)


@dataclass
class Funnel:
    group_by: str
    date_from: dt.date
    date_to: dt.date
    rows: list[FunnelRow] = field(default_factory=list)
    total: FunnelRow | None = None


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _days(value: dt.timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 86400, 1)


def default_period(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The last twelve months up to today."""
    today = today or timezone.localdate()
    return today - dt.timedelta(days=364), today


def _period(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    errors = {}
    if date_from > date_to:
        errors["date_from"] = [_("The period starts after it ends.")]
    elif (date_to - date_from).days > MAX_PERIOD_DAYS:
        errors["date_to"] = [_("Choose a period of at most five years.")]
    if errors:
        raise ValidationFailed(errors)
    start = timezone.make_aware(dt.datetime.combine(date_from, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min))
    return start, end


def _cohort(user: User, start: dt.datetime, end: dt.datetime):
    """Visible customers that entered potential in [start, end), with the dates they reached each stage."""
    entries = StatusChange.objects.filter(to_status=Status.POTENTIAL, at__gte=start, at__lt=end)

    def first(to_status: str, after: str):
        return Subquery(
            StatusChange.objects.filter(customer_id=OuterRef("pk"), to_status=to_status, at__gte=OuterRef(after))
            .order_by("at").values("at")[:1]
        )

    return (
        Customer.objects.visible_to(user)
        .filter(pk__in=entries.values("customer_id"))
        .annotate(entered=Subquery(entries.filter(customer_id=OuterRef("pk")).order_by("at").values("at")[:1]))
        .annotate(new_at=first(Status.NEW, "entered"), lost_at=first(Status.LOST, "entered"))
        .annotate(repeat_at=first(Status.REPEAT, "new_at"))
    )


def _aggregates(median_in_sql: bool) -> dict:
    to_new = ExpressionWrapper(F("new_at") - F("entered"), output_field=DurationField())
    to_repeat = ExpressionWrapper(F("repeat_at") - F("new_at"), output_field=DurationField())
    aggregates = {
        "n_entered": Count("pk"), "n_new": Count("new_at"), "n_repeat": Count("repeat_at"),
        "n_lost": Count("lost_at"), "avg_new": Avg(to_new), "avg_repeat": Avg(to_repeat),
    }
    if median_in_sql:
        aggregates["med_new"] = Median(to_new)
        aggregates["med_repeat"] = Median(to_repeat)
    return aggregates


def _python_medians(cohort, key_field: str | None) -> dict:
    """{group key: (median to new, median to repeat)} from the per-customer durations (SQLite)."""
    to_new = ExpressionWrapper(F("new_at") - F("entered"), output_field=DurationField())
    to_repeat = ExpressionWrapper(F("repeat_at") - F("new_at"), output_field=DurationField())
    fields = [key_field] if key_field else []
    durations: dict = {}
    rows = cohort.filter(new_at__isnull=False).annotate(d_new=to_new, d_repeat=to_repeat).values_list(
        *fields, "d_new", "d_repeat")
    for row in rows.iterator(chunk_size=5000):
        key = row[0] if key_field else None
        d_new, d_repeat = row[-2], row[-1]
        bucket = durations.setdefault(key, ([], []))
        bucket[0].append(d_new)
        if d_repeat is not None:
            bucket[1].append(d_repeat)
    return {key: (statistics.median(a) if a else None, statistics.median(b) if b else None)
            for key, (a, b) in durations.items()}


def lifecycle_funnel(*, user: User, group_by: str = "none", date_from: dt.date, date_to: dt.date) -> Funnel:
    if not may_see_reports(user):
        raise PermissionDenied(_("Reports are for managers, the general manager and specialists."))
    allowed = [key for key, _label in group_choices()]
    if group_by not in allowed:
        raise ValidationFailed({"group_by": [_("Choose one of: %(options)s.") % {"options": ", ".join(allowed)}]})
    start, end = _period(date_from, date_to)
    cohort = _cohort(user, start, end)
    median_in_sql = connection.vendor == "postgresql"
    funnel = Funnel(group_by=group_by, date_from=date_from, date_to=date_to)

    key_field, label_fields = GROUP_FIELDS.get(group_by, (None, ()))
    total = cohort.aggregate(**_aggregates(median_in_sql))
    medians = {} if median_in_sql else _python_medians(cohort, None)
    funnel.total = _row(None, _("All"), total, medians.get(None))
    if key_field is None:
        return funnel
    grouped = (cohort.values(key_field, *label_fields).annotate(**_aggregates(median_in_sql))
               .order_by("-n_entered", key_field))
    medians = {} if median_in_sql else _python_medians(cohort, key_field)
    for values in grouped:
        key = values[key_field]
        label = next((values[f] for f in label_fields if values[f]), None) or _("(none)")
        funnel.rows.append(_row(key, str(label), values, medians.get(key)))
    return funnel


def _row(key, label: str, values: dict, medians: tuple | None) -> FunnelRow:
    med_new = values.get("med_new") if medians is None else medians[0]
    med_repeat = values.get("med_repeat") if medians is None else medians[1]
    return FunnelRow(
        key=key, label=label, entered=values["n_entered"] or 0, new=values["n_new"] or 0,
        repeat=values["n_repeat"] or 0, lost=values["n_lost"] or 0,
        avg_days_to_new=_days(values["avg_new"]), median_days_to_new=_days(med_new),
        avg_days_to_repeat=_days(values["avg_repeat"]), median_days_to_repeat=_days(med_repeat),
    )
