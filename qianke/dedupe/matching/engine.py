"""Candidate pairs by blocking, scoring, and clustering guarded against chaining."""

from __future__ import annotations

import itertools
import math
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from operator import attrgetter

import numpy as np

from qianke.core.bulk import collector_paused

from . import scoring
from .columns import Columns, record_hashes
from .records import INDIVIDUAL, Prepared, Record, flat, pinyin_of, prepare
from .records import _rebuild as rebuild
from .scoring import Frequencies, Match, score_pair

# Blocks larger than this are not paired all-with-all (a common value says little and costs
# quadratically); their records still meet through their other, more selective keys.
MAX_BLOCK = 60
# Sorted-neighbourhood window on the name key: catches typos that change every exact key.
WINDOW = 4
# Clusters merge only while every pair across them still scores at least this (no chaining A–B–C
# where A and C are plainly different), and up to this size.
LINK_FLOOR = 0.2
MAX_CLUSTER = 200
# From this many records, preparing and scoring run in forked worker processes (at most PARALLEL_MAX).
PARALLEL_FROM = 100_000
PARALLEL_MAX = 4
# Candidate pairs are scored in workers from this many, in chunks of SCORE_CHUNK.
PARALLEL_PAIRS = 50_000
SCORE_CHUNK = 100_000


def compare(a: Record, b: Record) -> Match:
    return score_pair(prepare(a), prepare(b))


def _keys(p: Prepared) -> Iterator[str]:
    for phone in p.phones:
        yield "t" + phone
    for email in p.emails:
        yield "e" + email
    for code in p.postcodes:
        if p.kind == INDIVIDUAL:
            if p.family:
                yield f"pf{code}|{p.family}"
            if p.given:
                yield f"pg{code}|{p.given}"
            for part in p.street:
                if part and not part.isdigit():
                    yield f"ps{code}|{part}"
        else:
            for core in p.cores:
                yield f"pc{code}|{core[:2]}"
    if p.kind == INDIVIDUAL:
        if p.id_number:
            yield "i" + p.id_number
        if p.birth:
            yield "b" + p.birth
            if p.family:
                yield f"bf{p.birth[:4]}|{p.family[:2]}"
        if p.given and p.family:
            yield "n" + "|".join(sorted((p.given, p.family)))
        elif p.full_name:
            yield "n" + p.full_name
        if p.given and p.locality:
            yield f"lg{p.locality}|{p.given}"
        if p.family and p.locality:
            yield f"lf{p.locality}|{p.family}"
    else:
        for code in p.credit_codes:
            yield "c" + code
        for core in p.cores:
            yield "o" + core
            for locality in p.localities:
                yield f"ol{locality}|{core}"
        for spelled in p.core_pinyin:
            yield "y" + spelled
        for contact in p.contacts:
            for locality in p.localities:
                yield f"cl{locality}|{contact}"


def _sort_key(p: Prepared) -> str:
    if p.kind == INDIVIDUAL:
        return (p.family or "") + " " + (p.given or "") if (p.family or p.given) else p.full_name
    return min(p.core_pinyin) if p.core_pinyin else ""


def _key_hashes(prepared: list[Prepared], start: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Blocking keys of each record as 64-bit hashes, beside the record's index."""
    hashes: list[int] = []
    owners: list[int] = []
    for index, p in enumerate(prepared, start):
        for key in set(_keys(p)):
            hashes.append(hash(key))
            owners.append(index)
    return np.array(hashes, dtype=np.int64), np.array(owners, dtype=np.int64)


def _block_pairs(hashes: np.ndarray, owners: np.ndarray, n: int) -> np.ndarray:
    """Pair codes (i * n + j, i < j) of records sharing a key whose block has at most MAX_BLOCK members.

    Sorting the hashes puts each block in one run; pairing every run member with the ones up to
    MAX_BLOCK - 1 places further keeps this vectorised and the memory linear in the keys. Most keys
    are one record's alone: those, and the blocks too big to pair, are dropped before the passes, and
    each pass keeps only the runs still longer than its distance.
    """
    if not len(hashes):
        return np.empty(0, dtype=np.int64)
    order = np.argsort(hashes, kind="stable")
    h, o = hashes[order], owners[order]
    starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])
    sizes = np.diff(np.r_[starts, len(h)])
    run_size = np.repeat(sizes, sizes)
    keep = (run_size > 1) & (run_size <= MAX_BLOCK)
    h, o, run_size = h[keep], o[keep], run_size[keep]
    chunks = []
    distance = 1
    while len(h) > distance:
        same = h[:-distance] == h[distance:]
        if not same.any():
            break
        left, right = o[:-distance][same], o[distance:][same]
        chunks.append(np.minimum(left, right) * n + np.maximum(left, right))
        distance += 1
        longer = run_size > distance
        if not longer.all():
            h, o, run_size = h[longer], o[longer], run_size[longer]
    return np.concatenate(chunks) if chunks else np.empty(0, dtype=np.int64)


def _window_pairs(prepared: list[Prepared]) -> np.ndarray:
    """Sorted neighbourhood: each record with the next WINDOW records in name order."""
    n = len(prepared)
    keys = [_sort_key(p) for p in prepared]
    # keys.__getitem__ keeps the sort's key calls in C; the sort is stable, so ties stay in record order.
    order = np.array(sorted(range(n), key=keys.__getitem__), dtype=np.int64)
    del keys
    chunks = []
    for distance in range(1, WINDOW + 1):
        if distance >= n:
            break
        left, right = order[:-distance], order[distance:]
        chunks.append(np.minimum(left, right) * n + np.maximum(left, right))
    return np.concatenate(chunks) if chunks else np.empty(0, dtype=np.int64)


def _unique(codes: np.ndarray) -> np.ndarray:
    """np.unique(codes), by sorting: NumPy 2.4's np.unique hashes instead, about 14 times slower here."""
    codes = np.sort(codes)
    return codes[np.r_[True, codes[1:] != codes[:-1]]] if len(codes) else codes


class _Prepared(list):
    """Prepared records with their blocking-key and column hashes, computed beside them in the workers."""

    key_hashes: tuple[np.ndarray, np.ndarray] | None = None
    column_hashes: np.ndarray | None = None
    frequencies: Frequencies | None = None


def _frequencies(prepared: list[Prepared]) -> Frequencies:
    known = getattr(prepared, "frequencies", None)
    return known if known is not None else Frequencies(prepared)


def candidate_pairs(prepared: list[Prepared], *, boundary: int | None = None) -> np.ndarray:
    """Sorted unique pair codes (i * n + j, i < j) that share a blocking key or sit close in name order.

    With `boundary`, only pairs with i < boundary are kept (new records against all others).
    """
    n = len(prepared)
    known = getattr(prepared, "key_hashes", None)
    hashes, owners = known if known is not None else _key_hashes(prepared)
    pairs = _unique(np.concatenate([_block_pairs(hashes, owners, n), _window_pairs(prepared)]))
    pairs = pairs[(pairs // n) != (pairs % n)]
    if boundary is not None:
        pairs = pairs[(pairs // n) < boundary]
    return pairs


# Records, their value counts and column filter, shared with forked workers (copy-on-write) rather
# than pickled to them.
_SHARED: tuple[list[Prepared], Frequencies, Columns | None] | None = None


def _score_chunk(job: tuple[np.ndarray, bool]) -> list[Match]:
    """Matches among the pairs: the column filter rules most out, Python weighs the rest."""
    codes, evidence = job
    prepared, freq, columns = _SHARED
    n = len(prepared)
    if columns is not None:
        left, right = codes // n, codes % n
        kept = ~columns.plainly_different(left, right)
        codes = codes[kept]
        # The filter asked plainly_different of every pair it could; Python asks the others.
        asked = (~(columns.fallback[left] | columns.fallback[right]))[kept].tolist()
    else:
        asked = [False] * len(codes)
    matches = []
    plainly_different = scoring.plainly_different
    for code, sifted in zip(codes.tolist(), asked, strict=True):
        a, b = prepared[code // n], prepared[code % n]
        if not sifted and a.kind != INDIVIDUAL and b.kind != INDIVIDUAL and plainly_different(a, b, freq):
            continue
        match = score_pair(a, b, freq, full=False, evidence=evidence)
        if match.decision != "different":
            matches.append(match)
    return matches


# Records shared with forked workers for preparing (copy-on-write) rather than pickled to them.
_RECORDS: list[Record] | None = None


def _prepare_chunk(job: tuple[int, int | list[Record]]) -> tuple[list[tuple], np.ndarray, np.ndarray, np.ndarray]:
    """One part prepared: bounds into _RECORDS, or (first index, the records) for a part sent over."""
    start, part = job
    records = _RECORDS[start:part] if isinstance(part, int) else part
    prepared = [prepare(r) for r in records]
    hashes, owners = _key_hashes(prepared, start)
    return [flat(p) for p in prepared], hashes, owners, record_hashes(prepared)


def _workers(count: int, workers: int | None) -> int:
    if workers is not None:
        return max(1, workers)
    return min(os.cpu_count() or 1, PARALLEL_MAX) if count >= PARALLEL_FROM else 1


def _pool(workers: int):
    return multiprocessing.get_context("fork").Pool(workers)


PREPARE_CHUNK = 20_000


def _parts(head: list[Record], rest: Iterator[Record] | None) -> Iterator[tuple[int, int | list[Record]]]:
    """Bounds into `head` (which the forked workers share), then the records that follow, part by part."""
    size = PREPARE_CHUNK
    for start in range(0, len(head), size):
        yield start, min(start + size, len(head))
    start = len(head)
    while rest is not None and (part := list(itertools.islice(rest, size))):
        yield start, part
        start += len(part)


def prepare_all(records: Iterable[Record], *, workers: int | None = None,
                progress: Callable[[str, int, int], None] | None = None) -> list[Prepared]:
    """The records prepared, in order; from PARALLEL_FROM records in forked workers.

    The workers also hash the records' blocking keys, which candidate_pairs then takes as they are
    (a string hash is the same in the forked processes as in the parent). A list is shared with the
    workers as it is; records from an iterator (e.g. a database read) are prepared while it goes on:
    the first PARALLEL_FROM are shared, the rest sent to the workers part by part as they come, so
    reading and preparing overlap.
    """
    global _RECORDS
    if isinstance(records, list):
        head, rest = records, None
    else:
        rest = iter(records)
        head = list(itertools.islice(rest, PARALLEL_FROM))
        if len(head) < PARALLEL_FROM:
            rest = None
    count = _workers(len(head), workers)
    if count == 1:
        prepared_one = [prepare(r) for r in itertools.chain(head, rest or ())]
        if progress:
            progress("prepare", len(prepared_one), len(prepared_one))
        return prepared_one
    # Tables, caches and pinyin dictionaries loaded once here, not once in each worker.
    for record in head[:200]:
        prepare(record)
    prepared = _Prepared()
    hashes: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    columns: list[np.ndarray] = []
    frequencies = Frequencies()

    def take(result: tuple[list[tuple], np.ndarray, np.ndarray, np.ndarray]) -> None:
        part, part_hashes, part_owners, part_columns = result
        rebuilt = [rebuild(*values) for values in part]
        # Counted here, while the workers prepare the next parts, not after on one core.
        frequencies.count(rebuilt)
        prepared.extend(rebuilt)
        hashes.append(part_hashes)
        owners.append(part_owners)
        columns.append(part_columns)
        if progress:
            progress("prepare", len(prepared), max(len(head), len(prepared)))

    _RECORDS = head
    try:
        with collector_paused(), _pool(count) as pool:
            if rest is None:
                for result in pool.imap(_prepare_chunk, _parts(head, None)):
                    take(result)
            else:
                # Parts are read and handed out here, in this thread (a database cursor belongs to it),
                # with a few in flight; finished ones are taken in order as they come back.
                waiting: deque = deque()
                for job in _parts(head, rest):
                    waiting.append(pool.apply_async(_prepare_chunk, (job,)))
                    while waiting and (len(waiting) > count + 1 or waiting[0].ready()):
                        take(waiting.popleft().get())
                while waiting:
                    take(waiting.popleft().get())
    finally:
        _RECORDS = None
    prepared.key_hashes = (np.concatenate(hashes), np.concatenate(owners))
    prepared.column_hashes = np.concatenate(columns)
    prepared.frequencies = frequencies
    return prepared


def _columns(prepared: list[Prepared], freq: Frequencies) -> Columns | None:
    """The column filter (columns.py) over the records, from the hashes the workers made if they did."""
    hashes = getattr(prepared, "column_hashes", None)
    return Columns.build(hashes if hashes is not None else record_hashes(prepared), freq, prepared)


def score_candidates(prepared: list[Prepared], pairs: np.ndarray, freq: Frequencies, *, workers: int | None = None,
                     progress: Callable[[str, int, int], None] | None = None, evidence: bool = True) -> list[Match]:
    """Matches among the candidate pairs, with their evidence unless `evidence` is False."""
    global _SHARED
    _SHARED = (prepared, freq, _columns(prepared, freq))
    size = SCORE_CHUNK
    chunks = [(pairs[i : i + size], evidence) for i in range(0, len(pairs), size)]
    try:
        count = _workers(len(prepared), workers)
        if count == 1 or len(pairs) < PARALLEL_PAIRS:
            matches_one = [match for chunk in chunks for match in _score_chunk(chunk)]
            if progress:
                progress("compare", len(pairs), len(pairs))
            return matches_one
        matches: list[Match] = []
        with _pool(count) as pool:
            for done, part in enumerate(pool.imap_unordered(_score_chunk, chunks), 1):
                matches.extend(part)
                if progress:
                    progress("compare", min(done * size, len(pairs)), len(pairs))
        return matches
    finally:
        _SHARED = None


def _find(prepared: list[Prepared], freq: Frequencies, *, workers: int | None = None,
          progress: Callable[[str, int, int], None] | None = None, evidence: bool = True) -> list[Match]:
    pairs = candidate_pairs(prepared)
    if progress:
        progress("compare", 0, len(pairs))
    matches = score_candidates(prepared, pairs, freq, workers=workers, progress=progress, evidence=evidence)
    return sorted(matches, key=lambda m: (-m.score, m.left, m.right))


def find_matches(records: Iterable[Record], *, workers: int | None = None,
                 progress: Callable[[str, int, int], None] | None = None,
                 prepared: list[Prepared] | None = None) -> list[Match]:
    """Pairs among the records that are the same customer or need a review, best first.

    `prepared` (the records' prepared forms, in order) saves preparing them again.
    """
    with collector_paused():
        if prepared is None:
            prepared = prepare_all(records, workers=workers, progress=progress)
        return _find(prepared, _frequencies(prepared), workers=workers, progress=progress)


def match_against(new: Iterable[Record], existing: Iterable[Record]) -> list[Match]:
    """Matches of each new record against the existing ones and against the other new ones.

    `left` is always the new record's id; pairs of two existing records are not reported.
    """
    with collector_paused():
        new_prepared = prepare_all(new)
        prepared = new_prepared + prepare_all(existing)
        freq = Frequencies(prepared)
        pairs = candidate_pairs(prepared, boundary=len(new_prepared))
        matches = score_candidates(prepared, pairs, freq)
    return sorted(matches, key=lambda m: (-m.score, m.left, m.right))


# ---------------------------------------------------------------------------------------------
# Clusters
# ---------------------------------------------------------------------------------------------


class Cluster(list):
    """Record ids of one cluster; `score` is the weakest link that holds it together (1.0 alone)."""

    score: float = 1.0


def _conflicting(left: list[str], right: list[str], pair: Callable[[str, str], Match]) -> bool:
    """True if joining would put together two records that plainly differ.

    A pair across the groups that scores 0 (a hard conflict, or a Match with score 0 passed in for a
    pair a person marked "not the same"), or below LINK_FLOOR with a conflict (another city, branch or
    ID), forbids the join; so do cross pairs that on average fall below the review band.
    """
    scores = []
    for x in left:
        for y in right:
            match = pair(x, y)
            if match.score <= 0.0:  # a hard conflict, or a pair a person labelled "not the same"
                return True
            if match.score < LINK_FLOOR and any(e.weight <= scoring.CONFLICT for e in match.evidence):
                return True
            scores.append(match.score)
    return sum(scores) / len(scores) < scoring.REVIEW_BAND[0]


def cluster(records: Iterable[Record], *, matches: list[Match] | None = None, workers: int | None = None,
            progress: Callable[[str, int, int], None] | None = None,
            prepared: list[Prepared] | None = None, singletons: bool = True) -> list[Cluster]:
    """Groups of records that are the same customer (singletons included unless `singletons` is False),
    biggest first.

    Pairs decided "same" are joined best first; two groups join only if no pair across them scores
    below LINK_FLOOR, so A≈B and B≈C do not drag a plainly different C into A's group. `prepared`
    (the records' prepared forms, in order) saves preparing them again.
    """
    with collector_paused():
        return _cluster(list(records), matches, workers, progress, prepared, singletons)


def _cluster(records: list[Record], matches: list[Match] | None, workers: int | None,
             progress: Callable[[str, int, int], None] | None, prepared_list: list[Prepared] | None,
             singletons: bool = True) -> list[Cluster]:
    if prepared_list is None:
        prepared_list = prepare_all(records, workers=workers, progress=progress)
    freq = _frequencies(prepared_list)
    if matches is None:
        # Clustering reads the found pairs' scores and decisions only: their evidence is not built.
        matches = _find(prepared_list, freq, workers=workers, progress=progress, evidence=False)
    # Only records in a "same" pair can join a group: the union-find state is kept for those alone,
    # and every other record becomes a singleton at the end (a million-record scan has few pairs).
    same = [m for m in matches if m.decision == "same"]
    paired = {x for m in same for x in (m.left, m.right)}
    parent: dict[str, str] = {x: x for x in paired}
    members: dict[str, list[str]] = {x: [x] for x in paired}
    weakest: dict[str, float] = dict.fromkeys(paired, 1.0)
    known: dict[tuple[str, str], Match] = {(m.left, m.right): m for m in matches}
    by_id: dict[str, Prepared] = {}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def pair_score(x: str, y: str) -> Match:
        match = known.get((x, y)) or known.get((y, x))
        if match is None:
            if not by_id:  # most scans never get here: every pair asked about was found already
                by_id.update(zip(map(attrgetter("id"), prepared_list), prepared_list, strict=True))
            match = score_pair(by_id[x], by_id[y], freq)
            known[(x, y)] = match
        return match

    for match in same:
        a, b = match.left, match.right
        if parent[a] != a:
            a = find(a)
        if parent[b] != b:
            b = find(b)
        if a == b:
            continue
        group_a, group_b = members[a], members[b]
        if len(group_a) + len(group_b) > MAX_CLUSTER:
            continue
        if _conflicting(group_a, group_b, pair_score):
            continue
        if len(group_a) < len(group_b):
            a, b = b, a
        parent[b] = a
        members[a].extend(members.pop(b))
        weakest[a] = min(weakest[a], weakest.pop(b), match.score)
    groups = []
    # A scan that wants the groups alone skips a million one-record clusters.
    alone = [x for x in dict.fromkeys(map(attrgetter("id"), records)) if x not in paired] if singletons else []
    for root, group_ids in members.items():
        if len(group_ids) == 1:
            alone.append(root)
            continue
        group = Cluster(group_ids)
        group.score = weakest[root]
        groups.append(group)
    # Biggest first, then by first id: the groups sorted among themselves, then the singletons by id
    # (dict.fromkeys: a record listed twice is one singleton).
    groups.sort(key=lambda g: (-len(g), g[0]))
    if singletons:
        alone.sort()
        groups.extend(map(Cluster, ([x] for x in alone)))
    return groups


__all__ = ["compare", "find_matches", "match_against", "cluster", "candidate_pairs", "Cluster", "calibrate",
           "MAX_BLOCK", "WINDOW", "scoring", "pinyin_of"]


# ---------------------------------------------------------------------------------------------
# Labelled pairs
# ---------------------------------------------------------------------------------------------


def calibrate(records: Iterable[Record], labels: Iterable[tuple[str, str, bool]]) -> float:
    """Use pairs a person labelled (left id, right id, same?) to place the decision threshold.

    The engine needs no labels; with some, the prior weight moves to where "same" begins between the
    labelled duplicates and the labelled non-duplicates (midway where they do not overlap, else at the
    split with fewest errors). Sets scoring.PRIOR_WEIGHT and returns it; unchanged without both kinds.
    """
    labels = list(labels)
    wanted = {rid for a, b, _same in labels for rid in (a, b)}
    prepared = {p.id: p for p in prepare_all(r for r in records if r.id in wanted)}
    freq = Frequencies(list(prepared.values()))
    weights: list[tuple[float, bool]] = []
    for a, b, same in labels:
        if a in prepared and b in prepared:
            match = score_pair(prepared[a], prepared[b], freq)
            if match.score > 0.0:  # hard conflicts stay decided whatever the labels say
                weights.append((sum(e.weight for e in match.evidence), same))
    if not any(s for _w, s in weights) or all(s for _w, s in weights):
        return scoring.PRIOR_WEIGHT
    candidates = sorted({w for w, _s in weights})
    cuts = [(x + y) / 2 for x, y in itertools.pairwise(candidates)] or candidates
    best_cut = min(cuts, key=lambda cut: (sum((w >= cut) != s for w, s in weights), abs(cut - _current_cut())))
    # At the cut the score must equal THRESHOLD_SAME: 1 / (1 + 2^-(cut - prior)) = THRESHOLD_SAME.
    odds = scoring.THRESHOLD_SAME / (1.0 - scoring.THRESHOLD_SAME)
    scoring.PRIOR_WEIGHT = min(max(best_cut - math.log2(odds), 4.0), 30.0)
    return scoring.PRIOR_WEIGHT


def _current_cut() -> float:
    odds = scoring.THRESHOLD_SAME / (1.0 - scoring.THRESHOLD_SAME)
    return scoring.PRIOR_WEIGHT + math.log2(odds)
