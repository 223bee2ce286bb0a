"""Plain indexes and foreign keys suspended for a bulk load (demo data, large imports), and built again.

A sort-based build of an index, and one join to validate a foreign key, cost less than maintaining
them row by row. What is dropped is recorded in SuspendedIndex first, so a killed load leaves it to
the next bulk load or `qianke init` (restore_suspended_indexes). Used by core.demo and dataio.services.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import DatabaseError, connection, transaction


def plain_indexes(cursor, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the tables' indexes that are neither unique nor a primary key nor
    part of a constraint, and not the full-text index (search.bulk_index_suspended's own)."""
    if connection.vendor == "postgresql":
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid "
            "JOIN pg_am a ON a.oid = c.relam "
            "WHERE t.relname = ANY(%s) AND t.relnamespace = current_schema()::regnamespace "
            "AND NOT i.indisunique AND NOT i.indisprimary AND a.amname = 'btree' "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY 1",
            [list(tables)],
        )
    else:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({', '.join(['%s'] * len(tables))}) AND sql NOT LIKE 'CREATE UNIQUE%%' ORDER BY 1",
            list(tables),
        )
    return [(name, sql) for name, sql in cursor.fetchall()]


def if_not_exists(definition: str) -> str:
    return definition.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)


# SuspendedIndex also keeps the foreign keys a PostgreSQL load drops (foreign_keys_suspended): their
# names start with this and their definitions are `ALTER TABLE … ADD CONSTRAINT … NOT VALID`.
FOREIGN_KEY_PREFIX = "fk:"


def restore_suspended_indexes(*, keys_failed: list[tuple[str, BaseException]] | None = None) -> list[str]:
    """Build the indexes and add back the foreign keys a killed bulk load left dropped (see
    SuspendedIndex); their names. A foreign key is added NOT VALID (checked for new rows at once) and
    then validated over the whole table in one join; it stays recorded until that succeeds. A
    validation that fails (a row breaks the key) is raised, after the other keys were validated; or,
    with `keys_failed`, appended there as (key, error) and not raised."""
    from qianke.core.models import SuspendedIndex

    pending = list(SuspendedIndex.objects.order_by("name"))
    keys = [i for i in pending if i.name.startswith(FOREIGN_KEY_PREFIX)]
    indexes = [i for i in pending if not i.name.startswith(FOREIGN_KEY_PREFIX)]
    if indexes:
        with connection.cursor() as cursor:
            for index in indexes:
                cursor.execute(if_not_exists(index.definition))
        SuspendedIndex.objects.filter(name__in=[i.name for i in indexes]).delete()
    if keys:
        failed = add_foreign_keys([(k.name, k.definition) for k in keys], raise_first=keys_failed is None)
        if keys_failed is not None:
            keys_failed += failed
    return [i.name for i in pending]


def foreign_keys(cursor, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    """(key, ADD CONSTRAINT statement) of the foreign keys of the tables (PostgreSQL); the key is
    FOREIGN_KEY_PREFIX + table.constraint."""
    cursor.execute(
        "SELECT t.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k "
        "JOIN pg_class t ON t.oid = k.conrelid WHERE k.contype = 'f' AND t.relname = ANY(%s) "
        "AND t.relnamespace = current_schema()::regnamespace ORDER BY 1, 2",
        [list(tables)],
    )
    qn = connection.ops.quote_name
    return [(f"{FOREIGN_KEY_PREFIX}{table}.{name}",
             f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} {definition.removesuffix(' NOT VALID')} NOT VALID")
            for table, name, definition in cursor.fetchall()]


def key_names(key: str) -> tuple[str, str]:
    table, name = key.removeprefix(FOREIGN_KEY_PREFIX).split(".", 1)
    return table, name


def add_missing_keys(keys: list[tuple[str, str]]) -> None:
    """Add the recorded foreign keys that are missing, NOT VALID: checked for new rows at once, for
    the rows already there by VALIDATE CONSTRAINT later."""
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for key, definition in keys:
            table, name = key_names(key)
            cursor.execute("SELECT 1 FROM pg_constraint WHERE conname = %s AND conrelid = %s::regclass",
                           [name, qn(table)])
            if cursor.fetchone() is None:
                cursor.execute(definition)


def add_foreign_keys(keys: list[tuple[str, str]], *, raise_first: bool = True) -> list[tuple[str, BaseException]]:
    """Add the recorded foreign keys back (those still missing), validate them, forget the validated
    ones; the first validation error is raised after the others were validated, or with
    `raise_first` False, (key, error) of those that failed are returned (they stay NOT VALID and
    recorded)."""
    from qianke.core.models import SuspendedIndex

    qn = connection.ops.quote_name
    add_missing_keys(keys)
    validated, errors = [], []
    for key, _definition in keys:
        table, name = key_names(key)
        try:
            # One anti-join over the table instead of a trigger query per row.
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"ALTER TABLE {qn(table)} VALIDATE CONSTRAINT {qn(name)}")
        except DatabaseError as exc:  # the others are validated still; this one stays NOT VALID
            errors.append((key, exc))
        else:
            validated.append(key)
    SuspendedIndex.objects.filter(name__in=validated).delete()
    if errors and raise_first:
        raise errors[0][1]
    return errors


def key_not_validated_message(key: str, exc: BaseException) -> str:
    """A foreign key whose validation failed, named with its table, with the database's detail (the
    row that breaks it), in the active language."""
    from django.utils.translation import gettext as _

    table, name = key_names(key)
    diag = getattr(exc, "diag", None) or getattr(exc.__cause__, "diag", None)
    detail = getattr(diag, "message_detail", None) or (str(exc).strip().splitlines() or [repr(exc)])[-1]
    return _("The foreign key %(key)s of the table %(table)s is not validated: a row breaks it (%(detail)s). "
             "It is still enforced for new rows; the next large import or “qianke init” validates it again.") % {
        "key": name, "table": table, "detail": detail}


def suspend_foreign_keys(tables: tuple[str, ...]) -> list[tuple[str, str]]:
    from qianke.core.models import SuspendedIndex

    with connection.cursor() as cursor:
        keys = foreign_keys(cursor, tables)
    # Recorded before the drop: a kill from here on leaves them for restore_suspended_indexes.
    SuspendedIndex.objects.bulk_create([SuspendedIndex(name=key, definition=sql) for key, sql in keys],
                                       ignore_conflicts=True)
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for key, _sql in keys:
            table, name = key_names(key)
            cursor.execute(f"ALTER TABLE {qn(table)} DROP CONSTRAINT IF EXISTS {qn(name)}")
    return keys


def suspend_plain_indexes(tables: tuple[str, ...], *, keep: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Drop the tables' plain indexes but those whose definitions end with one of `keep` (e.g.
    "(name_norm)": an index the load itself reads); (name, CREATE statement) of those dropped."""
    from qianke.core.models import SuspendedIndex

    with connection.cursor() as cursor:
        indexes = [(name, sql) for name, sql in plain_indexes(cursor, tables) if not (keep and sql.endswith(keep))]
    # Recorded before the drop: a kill from here on leaves the definitions for restore_suspended_indexes.
    SuspendedIndex.objects.bulk_create([SuspendedIndex(name=name, definition=sql) for name, sql in indexes],
                                       ignore_conflicts=True)
    with connection.cursor() as cursor:
        for name, _sql in indexes:
            cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(name)}")
    return indexes


def rebuild_plain_indexes(indexes: list[tuple[str, str]]) -> None:
    from qianke.core.models import SuspendedIndex

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET maintenance_work_mem = '256MB'")
        for _name, sql in indexes:
            cursor.execute(if_not_exists(sql))
        if connection.vendor == "postgresql":
            cursor.execute("RESET maintenance_work_mem")
    SuspendedIndex.objects.filter(name__in=[name for name, _sql in indexes]).delete()


@contextlib.contextmanager
def plain_indexes_suspended(tables: tuple[str, ...]) -> Iterator[None]:
    """Load many rows without maintaining the tables' plain (non-unique) B-tree indexes row by row.

    They are dropped and created again afterwards from their own definitions, also when the load
    fails (and, when the process is killed, by the next bulk load or `qianke init`: SuspendedIndex);
    a sort-based build of an index costs less than inserting every row into it (SQLite, 30,000
    demo customers: 97 µs of CPU a customer for the inserts and 19 µs for the 23 builds, against
    156 µs with the indexes in place). Unique indexes and primary keys stay, so integrity holds
    throughout. Meant for loads into a table no larger than the load: other sessions' queries are
    slow meanwhile, and building an index over many existing rows would cost more than it saves.
    Outside a transaction only (the builds run in their own statements). demo_generate uses it on
    SQLite only (PostgreSQL: _PgTail, which builds them in the GIN build sessions).
    """
    restore_suspended_indexes()
    indexes = suspend_plain_indexes(tables)
    try:
        yield
    finally:
        rebuild_plain_indexes(indexes)
