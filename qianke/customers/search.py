"""Full-text matching of customers: SQLite FTS5 or PostgreSQL tsvector over CustomerSearch.

Both backends index the same gram tokens (core.normalize.search_document) and answer the same
clauses (core.normalize.search_clauses): a phrase of consecutive grams, or a prefix, in one column.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator

from django.db import connection
from django.db.models.expressions import RawSQL

from qianke.core.normalize import CUSTOMER_CODE, SearchClause, search_clauses, to_halfwidth

FTS_TABLE = "customers_customersearch_fts"

# Prefix indexes for 1 and 2 characters: a query shorter than its column's gram size (names 2,
# pinyin and other 3) becomes a prefix query of 1 or 2 characters; digit queries have at least 4
# digits, so no query is ever a 3-character prefix. A '3' prefix index doubled the cost of indexing
# a customer (bench/search.py) and was never read.
SQLITE_SETUP = [
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(
        names, pinyin, digits, other,
        content='customers_customersearch', content_rowid='customer_id',
        tokenize='unicode61', prefix='1 2', detail=full)""",
    f"""CREATE TRIGGER IF NOT EXISTS customers_customersearch_ai AFTER INSERT ON customers_customersearch BEGIN
        INSERT INTO {FTS_TABLE}(rowid, names, pinyin, digits, other)
        VALUES (new.customer_id, new.names, new.pinyin, new.digits, new.other);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS customers_customersearch_ad AFTER DELETE ON customers_customersearch BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, names, pinyin, digits, other)
        VALUES ('delete', old.customer_id, old.names, old.pinyin, old.digits, old.other);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS customers_customersearch_au AFTER UPDATE ON customers_customersearch BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, names, pinyin, digits, other)
        VALUES ('delete', old.customer_id, old.names, old.pinyin, old.digits, old.other);
        INSERT INTO {FTS_TABLE}(rowid, names, pinyin, digits, other)
        VALUES (new.customer_id, new.names, new.pinyin, new.digits, new.other);
    END""",
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
]
SQLITE_TEARDOWN = [
    "DROP TRIGGER IF EXISTS customers_customersearch_ai",
    "DROP TRIGGER IF EXISTS customers_customersearch_ad",
    "DROP TRIGGER IF EXISTS customers_customersearch_au",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]

# PostgreSQL: one tsvector per token column, stripped of positions and weights, each GIN indexed.
# GIN answers a plain gram or prefix over such a tsvector without reading the rows (weights and
# phrase operators force a recheck of every candidate's ~2 KB tsvector). The phrase itself is
# checked on the token text of the candidate rows (_pg_clause).
PG_COLUMNS = ("names", "pinyin", "digits", "other")
PG_INDEXES = [
    f"CREATE INDEX IF NOT EXISTS customers_customersearch_tsv_{c}_gin "
    f"ON customers_customersearch USING gin (tsv_{c})"
    for c in PG_COLUMNS
]
PG_DROP_INDEXES = [f"DROP INDEX IF EXISTS customers_customersearch_tsv_{c}_gin" for c in PG_COLUMNS]
# The token columns are already lexemes separated by single spaces, so they become a tsvector as
# they are: array_to_tsvector gives the same value as strip(to_tsvector('simple', …)) for tokens of
# [0-9a-z] and CJK (test_search checks it) at a third of the cost, which counted in bulk loads.
PG_TSV_FUNCTION = """CREATE OR REPLACE FUNCTION customers_customersearch_tsv() RETURNS trigger AS $$
    BEGIN
        NEW.tsv_names := array_to_tsvector(array_remove(string_to_array(NEW.names, ' '), ''));
        NEW.tsv_pinyin := array_to_tsvector(array_remove(string_to_array(NEW.pinyin, ' '), ''));
        NEW.tsv_digits := array_to_tsvector(array_remove(string_to_array(NEW.digits, ' '), ''));
        NEW.tsv_other := array_to_tsvector(array_remove(string_to_array(NEW.other, ' '), ''));
        RETURN NEW;
    END $$ LANGUAGE plpgsql"""
PG_SETUP = [
    "ALTER TABLE customers_customersearch "
    + ", ".join(f"ADD COLUMN IF NOT EXISTS tsv_{c} tsvector" for c in PG_COLUMNS),
    PG_TSV_FUNCTION,
    "DROP TRIGGER IF EXISTS customers_customersearch_tsv_trg ON customers_customersearch",
    """CREATE TRIGGER customers_customersearch_tsv_trg BEFORE INSERT OR UPDATE ON customers_customersearch
       FOR EACH ROW EXECUTE FUNCTION customers_customersearch_tsv()""",
    "UPDATE customers_customersearch SET names = names",
    *PG_INDEXES,
]
# From the single weighted tsvector of 0002 (before 0006) to the per-column layout.
PG_UPGRADE = [
    "DROP INDEX IF EXISTS customers_customersearch_tsv_gin",
    "ALTER TABLE customers_customersearch DROP COLUMN IF EXISTS tsv",
    *PG_DROP_INDEXES,
    *PG_SETUP,
]
PG_TEARDOWN = [
    "DROP TRIGGER IF EXISTS customers_customersearch_tsv_trg ON customers_customersearch",
    "DROP FUNCTION IF EXISTS customers_customersearch_tsv()",
    *PG_DROP_INDEXES,
    "ALTER TABLE customers_customersearch " + ", ".join(f"DROP COLUMN IF EXISTS tsv_{c}" for c in PG_COLUMNS),
]


def _merged(clauses: list[SearchClause]) -> list[tuple[tuple[str, ...], tuple[str, ...], bool]]:
    """(columns, tokens, prefix): clauses with the same phrase become one clause over several columns.

    FTS5 and GIN read a token's whole posting list whatever the column filter, so `pinyin : "zho hon"`
    OR `other : "zho hon"` read the same (long) lists twice; `{pinyin other} : "zho hon"` reads them once.
    """
    merged: dict[tuple[tuple[str, ...], bool], list[str]] = {}
    for clause in clauses:
        merged.setdefault((clause.tokens, clause.prefix), []).append(clause.column)
    return [(tuple(columns), tokens, prefix) for (tokens, prefix), columns in merged.items()]


def _fts5_clause(columns: tuple[str, ...], tokens: tuple[str, ...], prefix: bool) -> str:
    # Tokens hold only [0-9a-z] and CJK characters, so quoting them is safe.
    target = columns[0] if len(columns) == 1 else "{" + " ".join(columns) + "}"
    if prefix:
        return f'{target} : "{tokens[0]}"*'
    return f'{target} : "{" ".join(tokens)}"'


# Frequencies of the most common grams per tsvector column (pg_stats), read at most every 10 minutes.
_pg_stats: dict[str, dict[str, float]] = {}
_pg_stats_read = -1e9


def _pg_frequencies() -> dict[str, dict[str, float]]:
    global _pg_stats, _pg_stats_read
    if time.monotonic() - _pg_stats_read > 600:
        stats: dict[str, dict[str, float]] = {}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT s.attname, u.e, u.f FROM pg_stats s, "
                "unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS u(e, f) "
                "WHERE s.tablename = 'customers_customersearch' AND s.attname LIKE 'tsv%%' AND u.e IS NOT NULL"
            )
            for column, element, frequency in cursor.fetchall():
                stats.setdefault(column.removeprefix("tsv_"), {})[element] = frequency
        _pg_stats, _pg_stats_read = stats, time.monotonic()
    return _pg_stats


def _pg_clause(columns: tuple[str, ...], tokens: tuple[str, ...], prefix: bool) -> tuple[str, list[str]]:
    """The rarest gram of the phrase (or the prefix) in the column's GIN index, which answers a
    stripped tsvector without reading the rows, then the phrase itself (the grams next to each other)
    checked on the token text of the rows found.

    One gram, not an AND of all: the planner multiplies the grams' frequencies as if independent
    (有限 & 限公 & 公司: 0.1 % instead of 45 %) and then reads 100,000 rows through a bitmap instead
    of scanning the primary key backwards until the page is full. The rarest gram's frequency is an
    honest upper bound of the phrase's. `strpos(…) <> 0`, not LIKE '%…%', which the planner also
    guesses to match almost nothing.
    """
    if prefix:
        query, phrase = f"'{tokens[0]}':*", None
    else:
        frequencies = _pg_frequencies()
        rarest = min(tokens, key=lambda t: sum(frequencies.get(c, {}).get(t, 0.0) for c in columns))
        query = f"'{rarest}'"
        phrase = f" {' '.join(tokens)} " if len(tokens) > 1 else None
    parts, params = [], []
    for column in columns:
        if phrase is None:
            parts.append(f"tsv_{column} @@ to_tsquery('simple', %s)")
            params.append(query)
        else:
            parts.append(f"(tsv_{column} @@ to_tsquery('simple', %s) AND strpos(' ' || {column} || ' ', %s) <> 0)")
            params += [query, phrase]
    return " OR ".join(parts), params


# A full customer code appears in the index of its own customer only (codes are unique and no code
# contains another), so it is looked up in the unique index on code rather than as a phrase of
# trigrams such as "kh2" and "202" that every customer shares. Joining the search table keeps
# archived customers out, as the full-text index does.
CODE_SQL = (
    "SELECT s.customer_id FROM customers_customersearch s "
    "JOIN customers_customer c ON c.id = s.customer_id WHERE c.code = %s"
)


def _full_code(query: str) -> str | None:
    text = to_halfwidth(query or "").strip().upper()
    return text if CUSTOMER_CODE.match(text) else None


def match_sql(query: str) -> tuple[str, list[str]] | None:
    """SQL selecting the ids of matching customers, or None when the query has nothing to search.

    The SQL ends with its WHERE condition, so callers may append `AND <id column> < %s`.
    """
    if code := _full_code(query):
        return CODE_SQL, [code]
    clauses = _merged(search_clauses(query))
    if not clauses:
        return None
    if connection.vendor == "postgresql":
        conditions, params = [], []
        for clause in clauses:
            condition, clause_params = _pg_clause(*clause)
            conditions.append(f"({condition})")
            params += clause_params
        return f"SELECT customer_id FROM customers_customersearch WHERE ({' OR '.join(conditions)})", params
    expression = " OR ".join(f"({_fts5_clause(*c)})" for c in clauses)
    return f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [expression]


def match_ids(query: str, *, before: int | None = None, limit: int) -> list[int] | None:
    """Up to `limit` matching ids below `before`, newest first; None when the query has nothing to search.

    Called repeatedly with `before` = the last id returned, this walks the match list backwards in
    blocks: FTS5 seeks in its doclists and PostgreSQL either scans the primary key backwards or
    reads the GIN bitmap, so each block costs about its own size, not the whole match list.
    """
    if code := _full_code(query):
        if before is not None:
            return []
        with connection.cursor() as cursor:
            cursor.execute(CODE_SQL, [code])
            return [row[0] for row in cursor.fetchall()]
    sql = match_sql(query)
    if sql is None:
        return None
    text, params = sql
    column = "customer_id" if connection.vendor == "postgresql" else "rowid"
    if before is not None:
        text, params = f"{text} AND {column} < %s", [*params, before]
    with connection.cursor() as cursor:
        cursor.execute(f"{text} ORDER BY {column} DESC LIMIT %s", [*params, limit])
        return [row[0] for row in cursor.fetchall()]


def ids_sql(ids: list[int]) -> RawSQL:
    """A subquery of these ids as one parameter: the ORM spends ~10 µs on each parameter of a long
    `IN (%s, %s, …)` list, more than the database needs to look the ids up."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [ids])
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(ids)])


@contextlib.contextmanager
def bulk_index_suspended() -> Iterator[None]:
    """Load many search rows without maintaining the full-text index row by row.

    SQLite: the three triggers that feed FTS5 are dropped, and afterwards re-created and the index
    rebuilt in one pass. PostgreSQL: the trigger still computes the tsvector columns, but the GIN
    indexes are dropped and built again afterwards. The index is restored even when the body fails.
    Meant for bulk loads (`qianke demo`): writes of other sessions during the load on SQLite would
    reach the index only through the rebuild at the end, which covers them too.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for sql in PG_DROP_INDEXES:
                cursor.execute(sql)
        else:
            for sql in SQLITE_TEARDOWN[:3]:
                cursor.execute(sql)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                if connection.in_atomic_block:
                    # CREATE INDEX refuses to run while deferred foreign-key checks are pending.
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET maintenance_work_mem = '256MB'")
                for sql in PG_INDEXES:
                    cursor.execute(sql)
                cursor.execute("RESET maintenance_work_mem")
            else:
                for sql in SQLITE_SETUP[1:]:  # triggers, then 'rebuild'
                    cursor.execute(sql)


def top_match_ids(query: str, limit: int) -> list[int] | None:
    """The newest `limit` matching ids straight from the index (for users who see every customer)."""
    return match_ids(query, limit=limit)
