"""Set-based writes for bulk work (demo data, imports): rows as plain values, no model instances.

At hundreds of thousands of rows Django's bulk_create (a model instance and every field's save-time
preparation per row) and bulk_update (one CASE expression per field over the whole batch, which the
database then evaluates per row) cost more than the data they write: the demo's lifecycle histories
took longer than the customers they describe.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.utils import timezone

# Field types whose Python values the database drivers do not take as they are.
_PREPARED = (models.DateTimeField, models.DateField, models.TimeField, models.DecimalField, models.JSONField,
             models.UUIDField, models.DurationField)


def execute_rows(cursor, insert_sql: str, rows: Iterable[Sequence[Any]]) -> None:
    """Run an `INSERT INTO t (…) VALUES (%s, …)` for every row: COPY on PostgreSQL (executemany there
    parses and plans each row as a statement of its own), executemany on SQLite."""
    if connection.vendor == "postgresql":
        copy_sql = insert_sql.split(" VALUES ", 1)[0].replace("INSERT INTO", "COPY", 1) + " FROM STDIN"
        with cursor.cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(row)
    else:
        cursor.executemany(insert_sql, list(rows))


def reserve_ids(cursor, table: str, count: int) -> int:
    """First of `count` consecutive new ids of `table` (an `id` key) for rows inserted with their ids.
    SQLite: after MAX(id), under the write lock the transaction holds (BEGIN IMMEDIATE); PostgreSQL: a
    block taken from the table's sequence under a lock, so concurrent inserts never collide."""
    qn = connection.ops.quote_name
    if connection.vendor == "postgresql":
        cursor.execute(f"LOCK TABLE {qn(table)} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
        cursor.execute(
            "SELECT GREATEST(COALESCE(MAX(id), 0), (SELECT CASE WHEN is_called THEN last_value "
            f"ELSE last_value - 1 END FROM {sequence})) FROM {qn(table)}")
        first = cursor.fetchone()[0] + 1
        cursor.execute("SELECT setval(%s, %s)", [sequence, first + max(count, 1) - 1])
        return first
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {qn(table)}")
    return cursor.fetchone()[0] + 1


def _prepare(field: models.Field):
    if isinstance(field, models.DateTimeField):
        return _datetime_preparation(field)
    if isinstance(field, _PREPARED):
        return lambda value: None if value is None else field.get_db_prep_save(value, connection)
    return None


def _datetime_preparation(field: models.DateTimeField):
    """An aware datetime as the backend stores it, without the field's per-value checks (~10 µs a value,
    more than the rest of a row): on SQLite naive UTC text (as Django's adapt_datetimefield_value with
    USE_TZ), on PostgreSQL the value itself. Anything else goes the field's way."""
    slow = field.get_db_prep_save
    if connection.vendor == "sqlite" and settings.USE_TZ and connection.timezone_name == "UTC":
        def prepare(value):
            if value is None:
                return None
            if value.__class__ is dt.datetime and value.tzinfo is not None:
                return str(value.astimezone(dt.UTC).replace(tzinfo=None))
            return slow(value, connection)
        return prepare
    if connection.vendor == "postgresql" and settings.USE_TZ:
        return lambda value: value if value is None or (value.__class__ is dt.datetime and value.tzinfo is not None) \
            else slow(value, connection)
    return lambda value: None if value is None else slow(value, connection)


# Callable defaults that give the same value for every row of a batch: a timestamp (like the auto_now
# fields, one instant for the batch) and empty containers (serialised per row, never shared).
_BATCH_DEFAULTS = (timezone.now, dict, list)


def insert_rows(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> int:
    """Insert rows given as {attname: value} (foreign keys as `customer_id`); every row has the keys of
    the first. A key that is not a column of the model is refused (ValueError naming it) before
    anything is written. Columns left out take their default or NULL: auto_now fields and a
    `timezone.now` default one instant for the batch, constant and empty-container (dict, list)
    defaults once for the batch; any other callable default (e.g. a uuid or a code) is called for
    every row, as the ORM would."""
    if not rows:
        return 0
    given = rows[0].keys()
    fields = model._meta.concrete_fields
    unknown = sorted(set(given) - {f.attname for f in fields})
    if unknown:
        raise ValueError(f"{model.__name__}: no column for {', '.join(unknown)} "
                         f"(columns: {', '.join(f.attname for f in fields)})")
    now = timezone.now()
    columns: list[str] = []
    plan: list[tuple[str | None, Any, Any]] = []  # (key in the row or None, constant, preparation)
    per_row: list[tuple[int, models.Field]] = []  # (position, field) of the defaults called per row
    for field in fields:
        if field.attname in given:
            plan.append((field.attname, None, _prepare(field)))
        elif field.primary_key:
            continue
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            plan.append((None, field.get_db_prep_save(now, connection), None))
        elif field.has_default() and callable(field.default) and field.default not in _BATCH_DEFAULTS:
            per_row.append((len(plan), field))
            plan.append((None, None, None))
        elif field.has_default() or (field.empty_strings_allowed and not field.null):  # blank text: ""
            default = now if field.default is timezone.now else field.get_default()
            plan.append((None, field.get_db_prep_save(default, connection), None))
        elif field.null:
            continue
        else:
            raise ValueError(f"{model.__name__}.{field.attname}: no value and no default")
        columns.append(connection.ops.quote_name(field.column))
    values = [[(row[key] if prepare is None else prepare(row[key])) if key is not None else constant
               for key, constant, prepare in plan] for row in rows]
    for position, field in per_row:
        for row_values in values:
            row_values[position] = field.get_db_prep_save(field.get_default(), connection)
    sql = (f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({', '.join(columns)}) "
           f"VALUES ({', '.join(['%s'] * len(columns))})")
    with connection.cursor() as cursor:
        execute_rows(cursor, sql, values)
    return len(values)


def update_rows(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """Set `fields` of the rows given as (primary key, value of fields[0], …), in one statement on
    PostgreSQL (arrays joined by key) and one prepared statement run per row on SQLite."""
    if not rows:
        return 0
    qn = connection.ops.quote_name
    meta = model._meta
    targets = [meta.get_field(name) for name in fields]
    preparations = [_prepare(f) for f in targets]
    columns = [[(v if prepare is None else prepare(v)) for v in column]
               for prepare, column in zip([None, *preparations], zip(*rows, strict=True), strict=True)]
    table, pk = qn(meta.db_table), qn(meta.pk.column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            types = [meta.pk.db_type(connection), *(f.db_type(connection) for f in targets)]
            names = [f"c{i}" for i in range(len(types))]
            unnest = ", ".join(f"unnest(%s::{t}[]) AS {n}" for t, n in zip(types, names, strict=True))
            assign = ", ".join(f"{qn(f.column)} = v.{n}" for f, n in zip(targets, names[1:], strict=True))
            cursor.execute(f"UPDATE {table} SET {assign} FROM (SELECT {unnest}) AS v WHERE {table}.{pk} = v.c0",
                           columns)
        else:
            assign = ", ".join(f"{qn(f.column)} = %s" for f in targets)
            cursor.executemany(f"UPDATE {table} SET {assign} WHERE {pk} = %s", list(zip(*columns[1:], columns[0],
                                                                                          strict=True)))
    return len(rows)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a bulk run (a scan, an import), on again afterwards if it was.

    Bulk runs hold millions of small objects and make few cycles; left on, the collector walks all of
    them again and again (an import: a third of its CPU time; in forked workers it also copies every
    page it touches). Callers that make cycles collect the young generations now and then
    (`gc.collect(1)`).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
