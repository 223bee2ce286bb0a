"""Full-text matching of customers: SQLite FTS5 or PostgreSQL GIN (tsvector expressions) over CustomerSearch.

Both backends index the same gram tokens (core.normalize.search_document) and answer the same
clauses (core.normalize.search_clauses): a phrase of consecutive grams, or a prefix, in one column.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any, NamedTuple

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

# PostgreSQL: a GIN index per token column over the expression below: the tokens as a tsvector of
# bare lexemes (no positions, no weights), which GIN answers without reading the rows. No tsvector
# is stored: the rows hold only the token text (~600 bytes instead of ~1,600 with four stored
# tsvectors), so a scan of the newest rows and the heap visits of a bitmap read ~2.5x fewer pages.
# The phrase itself (grams next to each other) and prefixes are checked on the token text
# (_pg_text_condition). array_to_tsvector gives the same lexemes as strip(to_tsvector('simple', …))
# for tokens of [0-9a-z] and CJK (test_search checks it) at a third of the cost.
PG_COLUMNS = ("names", "pinyin", "digits", "other")


def pg_tsvector(column: str) -> str:
    """The indexed expression; queries must spell it exactly so for the planner to use the index."""
    return f"array_to_tsvector(array_remove(string_to_array({column}, ' '), ''))"


PG_INDEX_NAMES = [f"customers_customersearch_{c}_gin" for c in PG_COLUMNS]
PG_INDEXES = [
    f"CREATE INDEX IF NOT EXISTS customers_customersearch_{c}_gin "
    f"ON customers_customersearch USING gin ({pg_tsvector(c)})"
    for c in PG_COLUMNS
]
PG_DROP_INDEXES = [f"DROP INDEX IF EXISTS {name}" for name in PG_INDEX_NAMES]
# Stored tsvector columns, a trigger and their indexes: the layouts of migrations 0002 and 0006-0007.
PG_DROP_LEGACY = [
    "DROP TRIGGER IF EXISTS customers_customersearch_tsv_trg ON customers_customersearch",
    "DROP FUNCTION IF EXISTS customers_customersearch_tsv()",
    "DROP INDEX IF EXISTS customers_customersearch_tsv_gin",
    *[f"DROP INDEX IF EXISTS customers_customersearch_tsv_{c}_gin" for c in PG_COLUMNS],
    "ALTER TABLE customers_customersearch DROP COLUMN IF EXISTS tsv, "
    + ", ".join(f"DROP COLUMN IF EXISTS tsv_{c}" for c in PG_COLUMNS),
]
# Migration 0007 replaced the legacy trigger function; kept so that it still runs on old databases.
PG_TSV_FUNCTION = """CREATE OR REPLACE FUNCTION customers_customersearch_tsv() RETURNS trigger AS $$
    BEGIN
        NEW.tsv_names := array_to_tsvector(array_remove(string_to_array(NEW.names, ' '), ''));
        NEW.tsv_pinyin := array_to_tsvector(array_remove(string_to_array(NEW.pinyin, ' '), ''));
        NEW.tsv_digits := array_to_tsvector(array_remove(string_to_array(NEW.digits, ' '), ''));
        NEW.tsv_other := array_to_tsvector(array_remove(string_to_array(NEW.other, ' '), ''));
        RETURN NEW;
    END $$ LANGUAGE plpgsql"""
PG_SETUP = [*PG_INDEXES]
# Migration 0006 (from the single weighted tsvector of 0002) now lands directly on this layout.
PG_UPGRADE = [*PG_DROP_LEGACY, *PG_SETUP]
PG_TEARDOWN = [*PG_DROP_INDEXES, *PG_DROP_LEGACY]


class Merged(NamedTuple):
    """A clause over one or more columns (see SearchClause)."""

    columns: tuple[str, ...]
    tokens: tuple[str, ...]
    prefix: bool
    completions: tuple[str, ...] = ()


def _merged(clauses: list[SearchClause]) -> list[Merged]:
    """Clauses with the same phrase become one clause over several columns.

    FTS5 and GIN read a token's whole posting list whatever the column filter, so `pinyin : "zho hon"`
    OR `other : "zho hon"` read the same (long) lists twice; `{pinyin other} : "zho hon"` reads them once.
    """
    merged: dict[tuple, list[str]] = {}
    for clause in clauses:
        merged.setdefault((clause.tokens, clause.prefix, clause.completions), []).append(clause.column)
    return [Merged(tuple(columns), *key) for key, columns in merged.items()]


def _fts5_clause(columns: tuple[str, ...], tokens: tuple[str, ...], prefix: bool,
                 completions: tuple[str, ...] = ()) -> str:
    # Tokens hold only [0-9a-z] and CJK characters, so quoting them is safe.
    target = columns[0] if len(columns) == 1 else "{" + " ".join(columns) + "}"
    if completions:
        # The phrase with each whole last token: exact terms, which FTS5 reads newest first and stops;
        # a prefix query (gongsi*) first merges the lists of every term it starts (127 ms at 1M).
        phrases = [" ".join((*tokens[:-1], t)) for t in completions]
        return f"{target} : (" + " OR ".join(f'"{phrase}"' for phrase in phrases) + ")"
    # FTS5: a * after the phrase makes its last token a prefix.
    return f'{target} : "{" ".join(tokens)}"' + ("*" if prefix else "")


# Frequencies of the most common grams per token column (pg_stats of the expression indexes), read
# at most every 10 minutes.
_pg_stats: dict[str, dict[str, float]] = {}
_pg_stats_read = -1e9
_pg_rows = 0.0  # the table's row estimate (pg_class.reltuples), read with the frequencies


def _pg_frequencies() -> dict[str, dict[str, float]]:
    global _pg_stats, _pg_stats_read, _pg_rows
    if time.monotonic() - _pg_stats_read > 600:
        stats: dict[str, dict[str, float]] = {}
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'customers_customersearch'")
            row = cursor.fetchone()
            _pg_rows = max(float(row[0]), 0.0) if row else 0.0
            cursor.execute(
                "SELECT s.tablename, u.e, u.f FROM pg_stats s, "
                "unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS u(e, f) "
                "WHERE s.tablename = ANY(%s) AND u.e IS NOT NULL",
                [PG_INDEX_NAMES],
            )
            for index, element, frequency in cursor.fetchall():
                column = index.removeprefix("customers_customersearch_").removesuffix("_gin")
                stats.setdefault(column, {})[element] = frequency
        _pg_stats, _pg_stats_read = stats, time.monotonic()
    return _pg_stats


# At most this many grams of a phrase go to GIN: the rarest ones, which narrow the candidates most;
# every further common gram only adds the reading of a long posting list.
PG_INDEX_GRAMS = 3


def _pg_index_condition(columns: tuple[str, ...], tokens: tuple[str, ...], prefix: bool,
                        completions: tuple[str, ...] = ()) -> tuple[str, list]:
    """GIN's part: all candidates, some of which may have the grams apart rather than as a phrase."""
    whole = tokens[:-1] if prefix else tokens
    frequencies = _pg_frequencies()
    grams = sorted(set(whole), key=lambda t: sum(frequencies.get(c, {}).get(t, 0.0) for c in columns))
    # Tokens hold only [0-9a-z] and CJK characters, so quoting them is safe.
    terms = [f"'{t}'" for t in grams[: PG_INDEX_GRAMS - prefix]]
    if completions:
        # Exact tokens: GIN reads their lists; a prefix (wuhan:*) merges every token it starts.
        terms.append("(" + " | ".join(f"'{t}'" for t in completions) + ")")
    elif prefix:
        terms.append(f"'{tokens[-1]}':*")
    query = " & ".join(terms)
    parts = [f"{pg_tsvector(c)} @@ %s::tsquery" for c in columns]
    return "(" + " OR ".join(parts) + ")", [query] * len(columns)


def _pg_text_condition(columns: tuple[str, ...], tokens: tuple[str, ...], prefix: bool,
                       completions: tuple[str, ...] = ()) -> tuple[str, list]:
    """The exact test on the token text: the phrase's grams next to each other, or a token starting
    with the prefix. `strpos(…) <> 0`, not LIKE '%…%', which the planner guesses to match almost nothing."""
    if prefix:
        needle, template = f" {' '.join(tokens)}", "strpos(' ' || {c}, %s) <> 0"
    else:
        needle, template = f" {' '.join(tokens)} ", "strpos(' ' || {c} || ' ', %s) <> 0"
    return "(" + " OR ".join(template.format(c=c) for c in columns) + ")", [needle] * len(columns)


def _pg_conditions(clauses, *, index: bool) -> tuple[str, list]:
    """(I1 OR I2 …) AND (T1 OR T2 …) rather than (I1 AND T1) OR (I2 AND T2): the same rows, because
    each exact text test T implies its clause's index condition I. Written this way the index
    conditions stay in the bitmap and only the text tests are evaluated on the rows; in the other form
    the tsvector expression was evaluated again on every candidate (~50 µs each)."""
    texts, text_params, indexed, index_params = [], [], [], []
    for clause in clauses:
        text, params = _pg_text_condition(*clause)
        texts.append(text)
        text_params += params
        if index:
            condition, params = _pg_index_condition(*clause)
            indexed.append(condition)
            index_params += params
    text = "(" + " OR ".join(texts) + ")"
    if not index:
        return text, text_params
    return f"({' OR '.join(indexed)}) AND {text}", index_params + text_params


# A range of ids read for GIN candidates is this much wider than the estimated density asks for.
PG_RANGE_MARGIN = 1.5
# match_sql reads GIN candidates up front when at most this share of all rows can match.
PG_MATERIALIZE_SHARE = 0.1
# Newest rows read by the first, sequential step of a PostgreSQL search (see _pg_match_ids).
PG_PROBE_ROWS = 4_000
# A heap visit through the bitmap costs about this many rows of the sequential scan (a page of its own
# for nearly every match, against ~13 rows per page read in order).
PG_BITMAP_ROW_COST = 5


# Building a GIN bitmap costs about this many rows of the sequential scan per posting entry: an exact
# token's list is read in order; a prefix merges the lists of every token it starts (wuhan:*: 36 ms
# for 32,476 entries, where the scan tests ~1,200 rows a millisecond).
PG_GIN_ENTRY_COST = 0.2
PG_GIN_PREFIX_ENTRY_COST = 1.0


def _pg_gin_cost(clauses, entries: float) -> float:
    """Building a GIN bitmap of about `entries` posting entries, in rows of the sequential scan."""
    prefix = any(c.prefix and not c.completions for c in clauses)
    return entries * (PG_GIN_PREFIX_ENTRY_COST if prefix else PG_GIN_ENTRY_COST)


# From this length a prefix is estimated by the listed tokens it starts (syllable pairs: zhouxi);
# shorter ones (x, bj) start too many unlisted tokens to tell.
PG_PREFIX_ESTIMATE_MIN = 4


def _pg_candidates_bound(clauses) -> float | None:
    """At most how many rows GIN hands out for these clauses (the rarest gram of each clause, from
    pg_stats; a gram missing from the statistics is rarer than the rarest one listed), or None when
    unknown (short prefixes, no statistics yet)."""
    frequencies = _pg_frequencies()
    total = 0.0
    for columns, tokens, prefix, completions in clauses:
        if prefix and not completions and len(tokens[-1]) < PG_PREFIX_ESTIMATE_MIN:
            return None
        for column in columns:
            listed = frequencies.get(column)
            if not listed:
                return None
            floor = min(listed.values())
            estimates = [listed.get(t, floor) for t in (tokens[:-1] if prefix else tokens)]
            if completions:
                estimates.append(sum(listed.get(t, floor) for t in completions))
            elif prefix:
                # A long prefix: the listed tokens it starts, or a rare one.
                started = sum(f for t, f in listed.items() if t.startswith(tokens[-1]))
                estimates.append(started or floor)
            total += min(estimates)
    return total * _pg_rows


def _pg_candidates(cursor, clauses, *, below: int | None, limit: int, density: float | None = None) -> list[int]:
    """Up to `limit` matching ids below `below`, newest first, from GIN candidates tested on their text.

    With a density (matches per row, from the probe) the ids are read in ranges of ids going down,
    each about big enough for the matches still wanted: the planner ANDs the GIN bitmap with a
    primary-key range, so only the candidates in the range are visited, not every candidate in the
    table (济南, 16,277 candidates: the newest 1,000 matches in 12 ms instead of ~100). A range that
    holds too few matches is followed by one four times as wide, down to the rest of the table.
    """
    condition, params = _pg_conditions(clauses, index=True)
    found: list[int] = []
    span = limit / density * PG_RANGE_MARGIN if density and below is not None else None
    high = below
    while True:
        wanted = limit - len(found)
        if span is None or high - span <= 1:
            bounds, bound_params = ("AND customer_id < %s", [high]) if high is not None else ("", [])
        else:
            low = int(high - span)
            bounds, bound_params = "AND customer_id >= %s AND customer_id < %s", [low, high]
        # MATERIALIZED: the candidates are found first (a bitmap), then sorted; without it the planner
        # may walk the primary key and evaluate the tsvector expression on every row.
        cursor.execute(
            f"WITH candidates AS MATERIALIZED (SELECT customer_id FROM customers_customersearch "
            f"WHERE {condition} {bounds}) SELECT customer_id FROM candidates ORDER BY customer_id DESC LIMIT %s",
            [*params, *bound_params, wanted],
        )
        found += [row[0] for row in cursor.fetchall()]
        if len(found) >= limit or not bound_params or len(bound_params) == 1:
            return found
        high, span = low, span * 4


def _pg_match_ids(clauses, *, before: int | None, limit: int, probe: dict | None = None) -> list[int]:
    """Up to `limit` matching ids below `before`, newest first, in at most three statements.

    0. When pg_stats say that GIN has few candidates (a rare gram in every clause), they are read at
       once: one heap visit each, and steps 1-2 are skipped.
    1. The newest PG_PROBE_ROWS rows are scanned in primary-key order and tested on their text.
       A common fragment (有限公司: 45 % of customers) fills the limit here; otherwise this measures
       how dense the matches are.
    2. The rest comes from whichever reads fewer pages: the same scan further down (dense matches:
       about (limit - found) / density rows), or GIN candidates below the probe tested on their text
       (sparse matches: one heap visit per candidate, wherever it lies).

    Leaving the choice to the planner went wrong both ways: it multiplies gram frequencies as if
    independent, so common fragments came out rare (a 450,000-row bitmap), and an index scan that
    evaluates the tsvector expression on every row costs ~10 µs a row.
    """
    text, text_params = _pg_conditions(clauses, index=False)
    below, below_params = ("WHERE customer_id < %s", [before]) if before is not None else ("", [])
    bound = _pg_candidates_bound(clauses)
    with connection.cursor() as cursor:
        if bound is not None and PG_BITMAP_ROW_COST * bound < PG_PROBE_ROWS:
            # Rare grams (most initials, phones, brand names): GIN at once, no probe.
            return _pg_candidates(cursor, clauses, below=before, limit=limit)
        cursor.execute(
            "SELECT (array_agg(customer_id ORDER BY customer_id DESC) FILTER (WHERE hit))[1:%s], "
            "min(customer_id), count(*), count(*) FILTER (WHERE hit) "
            f"FROM (SELECT customer_id, {text} AS hit "
            f"FROM customers_customersearch {below} ORDER BY customer_id DESC LIMIT %s) AS newest",
            [limit, *text_params, *below_params, PG_PROBE_ROWS],
        )
        found, lowest, scanned, hits = cursor.fetchone()
        found = list(found or [])
        if probe is not None:
            probe.update(found=hits, scanned=scanned)  # every match among the rows read, not only `limit`
        if len(found) >= limit or scanned < PG_PROBE_ROWS:
            return found
        wanted = limit - len(found)
        density = max(hits, 0.5) / scanned
        # The scan reads about wanted / density rows. GIN candidates in ranges visit about `wanted`
        # rows, each a heap visit of its own (PG_BITMAP_ROW_COST), after building the bitmap of every
        # posting entry of the clauses' rarest tokens (the matches, when pg_stats do not tell).
        entries = bound if bound is not None else density * _pg_rows
        if wanted / density <= _pg_gin_cost(clauses, entries) + PG_BITMAP_ROW_COST * wanted:
            cursor.execute(
                f"SELECT customer_id FROM customers_customersearch WHERE {text} AND customer_id < %s "
                "ORDER BY customer_id DESC LIMIT %s",
                [*text_params, lowest, wanted],
            )
            return found + [row[0] for row in cursor.fetchall()]
        return found + _pg_candidates(cursor, clauses, below=lowest, limit=wanted, density=density)


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
        # Callers use this as `id IN (…)` with other sort orders (name, updated, …). Rare fragments:
        # the candidates once from GIN (MATERIALIZED); pulled up into the outer query, the planner
        # walked the customers by name and evaluated the tsvector expression on each one's search
        # row (杭州 sorted by name, N = 1,000,000: 11.5 s instead of 1.1 s). Common or unknown ones:
        # the text test alone, cheap on every row the outer order reaches (有限公司: 0.3 s instead
        # of 12 s for materialising 450,000 matches).
        bound = _pg_candidates_bound(clauses)
        if bound is not None and bound < PG_MATERIALIZE_SHARE * _pg_rows:
            condition, params = _pg_conditions(clauses, index=True)
            return (f"WITH matches AS MATERIALIZED (SELECT customer_id FROM customers_customersearch "
                    f"WHERE {condition}) SELECT customer_id FROM matches WHERE TRUE"), params
        condition, params = _pg_conditions(clauses, index=False)
        return f"SELECT customer_id FROM customers_customersearch WHERE {condition}", params
    expression = " OR ".join(f"({_fts5_clause(*c)})" for c in clauses)
    return f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [expression]


def match_ids(query: str, *, before: int | None = None, limit: int) -> list[int] | None:
    """Up to `limit` matching ids below `before`, newest first; None when the query has nothing to search.

    Called repeatedly with `before` = the last id returned, this walks the match list backwards in
    blocks: FTS5 seeks in its doclists and PostgreSQL scans the newest rows or reads GIN candidates
    (_pg_match_ids), so each block costs about its own size, not the whole match list.
    """
    if code := _full_code(query):
        if before is not None:
            return []
        with connection.cursor() as cursor:
            cursor.execute(CODE_SQL, [code])
            return [row[0] for row in cursor.fetchall()]
    clauses = _merged(search_clauses(query))
    if not clauses:
        return None
    if connection.vendor == "postgresql":
        return _pg_match_ids(clauses, before=before, limit=limit)
    return _fts5_match_ids(clauses, before=before, limit=limit)


def _fts5_match_ids(clauses: list[Merged], *, before: int | None, limit: int) -> list[int]:
    """FTS5: all clauses in one MATCH, which FTS5 walks newest first and stops at `limit`. (Looking up
    the syllable pairs first and the other clauses only above their oldest id was slower: a phrase that
    matches nothing reads its whole doclists whatever the rowid bound, 250 ms for youxian's grams.)"""
    expression = " OR ".join(f"({_fts5_clause(*c)})" for c in clauses)
    sql, params = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [expression]
    if before is not None:
        sql, params = f"{sql} AND rowid < %s", [*params, before]
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} ORDER BY rowid DESC LIMIT %s", [*params, limit])
        return [row[0] for row in cursor.fetchall()]


def ids_sql(ids: list[int]) -> RawSQL:
    """A subquery of these ids as one parameter: the ORM spends ~10 µs on each parameter of a long
    `IN (%s, %s, …)` list, more than the database needs to look the ids up."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [ids])
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(ids)])


def _pg_build_indexes(cursor, statements: list[str]) -> None:
    cursor.execute("SET maintenance_work_mem = '256MB'")
    for sql in statements:
        cursor.execute(sql)
    cursor.execute("RESET maintenance_work_mem")


# The GIN builds by their cost (200,000 demo customers, one session each: pinyin 7.2-7.5 s, digits
# 5.1-7.2 s, names 1.9-2.6 s, other 1.2-1.7 s); the two sessions take them from one queue in this
# order, so the pinyin build runs alone against the other three. A fixed split (digits against the
# rest) left a core idle for a fifth of the builds once the syllable pairs made pinyin the costliest.
PG_BUILD_ORDER = ("pinyin", "digits", "names", "other")


# Work for either session of the GIN builds once every build is taken: a callable given the session's
# cursor (autocommit). See bulk_index_suspended's `then`.
PgJob = Callable[[Any], None]


def _pg_build_indexes_in_parallel(then: Sequence[PgJob] = ()) -> None:
    """Build the GIN indexes in two sessions at once (PostgreSQL 15 builds a GIN index on one core),
    then run the jobs `then` in whichever session is free first.

    The second session is a new connection of its own thread; both commit on their own, which is why
    this runs only outside a transaction. An error in either is raised here.
    """
    import queue
    import threading

    pending: queue.SimpleQueue = queue.SimpleQueue()
    for column in PG_BUILD_ORDER:
        pending.put(partial(_pg_build_indexes, statements=[PG_INDEXES[PG_COLUMNS.index(column)]]))
    for job in then:
        pending.put(job)

    def drain(cursor) -> None:
        while True:
            try:
                job = pending.get_nowait()
            except queue.Empty:
                return
            job(cursor)

    errors: list[BaseException] = []
    # A plain driver connection with this one's parameters, made here: Django's connections are per
    # thread, and the other thread has none set up.
    second = connection.get_new_connection(connection.get_connection_params())
    second.autocommit = True

    def other_session() -> None:
        try:
            with second.cursor() as cursor:
                drain(cursor)
        except BaseException as exc:  # re-raised in the calling thread
            errors.append(exc)
        finally:
            second.close()

    thread = threading.Thread(target=other_session, name="qianke-gin-build")
    thread.start()
    try:
        with connection.cursor() as cursor:
            drain(cursor)
    finally:
        thread.join()
    if errors:
        raise errors[0]


# The FTS5 table's shadow tables (external content: no %_content), copied by Fts5Beside.
FTS5_SHADOW_TABLES = tuple(f"{FTS_TABLE}_{suffix}" for suffix in ("data", "idx", "docsize", "config"))
# FTS5's automerge: its default, and the one of an index built beside a load (Fts5Beside).
FTS5_AUTOMERGE, FTS5_BUILD_AUTOMERGE = 4, 8
# Rows with local ids: `offset` added to each (Fts5Beside.add).
FTS5_INSERT_AT = f"INSERT INTO {FTS_TABLE}(rowid, names, pinyin, digits, other) VALUES (? + {{offset}}, ?, ?, ?, ?)"


def _sqlite_timeout() -> float:
    return float(connection.settings_dict.get("OPTIONS", {}).get("timeout", 5))


class Fts5Beside:
    """SQLite, a bulk load into an empty search table: its FTS5 index built beside the load instead of
    rebuilt after it (`bulk_index_suspended(beside=True)`).

    A process forked from the loader keeps a connection of its own to a scratch database file next
    to the database, holding an FTS5 table of the same definition, and inserts there the search rows
    the load gives it (`add`: (customer_id, names, pinyin, digits, other), in id order) in one
    transaction, on the other core while the loader builds and writes rows. (A thread would take
    the GIL back after every row's statement: 307 against 278 µs of the loader's CPU a customer.)
    The rows reach FTS5 one statement each, in the order 'rebuild' reads them, in one transaction
    as there. (One INSERT … SELECT per batch would not: FTS5 writes its pending terms out as a
    segment at every statement that needs a statement journal.) Segments are merged 8 at a time while
    building instead of 4 (FTS5's automerge: 28 % less CPU for 100,000 customers, the same size and
    query times), and the setting is back at FTS5's default before the copy.

    At the end (`copy`) the four shadow tables replace the database's in one transaction, written by
    a connection of its own: a write by another connection makes FTS5 in the loader's connection
    read its structure again (PRAGMA data_version), one by the loader's own would not.
    """

    def __init__(self, directory: str) -> None:
        import multiprocessing
        import tempfile

        handle, self.path = tempfile.mkstemp(prefix="qianke-fts5-", suffix=".sqlite3", dir=directory)
        os.close(handle)
        self.count = 0
        self.error: BaseException | None = None
        self._finished = False
        context = multiprocessing.get_context("fork")
        # Bounded: the loader waits when the index falls behind instead of holding every batch.
        self._rows = context.Queue(maxsize=4)
        self._result = context.SimpleQueue()
        # Started by the first rows: after the loader forked its builder processes. It never touches
        # the loader's database connection.
        self._process = context.Process(target=self._build, name="qianke-fts5-build", daemon=True)

    def add(self, rows: list[tuple], offset: int = 0) -> None:
        """Rows (customer id, names, pinyin, digits, other), in id order; `offset` is added to each id
        (the loader gives local ids and the batch's first id)."""
        if self._process.pid is None:
            self._process.start()
        self.count += len(rows)
        self._put((rows, offset))

    def _put(self, rows: tuple[list[tuple], int] | None) -> None:
        import queue

        while self.error is None:
            try:
                self._rows.put(rows, timeout=1)
                return
            except queue.Full:
                if not self._process.is_alive():
                    self.error = RuntimeError(f"the FTS5 build ended: {self._process.exitcode}")

    def _build(self) -> None:
        import sqlite3

        db = None
        error = ""
        try:
            db = sqlite3.connect(self.path, isolation_level=None)
            # A scratch file: no journal, no syncs.
            db.execute("PRAGMA journal_mode=OFF")
            db.execute("PRAGMA synchronous=OFF")
            db.execute("PRAGMA cache_size=-64000")
            db.execute(SQLITE_SETUP[0])
            db.execute("BEGIN")
            db.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('automerge', {FTS5_BUILD_AUTOMERGE})")
            while (item := self._rows.get()) is not None:
                rows, offset = item
                db.executemany(FTS5_INSERT_AT.format(offset=int(offset)), rows)
            db.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('automerge', {FTS5_AUTOMERGE})")
            db.execute("COMMIT")
        except BaseException as exc:  # the load rebuilds the index instead (bulk_index_suspended)
            error = f"{type(exc).__name__}: {exc}"
            while self._rows.get() is not None:  # the loader never waits on a full queue
                pass
        finally:
            if db is not None:
                db.close()
            self._result.put(error)

    def finish(self) -> bool:
        """Wait for the last rows; whether the index holds them all. A process that ended early
        (killed, out of memory) left no result: that is a failure too."""
        if self._finished:
            return self.error is None
        self._finished = True
        if self._process.pid is None:  # no rows came: an empty index
            self._process.start()
        if self._process.is_alive():
            self._put(None)  # the end
        self._process.join()
        self._rows.cancel_join_thread()  # whatever it could not take is of no use now
        # The process puts its result before it ends (a few bytes: the pipe never blocks it).
        error = self._result.get() if not self._result.empty() else "no result"
        if self.error is None and (error or self._process.exitcode):
            self.error = RuntimeError(f"the FTS5 build failed: {error or self._process.exitcode}")
        return self.error is None

    def copy(self, database: str, timeout: float) -> bool:
        """Replace the database's FTS5 shadow tables with the ones built here, in one transaction,
        when the built index holds every row given (False, nothing copied, otherwise)."""
        import sqlite3

        db = sqlite3.connect(database, isolation_level=None, timeout=timeout)
        try:
            db.execute("ATTACH DATABASE ? AS beside", [self.path])
            if db.execute(f"SELECT count(*) FROM beside.{FTS_TABLE}_docsize").fetchone()[0] != self.count:
                return False
            db.execute("BEGIN IMMEDIATE")
            for table in FTS5_SHADOW_TABLES:
                db.execute(f"DELETE FROM main.{table}")
                db.execute(f"INSERT INTO main.{table} SELECT * FROM beside.{table}")
            db.execute("COMMIT")
        finally:
            db.close()
        return True

    def discard(self) -> None:
        self.finish()
        with contextlib.suppress(OSError):
            os.remove(self.path)


@contextlib.contextmanager
def bulk_index_suspended(then: Callable[[], Sequence[PgJob]] | None = None, *,
                         beside: bool = False) -> Iterator[Fts5Beside | None]:
    """Load many search rows without maintaining the full-text index row by row.

    SQLite: the three triggers that feed FTS5 are dropped, and afterwards re-created and the index
    rebuilt in one pass. PostgreSQL: the GIN indexes are dropped and built again afterwards, outside a
    transaction in two sessions at once. The index is restored even when the body fails.
    Meant for bulk loads (`qianke demo`): writes of other sessions during the load on SQLite would
    reach the index only through the rebuild at the end, which covers them too.

    `then`, called once the body is done, gives more work for after the builds (demo_generate: key
    validations and VACUUM): on PostgreSQL outside a transaction it runs in the build sessions, taken
    by whichever finishes its builds first, so it overlaps the longest build; otherwise in this
    connection after the builds. A job that needs the search table waits for its builds (locks).

    `beside=True` (SQLite): when the search table is empty, outside a transaction, in a database file,
    the FTS5 index is built beside the load (Fts5Beside, yielded: the body gives it every search row
    it writes, in id order) and copied in at the end, instead of rebuilt after the load. The copy is
    taken only when no other connection wrote to the database meanwhile (PRAGMA data_version) and
    the search table holds as many rows as were given; otherwise, or when the body fails, 'rebuild'.
    Yields None when the index is not built beside the load.
    """
    built: Fts5Beside | None = None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for sql in PG_DROP_INDEXES:
                cursor.execute(sql)
        else:
            for sql in SQLITE_TEARDOWN[:3]:
                cursor.execute(sql)
            if beside and not connection.in_atomic_block and not connection.is_in_memory_db():
                cursor.execute("PRAGMA data_version")
                version = cursor.fetchone()[0]
                cursor.execute("SELECT 1 FROM customers_customersearch LIMIT 1")
                if cursor.fetchone() is None:
                    built = Fts5Beside(os.path.dirname(os.path.abspath(connection.settings_dict["NAME"])))
    succeeded = False
    try:
        yield built
        succeeded = True
    finally:
        copied = False
        if built is not None:
            try:
                if built.finish() and succeeded:
                    with connection.cursor() as cursor:
                        cursor.execute("PRAGMA data_version")
                        unchanged = cursor.fetchone()[0] == version
                        cursor.execute("SELECT count(*) FROM customers_customersearch")
                        if unchanged and cursor.fetchone()[0] == built.count:
                            copied = built.copy(connection.settings_dict["NAME"], timeout=_sqlite_timeout())
            finally:
                built.discard()
        jobs = then() if then is not None else ()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                if connection.in_atomic_block:
                    # CREATE INDEX refuses to run while deferred foreign-key checks are pending.
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                    _pg_build_indexes(cursor, PG_INDEXES)
                else:
                    _pg_build_indexes_in_parallel(jobs)
                    jobs = ()
            else:
                # The triggers, then 'rebuild' unless the index built beside the load was copied in.
                for sql in SQLITE_SETUP[1:4] if copied else SQLITE_SETUP[1:]:
                    cursor.execute(sql)
            for job in jobs:
                job(cursor)


def top_match_ids(query: str, limit: int) -> list[int] | None:
    """The newest `limit` matching ids straight from the index (for users who see every customer)."""
    return match_ids(query, limit=limit)


def top_matches(query: str, *, page_end: int, count_limit: int) -> tuple[list[int], int] | None:
    """The newest `page_end` matching ids and the number of matches up to `count_limit` (exact below
    it), for users who see every customer; None when the query has nothing to search.

    SQLite reads the newest `count_limit` ids (FTS5 walks its doclists newest first at little cost
    per match). PostgreSQL finds the page's ids (_pg_match_ids) and counts separately, reading matches
    in the table's order and stopping at `count_limit`: the newest `count_limit` matches of a
    mid-density fragment (烟草机: 11,118 matches) meant a heap visit for every candidate before the
    sort (~10,000 pages, 230 ms at load 6), the count alone visits about `count_limit` (25-35 ms).
    """
    if connection.vendor != "postgresql" or _full_code(query):
        ids = match_ids(query, limit=count_limit)
        return None if ids is None else (ids[:page_end], len(ids))
    clauses = _merged(search_clauses(query))
    if not clauses:
        return None
    bound = _pg_candidates_bound(clauses)
    if bound is not None and PG_BITMAP_ROW_COST * bound < PG_PROBE_ROWS:
        # Rare grams: every candidate is visited whatever the LIMIT, so they give the count too.
        with connection.cursor() as cursor:
            ids = _pg_candidates(cursor, clauses, below=None, limit=count_limit)
        return ids[:page_end], len(ids)
    probe: dict = {}
    ids = _pg_match_ids(clauses, before=None, limit=page_end + 1, probe=probe)
    if len(ids) <= page_end:
        return ids, len(ids)  # the match list ran out: the count is exact
    # Dense matches (the newest rows held the page): the text test on rows in the table's order finds
    # `count_limit` of them within about count_limit / density rows (科技: 40 % of customers). GIN
    # instead builds the bitmap of all its candidates first (a prefix costs several times an exact
    # token per entry), then visits candidates until `count_limit` match: count_limit times the
    # candidates per match (1 for syllable pairs, more for grams that also occur apart). Without
    # statistics: the scan when it reads at most PG_PROBE_ROWS * 10 rows.
    found = probe.get("found", 0)
    dense = False
    if found > page_end:
        scan_rows = count_limit * probe["scanned"] / found
        if bound is None:
            dense = scan_rows <= PG_PROBE_ROWS * 10
        else:
            per_match = max(1.0, bound / (found / probe["scanned"] * _pg_rows or 1.0))
            dense = scan_rows <= _pg_gin_cost(clauses, bound) + PG_BITMAP_ROW_COST * count_limit * per_match
    condition, params = _pg_conditions(clauses, index=not dense)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM customers_customersearch WHERE {condition} LIMIT %s) AS counted",
            [*params, count_limit],
        )
        return ids[:page_end], cursor.fetchone()[0]
